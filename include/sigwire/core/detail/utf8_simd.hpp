// sigwire/core/detail/utf8_simd.hpp - vectorised UTF-8 validation kernels.
//
// The AVX2 and AVX-512 kernels use the lookup algorithm of Keiser & Lemire,
// "Validating UTF-8 In Less Than One Instruction Per Byte" (2021): three
// 16-entry nibble tables classify each (previous byte, byte) pair into error
// bits, and a saturating subtraction marks where a 3rd or 4th byte of a
// sequence must be a continuation. All-ASCII blocks skip the classification.
// Each kernel answers one question: is p[0, n) complete, valid UTF-8? The
// incremental validator (utf8.hpp) finds exact error positions with the
// scalar reference, so kernels need no position logic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <sigwire/core/cpu.hpp>
#include <sigwire/core/detail/utf8_scalar.hpp>

namespace sigwire::core::utf8::detail {

// Error bits of the lookup algorithm. TOO_LARGE_1000 and OVERLONG_4 share a
// bit: they are told apart by the low nibble of the lead byte (F5+ vs F0).
inline constexpr std::uint8_t too_short = 1 << 0;   // lead followed by lead or ASCII
inline constexpr std::uint8_t too_long = 1 << 1;    // ASCII followed by continuation
inline constexpr std::uint8_t overlong_3 = 1 << 2;  // E0 80..9F
inline constexpr std::uint8_t too_large = 1 << 3;   // F4 90.., F5..
inline constexpr std::uint8_t surrogate = 1 << 4;   // ED A0..BF
inline constexpr std::uint8_t overlong_2 = 1 << 5;  // C0/C1 + continuation
inline constexpr std::uint8_t too_large_1000 = 1 << 6;
inline constexpr std::uint8_t overlong_4 = 1 << 6;  // F0 80..8F
inline constexpr std::uint8_t two_conts = 1 << 7;   // continuation after continuation
inline constexpr std::uint8_t carry = too_short | too_long | two_conts;

// Indexed by the high nibble of the previous byte.
alignas(64) inline constexpr std::uint8_t table_prev_high[16] = {
    too_long, too_long, too_long, too_long, too_long, too_long, too_long, too_long,  // 0_______
    two_conts, two_conts, two_conts, two_conts,                                      // 10______
    too_short | overlong_2,                                                          // 1100____
    too_short,                                                                       // 1101____
    too_short | overlong_3 | surrogate,                                              // 1110____
    too_short | too_large | too_large_1000 | overlong_4,                             // 1111____
};
// Indexed by the low nibble of the previous byte.
alignas(64) inline constexpr std::uint8_t table_prev_low[16] = {
    carry | overlong_3 | overlong_2 | overlong_4,  // ____0000
    carry | overlong_2,                            // ____0001
    carry,                                         // ____0010
    carry,                                         // ____0011
    carry | too_large,                             // ____0100
    carry | too_large | too_large_1000,            // ____0101
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000 | surrogate,  // ____1101
    carry | too_large | too_large_1000,
    carry | too_large | too_large_1000,
};
// Indexed by the high nibble of the current byte.
alignas(64) inline constexpr std::uint8_t table_cur_high[16] = {
    too_short, too_short, too_short, too_short, too_short, too_short, too_short, too_short,  // 0_______
    too_long | overlong_2 | two_conts | overlong_3 | too_large_1000 | overlong_4,            // 1000____
    too_long | overlong_2 | two_conts | overlong_3 | too_large,                              // 1001____
    too_long | overlong_2 | two_conts | surrogate | too_large,                               // 1010____
    too_long | overlong_2 | two_conts | surrogate | too_large,                               // 1011____
    too_short, too_short, too_short, too_short,                                              // 11______
};

// The tables repeated four times: one aligned load fills a 128/256/512-bit
// register (a broadcast from 16 bytes trips a GCC 12 false warning).
struct wide_table {
  alignas(64) std::uint8_t v[64];
};
constexpr wide_table widen(const std::uint8_t (&t)[16]) noexcept {
  wide_table w{};
  for (int i = 0; i < 64; ++i) w.v[i] = t[i % 16];
  return w;
}
inline constexpr wide_table wide_prev_high = widen(table_prev_high);
inline constexpr wide_table wide_prev_low = widen(table_prev_low);
inline constexpr wide_table wide_cur_high = widen(table_cur_high);

#if SIGWIRE_X86

// ---------------------------------------------------------------- SSE2
// SSE2 has no byte shuffle, so this kernel skips ASCII 32 bytes at a time
// and hands the first non-ASCII stretch (to the next ASCII block) to scalar.
inline bool sse2_validate_complete(const std::uint8_t* p, std::size_t n) noexcept {
  scalar_state s;
  std::size_t i = 0;
  while (i < n) {
    if (s.at_boundary() && i + 32 <= n) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16));
      if (_mm_movemask_epi8(_mm_or_si128(a, b)) == 0) {
        i += 32;
        continue;
      }
    }
    if (!s.step(p[i])) return false;
    ++i;
  }
  return s.at_boundary();
}

// ---------------------------------------------------------------- AVX2
struct avx2_checker {
  __m256i error;
  __m256i prev_input;
  __m256i prev_incomplete;
};

SIGWIRE_TARGET_AVX2 inline __m256i avx2_table(const wide_table& t) noexcept {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(t.v));
}

// Bytes of `in` shifted right by N, with the last N bytes of `prev` in front.
template <int N>
SIGWIRE_TARGET_AVX2 inline __m256i avx2_prev(__m256i in, __m256i prev) noexcept {
  return _mm256_alignr_epi8(in, _mm256_permute2x128_si256(prev, in, 0x21), 16 - N);
}

SIGWIRE_TARGET_AVX2 inline __m256i avx2_check_vector(__m256i in, __m256i prev_input) noexcept {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i prev1 = avx2_prev<1>(in, prev_input);
  const __m256i b1_high = _mm256_shuffle_epi8(avx2_table(wide_prev_high),
                                              _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble));
  const __m256i b1_low = _mm256_shuffle_epi8(avx2_table(wide_prev_low), _mm256_and_si256(prev1, nibble));
  const __m256i b2_high = _mm256_shuffle_epi8(avx2_table(wide_cur_high),
                                              _mm256_and_si256(_mm256_srli_epi16(in, 4), nibble));
  const __m256i special = _mm256_and_si256(_mm256_and_si256(b1_high, b1_low), b2_high);
  // A byte two after a 3/4-byte lead, or three after a 4-byte lead, must be a
  // continuation: that is exactly where `special` reports TWO_CONTS.
  const __m256i third = _mm256_subs_epu8(avx2_prev<2>(in, prev_input), _mm256_set1_epi8(char(0xE0 - 0x80)));
  const __m256i fourth = _mm256_subs_epu8(avx2_prev<3>(in, prev_input), _mm256_set1_epi8(char(0xF0 - 0x80)));
  const __m256i must23 = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8(char(0x80)));
  return _mm256_xor_si256(must23, special);
}

// Non-zero lanes where the vector ends inside a multi-byte sequence.
SIGWIRE_TARGET_AVX2 inline __m256i avx2_incomplete(__m256i in) noexcept {
  const __m256i max = _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                       char(0xF0 - 1), char(0xE0 - 1), char(0xC0 - 1));
  return _mm256_subs_epu8(in, max);
}

SIGWIRE_TARGET_AVX2 inline void avx2_check_block(avx2_checker& c, const std::uint8_t* p) noexcept {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const __m256i any = _mm256_or_si256(a, b);
  if (_mm256_movemask_epi8(any) == 0) {
    // All ASCII: only a sequence left open by the previous block can fail.
    c.error = _mm256_or_si256(c.error, c.prev_incomplete);
  } else {
    c.error = _mm256_or_si256(c.error, avx2_check_vector(a, c.prev_input));
    c.error = _mm256_or_si256(c.error, avx2_check_vector(b, a));
    c.prev_incomplete = avx2_incomplete(b);
  }
  c.prev_input = b;
}

SIGWIRE_TARGET_AVX2 inline bool avx2_validate_complete(const std::uint8_t* p, std::size_t n) noexcept {
  avx2_checker c{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  std::size_t i = 0;
  // Fast ASCII skip, 128 bytes per test, while no sequence is open.
  for (;;) {
    while (i + 128 <= n) {
      const auto* v = reinterpret_cast<const __m256i*>(p + i);
      const __m256i any = _mm256_or_si256(_mm256_or_si256(_mm256_loadu_si256(v), _mm256_loadu_si256(v + 1)),
                                          _mm256_or_si256(_mm256_loadu_si256(v + 2), _mm256_loadu_si256(v + 3)));
      if (_mm256_movemask_epi8(any) != 0) break;
      c.error = _mm256_or_si256(c.error, c.prev_incomplete);
      c.prev_incomplete = _mm256_setzero_si256();
      c.prev_input = _mm256_loadu_si256(v + 3);
      i += 128;
    }
    if (i + 64 > n) break;
    avx2_check_block(c, p + i);
    i += 64;
  }
  if (i < n) {
    alignas(32) std::uint8_t tail[64] = {};  // zero padding is ASCII
    std::memcpy(tail, p + i, n - i);
    avx2_check_block(c, tail);
  }
  c.error = _mm256_or_si256(c.error, c.prev_incomplete);
  return _mm256_testz_si256(c.error, c.error) != 0;
}

// ---------------------------------------------------------------- AVX-512
struct avx512_checker {
  __m512i error;
  __m512i prev_input;
  __m512i prev_incomplete;
};

SIGWIRE_TARGET_AVX512 inline __m512i avx512_table(const wide_table& t) noexcept {
  return _mm512_load_si512(t.v);
}

template <int N>
SIGWIRE_TARGET_AVX512 inline __m512i avx512_prev(__m512i in, __m512i prev) noexcept {
  // lanes [prev.3, in.0, in.1, in.2], then a per-lane byte align.
  const __m512i idx = _mm512_setr_epi64(6, 7, 8, 9, 10, 11, 12, 13);
  const __m512i shifted = _mm512_permutex2var_epi64(prev, idx, in);
  return _mm512_alignr_epi8(in, shifted, 16 - N);
}

SIGWIRE_TARGET_AVX512 inline __m512i avx512_check_vector(__m512i in, __m512i prev_input) noexcept {
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  const __m512i prev1 = avx512_prev<1>(in, prev_input);
  const __m512i b1_high = _mm512_shuffle_epi8(avx512_table(wide_prev_high),
                                              _mm512_and_si512(_mm512_srli_epi16(prev1, 4), nibble));
  const __m512i b1_low = _mm512_shuffle_epi8(avx512_table(wide_prev_low), _mm512_and_si512(prev1, nibble));
  const __m512i b2_high = _mm512_shuffle_epi8(avx512_table(wide_cur_high),
                                              _mm512_and_si512(_mm512_srli_epi16(in, 4), nibble));
  const __m512i special = _mm512_and_si512(_mm512_and_si512(b1_high, b1_low), b2_high);
  const __m512i third = _mm512_subs_epu8(avx512_prev<2>(in, prev_input), _mm512_set1_epi8(char(0xE0 - 0x80)));
  const __m512i fourth = _mm512_subs_epu8(avx512_prev<3>(in, prev_input), _mm512_set1_epi8(char(0xF0 - 0x80)));
  const __m512i must23 = _mm512_and_si512(_mm512_or_si512(third, fourth), _mm512_set1_epi8(char(0x80)));
  return _mm512_xor_si512(must23, special);
}

SIGWIRE_TARGET_AVX512 inline __m512i avx512_incomplete(__m512i in) noexcept {
  alignas(64) static constexpr std::uint8_t max[64] = {
      255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
      255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
      255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
      255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1};
  return _mm512_subs_epu8(in, _mm512_load_si512(max));
}

SIGWIRE_TARGET_AVX512 inline void avx512_check_block(avx512_checker& c, __m512i in) noexcept {
  if (_mm512_movepi8_mask(in) == 0) {
    c.error = _mm512_or_si512(c.error, c.prev_incomplete);
    c.prev_incomplete = _mm512_setzero_si512();
  } else {
    c.error = _mm512_or_si512(c.error, avx512_check_vector(in, c.prev_input));
    c.prev_incomplete = avx512_incomplete(in);
  }
  c.prev_input = in;
}

SIGWIRE_TARGET_AVX512 inline bool avx512_validate_complete(const std::uint8_t* p, std::size_t n) noexcept {
  avx512_checker c{_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  std::size_t i = 0;
  for (;;) {
    // Fast ASCII skip, 256 bytes per test.
    while (i + 256 <= n) {
      const auto* v = reinterpret_cast<const __m512i*>(p + i);
      const __m512i any = _mm512_or_si512(_mm512_or_si512(_mm512_loadu_si512(v), _mm512_loadu_si512(v + 1)),
                                          _mm512_or_si512(_mm512_loadu_si512(v + 2), _mm512_loadu_si512(v + 3)));
      if (_mm512_movepi8_mask(any) != 0) break;
      c.error = _mm512_or_si512(c.error, c.prev_incomplete);
      c.prev_incomplete = _mm512_setzero_si512();
      c.prev_input = _mm512_loadu_si512(v + 3);
      i += 256;
    }
    if (i + 64 > n) break;
    avx512_check_block(c, _mm512_loadu_si512(p + i));
    i += 64;
  }
  if (i < n) {
    // A masked load reads only the bytes that exist; the rest are zero (ASCII).
    const __mmask64 m = (__mmask64{1} << (n - i)) - 1;  // n - i < 64
    avx512_check_block(c, _mm512_maskz_loadu_epi8(m, p + i));
  }
  c.error = _mm512_or_si512(c.error, c.prev_incomplete);
  return _mm512_test_epi8_mask(c.error, c.error) == 0;
}

#endif  // SIGWIRE_X86

using validate_fn = bool (*)(const std::uint8_t*, std::size_t) noexcept;

inline validate_fn kernel_for(simd_level level) noexcept {
#if SIGWIRE_X86
  switch (level) {
    case simd_level::avx512: return avx512_validate_complete;
    case simd_level::avx2: return avx2_validate_complete;
    case simd_level::sse2: return sse2_validate_complete;
    case simd_level::scalar: break;
  }
#else
  (void)level;
#endif
  return scalar_validate_complete;
}

// The kernel for this CPU, chosen once.
inline validate_fn best_kernel() noexcept {
  static const validate_fn fn = kernel_for(detected_simd());
  return fn;
}

}  // namespace sigwire::core::utf8::detail
