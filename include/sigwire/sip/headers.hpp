// sigwire/sip/headers.hpp - typed views of header values (RFC 3261 §20,
// §25.1). Each parser takes one raw value (or one comma-separated element)
// and returns a view struct or an error; nothing is copied or cached.
//
// One shape per kind of function:
//   parse_X(value) -> result<X>             a value or the error (sip/result.hpp)
//   parse_X_to(value, X& out) -> sip::error the same, filling a struct the hot
//                                           path reuses (no result<X> copy)
//   check_X(value) -> std::error_code       a syntax check that produces nothing
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/scan.hpp>
#include <sigwire/sip/detail/ieq.hpp>
#include <sigwire/sip/detail/lex.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/limits.hpp>
#include <sigwire/sip/result.hpp>
#include <sigwire/sip/uri.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sigwire::sip {

namespace detail {
// Looks a generic-param up again in a validated raw ";a=b;c" list.
inline std::optional<std::string_view> find_param(std::string_view params, std::string_view name) noexcept {
  cursor c{params};
  std::optional<std::string_view> found;
  bool too_many = false;
  parse_params(c, SIZE_MAX, too_many, [&](std::string_view n, std::string_view v) {
    if (!found && core::ascii::iequals(n, name)) found = v;
  });
  return found;
}
constexpr std::string_view unquote_view(std::string_view v) noexcept {
  return v.size() >= 2 && v.front() == '"' && v.back() == '"' ? v.substr(1, v.size() - 2) : v;
}
}  // namespace detail

// Removes the quotes and quoted-pair backslashes of a quoted-string.
inline std::string unquote(std::string_view v) {
  v = detail::unquote_view(v);
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Via (RFC 3261 §20.42): sent-protocol LWS sent-by *( SEMI via-params )
struct via {
  std::string_view protocol_name{}, protocol_version{}, transport{};
  std::string_view host{};  // IPv6 references keep their brackets
  std::uint32_t port = 0;
  bool has_port = false;
  std::string_view params{};  // raw, from the first ';'
  std::string_view branch{}, received{}, maddr{}, ttl{}, rport{};
  bool has_branch = false, has_received = false, has_rport = false;

  std::optional<std::string_view> param(std::string_view name) const noexcept { return detail::find_param(params, name); }
  // RFC 3261 §8.1.1.7: a branch starting with the magic cookie marks an RFC 3261 client.
  bool rfc3261_branch() const noexcept { return branch.size() > 7 && branch.substr(0, 7) == "z9hG4bK"; }
};

namespace detail {
inline bool valid_host(std::string_view h) noexcept {
  return h.front() == '[' ? valid_ipv6_reference(h) : valid_hostname(h);
}
// received= may carry a bare IPv6 address (RFC 5118 §4.5) or a reference.
inline bool valid_received(std::string_view h) noexcept {
  if (h.empty()) return false;
  if (h.front() == '[') return valid_ipv6_reference(h);
  if (skip_host_chars(h, 0) == h.size()) return h.front() != '.' && h.front() != '-';  // valid_hostname
  if (h.find(':') != std::string_view::npos) {
    for (char c : h)
      if (!core::ascii::is_hex(c) && c != ':' && c != '.') return false;
    return true;
  }
  return valid_hostname(h);
}
}  // namespace detail

namespace detail {
// sent-protocol = protocol-name SLASH protocol-version SLASH transport
// (RFC 3261 §20.42), with a one-compare path for the "SIP/2.0/" every
// message carries (the token path reads it identically).
[[gnu::always_inline]] inline bool take_sent_protocol(cursor& c, via& out) noexcept {
  if (c.s.size() - c.i > 8 && std::memcmp(c.s.data() + c.i, "SIP/2.0/", 8) == 0) {
    out.protocol_name = c.s.substr(c.i, 3);
    out.protocol_version = c.s.substr(c.i + 4, 3);
    c.i += 8;
    c.skip_lws();  // SLASH = SWS "/" SWS
  } else {
    out.protocol_name = c.token();
    if (out.protocol_name.empty() || !c.eat_sep('/')) return false;
    out.protocol_version = c.token();
    if (out.protocol_version.empty() || !c.eat_sep('/')) return false;
  }
  out.transport = c.token();
  return !out.transport.empty();
}

// sent-by = host [ COLON port ]: a URI's hostport, with LWS allowed around the colon.
[[gnu::always_inline]] inline bool take_sent_by(cursor& c, via& out) noexcept {
  const std::size_t end = host_end(c.s, c.i);
  if (end == std::string_view::npos) return false;
  out.host = {c.s.data() + c.i, end - c.i};
  c.i = end;
  if (c.eat_sep(':')) {
    if (!take_u32(c.s, c.i, 65535, out.port)) return false;
    out.has_port = true;
  }
  return true;
}

// One via-param (RFC 3261 §20.42): the known ones are kept and their
// values checked; false when a known value is malformed.
[[gnu::always_inline]] inline bool take_via_param(via& out, std::string_view n, std::string_view val, bool is_token) noexcept {
  switch (n.size()) {  // the length picks the one name to compare
    case 6:
      if (!ieq_lower(n, "branch")) return true;
      out.branch = val, out.has_branch = true;
      return is_token;
    case 8:
      if (!ieq_lower(n, "received")) return true;
      out.received = val, out.has_received = true;
      return valid_received(val);
    case 5:
      if (ieq_lower(n, "rport")) {
        out.rport = val, out.has_rport = true;
        return val.empty() || parse_u32(val, 65535);
      }
      if (!ieq_lower(n, "maddr")) return true;
      out.maddr = val;
      return !val.empty() && valid_host(val);
    case 3:
      if (!ieq_lower(n, "ttl")) return true;
      out.ttl = val;
      return static_cast<bool>(parse_u32(val, 255));
    default: return true;
  }
}
}  // namespace detail

// With `stop_at_comma`, a top-level ',' ends the value (the topmost Via of a list).
inline error parse_via_to(std::string_view v, via& out, const limits& lim = {}, bool stop_at_comma = false) noexcept {
  out = via{};
  detail::cursor c{v};
  c.skip_lws();
  if (!detail::take_sent_protocol(c, out) || !c.skip_lws() || !detail::take_sent_by(c, out)) return error::bad_via;
  const std::size_t params_start = c.i;
  bool too_many = false, bad_value = false;
  const bool ok = detail::parse_params(c, lim.max_params, too_many, [&](std::string_view n, std::string_view val, bool is_token) {
    bad_value |= !detail::take_via_param(out, n, val, is_token);
  });
  if (too_many) return error::too_many_params;
  if (!ok || bad_value) return error::bad_via;
  out.params = {v.data() + params_start, c.i - params_start};
  c.skip_lws();
  if (!c.done() && !(stop_at_comma && c.peek() == ',')) return error::bad_via;
  return error{};
}

inline result<via> parse_via(std::string_view v, const limits& lim = {}, bool stop_at_comma = false) noexcept {
  result<via> r;
  if (const error e = parse_via_to(v, r.value, lim, stop_at_comma); e != error{}) return result<via>::fail(e, v);
  return r;
}

// ---------------------------------------------------------------------------
// name-addr / addr-spec with header params: From, To, Contact, Route,
// Record-Route, Reply-To, Refer-To (RFC 3261 §20.10, §20.20, §20.39, §25.1).
struct name_addr {
  bool star = false;               // Contact: *
  bool bracketed = false;          // written as name-addr (<...>)
  std::string_view display_name{}; // raw: quoted (with quotes) or tokens; empty when absent
  sip::uri address{};
  std::string_view params{};       // raw header params, from the first ';'
  std::string_view tag{};
  bool has_tag = false;
  std::string_view expires{};      // Contact
  std::string_view q{};            // Contact

  std::optional<std::string_view> param(std::string_view name) const noexcept { return detail::find_param(params, name); }
  std::string display_name_text() const { return unquote(display_name); }
};

namespace detail {
// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
constexpr bool valid_qvalue(std::string_view q) noexcept {
  if (q.empty() || (q[0] != '0' && q[0] != '1')) return false;
  if (q.size() == 1) return true;
  if (q[1] != '.' || q.size() > 5) return false;
  for (char c : q.substr(2))
    if (q[0] == '1' ? c != '0' : !core::ascii::is_digit(c)) return false;
  return true;
}
constexpr bool valid_display_tokens(std::string_view d) noexcept {
  for (char c : d)
    if (!core::ascii::is_sip_token(c) && !is_lws(c)) return false;
  return true;
}
// One header param of a name-addr (RFC 3261 §20.10, §20.20, §20.39): tag,
// expires and q are kept and checked; false when one is malformed.
[[gnu::always_inline]] inline bool take_name_addr_param(name_addr& out, std::string_view n, std::string_view val, bool is_token) noexcept {
  switch (n.size()) {  // the length picks the one name to compare
    case 3:
      if (!ieq_lower(n, "tag")) return true;
      out.tag = val, out.has_tag = true;
      return is_token;
    case 7:
      if (!ieq_lower(n, "expires")) return true;
      out.expires = val;
      return static_cast<bool>(parse_u32(val));
    case 1:
      if ((n[0] | 0x20) != 'q') return true;
      out.q = val;
      return valid_qvalue(val);
    default: return true;
  }
}
}  // namespace detail

inline error parse_name_addr_to(std::string_view v, name_addr& out, error err, const limits& lim = {},
                                 bool allow_star = false) noexcept {
  out = name_addr{};
  const std::string_view t = detail::trim_lws(v);
  if (allow_star && t == "*") {
    out.star = true;
    return error{};
  }
  detail::cursor c{t};
  if (c.peek() == '"') {
    const std::size_t e = detail::skip_quoted(t, 0);
    if (e == std::string_view::npos) return err;
    out.display_name = t.substr(0, e);
    c.i = e;
    c.skip_lws();
    if (c.peek() != '<') return err;
  }
  std::size_t lt = std::string_view::npos;
  if (c.peek() == '<') {
    lt = c.i;
  } else if (out.display_name.empty()) {
    // display-name as tokens, or an addr-spec. A '<' before any ';' means name-addr.
    const std::size_t pos = t.find('<');
    if (pos != std::string_view::npos) {
      const std::string_view dn = detail::trim_lws(t.substr(0, pos));
      if (!detail::valid_display_tokens(dn)) return err;
      out.display_name = dn;
      lt = pos;
    }
  }
  if (lt != std::string_view::npos) {
    const std::size_t gt = core::scan::find(t, lt, core::scan::any_of<'>'>{});
    if (gt == t.size()) return err;
    // LAQUOT addr-spec RAQUOT: no whitespace inside the brackets (RFC 4475 §3.1.2.14)
    if (detail::parse_fresh_uri({t.data() + lt + 1, gt - lt - 1}, out.address, true) != error{}) return err;
    out.bracketed = true;
    c.i = gt + 1;
  } else {
    // addr-spec: the URI ends at ';' (header params) or LWS. RFC 3261 §20:
    // a URI with a comma, question mark or semicolon must be in <...>.
    const std::string_view spec = c.take_class(detail::lx_addr_spec);
    if (spec.find('?') != std::string_view::npos) return err;
    if (detail::parse_fresh_uri(spec, out.address, true) != error{}) return err;
  }
  const std::size_t params_start = c.i;
  bool too_many = false, bad = false;
  const bool ok = detail::parse_params(c, lim.max_params, too_many, [&](std::string_view n, std::string_view val, bool is_token) {
    bad |= !detail::take_name_addr_param(out, n, val, is_token);
  });
  if (too_many) return error::too_many_params;
  if (!ok || bad) return err;
  out.params = {t.data() + params_start, c.i - params_start};
  c.skip_lws();
  if (!c.done()) return err;
  return error{};
}

inline result<name_addr> parse_name_addr(std::string_view v, error err, const limits& lim = {},
                                         bool allow_star = false) noexcept {
  result<name_addr> r;
  if (const error e = parse_name_addr_to(v, r.value, err, lim, allow_star); e != error{})
    return result<name_addr>::fail(e, v);
  return r;
}

// ---------------------------------------------------------------------------
// CSeq (RFC 3261 §20.16): 1*DIGIT LWS Method; the number fits 32 bits.
struct cseq {
  std::uint32_t number = 0;
  std::string_view method{};
};

inline result<cseq> parse_cseq(std::string_view v) noexcept {
  using R = result<cseq>;
  detail::cursor c{v};
  c.skip_lws();
  std::uint32_t n = 0;
  if (!detail::take_u32(v, c.i, UINT32_MAX, n) || !c.skip_lws()) return R::fail(error::bad_cseq, v);
  const std::string_view m = c.token();
  c.skip_lws();
  if (m.empty() || !c.done()) return R::fail(error::bad_cseq, v);
  return {{n, m}, {}, {}};
}

// Call-ID (RFC 3261 §20.8): word [ "@" word ]
inline result<std::string_view> parse_call_id(std::string_view v) noexcept {
  using R = result<std::string_view>;
  const std::string_view t = detail::trim_lws(v);
  // A word never contains '@': scan the first word, then the one after '@'.
  const std::size_t a = detail::skip_word_chars(t, 0);
  if (a == 0) return R::fail(error::bad_call_id, v);
  if (a != t.size()) {
    if (t[a] != '@') return R::fail(error::bad_call_id, v);
    const std::size_t b = detail::skip_word_chars(t, a + 1);
    if (b == a + 1 || b != t.size()) return R::fail(error::bad_call_id, v);
  }
  return {t, {}, {}};
}

// 1*DIGIT with a maximum (Content-Length, Max-Forwards, Expires, Min-Expires).
inline result<std::uint32_t> parse_number(std::string_view v, error err, std::uint32_t max = UINT32_MAX) noexcept {
  const auto n = detail::parse_u32(detail::trim_lws(v), max);
  if (!n) return result<std::uint32_t>::fail(err, v);
  return {n.value, {}, {}};
}

// ---------------------------------------------------------------------------
// Content-Type (RFC 3261 §20.15): m-type SLASH m-subtype *(SEMI m-parameter)
struct media_type {
  std::string_view type{}, subtype{}, params{};
  std::optional<std::string_view> param(std::string_view name) const noexcept { return detail::find_param(params, name); }
  bool is(std::string_view t, std::string_view s) const noexcept {
    return core::ascii::iequals(type, t) && core::ascii::iequals(subtype, s);
  }
};

inline result<media_type> parse_media_type(std::string_view v, const limits& lim = {}) noexcept {
  using R = result<media_type>;
  media_type out;
  detail::cursor c{v};
  c.skip_lws();
  out.type = c.token();
  if (out.type.empty() || !c.eat_sep('/')) return R::fail(error::bad_content_type, v);
  out.subtype = c.token();
  if (out.subtype.empty()) return R::fail(error::bad_content_type, v);
  const std::size_t ps = c.i;
  bool too_many = false;
  if (!detail::parse_params(c, lim.max_params, too_many, [](std::string_view, std::string_view) {}))
    return R::fail(too_many ? error::too_many_params : error::bad_content_type, v);
  out.params = v.substr(ps, c.i - ps);
  c.skip_lws();
  if (!c.done()) return R::fail(error::bad_content_type, v);
  return {out, {}, {}};
}

// ---------------------------------------------------------------------------
// Digest challenges and credentials (RFC 3261 §25.1, RFC 2617 §3.2,
// RFC 8760): auth-scheme LWS auth-param *(COMMA auth-param).
namespace detail {
// auth-param *(COMMA auth-param) from c, auth-param = token EQUAL ( token /
// quoted-string ): f(name, value) for each, the value without its quotes; f
// returns false to stop. The one loop over auth-params: finding one and
// checking a whole header both walk it. False when the list is malformed
// before f stopped it.
template <class F>
bool for_each_auth_param(cursor& c, F&& f) noexcept {
  for (;;) {
    c.skip_lws();
    const std::string_view name = c.token();
    if (name.empty() || !c.eat_sep('=')) return false;
    std::string_view value;
    if (c.peek() == '"') {
      const std::size_t e = skip_quoted(c.s, c.i);
      if (e == std::string_view::npos) return false;
      value = c.s.substr(c.i + 1, e - c.i - 2);
      c.i = e;
    } else {
      value = c.token();
      if (value.empty()) return false;
    }
    if (!f(name, value) || !c.eat_sep(',')) return true;
  }
}
}  // namespace detail

struct auth_header {
  std::string_view scheme{};
  std::string_view params{};  // raw "a=b, c="d""

  bool is_digest() const noexcept { return core::ascii::iequals(scheme, "Digest"); }
  // Value with quotes removed (escapes are not decoded: digest values never need them).
  std::optional<std::string_view> param(std::string_view name) const noexcept {
    std::optional<std::string_view> found;
    detail::cursor c{params};
    (void)detail::for_each_auth_param(c, [&](std::string_view n, std::string_view value) {
      if (!core::ascii::iequals(n, name)) return true;
      found = value;
      return false;
    });
    return found;
  }
};

inline result<auth_header> parse_auth_header(std::string_view v, const limits& lim = {}) noexcept {
  using R = result<auth_header>;
  auth_header out;
  detail::cursor c{v};
  c.skip_lws();
  out.scheme = c.token();
  if (out.scheme.empty()) return R::fail(error::bad_auth_header, v);
  if (!c.skip_lws()) {
    if (c.done()) return {out, {}, {}};
    return R::fail(error::bad_auth_header, v);
  }
  out.params = detail::trim_lws(c.rest());
  std::size_t count = 0;
  const bool well_formed = detail::for_each_auth_param(c, [&](std::string_view, std::string_view) {
    return ++count <= lim.max_params;
  });
  if (!well_formed) return R::fail(error::bad_auth_header, v);
  if (count > lim.max_params) return R::fail(error::too_many_params, v);
  c.skip_lws();
  if (!c.done()) return R::fail(error::bad_auth_header, v);
  return {out, {}, {}};
}

// ---------------------------------------------------------------------------
// Date (RFC 3261 §20.17): rfc1123-date, and only "GMT" (RFC 4475 §3.1.2.12).
inline std::error_code check_date(std::string_view v) noexcept {
  const std::string_view t = detail::trim_lws(v);
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  auto bad = make_error_code(error::bad_date);
  if (t.size() != 29) return bad;
  static constexpr std::string_view days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  bool day_ok = false, month_ok = false;
  for (auto d : days) day_ok |= t.substr(0, 3) == d;
  for (auto m : months) month_ok |= t.substr(8, 3) == m;
  auto digits = [&](std::size_t pos, std::size_t n) {
    for (std::size_t i = pos; i < pos + n; ++i)
      if (!core::ascii::is_digit(t[i])) return false;
    return true;
  };
  const bool ok = day_ok && month_ok && t.substr(3, 2) == ", " && digits(5, 2) && t[7] == ' ' && t[11] == ' ' &&
                  digits(12, 4) && t[16] == ' ' && digits(17, 2) && t[19] == ':' && digits(20, 2) && t[22] == ':' &&
                  digits(23, 2) && t.substr(25) == " GMT";
  return ok ? std::error_code{} : bad;
}

// Retry-After (RFC 3261 §20.33): delta-seconds [ comment ] *( SEMI retry-param )
inline std::error_code check_retry_after(std::string_view v, const limits& lim = {}) noexcept {
  detail::cursor c{v};
  c.skip_lws();
  if (!detail::parse_u32(c.take_class(detail::lx_digit))) return error::bad_retry_after;
  c.skip_lws();
  if (c.peek() == '(') {
    int depth = 0;
    while (!c.done()) {
      const char ch = c.s[c.i++];
      if (ch == '\\') ++c.i;
      else if (ch == '(') ++depth;
      else if (ch == ')' && --depth == 0) break;
    }
    if (depth != 0) return error::bad_retry_after;
  }
  bool too_many = false;
  if (!detail::parse_params(c, lim.max_params, too_many, [](std::string_view, std::string_view) {}))
    return too_many ? error::too_many_params : error::bad_retry_after;
  c.skip_lws();
  return c.done() ? std::error_code{} : make_error_code(error::bad_retry_after);
}

// One Warning value (RFC 3261 §20.43): warn-code SP warn-agent SP warn-text
inline std::error_code check_warning(std::string_view v) noexcept {
  detail::cursor c{v};
  const std::string_view code = c.take_class(detail::lx_digit);
  if (code.size() != 3 || !c.eat(' ')) return error::bad_warning;
  const std::string_view agent = c.take_while([](char ch) { return ch != ' '; });
  if (agent.empty() || !c.eat(' ') || c.peek() != '"') return error::bad_warning;
  if (detail::skip_quoted(v, c.i) != v.size()) return error::bad_warning;
  return {};
}

}  // namespace sigwire::sip
