// sigwire/sip/detail/lex.hpp - private lexical helpers over raw header values.
//
// Header values are views into the original bytes, folds included: the
// message indexer has already checked that every CR or LF inside a value is
// part of a fold (CRLF followed by SP/HT), so here CR and LF are simply
// linear whitespace (RFC 3261 §25.1 LWS).
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/scan.hpp>
#include <sigwire/sip/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace sigwire::sip::detail {

namespace ascii = core::ascii;

// Character classes of the header grammar in one byte-wide table, so that a
// scan tests four bytes per step (skip_class).
enum lex_class : std::uint8_t {
  lx_token = 1u << 0,        // RFC 3261 token
  lx_param_value = 1u << 1,  // token / host characters incl. "[" "]" ":" (generic-param value)
  lx_host = 1u << 2,         // hostname / IPv4: alphanum "-" "."
  lx_digit = 1u << 3,
  lx_list_plain = 1u << 4,   // neither '"', '<', '>' nor ',': a list splitter skips it
  lx_addr_spec = 1u << 5,    // neither ';', ',' nor LWS: an unbracketed addr-spec continues
  lx_lws = 1u << 6,          // SP, HT, CR or LF
};
constexpr std::array<std::uint8_t, 256> make_lex_table() noexcept {
  std::array<std::uint8_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    const char c = static_cast<char>(i);
    std::uint8_t f = 0;
    if (ascii::is_sip_token(c)) f |= lx_token | lx_param_value;
    if (c == '[' || c == ']' || c == ':') f |= lx_param_value;
    if (ascii::is_alnum(c) || c == '-' || c == '.') f |= lx_host;
    if (ascii::is_digit(c)) f |= lx_digit;
    if (c != '"' && c != '<' && c != '>' && c != ',') f |= lx_list_plain;
    if (c != ';' && c != ',' && c != ' ' && c != '\t' && c != '\r' && c != '\n') f |= lx_addr_spec;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') f |= lx_lws;
    t[i] = f;
  }
  return t;
}
inline constexpr std::array<std::uint8_t, 256> lex_table = make_lex_table();

// SP, HT, CR or LF (LWS once the indexer has checked the folds): one table
// test, the cheapest form for the many "is there whitespace here" checks.
constexpr bool is_lws(char c) noexcept { return (lex_table[static_cast<unsigned char>(c)] & lx_lws) != 0; }

// The first index at or after i whose byte is not of the single class `cls`
// of a byte-wide class table, four bytes per step while four remain (never
// reads past s). The header grammar's table (skip_class) and the URI
// grammar's (skip_uri_class in uri.hpp) share it.
template <const std::array<std::uint8_t, 256>& Table>
[[gnu::always_inline]] constexpr std::size_t skip_table_class(std::string_view s, std::size_t i, std::uint8_t cls) noexcept {
  const std::size_t n = s.size();
  const char* p = s.data();
  const auto t = [p](std::size_t k) { return Table[static_cast<unsigned char>(p[k])]; };
  while (i + 4 <= n && (t(i) & t(i + 1) & t(i + 2) & t(i + 3) & cls) != 0) i += 4;
  while (i < n && (t(i) & cls) != 0) ++i;
  return i;
}
[[gnu::always_inline]] constexpr std::size_t skip_class(std::string_view s, std::size_t i, std::uint8_t cls) noexcept {
  return skip_table_class<lex_table>(s, i, cls);
}

// Stops at a byte that is not a hostname / IPv4 character (alphanum, '-', '.').
struct not_host_char {
  static constexpr bool test(char c) noexcept { return (lex_table[static_cast<unsigned char>(c)] & lx_host) == 0; }
#if SIGWIRE_SCAN_SSE2
  [[gnu::always_inline]] static __m128i block(__m128i v) noexcept {
    using namespace core::scan;
    const __m128i letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
    const __m128i dash_to_nine = _mm_andnot_si128(equal(v, '/'), in_range(v, '-', '9'));  // "-.0-9"
    return invert(_mm_or_si128(letter, dash_to_nine));
  }
#endif
};
// skip_class(s, i, lx_host), vectorised: hosts are long runs on the hot path.
inline std::size_t skip_host_chars(std::string_view s, std::size_t i) noexcept { return core::scan::find(s, i, not_host_char{}); }

// The SIP layer's numbers are 32-bit: core::ascii::parse_uint<std::uint32_t>.
[[gnu::always_inline]] inline ascii::parse_result<std::uint32_t> parse_u32(std::string_view s,
                                                                            std::uint32_t max = UINT32_MAX) noexcept {
  return ascii::parse_uint<std::uint32_t>(s, max);
}

struct cursor {
  std::string_view s;
  std::size_t i = 0;

  [[gnu::always_inline]] constexpr bool done() const noexcept { return i >= s.size(); }
  [[gnu::always_inline]] constexpr char peek() const noexcept { return i < s.size() ? s[i] : '\0'; }
  constexpr std::string_view rest() const noexcept { return s.substr(i < s.size() ? i : s.size()); }
  [[gnu::always_inline]] constexpr bool skip_lws() noexcept {  // returns true when something was skipped
    const std::size_t start = i;
    while (i < s.size() && is_lws(s[i])) ++i;
    return i != start;
  }
  [[gnu::always_inline]] constexpr bool eat(char c) noexcept {
    if (peek() != c || done()) return false;
    ++i;
    return true;
  }
  // SWS c SWS (RFC 3261 §25.1 SEMI, COLON, EQUAL, SLASH, COMMA)
  [[gnu::always_inline]] constexpr bool eat_sep(char c) noexcept {
    if (i < s.size() && s[i] == c) {  // the usual case: no LWS around the separator
      ++i;
      skip_lws();
      return true;
    }
    const std::size_t save = i;
    skip_lws();
    if (eat(c)) {
      skip_lws();
      return true;
    }
    i = save;
    return false;
  }
  template <class Pred>
  constexpr std::string_view take_while(Pred p) noexcept {
    const std::size_t start = i;
    while (i < s.size() && p(s[i])) ++i;
    return {s.data() + start, i - start};  // in range by construction: no substr check
  }
  [[gnu::always_inline]] constexpr std::string_view take_class(std::uint8_t cls) noexcept {
    const std::size_t start = i;
    if (start >= s.size()) return {s.data() + s.size(), 0};
    i = skip_class(s, start, cls);
    return {s.data() + start, i - start};
  }
  [[gnu::always_inline]] constexpr std::string_view token() noexcept { return take_class(lx_token); }
};

[[gnu::always_inline]] constexpr std::string_view trim_lws(std::string_view s) noexcept {
  std::size_t b = 0, e = s.size();
  while (b < e && is_lws(s[b])) ++b;
  while (e > b && is_lws(s[e - 1])) --e;
  return {s.data() + b, e - b};
}

// quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE (RFC 3261 §25.1).
// On entry s[i] == '"'. Returns the end (one past the closing quote) or npos.
// quoted-pair may escape any octet 0x00-0x09, 0x0B-0x0C, 0x0E-0x7F.
constexpr std::size_t skip_quoted(std::string_view s, std::size_t i) noexcept {
  ++i;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (i + 1 >= s.size()) return std::string_view::npos;
      const auto n = static_cast<unsigned char>(s[i + 1]);
      if (n == '\r' || n == '\n' || n > 0x7f) return std::string_view::npos;
      i += 2;
      continue;
    }
    i += 1;
  }
  return std::string_view::npos;
}

// The first index at or after i of '"', '<', '>' or ',' (what a list
// splitter stops at); s.size() if none.
inline std::size_t find_list_special(std::string_view s, std::size_t i) noexcept {
  return core::scan::find(s, i, core::scan::any_of<'"', '<', '>', ','>{});
}

// Splits a header value into comma-separated elements (RFC 3261 §7.3.1),
// ignoring commas inside quoted strings and <...>. Empty elements are
// reported as empty views so that callers can reject them.
class comma_splitter {
 public:
  constexpr explicit comma_splitter(std::string_view value) noexcept : s_(value) {}

  // false when no element is left; sets `bad` on an unterminated quote/bracket.
  bool next(std::string_view& out, bool& bad) noexcept {
    if (finished_) return false;
    std::size_t i = pos_;
    bool in_angle = false;
    for (;;) {
      i = find_list_special(s_, i);
      if (i >= s_.size()) break;
      const char c = s_[i];
      if (c == '"') {
        const std::size_t e = skip_quoted(s_, i);
        if (e == std::string_view::npos) {
          bad = true;
          return false;
        }
        i = e;
        continue;
      }
      if (c == '<') in_angle = true;
      else if (c == '>') in_angle = false;
      else if (c == ',' && !in_angle) break;
      ++i;
    }
    if (in_angle) {
      bad = true;
      return false;
    }
    out = trim_lws(s_.substr(pos_, i - pos_));
    if (i >= s_.size()) finished_ = true;
    pos_ = i + 1;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
  bool finished_ = false;
};

// generic-param value: token / host (incl. [IPv6]) / quoted-string.
constexpr bool is_param_value_char(char c) noexcept {
  return ascii::is_sip_token(c) || c == '[' || c == ']' || c == ':';
}

// generic-param value after EQUAL, unquoted: token / host (incl. [IPv6]).
// The token scan comes first and goes on over '[', ']' and ':' only when one
// follows, so `is_token` (a non-empty token: what branch and tag need) costs
// no second pass.
[[gnu::always_inline]] inline std::string_view take_param_value(cursor& c, bool& is_token) noexcept {
  const std::size_t start = c.i;
  std::string_view v = c.token();
  is_token = !v.empty();
  if (c.i < c.s.size() && (lex_table[static_cast<unsigned char>(c.s[c.i])] & lx_param_value) != 0) {
    c.i = skip_class(c.s, c.i, lx_param_value);
    v = {c.s.data() + start, c.i - start};
    is_token = false;
  }
  return v;
}

// Parses `*( SEMI generic-param )` from the cursor. Calls f(name, value)
// (value empty when absent, quoted values keep their quotes), or
// f(name, value, is_token) when f takes a third argument: is_token tells
// that the value is a non-empty token. Returns false on a syntax error or
// when more than max_params appear. Stops (true) at a character that cannot
// continue the list (',' or end).
template <class F>
bool parse_params(cursor& c, std::size_t max_params, bool& too_many, F&& f) {
  std::size_t n = 0;
  for (;;) {
    const std::size_t save = c.i;
    c.skip_lws();
    if (!c.eat(';')) {
      c.i = save;
      return true;
    }
    c.skip_lws();
    const std::string_view name = c.token();
    if (name.empty()) return false;
    std::string_view value{};
    bool is_token = false;
    if (c.eat_sep('=')) {
      if (c.peek() == '"') {
        const std::size_t e = skip_quoted(c.s, c.i);
        if (e == std::string_view::npos) return false;
        value = c.s.substr(c.i, e - c.i);
        c.i = e;
      } else {
        value = take_param_value(c, is_token);
        if (value.empty()) return false;
      }
    }
    if (++n > max_params) {
      too_many = true;
      return false;
    }
    if constexpr (std::is_invocable_v<F&, std::string_view, std::string_view, bool>) f(name, value, is_token);
    else f(name, value);
  }
}

}  // namespace sigwire::sip::detail
