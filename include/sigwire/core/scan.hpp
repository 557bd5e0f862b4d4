// sigwire/core/scan.hpp - the one byte-scanning primitive of the parsers
// (the role of picohttpparser's findchar_fast): the first byte at or after
// index i that a stop set flags.
//
//   core::scan::find(line, 0, core::scan::any_of<'\r', '\n'>{})   // index, or line.size()
//
// A stop set says once which bytes end a scan, in two forms that must
// agree (tests/core/scan_test.cpp checks every byte value):
//   bool test(char c)           the scalar reference
//   __m128i block(__m128i v)    0xff for each of 16 bytes that stops (SSE2)
// With SSE2 (part of the x86-64 baseline, so no run-time dispatch is
// needed) find() looks at 16 bytes per step; the last partial
// block is read as the final 16 bytes of the view with the bits of bytes
// already looked at shifted out, so nothing outside the view is read. Views
// shorter than 16 bytes, and targets without SSE2, use test().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#define SIGWIRE_SCAN_SSE2 1
#else
#define SIGWIRE_SCAN_SSE2 0
#endif

namespace sigwire::core::scan {

#if SIGWIRE_SCAN_SSE2
// Building blocks for block(): 0xff where the byte is c / in [lo, hi].
[[gnu::always_inline]] inline __m128i equal(__m128i v, char c) noexcept { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); }
// Signed compares: bytes >= 0x80 (negative) are outside every ASCII range.
[[gnu::always_inline]] inline __m128i in_range(__m128i v, char lo, char hi) noexcept {
  return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                       _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(hi + 1)), v));
}
[[gnu::always_inline]] inline __m128i invert(__m128i m) noexcept { return _mm_xor_si128(m, _mm_set1_epi8(-1)); }
#endif

// Stops at any of the bytes C.
template <char... C>
struct any_of {
  static constexpr bool test(char c) noexcept { return ((c == C) || ...); }
#if SIGWIRE_SCAN_SSE2
  [[gnu::always_inline]] static __m128i block(__m128i v) noexcept { return or_all(equal(v, C)...); }

 private:
  [[gnu::always_inline]] static __m128i or_all(__m128i a) noexcept { return a; }
  template <class... More>
  [[gnu::always_inline]] static __m128i or_all(__m128i a, __m128i b, More... more) noexcept {
    return or_all(_mm_or_si128(a, b), more...);
  }
#endif
};

// Stops at a control byte: below 0x20 (HT, CR and LF included) or DEL.
struct control_byte {
  static constexpr bool test(char c) noexcept { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
#if SIGWIRE_SCAN_SSE2
  [[gnu::always_inline]] static __m128i block(__m128i v) noexcept {
    // Unsigned v < 0x20: min(v, 0x1f) == v.
    const __m128i below_space = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    return _mm_or_si128(below_space, equal(v, 0x7f));
  }
#endif
};

// The first index at or after i whose byte `set` stops at; s.size() if none.
template <class Set>
[[gnu::always_inline]] inline std::size_t find(std::string_view s, std::size_t i, const Set& set = {}) noexcept {
  const std::size_t n = s.size();
#if SIGWIRE_SCAN_SSE2
  if (n >= 16) {
    const char* p = s.data();
    // GCC 12 cannot tie n to the size of the object behind s.data(): when
    // it sees a short literal inlined here it reports the (unreachable)
    // 16-byte loads as out of bounds. The empty asm makes p opaque to that
    // analysis and costs no instruction.
    asm("" : "+r"(p));
    const auto stops = [&](std::size_t at) {
      return static_cast<std::uint32_t>(_mm_movemask_epi8(set.block(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at)))));
    };
    for (; i + 16 <= n; i += 16)
      if (const std::uint32_t m = stops(i)) return i + static_cast<std::size_t>(__builtin_ctz(m));
    if (i >= n) return n;
    const std::uint32_t m = stops(n - 16) >> (i - (n - 16));
    return m ? i + static_cast<std::size_t>(__builtin_ctz(m)) : n;
  }
#endif
  while (i < n && !set.test(s[i])) ++i;
  return i < n ? i : n;  // (a start past the end gives n too)
}

}  // namespace sigwire::core::scan
