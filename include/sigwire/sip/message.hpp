// sigwire/sip/message.hpp - zero-copy SIP message parser (RFC 3261 §7, §25).
//
//   sip::message_view m;
//   if (auto r = sip::parse(datagram, m); r.failed()) { auto owed = sip::owed_response_to(m, r.ec); ... }
//   m.method(); m.call_id(); m.top_via()->branch; m.cseq()->number; m.body();
//
// Both answer a parse_result: complete, failed (with the error), or -- for
// stream input only (parse_options::transport) -- need_more: the bytes end
// inside the message, so call again with more. "Need more input" is a status,
// as in every incremental parser of the library (core/parse_status.hpp); a
// datagram that ends early is an error (truncated_message,
// content_length_mismatch).
//
// index() cuts the bytes into a start line, an ordered header index of
// (name, value) views and a body; parse() also validates the headers a
// router reads on every message (top Via, From, To, Call-ID, CSeq incl. the
// method match, Content-Length, Max-Forwards) and the Request-URI. All other
// headers are decoded on access (headers.hpp accessors below): an access to
// a malformed header returns the error every time it is made.
//
// Headers live in a small inline array; beyond it a caller-supplied arena
// holds them (no allocation ever). Values are raw views: folds (CRLF + WSP)
// stay in the view and the typed parsers read them as whitespace.
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/parse_status.hpp>
#include <sigwire/core/scan.hpp>
#include <sigwire/sip/detail/lex.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/header_names.hpp>
#include <sigwire/sip/headers.hpp>
#include <sigwire/sip/limits.hpp>
#include <sigwire/sip/result.hpp>
#include <sigwire/sip/uri.hpp>

#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace sigwire::sip {

struct header_field {
  std::string_view name{};   // as written (may be a compact form)
  std::string_view value{};  // trimmed raw value, folds included
  header_id id = header_id::other;
};

using parse_status = core::parse_status;

struct parse_result {
  parse_status status = parse_status::complete;
  std::error_code ec;  // failed: the violation (failure_where() shows where)

  bool complete() const noexcept { return status == parse_status::complete; }
  bool need_more() const noexcept { return status == parse_status::need_more; }
  bool failed() const noexcept { return status == parse_status::failed; }
};

class message_view {
 public:
  static constexpr std::size_t inline_headers = 24;

  // --- start line --------------------------------------------------------
  bool is_request() const noexcept { return request_; }
  bool is_response() const noexcept { return !request_; }
  std::string_view start_line() const noexcept { return start_line_; }
  std::string_view method() const noexcept { return method_; }             // requests
  std::string_view request_uri_text() const noexcept { return uri_text_; } // requests
  const sip::uri& request_uri() const noexcept { return uri_; }           // after parse()
  std::string_view version() const noexcept { return version_; }
  int status() const noexcept { return status_; }                          // responses
  std::string_view reason() const noexcept { return reason_; }             // responses

  // --- header index ------------------------------------------------------
  std::span<const header_field> headers() const noexcept {
    return {count_ <= inline_headers ? inline_.data() : arena_.data(), count_};
  }
  const header_field* find(header_id id) const noexcept {
    for (const auto& h : headers())
      if (h.id == id) return &h;
    return nullptr;
  }
  const header_field* find(std::string_view name) const noexcept {
    const header_id id = lookup_header(name);
    if (id != header_id::other) return find(id);
    for (const auto& h : headers())
      if (h.id == header_id::other && core::ascii::iequals(h.name, name)) return &h;
    return nullptr;
  }
  std::size_t count(header_id id) const noexcept {
    std::size_t n = 0;
    for (const auto& h : headers()) n += h.id == id;
    return n;
  }

  // --- body / framing ----------------------------------------------------
  std::string_view body() const noexcept { return body_; }
  std::string_view bytes() const noexcept { return bytes_; }  // this message only (trailing octets excluded)
  std::size_t size() const noexcept { return bytes_.size(); }
  std::optional<std::uint32_t> content_length() const noexcept {
    return has_content_length_ ? std::optional<std::uint32_t>(content_length_) : std::nullopt;
  }

  // --- routing headers, validated by parse(); nullptr/nullopt when absent --
  const via* top_via() const noexcept { return has_via_ ? &top_via_ : nullptr; }
  const name_addr* from() const noexcept { return has_from_ ? &from_ : nullptr; }
  const name_addr* to() const noexcept { return has_to_ ? &to_ : nullptr; }
  std::string_view call_id() const noexcept { return call_id_; }
  const sip::cseq* cseq() const noexcept { return has_cseq_ ? &cseq_ : nullptr; }
  std::optional<std::uint32_t> max_forwards() const noexcept {
    return has_max_forwards_ ? std::optional<std::uint32_t>(max_forwards_) : std::nullopt;
  }

  // After a failure: the line or header value that caused it.
  std::string_view failure_where() const noexcept { return where_; }
  const parse_options& options() const noexcept { return opt_; }

 private:
  friend parse_result index(std::string_view, message_view&, const parse_options&, std::span<header_field>);
  friend parse_result parse(std::string_view, message_view&, const parse_options&, std::span<header_field>);
  friend struct detail_access;

  // Cheaper than `*this = message_view{}`: the header array and the typed
  // routing values are left as they are; counts and has_* flags guard them.
  void reset(const parse_options& opt, std::span<header_field> arena) noexcept {
    opt_ = opt;
    request_ = false;
    start_line_ = method_ = uri_text_ = version_ = reason_ = {};
    status_ = 0;
    if (has_uri_) uri_ = {}, has_uri_ = false;  // only parse() sets it
    arena_ = arena;
    count_ = 0;
    body_ = bytes_ = where_ = call_id_ = {};
    content_length_ = max_forwards_ = 0;
    has_content_length_ = has_max_forwards_ = has_via_ = has_from_ = has_to_ = has_cseq_ = false;
  }

  parse_result fail(error e, std::string_view where) noexcept {
    where_ = where;
    return {parse_status::failed, make_error_code(e)};
  }
  static parse_result need_more() noexcept { return {parse_status::need_more, {}}; }
  bool push(const header_field& h) noexcept {
    if (count_ < inline_headers) {  // written in place, field by field (no temporary)
      header_field& f = inline_[count_++];
      f.name = h.name;
      f.value = h.value;
      f.id = h.id;
      return true;
    }
    if (count_ >= arena_.size()) return false;
    if (count_ == inline_headers)
      for (std::size_t i = 0; i < inline_headers; ++i) arena_[i] = inline_[i];
    arena_[count_++] = h;
    return true;
  }

  parse_options opt_{};
  bool request_ = false;
  std::string_view start_line_{}, method_{}, uri_text_{}, version_{}, reason_{};
  int status_ = 0;
  sip::uri uri_{};
  bool has_uri_ = false;
  std::array<header_field, inline_headers> inline_{};
  std::span<header_field> arena_{};
  std::size_t count_ = 0;
  std::string_view body_{}, bytes_{}, where_{};
  std::uint32_t content_length_ = 0, max_forwards_ = 0;
  bool has_content_length_ = false, has_max_forwards_ = false;
  bool has_via_ = false, has_from_ = false, has_to_ = false, has_cseq_ = false;
  via top_via_{};
  name_addr from_{}, to_{};
  std::string_view call_id_{};
  sip::cseq cseq_{};
};

namespace detail {
constexpr bool version_syntax_ok(std::string_view v, bool any_case) noexcept {
  if (v.size() < 7) return false;
  const std::string_view sip = v.substr(0, 4);
  if (!(sip == "SIP/" || (any_case && core::ascii::iequals(sip, "SIP/")))) return false;
  const std::string_view num = v.substr(4);
  const std::size_t dot = num.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == num.size()) return false;
  for (std::size_t i = 0; i < num.size(); ++i)
    if (i != dot && !core::ascii::is_digit(num[i])) return false;
  return true;
}

// The exact version every message carries: the full checks can be skipped.
inline bool is_sip_2_0(std::string_view v) noexcept { return v.size() == 7 && std::memcmp(v.data(), "SIP/2.0", 7) == 0; }

// A header value without its surrounding LWS (detail::trim_lws), with a fast
// path for the usual single space after the colon and no trailing LWS.
inline std::string_view trim_value(std::string_view v) noexcept {
  if (v.size() >= 2 && v[0] == ' ' && !is_lws(v[1])) v.remove_prefix(1);
  if (!v.empty() && (is_lws(v.front()) || is_lws(v.back()))) v = trim_lws(v);
  return v;
}

enum class eol { ok, need_more, bare_cr };

// Finds the end of the line starting at `pos`: `nl` is the index of its
// '\n' and `content_end` that of the '\r' (== nl for a bare LF). A CR not
// followed by LF is reported (RFC 3261 §7: lines end with CRLF).
[[gnu::always_inline]] inline eol line_end(std::string_view s, std::size_t pos, std::size_t& content_end, std::size_t& nl) noexcept {
  const char* end = s.data() + s.size();
  content_end = core::scan::find(s, pos, core::scan::any_of<'\r', '\n'>{});
  const char* q = s.data() + content_end;
  if (end - q >= 2 && q[0] == '\r' && q[1] == '\n') {  // the usual CRLF
    nl = content_end + 1;
    return eol::ok;
  }
  if (q == end) return eol::need_more;
  if (*q == '\n') {
    nl = content_end;
    return eol::ok;
  }
  if (q + 1 == end) return eol::need_more;
  if (q[1] != '\n') return eol::bare_cr;
  nl = content_end + 1;
  return eol::ok;
}
}  // namespace detail

// Start line + header index + body framing, no header validation beyond
// line structure and Content-Length. Never allocates.
inline parse_result index(std::string_view bytes, message_view& m, const parse_options& opt = {},
                             std::span<header_field> arena = {}) {
  namespace ascii = core::ascii;
  m.reset(opt, arena);
  const bool bare_lf_ok = (opt.lenient & lenient_bare_lf) != 0;
  const std::size_t cap = bytes.size() < opt.limits.max_message_size ? bytes.size() : opt.limits.max_message_size;
  const std::string_view in{bytes.data(), cap};  // cap <= bytes.size()

  // ---- start line (RFC 3261 §7.1, §7.2) ----
  std::size_t ce = 0, nl = 0;
  const detail::eol first = detail::line_end(in, 0, ce, nl);
  if (first == detail::eol::need_more)
    return bytes.size() > cap ? m.fail(error::message_too_large, {})
           : opt.transport == transport_kind::datagram ? m.fail(error::truncated_message, in)
                                                       : m.need_more();
  if (first == detail::eol::bare_cr || (ce == nl && !bare_lf_ok))
    return m.fail(error::bad_line_ending, in.substr(0, ce + 1));
  std::string_view line{in.data(), ce};
  m.start_line_ = line;
  const bool spaces_ok = (opt.lenient & lenient_start_line_spaces) != 0;
  if (spaces_ok) line = ascii::trim_right(line);
  const bool any_case = (opt.lenient & lenient_version_case) != 0;
  // The usual spellings "SIP/2.0 " (responses) and " SIP/2.0" (requests)
  // spare the searches; the general paths give the same result for them.
  const bool usual_response = line.size() >= 12 && std::memcmp(line.data(), "SIP/2.0 ", 8) == 0;
  if (usual_response || ascii::istarts_with(line, "SIP/")) {
    const std::size_t sp1 = usual_response ? 7 : line.find(' ');
    if (sp1 == std::string_view::npos) return m.fail(error::bad_start_line, line);
    m.version_ = {line.data(), sp1};  // found indices are in range: no checked substr
    if (!detail::is_sip_2_0(m.version_)) {
      if (!detail::version_syntax_ok(m.version_, any_case)) return m.fail(error::bad_version, line);
      if (m.version_.substr(4) != "2.0") return m.fail(error::version_not_supported, line);
    }
    std::string_view rest{line.data() + sp1 + 1, line.size() - sp1 - 1};
    if (spaces_ok) rest = ascii::trim_left(rest);
    // A space among the first three bytes fails the digit checks either way.
    const std::string_view code = rest.substr(0, rest.size() > 3 && rest[3] == ' ' ? 3 : rest.find(' '));
    if (code.size() != 3 || !ascii::is_digit(code[0]) || !ascii::is_digit(code[1]) || !ascii::is_digit(code[2]) ||
        code[0] < '1' || code[0] > '6' || (code.size() == rest.size() && !spaces_ok))
      return m.fail(error::bad_status_code, line);
    m.status_ = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    m.reason_ = code.size() < rest.size() ? std::string_view{rest.data() + 4, rest.size() - 4} : std::string_view{};
    for (char c : m.reason_)
      if (ascii::is_ctl(c) && c != '\t') return m.fail(error::bad_reason_phrase, line);
  } else {
    m.request_ = true;
    const std::size_t sp1 = line.find(' ');
    const bool usual_version = line.size() > 8 && std::memcmp(line.data() + line.size() - 8, " SIP/2.0", 8) == 0;
    const std::size_t sp2 = usual_version ? line.size() - 8 : line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return m.fail(error::bad_start_line, line);
    m.method_ = {line.data(), sp1};
    if (!ascii::all_of_class(m.method_, ascii::cls_sip_token)) return m.fail(error::bad_method, line);
    m.version_ = {line.data() + sp2 + 1, line.size() - sp2 - 1};
    m.uri_text_ = {line.data() + sp1 + 1, sp2 - sp1 - 1};
    if (spaces_ok) m.uri_text_ = ascii::trim(m.uri_text_);
    if (m.uri_text_.empty()) return m.fail(error::bad_start_line, line);
    // No SP or HT inside the Request-URI (RFC 3261 §7.1: SP-separated elements).
    // SP or HT follows it: the first one at or after its start must be that one.
    const std::size_t uri_at = static_cast<std::size_t>(m.uri_text_.data() - line.data());
    if (core::scan::find(line, uri_at, core::scan::any_of<' ', '\t'>{}) != uri_at + m.uri_text_.size())
      return m.fail(error::bad_start_line, line);
    if (!detail::is_sip_2_0(m.version_)) {
      if (!detail::version_syntax_ok(m.version_, any_case)) return m.fail(error::bad_version, line);
      if (m.version_.substr(4) != "2.0") return m.fail(error::version_not_supported, line);
    }
  }

  // ---- header fields (RFC 3261 §7.3) ----
  std::size_t pos = nl + 1;
  bool ended = false;
  while (pos < in.size()) {
    if (static_cast<unsigned char>(in[pos]) <= ' ') {  // CR, LF, SP and HT all sort below '!'
      if (in[pos] == '\r' && pos + 1 < in.size() && in[pos + 1] == '\n') {
        pos += 2;
        ended = true;
        break;
      }
      if (in[pos] == '\n') {
        if (!bare_lf_ok) return m.fail(error::bad_line_ending, in.substr(pos, 1));
        pos += 1;
        ended = true;
        break;
      }
      if (in[pos] == '\r' && pos + 1 >= in.size()) break;  // CR at the very end: need more
      if (in[pos] == ' ' || in[pos] == '\t') return m.fail(error::bad_folding, in.substr(pos, in.find('\n', pos) - pos));
    }
    const std::size_t line_start = pos;
    // The name ends at the colon (HCOLON = *WSP ":" SWS); a CR or LF first
    // means a line without one.
    std::size_t i = core::scan::find(in, pos, core::scan::any_of<':', '\r', '\n'>{});
    if (i == in.size()) break;  // need more
    std::size_t name_end = i;
    if (static_cast<unsigned char>(in[name_end - 1]) <= ' ')  // rare: WSP before ':' (in[pos - 1] is a LF)
      while (name_end > pos && (in[name_end - 1] == ' ' || in[name_end - 1] == '\t')) --name_end;
    const std::string_view name(in.data() + pos, name_end - pos);
    // A known name matched in full is a token already; only others are checked.
    const header_id id = in[i] == ':' ? lookup_token_header(name, in.size() - pos) : header_id::other;
    if (in[i] != ':' || (id == header_id::other && !ascii::all_of_class(name, ascii::cls_sip_token))) {
      const std::size_t e = in.find('\n', line_start);
      const bool bad_name = name.empty() || !ascii::is_sip_token(name[0]);
      return m.fail(bad_name ? error::bad_header_name : error::bad_header_line,
                    in.substr(line_start, e == std::string_view::npos ? std::string_view::npos : e - line_start));
    }
    ++i;
    // value through folded continuation lines
    const std::size_t vstart = i;
    std::size_t vend = 0;
    bool complete = false;
    std::size_t scan_from = i;
    for (;;) {
      std::size_t content_end = 0, e = 0;
      const detail::eol r = detail::line_end(in, scan_from, content_end, e);
      if (r == detail::eol::need_more) break;
      if (r == detail::eol::bare_cr || (content_end == e && !bare_lf_ok))
        return m.fail(error::bad_line_ending, in.substr(line_start, content_end + 1 - line_start));
      vend = content_end;
      i = scan_from = e + 1;
      if (i >= in.size()) {
        complete = (opt.lenient & lenient_missing_final_crlf) != 0;
        break;
      }
      if (const auto next = static_cast<unsigned char>(in[i]); next > ' ' || (next != ' ' && next != '\t')) {
        complete = true;  // not a fold
        break;
      }
    }
    if (!complete) {
      if (i - line_start > opt.limits.max_header_line) return m.fail(error::header_line_too_long, in.substr(line_start, 64));
      break;  // need more
    }
    if (vend - line_start > opt.limits.max_header_line)
      return m.fail(error::header_line_too_long, in.substr(line_start, vend - line_start));
    header_field h{name, detail::trim_value(std::string_view(in.data() + vstart, vend - vstart)), id};
    if (m.count_ >= opt.limits.max_headers || !m.push(h)) return m.fail(error::too_many_headers, in.substr(line_start, vend - line_start));
    if (h.id == header_id::content_length) {
      if (m.has_content_length_) return m.fail(error::duplicate_header, h.value);
      const auto n = detail::parse_u32(h.value);
      if (!n) return m.fail(error::bad_content_length, h.value);
      if (n.value > opt.limits.max_body_size) return m.fail(error::body_too_large, h.value);
      m.content_length_ = n.value;
      m.has_content_length_ = true;
    }
    pos = i;
    if (pos >= in.size() && (opt.lenient & lenient_missing_final_crlf)) {
      ended = true;
      break;
    }
  }
  if (!ended) {
    if (bytes.size() > cap) return m.fail(error::message_too_large, {});
    // A datagram is all there is: a header section without its empty line is truncated.
    return opt.transport == transport_kind::datagram ? m.fail(error::truncated_message, in.substr(pos))
                                                     : m.need_more();
  }

  // ---- body (RFC 3261 §18.3) ----
  const std::size_t available = bytes.size() - pos;
  std::size_t body_len = 0;
  if (m.has_content_length_) {
    body_len = m.content_length_;
    if (body_len > available)
      return opt.transport == transport_kind::stream ? m.need_more()
                                                     : m.fail(error::content_length_mismatch, m.find(header_id::content_length)->value);
  } else if (opt.transport == transport_kind::stream) {
    if (!(opt.lenient & lenient_stream_missing_content_length)) return m.fail(error::missing_content_length, m.start_line_);
  } else {
    body_len = available;  // datagram without Content-Length: the rest is the body
    if (body_len > opt.limits.max_body_size) return m.fail(error::body_too_large, {});
  }
  if (pos + body_len > opt.limits.max_message_size) return m.fail(error::message_too_large, {});
  m.body_ = {bytes.data() + pos, body_len};  // pos + body_len <= bytes.size() (checked above)
  m.bytes_ = {bytes.data(), pos + body_len};
  return {};
}

// index() + the Request-URI and the routing headers validated.
inline parse_result parse(std::string_view bytes, message_view& m, const parse_options& opt = {},
                          std::span<header_field> arena = {}) {
  if (auto r = index(bytes, m, opt, arena); !r.complete()) return r;
  if (m.request_) {
    m.has_uri_ = true;
    if (const error e = parse_uri_to(m.uri_text_, m.uri_, false); e != error{})
      return m.fail(e == error::uri_headers_in_request_uri ? e : error::bad_request_uri, m.start_line_);
  }
  for (const auto& h : m.headers()) {
    switch (h.id) {
      case header_id::via: {
        if (m.has_via_) break;  // only the topmost value is decoded eagerly
        if (const error e = parse_via_to(h.value, m.top_via_, opt.limits, true); e != error{}) return m.fail(e, h.value);
        m.has_via_ = true;
        break;
      }
      case header_id::from:
      case header_id::to: {
        const bool is_from = h.id == header_id::from;
        if (is_from ? m.has_from_ : m.has_to_) return m.fail(error::duplicate_header, h.value);
        if (const error e = parse_name_addr_to(h.value, is_from ? m.from_ : m.to_, is_from ? error::bad_from : error::bad_to, opt.limits);
            e != error{})
          return m.fail(e, h.value);
        (is_from ? m.has_from_ : m.has_to_) = true;
        break;
      }
      case header_id::call_id: {
        if (!m.call_id_.empty()) return m.fail(error::duplicate_header, h.value);
        auto c = parse_call_id(h.value);
        if (!c) return m.fail(error::bad_call_id, h.value);
        m.call_id_ = c.value;
        break;
      }
      case header_id::cseq: {
        if (m.has_cseq_) return m.fail(error::duplicate_header, h.value);
        auto c = parse_cseq(h.value);
        if (!c) return m.fail(error::bad_cseq, h.value);
        // RFC 3261 §8.1.1.5: the method MUST match that of the request.
        if (m.request_ && c->method != m.method_) return m.fail(error::cseq_method_mismatch, h.value);
        m.cseq_ = c.value;
        m.has_cseq_ = true;
        break;
      }
      case header_id::max_forwards: {
        if (m.has_max_forwards_) return m.fail(error::duplicate_header, h.value);
        auto n = parse_number(h.value, error::bad_max_forwards, 255);  // RFC 3261 §20.22: 0-255
        if (!n) return m.fail(error::bad_max_forwards, h.value);
        m.max_forwards_ = n.value;
        m.has_max_forwards_ = true;
        break;
      }
      default: break;
    }
  }
  return {};
}

// The response owed to a request that failed to parse with `ec`
// (status 0: none — a response, or framing that forces a close).
inline owed_response owed_response_to(const message_view& m, std::error_code ec) noexcept {
  if (ec.category() != core::category_of<error>()) return {400, "Bad Request"};
  const auto e = static_cast<error>(ec.value());
  if (!m.is_request() && !m.start_line().empty() && e != error::bad_start_line) return {0, {}};
  // RFC 4475 §3.1.2.18: an unknown method with a mismatched CSeq earns 501.
  if (e == error::cseq_method_mismatch && !is_known_method(m.method())) return {501, "Not Implemented"};
  return owed_response_for(e);
}

}  // namespace sigwire::sip
