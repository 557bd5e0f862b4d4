// sigwire/sip/uri.hpp - SIP, SIPS and tel URIs as views (RFC 3261 §19.1,
// §25.1; RFC 3966), other absolute URIs kept opaque, %-escapes decoded on
// demand into caller storage (never in place), and URI equality (§19.1.4).
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/scan.hpp>
#include <sigwire/sip/detail/ieq.hpp>
#include <sigwire/sip/detail/lex.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sigwire::sip {

enum class uri_scheme : std::uint8_t { sip, sips, tel, other };

namespace detail {
namespace ascii = core::ascii;

constexpr bool in_set(char c, std::string_view set) noexcept { return set.find(c) != std::string_view::npos; }

// One 256-entry table for the URI grammar's character sets (RFC 3261 §25.1).
enum uri_char_class : std::uint8_t {
  uc_user = 1u << 0,      // unreserved / user-unreserved
  uc_password = 1u << 1,  // unreserved / & = + $ ,
  uc_param = 1u << 2,     // paramchar without escapes
  uc_header = 1u << 3,    // hnv-unreserved / unreserved
  uc_uric = 1u << 4,      // reserved / unreserved (absolute URIs)
  uc_word = 1u << 5,      // Call-ID word
  uc_host = 1u << 6,      // hostname / IPv4 characters
  uc_userinfo = 1u << 7,  // what a userinfo scan admits: user / password characters, ':' and '%'
};
constexpr std::array<std::uint8_t, 256> make_uri_table() noexcept {
  std::array<std::uint8_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    const bool unres = ascii::is_alnum(c) || in_set(c, "-_.!~*'()");
    std::uint8_t f = 0;
    if (unres || in_set(c, "&=+$,;?/")) f |= uc_user;
    if (unres || in_set(c, "&=+$,")) f |= uc_password;
    if (unres || in_set(c, "[]/:&+$")) f |= uc_param;
    if (unres || in_set(c, "[]/?:+$")) f |= uc_header;
    if (unres || in_set(c, ";/?:@&=+$,[]#")) f |= uc_uric;
    if (ascii::is_sip_token(c) || in_set(c, "()<>:\\\"/[]?{}")) f |= uc_word;
    if (ascii::is_alnum(c) || c == '-' || c == '.') f |= uc_host;
    if ((f & (uc_user | uc_password)) || c == ':' || c == '%') f |= uc_userinfo;
    t[i] = f;
  }
  return t;
}
inline constexpr std::array<std::uint8_t, 256> uri_table = make_uri_table();
constexpr bool uri_class(char c, std::uint8_t cls) noexcept { return (uri_table[static_cast<unsigned char>(c)] & cls) != 0; }
// The first index at or after i whose byte is not of the single class `cls`.
[[gnu::always_inline]] constexpr std::size_t skip_uri_class(std::string_view r, std::size_t i, std::uint8_t cls) noexcept {
  return skip_table_class<uri_table>(r, i, cls);
}
// Stops at a byte that is not a Call-ID word character: the visible ASCII
// characters but "#$&,;=@^|" (RFC 3261 §25.1 word).
struct not_word_char {
  static constexpr bool test(char c) noexcept { return !uri_class(c, uc_word); }
#if SIGWIRE_SCAN_SSE2
  [[gnu::always_inline]] static __m128i block(__m128i v) noexcept {
    using namespace core::scan;
    const __m128i excluded = any_of<'#', '$', '&', ',', ';', '=', '@', '^', '|'>::block(v);
    return _mm_or_si128(excluded, invert(in_range(v, 0x21, 0x7e)));
  }
#endif
};
// skip_uri_class(s, i, uc_word), vectorised: a Call-ID is a long run.
inline std::size_t skip_word_chars(std::string_view s, std::size_t i) noexcept { return core::scan::find(s, i, not_word_char{}); }
constexpr bool is_user_char(char c) noexcept { return uri_class(c, uc_user); }
constexpr bool is_password_char(char c) noexcept { return uri_class(c, uc_password); }
constexpr bool is_param_char(char c) noexcept { return uri_class(c, uc_param); }
constexpr bool is_header_char(char c) noexcept { return uri_class(c, uc_header); }
constexpr bool is_uric(char c) noexcept { return uri_class(c, uc_uric); }

// Every '%' in s must start "%HH"; every other byte must satisfy `ok`.
template <class Pred>
constexpr bool valid_escaped(std::string_view s, Pred ok) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || ascii::hex_value(s[i + 1]) < 0 || ascii::hex_value(s[i + 2]) < 0) return false;
      i += 2;
    } else if (!ok(s[i])) {
      return false;
    }
  }
  return true;
}

inline bool valid_hostname(std::string_view h) noexcept {
  if (h.empty() || h.front() == '.' || h.front() == '-') return false;
  return skip_host_chars(h, 0) == h.size();
}

constexpr bool valid_ipv6_reference(std::string_view h) noexcept {
  if (h.size() < 4 || h.front() != '[' || h.back() != ']') return false;
  int colons = 0;
  for (char c : h.substr(1, h.size() - 2)) {
    if (c == ':') ++colons;
    else if (!ascii::is_hex(c) && c != '.') return false;
  }
  return colons >= 2 && colons <= 7;
}

// Reads the next escaped-or-literal character: decodes %HH.
constexpr char next_unescaped(std::string_view s, std::size_t& i) noexcept {
  if (s[i] == '%' && i + 2 < s.size() && ascii::hex_value(s[i + 1]) >= 0 &&
      ascii::hex_value(s[i + 2]) >= 0) {
    const char c = static_cast<char>(ascii::hex_value(s[i + 1]) * 16 + ascii::hex_value(s[i + 2]));
    i += 3;
    return c;
  }
  return s[i++];
}
}  // namespace detail

// Equality of two escaped strings after unescaping (RFC 3261 §19.1.4:
// "%61lice" == "alice"), optionally case-insensitive. No allocation.
constexpr bool unescaped_equal(std::string_view a, std::string_view b, bool case_insensitive) noexcept {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    char x = detail::next_unescaped(a, i), y = detail::next_unescaped(b, j);
    if (case_insensitive) {
      x = core::ascii::to_lower(x);
      y = core::ascii::to_lower(y);
    }
    if (x != y) return false;
  }
  return i == a.size() && j == b.size();
}

// Decodes %HH escapes of `in` (already validated) into a new string.
// Escaped NULs stay (RFC 4475 §3.1.1.4): the result is never truncated.
inline std::string unescape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) out.push_back(detail::next_unescaped(in, i));
  return out;
}

struct uri {
  std::string_view raw{};
  uri_scheme scheme = uri_scheme::other;
  std::string_view scheme_name{};   // as written
  std::string_view user{};          // escaped, as written; empty when absent
  std::string_view password{};      // escaped
  bool has_user = false;
  bool has_password = false;
  std::string_view host{};          // IPv6 references keep their brackets
  std::uint32_t port = 0;           // 0 when absent
  bool has_port = false;
  std::string_view params{};        // ";a=b;lr" (leading ';' included) for sip/sips
  std::string_view headers{};       // "h=v&h2=v2" (after '?') for sip/sips
  std::string_view opaque{};        // everything after "scheme:" (tel and other)

  bool is_sip() const noexcept { return scheme == uri_scheme::sip || scheme == uri_scheme::sips; }
  bool is_ipv6() const noexcept { return !host.empty() && host.front() == '['; }

  // Value of uri-parameter `name` (case-insensitive): nullopt when absent,
  // an empty view for a flag parameter like "lr".
  std::optional<std::string_view> param(std::string_view name) const noexcept {
    std::string_view p = params;
    while (!p.empty()) {
      p.remove_prefix(1);  // ';'
      const std::size_t end = p.find(';');
      const std::string_view item = p.substr(0, end);
      const std::size_t eq = item.find('=');
      if (unescaped_equal(item.substr(0, eq), name, true))
        return eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
      if (end == std::string_view::npos) break;
      p.remove_prefix(end);
    }
    return std::nullopt;
  }
  std::optional<std::string_view> transport() const noexcept { return param("transport"); }
  bool lr() const noexcept { return param("lr").has_value(); }
};

namespace detail {
// The scheme when `s` starts with "sip:" or "sips:" in any letter case
// (RFC 3261 §19.1.1), by one word compare; `colon` is then the index of the
// ':'. Anything else, or a URI of nothing but the scheme: uri_scheme::other.
[[gnu::always_inline]] inline uri_scheme sip_scheme_prefix(std::string_view s, std::size_t& colon) noexcept {
  if (s.size() < 5) return uri_scheme::other;
  const auto word = [](const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  };
  static constexpr char fold3[4] = {0x20, 0x20, 0x20, 0};  // case-fold the letters, not the ':'
  const std::uint32_t w = word(s.data());
  if ((w | word(fold3)) == word("sip:")) {
    colon = 3;
    return uri_scheme::sip;
  }
  if ((w | 0x20202020u) == word("sips") && s[4] == ':') {
    colon = 4;
    return uri_scheme::sips;
  }
  return uri_scheme::other;
}

// 1*DIGIT at r[i] as a number <= max into `out`; i moves past the digits.
// The scan adds up the digits as it goes (a port, in the middle of a URI or
// a Via: scanning first and parsing after measured 10% slower on sip_bench);
// runs of ten digits or more go to the core parser.
[[gnu::always_inline]] inline bool take_u32(std::string_view r, std::size_t& i, std::uint32_t max,
                                            std::uint32_t& out) noexcept {
  const std::size_t start = i;
  std::uint32_t v = 0;
  while (i < r.size() && ascii::is_digit(r[i])) {
    v = v * 10 + static_cast<std::uint32_t>(r[i] - '0');
    ++i;
  }
  if (i - start - 1 < 9) {  // 1 to 9 digits
    out = v;
    return v <= max;
  }
  if (i == start) return false;
  const auto p = parse_u32(r.substr(start, i - start), max);
  out = p.value;
  return static_cast<bool>(p);
}

// host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1) at s[i],
// the host of a URI's hostport and of a Via's sent-by: where it ends, or npos
// when there is none. The scan admits hostname characters only: what a
// hostname's grammar checks beyond that is its first byte. (Indexes in and
// out, no references: the parsers keep their cursor in a register.)
[[gnu::always_inline]] inline std::size_t host_end(std::string_view s, std::size_t i) noexcept {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '[') {
    const std::size_t rb = s.find(']', i);
    if (rb == std::string_view::npos || !valid_ipv6_reference({s.data() + i, rb + 1 - i})) return std::string_view::npos;
    return rb + 1;
  }
  const std::size_t end = skip_host_chars(s, i);
  if (end == i || s[i] == '.' || s[i] == '-') return std::string_view::npos;
  return end;
}

// userinfo = ( user / telephone-subscriber ) [ ":" password ] "@" (RFC 3261
// §25.1). '@' cannot appear unescaped before it, so the first '@' ends it;
// without one there is no userinfo and `i` stays 0.
[[gnu::always_inline]] inline error parse_userinfo(std::string_view r, uri& u, std::size_t& i) noexcept {
  const std::size_t n = r.size();
  // Plain user characters first (the usual "alice@"), then, at a ':' or a
  // '%', everything a userinfo admits.
  std::size_t at = skip_uri_class(r, 0, uc_user);
  const bool plain = at < n && r[at] == '@';
  if (!plain && at < n && (r[at] == ':' || r[at] == '%')) at = skip_uri_class(r, at, uc_userinfo);
  if (at >= n || r[at] != '@') return error{};
  u.has_user = true;
  i = at + 1;
  if (plain) {
    u.user = {r.data(), at};
    return at == 0 ? error::bad_uri_user : error{};
  }
  const std::string_view info{r.data(), at};
  const std::size_t ucolon = info.find(':');
  u.user = info.substr(0, ucolon);
  if (u.user.empty()) return error::bad_uri_user;
  if (ucolon != std::string_view::npos) {
    u.has_password = true;
    u.password = info.substr(ucolon + 1);
  }
  // The scan admitted user characters (a superset of password ones), ':' and '%'.
  if (info.find('%') != std::string_view::npos && !valid_escaped(u.user, is_user_char)) return error::bad_uri_user;
  if (u.has_password && !valid_escaped(u.password, is_password_char)) return error::bad_uri_user;
  return error{};
}

// hostport = host [ ":" port ] (RFC 3261 §25.1) from r[i].
[[gnu::always_inline]] inline error parse_hostport(std::string_view r, uri& u, std::size_t& i) noexcept {
  const std::size_t n = r.size(), host_start = i;
  i = host_end(r, host_start);
  if (i == std::string_view::npos) return error::bad_uri_host;
  u.host = {r.data() + host_start, i - host_start};
  if (i < n && r[i] == ':') {
    ++i;
    if (!take_u32(r, i, 65535, u.port)) return error::bad_uri_port;
    u.has_port = true;
  }
  return error{};
}
}  // namespace detail

namespace detail {
// uri-parameters = *( ";" pname [ "=" pvalue ] ) from r[i] (RFC 3261 §25.1).
[[gnu::always_inline]] inline error parse_uri_params(std::string_view r, uri& u, std::size_t& i) noexcept {
  const std::size_t n = r.size(), params_start = i;
  bool escaped = false;
  const auto skip_param_chars = [&](std::size_t k) {  // paramchar or '%'
    for (;;) {
      k = skip_uri_class(r, k, uc_param);
      if (k >= n || r[k] != '%') return k;
      escaped = true;
      ++k;
    }
  };
  while (i < n && r[i] == ';') {
    const std::size_t name_start = ++i;
    i = skip_param_chars(i);
    if (i == name_start) return error::bad_uri_params;
    if (i < n && r[i] == '=') {
      const std::size_t vs = ++i;
      i = skip_param_chars(i);
      if (i == vs) return error::bad_uri_params;
    }
  }
  u.params = {r.data() + params_start, i - params_start};
  if (escaped && !valid_escaped(u.params, [](char c) { return is_param_char(c) || c == ';' || c == '='; }))
    return error::bad_uri_params;
  return error{};
}

// headers = "?" header *( "&" header ), header = hname "=" hvalue; `h`
// is what follows the '?'.
inline error check_uri_headers(std::string_view h) noexcept {
  if (h.empty()) return error::bad_uri_headers;
  for (;;) {
    const std::size_t amp = h.find('&');
    const std::string_view item = h.substr(0, amp);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || !valid_escaped(item.substr(0, eq), is_header_char) ||
        !valid_escaped(item.substr(eq + 1), is_header_char))
      return error::bad_uri_headers;
    if (amp == std::string_view::npos) return error{};
    h.remove_prefix(amp + 1);
  }
}

// The scheme of a URI that is not "sip:"/"sips:" in the usual spelling.
inline error parse_scheme(std::string_view s, uri& u, std::size_t& colon) noexcept {
  colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !ascii::is_alpha(s[0])) return error::bad_uri;
  const std::string_view name = s.substr(0, colon);
  if (ieq_lower(name, "sip")) u.scheme = uri_scheme::sip;
  else if (ieq_lower(name, "sips")) u.scheme = uri_scheme::sips;
  else if (ieq_lower(name, "tel")) u.scheme = uri_scheme::tel;
  else  // the known schemes are letters: only others need the character check
    for (char c : name)
      if (!ascii::is_alnum(c) && c != '+' && c != '-' && c != '.') return error::bad_uri_scheme;
  return error{};
}
}  // namespace detail

namespace detail {
// parse_uri_to into a `u` that is already value-initialised (a fresh name_addr).
inline error parse_fresh_uri(std::string_view s, uri& u, bool allow_headers) noexcept {
  u.raw = s;
  std::size_t colon = 0;
  u.scheme = detail::sip_scheme_prefix(s, colon);
  if (u.scheme == uri_scheme::other)
    if (const error e = parse_scheme(s, u, colon); e != error{}) return e;
  u.scheme_name = {s.data(), colon};
  u.opaque = {s.data() + colon + 1, s.size() - colon - 1};
  if (!u.is_sip()) {
    if (u.opaque.empty() || !detail::valid_escaped(u.opaque, detail::is_uric)) return error::bad_uri;
    return error{};
  }

  const std::string_view r = u.opaque;
  std::size_t i = 0;
  if (const error e = detail::parse_userinfo(r, u, i); e != error{}) return e;
  const std::size_t host_start = i;
  if (const error e = detail::parse_hostport(r, u, i); e != error{}) return e;
  if (const error e = detail::parse_uri_params(r, u, i); e != error{}) return e;
  if (i < r.size() && r[i] == '?') {
    if (!allow_headers) return error::uri_headers_in_request_uri;
    u.headers = r.substr(i + 1);
    if (const error e = detail::check_uri_headers(u.headers); e != error{}) return e;
    i = r.size();
  }
  if (i != r.size()) {
    // a byte that fits nowhere: blame the part it is in
    if (u.params.empty() && i == host_start + u.host.size()) return error::bad_uri_host;
    return error::bad_uri_params;
  }
  return error{};
}
}  // namespace detail

// Parses one URI. `allow_headers` false rejects "?headers" (Request-URI,
// RFC 3261 §19.1.1 table). tel: and other schemes are validated for URI
// characters and kept opaque.
// Parses into `u` (no copy of the result); error{} on success. One pass
// over a SIP URI with table scans: this is on every message's hot path.
inline error parse_uri_to(std::string_view s, uri& u, bool allow_headers = true) noexcept {
  u = uri{};
  return detail::parse_fresh_uri(s, u, allow_headers);
}

inline result<uri> parse_uri(std::string_view s, bool allow_headers = true) noexcept {
  result<uri> r;
  if (const error e = parse_uri_to(s, r.value, allow_headers); e != error{}) return result<uri>::fail(e, s);
  return r;
}

namespace detail {
// Calls f(name, value, has_value) for each ";name[=value]" of a raw param list.
template <class F>
constexpr void for_each_uri_param(std::string_view p, F&& f) {
  while (!p.empty()) {
    p.remove_prefix(1);
    const std::size_t end = p.find(';');
    const std::string_view item = p.substr(0, end);
    const std::size_t eq = item.find('=');
    f(item.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
    if (end == std::string_view::npos) break;
    p.remove_prefix(end);
  }
}
template <class F>
constexpr void for_each_uri_header(std::string_view h, F&& f) {
  while (!h.empty()) {
    const std::size_t amp = h.find('&');
    const std::string_view item = h.substr(0, amp);
    const std::size_t eq = item.find('=');
    f(item.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    h.remove_prefix(amp + 1);
  }
}
constexpr bool is_sticky_param(std::string_view name) noexcept {
  for (std::string_view s : {"user", "ttl", "method", "maddr", "transport"})
    if (unescaped_equal(name, s, true)) return true;
  return false;
}
// Every parameter of `a` compared against `b` (one direction).
inline bool params_match_one_way(const uri& a, const uri& b) noexcept {
  bool ok = true;
  for_each_uri_param(a.params, [&](std::string_view name, std::string_view value) {
    std::optional<std::string_view> other;
    for_each_uri_param(b.params, [&](std::string_view n2, std::string_view v2) {
      if (!other && unescaped_equal(name, n2, true)) other = v2;
    });
    if (!other) {
      if (is_sticky_param(name)) ok = false;
      return;
    }
    if (!unescaped_equal(value, *other, true)) ok = false;
  });
  return ok;
}
inline bool headers_match_one_way(const uri& a, const uri& b) noexcept {
  bool ok = true;
  for_each_uri_header(a.headers, [&](std::string_view name, std::string_view value) {
    bool found = false;
    for_each_uri_header(b.headers, [&](std::string_view n2, std::string_view v2) {
      if (!found && unescaped_equal(name, n2, true) && unescaped_equal(value, v2, false)) found = true;
    });
    if (!found) ok = false;
  });
  return ok;
}
}  // namespace detail

// RFC 3261 §19.1.4 URI comparison. Non-SIP URIs compare by scheme
// (case-insensitive) and the unescaped remainder (case-sensitive).
inline bool equivalent(const uri& a, const uri& b) noexcept {
  if (a.scheme != b.scheme) return false;
  if (!a.is_sip()) {
    return core::ascii::iequals(a.scheme_name, b.scheme_name) && unescaped_equal(a.opaque, b.opaque, a.scheme == uri_scheme::tel);
  }
  if (a.has_user != b.has_user || !unescaped_equal(a.user, b.user, false)) return false;
  if (a.has_password != b.has_password || !unescaped_equal(a.password, b.password, false)) return false;
  if (!core::ascii::iequals(a.host, b.host)) return false;
  if (a.has_port != b.has_port || a.port != b.port) return false;
  return detail::params_match_one_way(a, b) && detail::params_match_one_way(b, a) &&
         detail::headers_match_one_way(a, b) && detail::headers_match_one_way(b, a);
}

}  // namespace sigwire::sip
