// sigwire/sdp/view.hpp - zero-copy SDP parser (RFC 8866).
//
//   auto sdp = sigwire::sdp::parse(text);       // text must outlive `sdp`
//   if (!sdp) std::cerr << sdp.error().message() << " at line " << sdp.error_line();
//   for (const auto& m : sdp.media)
//     if (auto r = m.rtpmap_for(111)) use(r->encoding, r->clock_rate);
//
// Every string_view points into the caller's text. Lines may end in CRLF or
// in a bare LF (browsers and SIP devices vary). The line order of RFC 8866 §5
// (v o s i u e p c b t r z k a, then per media m i c b k a) is enforced;
// every count the peer controls is checked against sdp::limits.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/scan.hpp>
#include <sigwire/sdp/attributes.hpp>
#include <sigwire/sdp/error.hpp>

namespace sigwire::sdp {

// a=<name>[:<value>] (RFC 8866 §5.13). `has_value` tells "a=x" from "a=x:".
struct attribute_view {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
  // Set by parse() when it checks attributes (parse_options::check_attributes).
  attribute_kind kind = attribute_kind::unclassified;
  std::uint32_t line = 0;  // 1-based line number in the source text

  attribute_kind resolved_kind() const noexcept {
    return kind != attribute_kind::unclassified ? kind : classify_attribute(name);
  }
  bool is(attribute_kind k) const noexcept { return resolved_kind() == k; }
  // The payload type an rtpmap, fmtp or rtcp-fb line starts with (RFC 8866
  // §6.6, §6.15; RFC 4585 §4.2), read without a library find(): nullopt for
  // "*" or anything else that is not one.
  std::optional<unsigned> leading_payload_type() const noexcept {
    // The usual shape first: one to three digits, then a space or the end.
    unsigned pt = 0;
    std::size_t digits = 0;
    for (; digits < 3 && digits < value.size(); ++digits) {
      const unsigned digit = static_cast<unsigned char>(value[digits]) - static_cast<unsigned>('0');
      if (digit > 9) break;
      pt = pt * 10 + digit;
    }
    if (digits > 0 && (digits == value.size() || value[digits] == ' ')) return pt <= 127 ? std::optional<unsigned>(pt) : std::nullopt;
    std::size_t end = 0;
    while (end < value.size() && value[end] != ' ') ++end;
    return detail::to_uint<unsigned>(value.substr(0, end), 127);
  }
  // A direction flag (a=sendrecv, ...: RFC 3264 §5.1); a value makes it something else.
  std::optional<sdp::direction> direction_flag() const noexcept {
    if (has_value) return std::nullopt;
    return kind != attribute_kind::unclassified ? direction_of(kind) : direction_from_name(name);
  }
};

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
struct origin_view {
  std::string_view username, session_id, session_version, nettype, addrtype, address;
};

// c=<nettype> <addrtype> <connection-address> (address may carry /ttl/count)
struct connection_view {
  std::string_view nettype, addrtype, address;
  std::uint32_t line = 0;
};

// b=<bwtype>:<bandwidth>
struct bandwidth_view {
  std::string_view type;
  std::uint64_t value = 0;
  std::uint32_t line = 0;
};

// t=<start> <stop> followed by its r= lines.
struct timing_view {
  std::string_view start, stop;
  std::vector<std::string_view> repeats;
};

// Attributes of one section (session or media), with typed accessors. A
// malformed known attribute is skipped by the accessors (parse() reports it
// as an error unless parse_options::check_attributes is false).
class attribute_set {
 public:
  std::vector<attribute_view> attributes;

  // First value of a=name (empty view for a flag), or nullopt when absent.
  std::optional<std::string_view> find(std::string_view name) const noexcept {
    const named match(name);
    for (const auto& a : attributes)
      if (match(a)) return a.value;
    return std::nullopt;
  }
  bool has(std::string_view name) const noexcept { return find(name).has_value(); }
  std::size_t count(std::string_view name) const noexcept {
    const named match(name);
    std::size_t n = 0;
    for (const auto& a : attributes) n += match(a);
    return n;
  }
  // Calls fn(value) for every a=name, in order.
  template <class Fn>
  void for_each(std::string_view name, Fn&& fn) const {
    const named match(name);
    for (const auto& a : attributes)
      if (match(a)) fn(a.value);
  }
  std::vector<std::string_view> values(std::string_view name) const {
    std::vector<std::string_view> out;
    for_each(name, [&](std::string_view v) { out.push_back(v); });
    return out;
  }

  // --- RTP -------------------------------------------------------------------
  std::vector<rtpmap> rtpmaps() const { return all(name_rtpmap, parse_rtpmap); }
  std::optional<rtpmap> rtpmap_for(unsigned pt) const noexcept {
    for (const auto& a : attributes)
      if (a.is(attribute_kind::rtpmap))
        if (auto r = parse_rtpmap(a.value); r && r->payload_type == pt) return r;
    return std::nullopt;
  }
  std::vector<fmtp> fmtps() const { return all(name_fmtp, parse_fmtp); }
  std::optional<fmtp> fmtp_for(std::string_view format) const noexcept {
    for (const auto& a : attributes)
      if (a.is(attribute_kind::fmtp))
        if (auto f = parse_fmtp(a.value); f && f->format == format) return f;
    return std::nullopt;
  }
  std::vector<rtcp_fb> rtcp_fbs() const { return all("rtcp-fb", parse_rtcp_fb); }
  std::optional<rtcp_attr> rtcp() const { return first("rtcp", parse_rtcp); }
  bool rtcp_mux() const noexcept { return has("rtcp-mux"); }
  bool rtcp_rsize() const noexcept { return has("rtcp-rsize"); }
  std::optional<std::uint32_t> ptime() const noexcept { return number<std::uint32_t>("ptime"); }
  std::optional<std::uint32_t> maxptime() const noexcept { return number<std::uint32_t>("maxptime"); }

  // The last direction attribute present (RFC 3264 §5.1), nullopt if none.
  std::optional<sdp::direction> direction() const noexcept {
    std::optional<sdp::direction> d;
    for (const auto& a : attributes)
      if (auto x = a.direction_flag()) d = x;
    return d;
  }

  // --- grouping, identification, streams -------------------------------------
  std::optional<std::string_view> mid() const noexcept { return find("mid"); }
  std::vector<group> groups() const { return all("group", parse_group); }
  std::optional<group> bundle_group() const {
    if (const auto line = bundle_group_line()) return parse_group(*line);
    return std::nullopt;
  }
  // The BUNDLE group's tags read in place (no allocation), when there is one.
  std::optional<group_tags> bundle_tags() const noexcept {
    const auto line = bundle_group_line();
    if (!line) return std::nullopt;
    std::string_view rest = *line;
    detail::next_field(rest);  // the semantics
    return group_tags{rest};
  }
  std::vector<msid> msids() const { return all("msid", parse_msid); }
  std::vector<ssrc> ssrcs() const { return all("ssrc", parse_ssrc); }
  std::vector<ssrc_group> ssrc_groups() const { return all("ssrc-group", parse_ssrc_group); }
  std::vector<extmap> extmaps() const { return all("extmap", parse_extmap); }
  bool extmap_allow_mixed() const noexcept { return has("extmap-allow-mixed"); }
  std::vector<rid> rids() const { return all("rid", parse_rid); }
  std::optional<sdp::simulcast> simulcast() const { return first("simulcast", parse_simulcast); }

  // --- ICE (RFC 8839) and trickle (RFC 8840) -----------------------------------
  std::optional<std::string_view> ice_ufrag() const noexcept { return find("ice-ufrag"); }
  std::optional<std::string_view> ice_pwd() const noexcept { return find("ice-pwd"); }
  std::vector<std::string_view> ice_options() const {
    std::vector<std::string_view> out;
    for_each("ice-options", [&](std::string_view v) {
      if (auto o = parse_ice_options(v)) out.insert(out.end(), o->begin(), o->end());
    });
    return out;
  }
  bool ice_trickle() const noexcept {
    bool trickle = false;
    for_each("ice-options", [&](std::string_view v) { trickle = trickle || detail::ice_options_contain(v, "trickle"); });
    return trickle;
  }
  bool ice_lite() const noexcept { return has("ice-lite"); }
  std::vector<sdp::candidate> candidates() const { return all("candidate", parse_candidate); }
  bool end_of_candidates() const noexcept { return has("end-of-candidates"); }

  // --- DTLS-SRTP, SDES, SCTP -------------------------------------------------------
  std::optional<sdp::fingerprint> fingerprint() const { return first("fingerprint", parse_fingerprint); }
  std::vector<sdp::fingerprint> fingerprints() const { return all("fingerprint", parse_fingerprint); }
  std::optional<setup_role> setup() const noexcept {
    auto v = find("setup");
    return v ? parse_setup(*v) : std::nullopt;
  }
  std::vector<sdp::crypto> cryptos() const { return all("crypto", parse_crypto); }
  std::optional<std::uint16_t> sctp_port() const noexcept { return number<std::uint16_t>("sctp-port"); }
  std::optional<std::uint64_t> max_message_size() const noexcept {
    return number<std::uint64_t>("max-message-size");
  }

 private:
  static constexpr std::string_view name_rtpmap = "rtpmap";
  static constexpr std::string_view name_fmtp = "fmtp";

  // Matches a=name: by kind when both the name and the attribute are
  // classified (a byte compare), else by text.
  struct named {
    std::string_view name;
    attribute_kind kind;
    explicit constexpr named(std::string_view n) noexcept : name(n), kind(classify_attribute(n)) {}
    bool operator()(const attribute_view& a) const noexcept {
      if (kind != attribute_kind::other && a.kind != attribute_kind::unclassified) return a.kind == kind;
      return a.name == name;
    }
  };

  // The first well-formed a=group line with BUNDLE semantics (RFC 9143 §7).
  std::optional<std::string_view> bundle_group_line() const noexcept {
    const named match("group");
    for (const auto& a : attributes) {
      if (!match(a) || !detail::group_ok(a.value)) continue;
      std::string_view rest = a.value;
      if (detail::next_field(rest) == "BUNDLE") return a.value;
    }
    return std::nullopt;
  }

  template <class Parse>
  auto all(std::string_view name, Parse parse) const
      -> std::vector<typename decltype(parse(std::string_view{}))::value_type> {
    std::vector<typename decltype(parse(std::string_view{}))::value_type> out;
    const named match(name);
    for (const auto& a : attributes)
      if (match(a))
        if (auto v = parse(a.value)) out.push_back(std::move(*v));
    return out;
  }
  template <class Parse>
  auto first(std::string_view name, Parse parse) const -> decltype(parse(std::string_view{})) {
    const named match(name);
    for (const auto& a : attributes)
      if (match(a))
        if (auto v = parse(a.value)) return v;
    return std::nullopt;
  }
  template <class T>
  std::optional<T> number(std::string_view name) const noexcept {
    auto v = find(name);
    return v ? detail::to_uint<T>(*v) : std::nullopt;
  }
};

// m=<media> <port>[/<number of ports>] <proto> <fmt> ... and its section.
class media_view : public attribute_set {
 public:
  std::string_view type;             // "audio", "video", "application", ...
  std::uint16_t port = 0;            // 0 = rejected / disabled stream (RFC 3264 §8.2)
  std::uint32_t port_count = 0;      // 0 when the m= line has no "/<n>"
  std::string_view proto;            // "RTP/AVP", "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP" ...
  std::vector<std::string_view> formats;
  std::string_view title;            // i=
  std::vector<connection_view> connections;
  std::vector<bandwidth_view> bandwidths;
  std::string_view key;              // k= (obsolete, kept)
  std::uint32_t line = 0;            // line number of m=

  bool is_rtp() const noexcept { return proto.find("RTP/") != std::string_view::npos; }
  bool is_sctp() const noexcept { return proto.ends_with("SCTP"); }
  bool is_dtls() const noexcept {
    return proto.starts_with("UDP/TLS/") || proto.starts_with("TCP/TLS/") || proto.find("DTLS") != std::string_view::npos;
  }
};

class session_view : public attribute_set {
 public:
  std::string_view text;
  std::uint32_t version = 0;
  origin_view origin;
  std::string_view name;   // s=
  std::string_view info;   // i=
  std::string_view uri;    // u=
  std::vector<std::string_view> emails, phones;
  std::optional<connection_view> connection;
  std::vector<bandwidth_view> bandwidths;
  std::vector<timing_view> times;
  std::string_view zone;   // z=
  std::string_view key;    // k=
  std::vector<media_view> media;
  bool fragment = false;   // parsed as an RFC 8840 fragment (no v/o/s/t)

  explicit operator bool() const noexcept { return !ec_; }
  std::error_code error() const noexcept { return ec_; }
  std::uint32_t error_line() const noexcept { return error_line_; }

  // Connection for media `m`: its own c= (first) or the session's.
  std::optional<connection_view> connection_for(const media_view& m) const noexcept {
    if (!m.connections.empty()) return m.connections.front();
    return connection;
  }
  // Media-level value of `name`, else session-level (ICE, fingerprint, setup).
  std::optional<std::string_view> find_in(const media_view& m, std::string_view name) const noexcept {
    if (auto v = m.find(name)) return v;
    return find(name);
  }

  void fail(std::error_code ec, std::uint32_t line) noexcept {
    ec_ = ec;
    error_line_ = line;
  }

 private:
  std::error_code ec_;
  std::uint32_t error_line_ = 0;
};

struct parse_options {
  sdp::limits limits{};
  bool check_attributes = true;  // validate the syntax of known attributes
  // RFC 8840 §9 SDP fragment (application/trickle-ice-sdpfrag): no v/o/s/t
  // lines, session attributes then m= lines carrying a=mid and a=candidate.
  bool fragment = false;

  bool operator==(const parse_options&) const = default;
};

namespace detail {

// Section-relative rank of each line type (RFC 8866 §5). r= shares t='s rank
// so "t r r t r" repeats are allowed.
constexpr int session_rank(char t) noexcept {
  switch (t) {
    case 'v': return 0;
    case 'o': return 1;
    case 's': return 2;
    case 'i': return 3;
    case 'u': return 4;
    case 'e': return 5;
    case 'p': return 6;
    case 'c': return 7;
    case 'b': return 8;
    case 't': case 'r': return 9;
    case 'z': return 10;
    case 'k': return 11;
    case 'a': return 12;
    case 'm': return 13;
    default: return -1;
  }
}
constexpr int media_rank(char t) noexcept {
  switch (t) {
    case 'm': return 0;
    case 'i': return 1;
    case 'c': return 2;
    case 'b': return 3;
    case 'k': return 4;
    case 'a': return 5;
    default: return -1;
  }
}
constexpr bool repeatable(char t) noexcept {
  return t == 'e' || t == 'p' || t == 'c' || t == 'b' || t == 't' || t == 'r' || t == 'a' || t == 'm';
}

class parser {
 public:
  parser(std::string_view text, const parse_options& opt, session_view& out) noexcept
      : text_(text), opt_(opt), out_(out) {}

  std::error_code run() {
    out_.text = text_;
    out_.fragment = opt_.fragment;
    if (text_.size() > opt_.limits.max_bytes) return error::message_too_large;
    if (text_.empty()) return error::empty_input;
    std::size_t pos = 0;
    int rank = -1;
    bool in_media = false;
    char prev = 0;
    while (pos < text_.size()) {
      ++line_;
      bool bad_char = false;
      const std::size_t end = scan_line(pos, bad_char);
      std::string_view l = text_.substr(pos, end - pos);
      pos = end == text_.size() ? end : end + 1;
      pos_ = pos;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (l.empty()) {
        if (only_line_ends_left(pos)) break;  // trailing blank lines are tolerated
        return error::bad_line_syntax;
      }
      if (l.size() > opt_.limits.max_line_bytes) return error::line_too_long;
      if (l.size() < 2 || l[1] != '=') return error::bad_line_syntax;
      const char type = l[0];
      if (!(type >= 'a' && type <= 'z')) return error::bad_line_syntax;
      if (bad_char) return error::bad_character;
      const std::string_view value = l.substr(2);
      if (!opt_.fragment && line_ == 1 && type != 'v') return error::missing_version;
      // RFC 8840 §9: a fragment carries no v=, o=, s=, t= (or r=) lines.
      if (opt_.fragment && (type == 'v' || type == 'o' || type == 's' || type == 't' || type == 'r'))
        return error::line_out_of_order;
      const int r = in_media ? media_rank(type) : session_rank(type);
      if (r < 0) return session_rank(type) < 0 ? error::unknown_line_type : error::line_out_of_order;
      if (type == 'm') {
        in_media = true;
        rank = 0;
      } else {
        if (r < rank) return error::line_out_of_order;
        if (r == rank && !repeatable(type) && !(type == 't' || type == 'r')) return error::duplicate_line;
        if (type == 'r' && prev != 't' && prev != 'r') return error::line_out_of_order;
        rank = r;
      }
      prev = type;
      if (auto ec = in_media ? media_line(type, value) : session_line(type, value)) return ec;
    }
    return finish();
  }

  std::uint32_t line() const noexcept { return line_; }

 private:
  // Finds the '\n' ending the line at `pos` (or the end of the text) and
  // notes any control byte other than HT, or CR not followed by LF.
  std::size_t scan_line(std::size_t pos, bool& bad) const noexcept {
    for (;; ++pos) {
      pos = core::scan::find(text_, pos, core::scan::control_byte{});
      if (pos == text_.size() || check_byte(pos, bad)) return pos;
    }
  }
  // True at '\n'; flags a forbidden control byte.
  bool check_byte(std::size_t pos, bool& bad) const noexcept {
    const char c = text_[pos];
    if (c == '\n') return true;
    if (ascii::is_ctl(c) && c != '\t' && !(c == '\r' && (pos + 1 == text_.size() || text_[pos + 1] == '\n')))
      bad = true;
    return false;
  }

  bool only_line_ends_left(std::size_t pos) const noexcept {
    for (; pos < text_.size(); ++pos)
      if (text_[pos] != '\r' && text_[pos] != '\n') return false;
    return true;
  }

  std::error_code session_line(char type, std::string_view v) {
    switch (type) {
      case 'v':
        if (v != "0") return error::bad_version;
        have_v_ = true;
        return {};
      case 'o': return origin(v);
      case 's':
        out_.name = v;
        have_s_ = true;
        return {};
      case 'i': out_.info = v; return {};
      case 'u': out_.uri = v; return {};
      case 'e': return push_limited(out_.emails, v);
      case 'p': return push_limited(out_.phones, v);
      case 'c': {
        if (out_.connection) return error::duplicate_line;  // at most one at session level
        connection_view c;
        if (auto ec = connection(v, c)) return ec;
        out_.connection = c;
        return {};
      }
      case 'b': return bandwidth(v, out_.bandwidths);
      case 't': return timing(v);
      case 'r':
        if (out_.times.back().repeats.size() >= opt_.limits.max_lines) return error::too_many_lines;
        if (v.empty()) return error::bad_timing;
        out_.times.back().repeats.push_back(v);
        return {};
      case 'z': out_.zone = v; return {};
      case 'k': out_.key = v; return {};
      case 'a': return attribute(v, out_);
      default: return error::unknown_line_type;
    }
  }

  std::error_code media_line(char type, std::string_view v) {
    if (type == 'm') return media(v);
    media_view& m = out_.media.back();
    switch (type) {
      case 'i': m.title = v; return {};
      case 'c': {
        if (m.connections.size() >= opt_.limits.max_lines) return error::too_many_lines;
        connection_view c;
        if (auto ec = connection(v, c)) return ec;
        m.connections.push_back(c);
        return {};
      }
      case 'b': return bandwidth(v, m.bandwidths);
      case 'k': m.key = v; return {};
      case 'a': return attribute(v, m);
      default: return error::unknown_line_type;
    }
  }

  template <class T>
  std::error_code push_limited(std::vector<T>& vec, const T& v) {
    if (vec.size() >= opt_.limits.max_lines) return error::too_many_lines;
    vec.push_back(v);
    return {};
  }

  std::error_code origin(std::string_view v) {
    origin_view& o = out_.origin;
    std::optional<std::string_view> f[6];
    for (auto& x : f) x = next_field(v);
    for (auto& x : f)
      if (!x) return error::bad_origin;
    if (!v.empty()) return error::bad_origin;
    o = {*f[0], *f[1], *f[2], *f[3], *f[4], *f[5]};
    if (!ascii::all_of_class(o.session_id, ascii::cls_digit) ||
        !ascii::all_of_class(o.session_version, ascii::cls_digit))
      return error::bad_origin;
    have_o_ = true;
    return {};
  }

  std::error_code connection(std::string_view v, connection_view& c) {
    auto n = next_field(v), a = next_field(v), addr = next_field(v);
    if (!n || !a || !addr || !v.empty()) return error::bad_connection;
    c = {*n, *a, *addr, line_};
    return {};
  }

  std::error_code bandwidth(std::string_view v, std::vector<bandwidth_view>& out) {
    if (out.size() >= opt_.limits.max_lines) return error::too_many_lines;
    const auto colon = v.find(':');
    if (colon == std::string_view::npos || colon == 0) return error::bad_bandwidth;
    auto n = to_uint<std::uint64_t>(v.substr(colon + 1));
    if (!n || !is_token(v.substr(0, colon))) return error::bad_bandwidth;
    out.push_back({v.substr(0, colon), *n, line_});
    return {};
  }

  std::error_code timing(std::string_view v) {
    if (out_.times.size() >= opt_.limits.max_lines) return error::too_many_lines;
    auto a = next_field(v), b = next_field(v);
    if (!a || !b || !v.empty() || !ascii::all_of_class(*a, ascii::cls_digit) ||
        !ascii::all_of_class(*b, ascii::cls_digit))
      return error::bad_timing;
    out_.times.push_back({*a, *b, {}});
    return {};
  }

  std::error_code media(std::string_view v) {
    if (out_.media.size() >= opt_.limits.max_media) return error::too_many_media;
    if (!out_.media.empty())
      if (auto ec = check_media(out_.media.back())) return ec;
    if (out_.media.empty()) out_.media.reserve(4);
    media_view& m = out_.media.emplace_back();
    m.line = line_;
    // Size the attribute list from the bytes left (~32 bytes per a= line):
    // one allocation for a 5 KB browser section instead of a growth chain.
    m.attributes.reserve(std::min<std::size_t>((text_.size() - std::min(text_.size(), pos_)) / 32 + 4,
                                               opt_.limits.max_attributes));
    m.formats.reserve(8);
    auto type = next_field(v), port = next_field(v), proto = next_field(v);
    if (!type || !port || !proto || v.empty() || !is_token(*type)) return error::bad_media;
    m.type = *type;
    const auto slash = port->find('/');
    auto p = to_uint<std::uint16_t>(port->substr(0, slash));
    if (!p) return error::bad_media;
    m.port = *p;
    if (slash != std::string_view::npos) {
      auto n = to_uint<std::uint32_t>(port->substr(slash + 1));
      if (!n || *n == 0) return error::bad_media;
      m.port_count = *n;
    }
    for (char c : *proto)
      if (!(ascii::is_token(c) || c == '/')) return error::bad_media;
    m.proto = *proto;
    while (!v.empty()) {
      auto f = next_field(v);
      if (!f || !is_non_ws(*f)) return error::bad_media;
      if (m.formats.size() >= opt_.limits.max_formats) return error::too_many_lines;
      m.formats.push_back(*f);
    }
    return {};
  }

  std::error_code attribute(std::string_view v, attribute_set& set) {
    if (set.attributes.size() >= opt_.limits.max_attributes) return error::too_many_attributes;
    attribute_view a;
    // att-field is a token (RFC 8866 §9); one pass finds its end and checks it.
    std::size_t i = 0;
    while (i < v.size() && ascii::is_token(v[i])) ++i;
    if (i == 0 || (i < v.size() && v[i] != ':')) return error::bad_attribute;
    a.name = std::string_view(v.data(), i);
    a.has_value = i < v.size();
    if (a.has_value) a.value = std::string_view(v.data() + i + 1, v.size() - i - 1);
    a.line = line_;
    if (opt_.check_attributes) {
      const examined_attribute e = sdp::examine_attribute(a.name, a.value, a.has_value);
      if (!e.value_ok) return error::bad_attribute;
      a.kind = e.kind;
    }
    set.attributes.push_back(a);
    return {};
  }

  std::error_code check_media(const media_view& m) const noexcept {
    // §5.7: every media needs a connection address, its own or the session's.
    if (!opt_.fragment && m.connections.empty() && !out_.connection) {
      line_override_ = m.line;
      return error::missing_connection;
    }
    return {};
  }

  std::error_code finish() {
    if (!opt_.fragment) {
      if (!have_v_) return error::missing_version;
      if (!have_o_) return error::missing_origin;
      if (!have_s_) return error::missing_session_name;
      if (out_.times.empty()) return error::missing_timing;
    }
    if (!out_.media.empty())
      if (auto ec = check_media(out_.media.back())) return ec;
    return {};
  }

 public:
  std::uint32_t error_line() const noexcept { return line_override_ ? line_override_ : line_; }

 private:
  std::string_view text_;
  const parse_options& opt_;
  session_view& out_;
  std::uint32_t line_ = 0;
  std::size_t pos_ = 0;  // offset of the next line
  mutable std::uint32_t line_override_ = 0;
  bool have_v_ = false, have_o_ = false, have_s_ = false;
};

}  // namespace detail

// Parses a complete session description. On error the result is false and
// error()/error_line() name the violation and its 1-based line.
inline session_view parse(std::string_view text, const parse_options& options = {}) {
  session_view out;
  detail::parser p(text, options, out);
  if (auto ec = p.run()) out.fail(ec, p.error_line());
  return out;
}

// The views would dangle: keep the text in a variable that outlives the result.
// (Only a std::string rvalue picks this; literals and lvalues do not.)
template <class S>
  requires std::same_as<S, std::string>
session_view parse(S&& text, const parse_options& options = {}) = delete;

// Parses an RFC 8840 trickle-ICE SDP fragment (application/trickle-ice-sdpfrag).
inline session_view parse_fragment(std::string_view text, parse_options options = {}) {
  options.fragment = true;
  return parse(text, options);
}

}  // namespace sigwire::sdp
