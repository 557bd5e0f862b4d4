// sigwire/core/ascii.hpp - locale-free ASCII helpers shared by every parser:
// constexpr character classes, case-insensitive compare and hash, trimming,
// and a strict overflow-checked integer parser.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <sigwire/core/error.hpp>

namespace sigwire::core::ascii {

// --- character classes -------------------------------------------------------
// One 256-entry table of bit flags, built at compile time. Bytes >= 0x80 have
// no class, so every class test is also an ASCII test.
enum char_class : std::uint16_t {
  cls_digit = 1u << 0,       // 0-9
  cls_hex = 1u << 1,         // 0-9 A-F a-f
  cls_alpha = 1u << 2,       // A-Z a-z
  cls_token = 1u << 3,       // RFC 7230 tchar: ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~
  cls_separator = 1u << 4,   // RFC 2616 separators ( ) < > @ , ; : \ " / [ ] ? = { } SP HT
  cls_unreserved = 1u << 5,  // RFC 3986 unreserved: ALPHA DIGIT - . _ ~
  cls_sip_mark = 1u << 6,    // RFC 3261 mark: - _ . ! ~ * ' ( )
  cls_sip_token = 1u << 7,   // RFC 3261 token: alphanum - . ! % * _ + ` ' ~
  cls_space = 1u << 8,       // SP HT (WSP)
  cls_vchar = 1u << 9,       // visible 0x21-0x7E
  cls_ctl = 1u << 10,        // 0x00-0x1F, 0x7F
  cls_base64 = 1u << 11,     // A-Z a-z 0-9 + /
};

namespace detail {
constexpr bool in(std::string_view set, unsigned char c) noexcept {
  return set.find(static_cast<char>(c)) != std::string_view::npos;
}
constexpr std::array<std::uint16_t, 256> make_class_table() noexcept {
  std::array<std::uint16_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) {
    std::uint16_t f = 0;
    const auto uc = static_cast<unsigned char>(c);
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (digit) f |= cls_digit;
    if (digit || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')) f |= cls_hex;
    if (alpha) f |= cls_alpha;
    if (digit || alpha || in("!#$%&'*+-.^_`|~", uc)) f |= cls_token;
    if (in("()<>@,;:\\\"/[]?={} \t", uc)) f |= cls_separator;
    if (digit || alpha || in("-._~", uc)) f |= cls_unreserved;
    if (in("-_.!~*'()", uc)) f |= cls_sip_mark;
    if (digit || alpha || in("-.!%*_+`'~", uc)) f |= cls_sip_token;
    if (c == ' ' || c == '\t') f |= cls_space;
    if (c >= 0x21 && c <= 0x7e) f |= cls_vchar;
    if (c < 0x20 || c == 0x7f) f |= cls_ctl;
    if (digit || alpha || c == '+' || c == '/') f |= cls_base64;
    t[c] = f;
  }
  return t;
}
inline constexpr std::array<std::uint16_t, 256> class_table = make_class_table();
}  // namespace detail

constexpr bool has_class(char c, std::uint16_t cls) noexcept {
  return (detail::class_table[static_cast<unsigned char>(c)] & cls) != 0;
}
constexpr bool is_digit(char c) noexcept { return has_class(c, cls_digit); }
constexpr bool is_hex(char c) noexcept { return has_class(c, cls_hex); }
constexpr bool is_alpha(char c) noexcept { return has_class(c, cls_alpha); }
constexpr bool is_alnum(char c) noexcept { return has_class(c, cls_alpha | cls_digit); }
constexpr bool is_token(char c) noexcept { return has_class(c, cls_token); }
constexpr bool is_separator(char c) noexcept { return has_class(c, cls_separator); }
constexpr bool is_unreserved(char c) noexcept { return has_class(c, cls_unreserved); }
constexpr bool is_sip_token(char c) noexcept { return has_class(c, cls_sip_token); }
constexpr bool is_space(char c) noexcept { return has_class(c, cls_space); }
constexpr bool is_vchar(char c) noexcept { return has_class(c, cls_vchar); }
constexpr bool is_ctl(char c) noexcept { return has_class(c, cls_ctl); }

// True when every byte of `s` is in class `cls` (and `s` is not empty).
constexpr bool all_of_class(std::string_view s, std::uint16_t cls) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!has_class(c, cls)) return false;
  return true;
}
constexpr bool is_token(std::string_view s) noexcept { return all_of_class(s, cls_token); }

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// --- case ------------------------------------------------------------------
constexpr char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}
constexpr char to_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - ('a' - 'A')) : c;
}

// ASCII case-insensitive equality (to_lower on both sides). Equal bytes cost
// one compare; bytes that differ match only as the two cases of one letter
// (they differ in bit 0x20 alone). Codec, header and parameter names are
// compared this way on every message.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const unsigned x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    const unsigned lower = x | 0x20u;
    if ((x ^ y) != 0x20u || lower < 'a' || lower > 'z') return false;
  }
  return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Three-way, for ordered containers keyed case-insensitively.
constexpr int icompare(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char x = to_lower(a[i]), y = to_lower(b[i]);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y) ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// FNV-1a over lower-cased bytes: equal under iequals => equal hash.
constexpr std::size_t ihash(std::string_view s) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(to_lower(c));
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

struct ihash_fn {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return ihash(s); }
};
struct iequal_fn {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return iequals(a, b); }
};
struct iless_fn {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return icompare(a, b) < 0; }
};

// --- trimming ----------------------------------------------------------------
// Optional whitespace (OWS / LWS without line folding) is SP and HT only.
constexpr std::string_view trim_left(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}
constexpr std::string_view trim_right(std::string_view s) noexcept {
  std::size_t n = s.size();
  while (n > 0 && is_space(s[n - 1])) --n;
  return s.substr(0, n);
}
constexpr std::string_view trim(std::string_view s) noexcept { return trim_right(trim_left(s)); }

// --- strict integers ---------------------------------------------------------
// Decimal digits only: no sign, no spaces, no locale, no leading '+'. The
// whole input must be digits. Overflow of T (or a value above `max`) is an
// error, never a wrap. The one integer parser of every layer: SIP numbers
// (Content-Length, CSeq, ports, RSeq ...), SDP fields, WebSocket extension
// parameters all come here, under their layer's short names.
template <class T>
struct parse_result {
  T value{};
  std::error_code ec{};
  explicit operator bool() const noexcept { return !ec; }
};

// The parser itself, with the outcome as a plain enum: callers that only
// need "a number or not" (SDP's fields) build no std::error_code, whose
// default constructor calls std::system_category() out of line.
enum class uint_status : std::uint8_t { ok, empty, invalid_character, overflow };

template <class T>
  requires std::is_unsigned_v<T>
[[gnu::always_inline]] constexpr uint_status parse_uint_to(std::string_view s, T& out, T max = std::numeric_limits<T>::max()) noexcept {
  if (s.empty()) return uint_status::empty;
  if (s.size() <= 9) {  // the usual case: nine digits cannot overflow 64 bits, so no check per digit
    std::uint64_t v = 0;
    bool digits = true;
    for (char c : s) {
      const unsigned digit = static_cast<unsigned char>(c) - static_cast<unsigned>('0');
      digits &= digit <= 9;
      v = v * 10 + digit;
    }
    if (digits) {
      if (v > static_cast<std::uint64_t>(max)) return uint_status::overflow;
      out = static_cast<T>(v);
      return uint_status::ok;
    }
  }
  // Longer, or not all digits: digit by digit, so the first fault is the one reported.
  std::uint64_t value = 0;
  for (char c : s) {
    const unsigned digit = static_cast<unsigned char>(c) - static_cast<unsigned>('0');
    if (digit > 9) return uint_status::invalid_character;
    // No division per digit: a checked multiply-add and a compare.
    if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, digit, &value) ||
        value > static_cast<std::uint64_t>(max))
      return uint_status::overflow;
  }
  out = static_cast<T>(value);
  return uint_status::ok;
}

template <class T>
  requires std::is_unsigned_v<T>
constexpr parse_result<T> parse_uint(std::string_view s, T max = std::numeric_limits<T>::max()) noexcept {
  T value = 0;
  switch (parse_uint_to(s, value, max)) {
    case uint_status::ok: return {value, {}};
    case uint_status::empty: return {0, make_error_code(error::empty_input)};
    case uint_status::invalid_character: return {0, make_error_code(error::invalid_character)};
    case uint_status::overflow: break;
  }
  return {0, make_error_code(error::overflow)};
}

}  // namespace sigwire::core::ascii
