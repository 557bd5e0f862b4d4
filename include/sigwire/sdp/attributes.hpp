// sigwire/sdp/attributes.hpp - typed, zero-copy views of the SDP attributes
// calls depend on. Each parse_X takes the attribute value (the text after
// "a=name:") and returns std::nullopt when it does not match the grammar of
// the RFC cited next to it. The views point into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <sigwire/core/ascii.hpp>

namespace sigwire::sdp {

namespace detail {
namespace ascii = core::ascii;

// Next field separated by exactly one SP; advances `s`. Empty field = error.
// A byte loop: fields are short, a memchr call costs more than it saves.
[[gnu::always_inline]] inline std::optional<std::string_view> next_field(std::string_view& s) noexcept {
  if (s.empty()) return std::nullopt;
  const char* p = s.data();
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n && p[i] != ' ') ++i;
  std::string_view f(p, i);
  s = i == n ? std::string_view{} : std::string_view(p + i + 1, n - i - 1);
  if (f.empty()) return std::nullopt;
  return f;
}

// Strict decimal (digits only, no sign) up to `max`: core::ascii's parser
// as an optional, the shape SDP's field parsers use.
template <class T>
[[gnu::always_inline]] constexpr std::optional<T> to_uint(std::string_view s,
                                                          T max = std::numeric_limits<T>::max()) noexcept {
  T value = 0;
  if (core::ascii::parse_uint_to<T>(s, value, max) != core::ascii::uint_status::ok) return std::nullopt;
  return value;
}

// RFC 8866 §9 token / non-ws-string checks.
inline bool is_token(std::string_view s) noexcept { return ascii::is_token(s); }
inline bool is_non_ws(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c == ' ' || c == '\t' || ascii::is_ctl(c)) return false;
  return true;
}
}  // namespace detail

// --- a=rtpmap:<pt> <encoding>/<clock>[/<params>]  (RFC 8866 §6.6) ----------
struct rtpmap {
  unsigned payload_type = 0;
  std::string_view encoding;         // "opus", "PCMU" ... compare with iequals
  std::uint32_t clock_rate = 0;
  std::string_view encoding_params;  // audio: channels; empty when absent
  // Channels for audio (RFC 8866 §6.6: default 1 when absent).
  std::uint32_t channels() const noexcept {
    if (encoding_params.empty()) return 1;
    auto c = detail::to_uint<std::uint32_t>(encoding_params);
    return c ? *c : 1;
  }
};

inline std::optional<rtpmap> parse_rtpmap(std::string_view v) noexcept {
  // Hand-written scans (no library find()): a WebRTC offer has some 60
  // rtpmap lines, each checked by the parser and read again by describe_formats().
  const char* p = v.data();
  const std::size_t n = v.size();
  std::size_t i = 0;
  while (i < n && p[i] != ' ') ++i;
  if (i == 0 || i + 1 >= n) return std::nullopt;
  auto pt = detail::to_uint<unsigned>(v.substr(0, i), 127);
  if (!pt) return std::nullopt;
  rtpmap r;
  r.payload_type = *pt;
  const std::size_t name_at = i + 1;
  std::size_t slash = name_at;
  while (slash < n && p[slash] != '/') ++slash;
  if (slash == n || slash == name_at) return std::nullopt;
  r.encoding = v.substr(name_at, slash - name_at);
  if (!detail::is_non_ws(r.encoding)) return std::nullopt;
  std::size_t clock_end = slash + 1;
  while (clock_end < n && p[clock_end] != '/') ++clock_end;
  auto clock = detail::to_uint<std::uint32_t>(v.substr(slash + 1, clock_end - slash - 1));
  if (!clock || *clock == 0) return std::nullopt;
  r.clock_rate = *clock;
  if (clock_end < n) {
    r.encoding_params = v.substr(clock_end + 1);
    if (!detail::is_non_ws(r.encoding_params)) return std::nullopt;
  }
  return r;
}

// --- a=fmtp:<format> <params>  (RFC 8866 §6.15) ------------------------------
struct fmtp {
  std::string_view format;
  std::string_view params;
  // Calls fn(name, value) for each "name=value" of the ';'-separated list,
  // in order, both trimmed (a bare flag has value ""), until fn returns false.
  template <class Fn>
  void for_each_param(Fn&& fn) const {
    // H.264 matching calls this for each of a WebRTC offer's dozen H.264
    // formats: the ';' and '=' are found with memchr (vectorised), not by a
    // test per byte.
    std::string_view rest = params;
    while (!rest.empty()) {
      const std::size_t end = rest.find(';');
      const std::string_view item = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      const std::size_t eq = item.find('=');
      const std::string_view name = item.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
      if (!fn(core::ascii::trim(name), core::ascii::trim(value))) return;
    }
  }
  // Value of the first "name=value" (names compared case-insensitively, as
  // RFC 6184/7587 media types do). A bare flag yields "".
  std::optional<std::string_view> param(std::string_view name) const noexcept {
    std::optional<std::string_view> found;
    for_each_param([&](std::string_view n, std::string_view v) {
      if (!core::ascii::iequals(n, name)) return true;
      found = v;
      return false;
    });
    return found;
  }
};

inline std::optional<fmtp> parse_fmtp(std::string_view v) noexcept {
  const auto sp = v.find(' ');
  fmtp f;
  f.format = v.substr(0, sp);
  if (!detail::is_non_ws(f.format)) return std::nullopt;
  f.params = sp == std::string_view::npos ? std::string_view{} : v.substr(sp + 1);
  return f;
}

// --- a=rtcp-fb:<pt|*> <type> [<subtype> ...]  (RFC 4585 §4.2) --------------
struct rtcp_fb {
  std::string_view format;  // payload type or "*"
  std::string_view type;    // "nack", "ccm", "goog-remb", "transport-cc" ...
  std::string_view param;   // the rest ("pli", "fir", ...), may be empty
};

inline std::optional<rtcp_fb> parse_rtcp_fb(std::string_view v) noexcept {
  rtcp_fb r;
  auto f = detail::next_field(v);
  if (!f || (*f != "*" && !detail::to_uint<unsigned>(*f, 127))) return std::nullopt;
  r.format = *f;
  auto t = detail::next_field(v);
  if (!t || !detail::is_token(*t)) return std::nullopt;
  r.type = *t;
  r.param = v;
  return r;
}

// --- a=rtcp:<port> [<nettype> <addrtype> <address>]  (RFC 3605 §2.1) --------
struct rtcp_attr {
  std::uint16_t port = 0;
  std::string_view nettype, addrtype, address;
};

inline std::optional<rtcp_attr> parse_rtcp(std::string_view v) noexcept {
  rtcp_attr r;
  auto p = detail::next_field(v);
  if (!p) return std::nullopt;
  auto port = detail::to_uint<std::uint16_t>(*p);
  if (!port) return std::nullopt;
  r.port = *port;
  if (v.empty()) return r;
  auto nt = detail::next_field(v), at = detail::next_field(v), ad = detail::next_field(v);
  if (!nt || !at || !ad || !v.empty()) return std::nullopt;
  r.nettype = *nt;
  r.addrtype = *at;
  r.address = *ad;
  return r;
}

// --- direction (RFC 8866 §6.7, RFC 3264 §5.1) --------------------------------
enum class direction { sendrecv, sendonly, recvonly, inactive };

constexpr std::string_view to_string(direction d) noexcept {
  switch (d) {
    case direction::sendrecv: return "sendrecv";
    case direction::sendonly: return "sendonly";
    case direction::recvonly: return "recvonly";
    case direction::inactive: return "inactive";
  }
  return "sendrecv";
}
constexpr std::optional<direction> direction_from_name(std::string_view n) noexcept {
  if (n.size() != 8) return std::nullopt;  // all four names have 8 letters: most attributes stop here
  if (n == "sendrecv") return direction::sendrecv;
  if (n == "sendonly") return direction::sendonly;
  if (n == "recvonly") return direction::recvonly;
  if (n == "inactive") return direction::inactive;
  return std::nullopt;
}
constexpr bool sends(direction d) noexcept { return d == direction::sendrecv || d == direction::sendonly; }
constexpr bool receives(direction d) noexcept { return d == direction::sendrecv || d == direction::recvonly; }
constexpr direction make_direction(bool send, bool recv) noexcept {
  return send ? (recv ? direction::sendrecv : direction::sendonly)
              : (recv ? direction::recvonly : direction::inactive);
}
// The peer's view of a direction: what I send, it receives.
constexpr direction reverse(direction d) noexcept { return make_direction(receives(d), sends(d)); }

// --- a=group:<semantics> *(SP <tag>)  (RFC 5888 §5, BUNDLE RFC 9143) --------
struct group {
  std::string_view semantics;
  std::vector<std::string_view> tags;
  bool contains(std::string_view tag) const noexcept {
    for (auto t : tags)
      if (t == tag) return true;
    return false;
  }
};

// The tags of an a=group line, read in place: what an answerer asks of the
// offer's BUNDLE group (is this mid in it?) without building a vector.
struct group_tags {
  std::string_view text;  // the tags after the semantics, space-separated
  bool contains(std::string_view tag) const noexcept {
    std::string_view rest = text;
    while (auto t = detail::next_field(rest))
      if (*t == tag) return true;
    return false;
  }
};

inline std::optional<group> parse_group(std::string_view v) {
  group g;
  auto s = detail::next_field(v);
  if (!s || !detail::is_token(*s)) return std::nullopt;
  g.semantics = *s;
  while (!v.empty()) {
    auto t = detail::next_field(v);
    if (!t || !detail::is_token(*t)) return std::nullopt;
    g.tags.push_back(*t);
  }
  return g;
}

// --- a=msid:<id> [<appdata>]  (RFC 8830 §2) ----------------------------------
struct msid {
  std::string_view id;
  std::string_view appdata;
};

inline std::optional<msid> parse_msid(std::string_view v) noexcept {
  msid m;
  auto id = detail::next_field(v);
  if (!id) return std::nullopt;
  m.id = *id;
  if (!v.empty()) {
    auto app = detail::next_field(v);
    if (!app || !v.empty()) return std::nullopt;
    m.appdata = *app;
  }
  return m;
}

// --- a=ssrc:<id> <attribute>[:<value>]  (RFC 5576 §4.1) ---------------------
struct ssrc {
  std::uint32_t id = 0;
  std::string_view attribute;  // "cname", "msid", ...
  std::string_view value;      // may contain spaces (msid: "stream track")
};

inline std::optional<ssrc> parse_ssrc(std::string_view v) noexcept {
  ssrc s;
  auto id = detail::next_field(v);
  if (!id || v.empty()) return std::nullopt;
  auto n = detail::to_uint<std::uint32_t>(*id);
  if (!n) return std::nullopt;
  s.id = *n;
  const auto colon = v.find(':');
  s.attribute = v.substr(0, colon);
  if (!detail::is_token(s.attribute)) return std::nullopt;
  if (colon != std::string_view::npos) s.value = v.substr(colon + 1);
  return s;
}

// --- a=ssrc-group:<semantics> *(SP <ssrc>)  (RFC 5576 §4.2) -----------------
struct ssrc_group {
  std::string_view semantics;  // "FID", "SIM", "FEC-FR"
  std::vector<std::uint32_t> ssrcs;
};

inline std::optional<ssrc_group> parse_ssrc_group(std::string_view v) {
  ssrc_group g;
  auto s = detail::next_field(v);
  if (!s || !detail::is_token(*s)) return std::nullopt;
  g.semantics = *s;
  while (!v.empty()) {
    auto t = detail::next_field(v);
    if (!t) return std::nullopt;
    auto n = detail::to_uint<std::uint32_t>(*t);
    if (!n) return std::nullopt;
    g.ssrcs.push_back(*n);
  }
  return g;
}

// --- a=extmap:<id>[/<direction>] <uri> [<attributes>]  (RFC 8285 §7) -------
struct extmap {
  unsigned id = 0;                // 1-14 one-byte, 1-255 two-byte headers
  std::string_view direction;     // "sendonly" ... or empty
  std::string_view uri;
  std::string_view attributes;    // rest of the line, may be empty
};

inline std::optional<extmap> parse_extmap(std::string_view v) noexcept {
  extmap e;
  auto idf = detail::next_field(v);
  if (!idf) return std::nullopt;
  const auto slash = idf->find('/');
  auto id = detail::to_uint<unsigned>(idf->substr(0, slash), 4095);
  if (!id || *id == 0) return std::nullopt;
  e.id = *id;
  if (slash != std::string_view::npos) {
    e.direction = idf->substr(slash + 1);
    if (!direction_from_name(e.direction)) return std::nullopt;
  }
  auto uri = detail::next_field(v);
  if (!uri) return std::nullopt;
  e.uri = *uri;
  e.attributes = v;
  return e;
}

// --- a=ice-options:<token> *(SP <token>)  (RFC 8839 §5.6) -------------------
namespace detail {
// True when `v` is a well-formed ice-options value (parse_ice_options()
// accepts it) naming `option`; allocates nothing.
inline bool ice_options_contain(std::string_view v, std::string_view option) noexcept {
  if (v.empty()) return false;
  bool found = false;
  while (!v.empty()) {
    auto t = next_field(v);
    if (!t || !is_non_ws(*t)) return false;
    found = found || *t == option;
  }
  return found;
}
}  // namespace detail

inline std::optional<std::vector<std::string_view>> parse_ice_options(std::string_view v) {
  std::vector<std::string_view> out;
  while (!v.empty()) {
    auto t = detail::next_field(v);
    if (!t || !detail::is_non_ws(*t)) return std::nullopt;
    out.push_back(*t);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// ice-ufrag / ice-pwd: ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4);
// ufrag 4-256 chars, pwd 22-256 chars.
inline bool is_ice_chars(std::string_view s, std::size_t min, std::size_t max) noexcept {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s)
    if (!(core::ascii::is_alnum(c) || c == '+' || c == '/')) return false;
  return true;
}

// --- a=candidate  (RFC 8839 §5.1) --------------------------------------------
// foundation SP component-id SP transport SP priority SP address SP port
//   SP "typ" SP cand-type [SP "raddr" SP addr] [SP "rport" SP port]
//   *(SP extension-att-name SP extension-att-value)
struct candidate {
  std::string_view foundation;
  std::uint16_t component = 0;
  std::string_view transport;  // "udp", "tcp" (case-insensitive)
  std::uint32_t priority = 0;
  std::string_view address;    // IP or FQDN (mDNS ".local" names included)
  std::uint16_t port = 0;
  std::string_view type;       // host, srflx, prflx, relay
  std::string_view rel_address;
  std::optional<std::uint16_t> rel_port;
  std::vector<std::pair<std::string_view, std::string_view>> extensions;  // tcptype, generation, ufrag ...
};

inline std::optional<candidate> parse_candidate(std::string_view v) {
  candidate c;
  auto f = detail::next_field(v);
  if (!f || f->size() > 32) return std::nullopt;
  for (char ch : *f)
    if (!(core::ascii::is_alnum(ch) || ch == '+' || ch == '/')) return std::nullopt;
  c.foundation = *f;
  auto comp = detail::next_field(v);
  auto cn = comp ? detail::to_uint<std::uint16_t>(*comp, 256) : std::nullopt;
  if (!cn || *cn == 0) return std::nullopt;
  c.component = *cn;
  auto tr = detail::next_field(v);
  if (!tr || !detail::is_token(*tr)) return std::nullopt;
  c.transport = *tr;
  auto pr = detail::next_field(v);
  auto pn = pr ? detail::to_uint<std::uint32_t>(*pr) : std::nullopt;
  if (!pn || *pn == 0) return std::nullopt;
  c.priority = *pn;
  auto ad = detail::next_field(v);
  if (!ad) return std::nullopt;
  c.address = *ad;
  auto po = detail::next_field(v);
  auto port = po ? detail::to_uint<std::uint16_t>(*po) : std::nullopt;
  if (!port) return std::nullopt;
  c.port = *port;
  auto typ = detail::next_field(v);
  auto type = detail::next_field(v);
  if (!typ || *typ != "typ" || !type || !detail::is_token(*type)) return std::nullopt;
  c.type = *type;
  while (!v.empty()) {
    auto name = detail::next_field(v);
    auto value = detail::next_field(v);
    if (!name || !value) return std::nullopt;
    if (*name == "raddr") {
      c.rel_address = *value;
    } else if (*name == "rport") {
      auto rp = detail::to_uint<std::uint16_t>(*value);
      if (!rp) return std::nullopt;
      c.rel_port = *rp;
    } else {
      c.extensions.emplace_back(*name, *value);
    }
  }
  return c;
}

// --- a=fingerprint:<hash-func> <XX:XX:...>  (RFC 8122 §5) -------------------
struct fingerprint {
  std::string_view hash_function;  // "sha-256" ...
  std::string_view value;          // upper-case hex pairs joined by ':'
};

inline std::optional<fingerprint> parse_fingerprint(std::string_view v) noexcept {
  fingerprint f;
  auto h = detail::next_field(v);
  if (!h || !detail::is_token(*h) || v.empty()) return std::nullopt;
  f.hash_function = *h;
  // 2UHEX *(":" 2UHEX); lower case accepted as a named leniency (some stacks).
  if ((v.size() + 1) % 3 != 0) return std::nullopt;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const bool sep = (i % 3) == 2;
    if (sep ? v[i] != ':' : !core::ascii::is_hex(v[i])) return std::nullopt;
  }
  f.value = v;
  return f;
}

// --- a=setup  (RFC 4145 §4) ---------------------------------------------------
enum class setup_role { active, passive, actpass, holdconn };

constexpr std::string_view to_string(setup_role r) noexcept {
  switch (r) {
    case setup_role::active: return "active";
    case setup_role::passive: return "passive";
    case setup_role::actpass: return "actpass";
    case setup_role::holdconn: return "holdconn";
  }
  return "actpass";
}
constexpr std::optional<setup_role> parse_setup(std::string_view v) noexcept {
  if (v == "active") return setup_role::active;
  if (v == "passive") return setup_role::passive;
  if (v == "actpass") return setup_role::actpass;
  if (v == "holdconn") return setup_role::holdconn;
  return std::nullopt;
}

// --- a=crypto:<tag> <suite> <key-params> [<session-params>]  (RFC 4568 §9.1)
struct crypto {
  std::uint32_t tag = 0;
  std::string_view suite;           // "AES_CM_128_HMAC_SHA1_80" ...
  std::string_view key_params;      // "inline:<key||salt>[|lifetime][|MKI:len]" [;...]
  std::string_view session_params;  // rest, may be empty
  // The base64 key||salt of the first inline key parameter.
  std::string_view inline_key() const noexcept {
    std::string_view k = key_params.substr(0, key_params.find(';'));
    if (!k.starts_with("inline:")) return {};
    k.remove_prefix(7);
    return k.substr(0, k.find('|'));
  }
};

inline std::optional<crypto> parse_crypto(std::string_view v) noexcept {
  crypto c;
  auto t = detail::next_field(v);
  auto tag = t ? detail::to_uint<std::uint32_t>(*t, 999999999u) : std::nullopt;
  if (!tag) return std::nullopt;
  c.tag = *tag;
  auto s = detail::next_field(v);
  if (!s || !detail::is_token(*s)) return std::nullopt;
  c.suite = *s;
  auto k = detail::next_field(v);
  if (!k || !k->starts_with("inline:") || k->size() == 7) return std::nullopt;
  c.key_params = *k;
  c.session_params = v;
  return c;
}

// --- a=rid:<id> <send|recv> [<params>]  (RFC 8851 §10) -----------------------
struct rid {
  std::string_view id;
  std::string_view direction;  // "send" or "recv"
  std::string_view params;     // "pt=96,97;max-width=1280" ...
};

inline std::optional<rid> parse_rid(std::string_view v) noexcept {
  rid r;
  auto id = detail::next_field(v);
  auto dir = detail::next_field(v);
  if (!id || !dir || (*dir != "send" && *dir != "recv")) return std::nullopt;
  for (char c : *id)
    if (!(core::ascii::is_alnum(c) || c == '-' || c == '_')) return std::nullopt;
  r.id = *id;
  r.direction = *dir;
  r.params = v;
  return r;
}

// --- a=simulcast:[send <list>] [recv <list>]  (RFC 8853 §5.1) ----------------
struct simulcast {
  std::string_view send;  // "1;2;~3" alternatives/streams, raw
  std::string_view recv;
};

inline std::optional<simulcast> parse_simulcast(std::string_view v) noexcept {
  simulcast s;
  bool any = false;
  while (!v.empty()) {
    auto dir = detail::next_field(v);
    auto list = detail::next_field(v);
    if (!dir || !list) return std::nullopt;
    if (*dir == "send" && s.send.empty()) s.send = *list;
    else if (*dir == "recv" && s.recv.empty()) s.recv = *list;
    else return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  return s;
}

namespace detail {
// Exact compare against a literal, unrolled by the compiler (no memcmp call).
template <std::size_t N>
constexpr bool is_name(std::string_view n, const char (&lit)[N]) noexcept {
  if (n.size() != N - 1) return false;
  for (std::size_t i = 0; i + 1 < N; ++i)
    if (n[i] != lit[i]) return false;
  return true;
}
}  // namespace detail

// Syntax-only checks that allocate nothing (the typed parsers above build
// vectors for groups, candidate extensions and ssrc lists).
namespace detail {
inline bool group_ok(std::string_view v) noexcept {
  auto s = next_field(v);
  if (!s || !is_token(*s)) return false;
  while (!v.empty()) {
    auto t = next_field(v);
    if (!t || !is_token(*t)) return false;
  }
  return true;
}
inline bool ssrc_group_ok(std::string_view v) noexcept {
  auto s = next_field(v);
  if (!s || !is_token(*s)) return false;
  while (!v.empty()) {
    auto t = next_field(v);
    if (!t || !to_uint<std::uint32_t>(*t)) return false;
  }
  return true;
}
inline bool ice_options_ok(std::string_view v) noexcept {
  if (v.empty()) return false;
  while (!v.empty()) {
    auto t = next_field(v);
    if (!t || !is_non_ws(*t)) return false;
  }
  return true;
}
inline bool candidate_ok(std::string_view v) {
  // Same grammar as parse_candidate; a candidate line is short, and the
  // typed parse allocates only when there are extensions.
  return parse_candidate(v).has_value();
}
}  // namespace detail

// --- attribute kinds ------------------------------------------------------------
// The attribute names the library reads or checks. The parser classifies
// each attribute once (one switch on the name's length, then one compare
// per candidate name), so every later pass over an m-line tests a byte
// instead of comparing names: a WebRTC video m-line has over a hundred
// attributes, and answering it walks them several times.
enum class attribute_kind : std::uint8_t {
  unclassified,  // not looked at: a hand-built view, or parsed without attribute checks
  other,         // none of the names below
  mid, rid,
  fmtp, rtcp, msid, ssrc,
  ptime, group, setup,
  rtpmap, extmap, crypto,
  rtcp_fb, ice_pwd,
  maxptime, rtcp_mux, sendrecv, sendonly, recvonly, inactive,
  ice_ufrag, candidate, simulcast, sctp_port,
  ssrc_group, rtcp_rsize,
  fingerprint, ice_options,
  max_message_size,
  extmap_allow_mixed,
};

struct examined_attribute {
  attribute_kind kind = attribute_kind::other;
  bool value_ok = true;  // always true for an unchecked examination
};

namespace detail {
// Classifies `name` and, when `Check`, checks the syntax of `value` in the
// same branch: one dispatch per attribute (a second switch on the kind cost
// the parser a mispredicted jump per attribute). Unknown names pass: they
// are kept verbatim (RFC 8866 §5.13: unknown attributes MUST be ignored).
template <bool Check>
constexpr examined_attribute examine_attribute(std::string_view name, std::string_view value, bool has_value) {
  using k = attribute_kind;
  auto is = [&](k kind, auto&& check) -> examined_attribute {
    if constexpr (Check) return {kind, check()};
    else return {kind, true};
  };
  auto any = [] { return true; };
  auto uint_ok = [&] { return to_uint<std::uint64_t>(value).has_value(); };
  switch (name.size()) {
    case 0: return {k::other, !Check};
    case 3:
      if (is_name(name, "mid")) return is(k::mid, [&] { return has_value && !value.empty(); });
      if (is_name(name, "rid")) return is(k::rid, [&] { return parse_rid(value).has_value(); });
      break;
    case 4:
      if (is_name(name, "fmtp")) return is(k::fmtp, [&] { return parse_fmtp(value).has_value(); });
      if (is_name(name, "rtcp")) return is(k::rtcp, [&] { return parse_rtcp(value).has_value(); });
      if (is_name(name, "msid")) return is(k::msid, [&] { return parse_msid(value).has_value(); });
      if (is_name(name, "ssrc")) return is(k::ssrc, [&] { return parse_ssrc(value).has_value(); });
      break;
    case 5:
      if (is_name(name, "ptime")) return is(k::ptime, uint_ok);
      if (is_name(name, "group")) return is(k::group, [&] { return group_ok(value); });
      if (is_name(name, "setup")) return is(k::setup, [&] { return parse_setup(value).has_value(); });
      break;
    case 6:
      if (is_name(name, "rtpmap")) return is(k::rtpmap, [&] { return parse_rtpmap(value).has_value(); });
      if (is_name(name, "extmap")) return is(k::extmap, [&] { return parse_extmap(value).has_value(); });
      if (is_name(name, "crypto")) return is(k::crypto, [&] { return parse_crypto(value).has_value(); });
      break;
    case 7:
      if (is_name(name, "rtcp-fb")) return is(k::rtcp_fb, [&] { return parse_rtcp_fb(value).has_value(); });
      if (is_name(name, "ice-pwd")) return is(k::ice_pwd, [&] { return is_ice_chars(value, 22, 256); });
      break;
    case 8:
      if (is_name(name, "rtcp-mux")) return is(k::rtcp_mux, any);
      if (is_name(name, "sendrecv")) return is(k::sendrecv, any);
      if (is_name(name, "sendonly")) return is(k::sendonly, any);
      if (is_name(name, "recvonly")) return is(k::recvonly, any);
      if (is_name(name, "inactive")) return is(k::inactive, any);
      if (is_name(name, "maxptime")) return is(k::maxptime, uint_ok);
      break;
    case 9:
      if (is_name(name, "ice-ufrag")) return is(k::ice_ufrag, [&] { return is_ice_chars(value, 4, 256); });
      if (is_name(name, "candidate")) return is(k::candidate, [&] { return candidate_ok(value); });
      if (is_name(name, "simulcast")) return is(k::simulcast, [&] { return parse_simulcast(value).has_value(); });
      if (is_name(name, "sctp-port")) return is(k::sctp_port, uint_ok);
      break;
    case 10:
      if (is_name(name, "ssrc-group")) return is(k::ssrc_group, [&] { return ssrc_group_ok(value); });
      if (is_name(name, "rtcp-rsize")) return is(k::rtcp_rsize, any);
      break;
    case 11:
      if (is_name(name, "fingerprint")) return is(k::fingerprint, [&] { return parse_fingerprint(value).has_value(); });
      if (is_name(name, "ice-options")) return is(k::ice_options, [&] { return ice_options_ok(value); });
      break;
    case 16:
      if (is_name(name, "max-message-size")) return is(k::max_message_size, uint_ok);
      break;
    case 18:
      if (is_name(name, "extmap-allow-mixed")) return is(k::extmap_allow_mixed, any);
      break;
    default: break;
  }
  return {k::other, true};
}
}  // namespace detail

constexpr attribute_kind classify_attribute(std::string_view name) noexcept {
  return detail::examine_attribute<false>(name, {}, false).kind;
}

// The kind of a=name and whether its value is well-formed, in one dispatch.
inline examined_attribute examine_attribute(std::string_view name, std::string_view value, bool has_value) {
  return detail::examine_attribute<true>(name, value, has_value);
}

// Checks the syntax of a known attribute's value. Unknown names pass (RFC
// 8866 §5.13); an empty name does not.
inline bool attribute_value_ok(std::string_view name, std::string_view value, bool has_value) {
  return examine_attribute(name, value, has_value).value_ok;
}

// The direction a kind names (RFC 3264 §5.1), if it is one of the four.
constexpr std::optional<direction> direction_of(attribute_kind k) noexcept {
  switch (k) {
    case attribute_kind::sendrecv: return direction::sendrecv;
    case attribute_kind::sendonly: return direction::sendonly;
    case attribute_kind::recvonly: return direction::recvonly;
    case attribute_kind::inactive: return direction::inactive;
    default: return std::nullopt;
  }
}

}  // namespace sigwire::sdp
