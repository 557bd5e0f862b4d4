#include <sigwire/core/ascii.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>

using namespace sigwire::core;
namespace a = sigwire::core::ascii;

TEST_CASE("character classes match their grammars") {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    CHECK(a::is_digit(ch) == (c >= '0' && c <= '9'));
    CHECK(a::is_ctl(ch) == (c < 0x20 || c == 0x7f));
    if (c >= 0x80) {
      CHECK_FALSE(a::is_token(ch));
      CHECK_FALSE(a::is_vchar(ch));
    }
  }
  // RFC 7230 tchar vs separators: disjoint, and cover all of VCHAR but nothing else.
  for (int c = 0x21; c < 0x7f; ++c) {
    const char ch = static_cast<char>(c);
    CHECK(a::is_token(ch) != a::is_separator(ch));
  }
  CHECK(a::is_token("Sec-WebSocket-Key"));
  CHECK_FALSE(a::is_token("a b"));
  CHECK_FALSE(a::is_token(""));
  CHECK(a::is_sip_token('%'));
  CHECK_FALSE(a::is_sip_token('#'));  // '#' is an HTTP tchar but not a SIP token char
  CHECK(a::is_unreserved('~'));
  CHECK_FALSE(a::is_unreserved('!'));
  CHECK(a::hex_value('f') == 15);
  CHECK(a::hex_value('A') == 10);
  CHECK(a::hex_value('g') == -1);
}

TEST_CASE("case-insensitive compare and hash") {
  CHECK(a::iequals("Upgrade", "uPGRADE"));
  CHECK_FALSE(a::iequals("Upgrade", "Upgrades"));
  CHECK_FALSE(a::iequals("\xC4", "\xE4"));  // only ASCII folds
  CHECK(a::istarts_with("Content-Length", "content-"));
  CHECK(a::icompare("abc", "ABD") < 0);
  CHECK(a::icompare("ABC", "abc") == 0);
  CHECK(a::icompare("ab", "abc") < 0);
  CHECK(a::ihash("Call-ID") == a::ihash("call-id"));
  std::unordered_map<std::string, int, a::ihash_fn, a::iequal_fn> m{{"Via", 1}};
  CHECK(m.find(std::string("VIA")) != m.end());
  static_assert(a::iequals("A", "a"));
  // Every pair of bytes against the definition (to_lower on both sides):
  // only the 26 letters fold, '@' and '`' (0x40, 0x60) do not, nor bytes >= 0x80.
  for (unsigned x = 0; x < 256; ++x)
    for (unsigned y = 0; y < 256; ++y) {
      const char cx = static_cast<char>(x), cy = static_cast<char>(y);
      const bool expected = a::to_lower(cx) == a::to_lower(cy);
      if (a::iequals(std::string_view(&cx, 1), std::string_view(&cy, 1)) != expected) FAIL("bytes " << x << ", " << y);
    }
  CHECK(a::iequals("H264/90000", "h264/90000"));
  CHECK_FALSE(a::iequals("telephone-event", "telephone_event"));
}

TEST_CASE("trimming removes SP and HT only") {
  CHECK(a::trim(" \t x y \t") == "x y");
  CHECK(a::trim("\r\nx") == "\r\nx");
  CHECK(a::trim("   ").empty());
  CHECK(a::trim_left("  x ") == "x ");
  CHECK(a::trim_right("  x ") == "  x");
}

TEST_CASE("strict integer parser") {
  CHECK(a::parse_uint<std::uint32_t>("0").value == 0);
  CHECK(a::parse_uint<std::uint32_t>("4294967295").value == 4294967295u);
  CHECK(a::parse_uint<std::uint32_t>("4294967296").ec == error::overflow);
  CHECK(a::parse_uint<std::uint8_t>("255").value == 255);
  CHECK(a::parse_uint<std::uint8_t>("256").ec == error::overflow);
  CHECK(a::parse_uint<std::uint64_t>("18446744073709551615").value == 18446744073709551615ull);
  CHECK(a::parse_uint<std::uint64_t>("18446744073709551616").ec == error::overflow);
  CHECK(a::parse_uint<std::uint64_t>("99999999999999999999999").ec == error::overflow);
  CHECK(a::parse_uint<std::uint32_t>("").ec == error::empty_input);
  CHECK(a::parse_uint<std::uint32_t>("+1").ec == error::invalid_character);
  CHECK(a::parse_uint<std::uint32_t>("-1").ec == error::invalid_character);
  CHECK(a::parse_uint<std::uint32_t>(" 1").ec == error::invalid_character);
  CHECK(a::parse_uint<std::uint32_t>("1 ").ec == error::invalid_character);
  CHECK(a::parse_uint<std::uint32_t>("0x10").ec == error::invalid_character);
  CHECK(a::parse_uint<std::uint32_t>("007").value == 7);
  // A caller-chosen bound (e.g. SIP CSeq < 2**31, RFC 3261 §8.1.1.5).
  CHECK(a::parse_uint<std::uint32_t>("2147483647", 2147483647u).value == 2147483647u);
  CHECK(a::parse_uint<std::uint32_t>("2147483648", 2147483647u).ec == error::overflow);
}

TEST_CASE("parse_uint agrees with a reference on random digit strings") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s(1 + rng() % 24, '0');
    for (char& c : s) c = static_cast<char>('0' + rng() % 10);
    if (rng() % 8 == 0) s[rng() % s.size()] = "x +-/:"[rng() % 6];
    const std::uint64_t bounds[] = {UINT32_MAX, 65535, 255, 2147483647, rng() % 100000};
    const std::uint32_t max = static_cast<std::uint32_t>(bounds[rng() % 5]);
    // Reference: digits checked first, then the value against max (it stays
    // below 2^32 before each step, so 64 bits cannot overflow).
    std::uint64_t v = 0;
    std::error_code want{};
    for (char c : s) {
      if (c < '0' || c > '9') {
        want = error::invalid_character;
        break;
      }
      v = v * 10 + static_cast<unsigned>(c - '0');
      if (v > max) {
        want = error::overflow;
        break;
      }
    }
    CAPTURE(s);
    CAPTURE(max);
    const auto r = a::parse_uint<std::uint32_t>(s, max);
    CHECK(r.ec == want);
    if (!want) CHECK(r.value == static_cast<std::uint32_t>(v));
  }
}
