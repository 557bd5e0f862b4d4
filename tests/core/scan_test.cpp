// core::scan::find against its scalar reference: every stop set's SIMD
// block() agrees with its test() on all 256 byte values, and find() gives
// the naive loop's answer for every length 0-80 and every start index
// (the 32- and 16-byte steps and the overlapping last block included).
#include <sigwire/core/scan.hpp>

#include <doctest/doctest.h>

#include <sigwire/sip/detail/lex.hpp>
#include <sigwire/sip/uri.hpp>

#include <cstdint>
#include <random>
#include <string>

using namespace sigwire;

namespace {

template <class Set>
std::size_t naive_find(std::string_view s, std::size_t i) {
  for (; i < s.size(); ++i)
    if (Set::test(s[i])) return i;
  return s.size();
}

template <class Set>
void check_block_matches_test() {
#if SIGWIRE_SCAN_SSE2
  for (int first = 0; first < 256; first += 16) {
    alignas(16) char bytes[16];
    for (int k = 0; k < 16; ++k) bytes[k] = static_cast<char>(first + k);
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(Set::block(_mm_load_si128(reinterpret_cast<const __m128i*>(bytes)))));
    for (int k = 0; k < 16; ++k) {
      CAPTURE(first + k);
      CHECK(((mask >> k) & 1u) == (Set::test(bytes[k]) ? 1u : 0u));
    }
  }
#endif
}

// Random text over an alphabet where stop bytes are rare, so that the
// scans run long; every length and every start index.
template <class Set>
void check_find_matches_naive(std::string_view alphabet) {
  std::mt19937 rng(7);
  for (std::size_t len = 0; len <= 80; ++len) {
    for (int round = 0; round < 20; ++round) {
      std::string s(len, 'a');
      for (auto& c : s) c = alphabet[rng() % alphabet.size()];
      for (std::size_t i = 0; i <= len + 1; ++i) {
        CAPTURE(len);
        CAPTURE(i);
        CHECK(core::scan::find(s, i, Set{}) == naive_find<Set>(s, i));
      }
    }
  }
}

std::string all_bytes() {
  std::string s;
  for (int c = 0; c < 256; ++c) s.push_back(static_cast<char>(c));
  return s;
}

}  // namespace

TEST_CASE("scan_sets_block_agrees_with_test_on_every_byte") {
  check_block_matches_test<core::scan::any_of<'\r', '\n'>>();
  check_block_matches_test<core::scan::any_of<':', '\r', '\n'>>();
  check_block_matches_test<core::scan::any_of<'"', '<', '>', ','>>();
  check_block_matches_test<core::scan::any_of<'\x80', '\xff', '\0'>>();
  check_block_matches_test<core::scan::control_byte>();
  check_block_matches_test<sip::detail::not_host_char>();
  check_block_matches_test<sip::detail::not_word_char>();
}

TEST_CASE("scan_find_agrees_with_the_naive_loop_at_every_length_and_start") {
  const std::string mostly_text = std::string(40, 'x') + "abc.-9Z" + "\r\n:<>\",\x7f\t\x80\xff";
  check_find_matches_naive<core::scan::any_of<'\r', '\n'>>(mostly_text);
  check_find_matches_naive<core::scan::any_of<':', '\r', '\n'>>(mostly_text);
  check_find_matches_naive<core::scan::any_of<'"', '<', '>', ','>>(mostly_text);
  check_find_matches_naive<core::scan::control_byte>(mostly_text);
  check_find_matches_naive<sip::detail::not_host_char>(mostly_text);
  check_find_matches_naive<sip::detail::not_word_char>(mostly_text);
  check_find_matches_naive<core::scan::control_byte>(all_bytes());
}

TEST_CASE("scan_find_examples") {
  using core::scan::any_of;
  CHECK(core::scan::find("INVITE sip:a@b SIP/2.0\r\n", 0, any_of<'\r', '\n'>{}) == 22);
  CHECK(core::scan::find("Via: x", 0, any_of<':', '\r', '\n'>{}) == 3);
  CHECK(core::scan::find("", 0, any_of<'x'>{}) == 0);
  CHECK(core::scan::find("abc", 5, any_of<'x'>{}) == 3);  // past the end: the size
  CHECK(core::scan::find("v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\n", 3, core::scan::control_byte{}) == 3);
  CHECK(sip::detail::skip_host_chars("pc33.atlanta.example.com;branch=z9hG4bK", 0) == 24);
}
