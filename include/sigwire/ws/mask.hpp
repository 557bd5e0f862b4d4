// sigwire/ws/mask.hpp - RFC 6455 §5.3 masking: payload[i] ^= key[(offset + i) % 4].
//
//   ws::mask(data, size, key, offset);   // in place; offset = payload bytes already masked
//
// A frame's payload may arrive in pieces, so every call takes the payload
// offset of its first byte. The scalar byte loop is the reference; SSE2,
// AVX2 and AVX-512 kernels are chosen once at run time (core/cpu.hpp) and
// tested equal to it on random sizes, offsets and keys.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <sigwire/core/cpu.hpp>

namespace sigwire::ws {

using mask_key = std::array<std::byte, 4>;

namespace detail {

// Kernels take the key rotated so that key[0] applies to p[0], as a 32-bit
// word whose memory bytes are that rotated key (so endianness never matters).
using mask_fn = void (*)(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept;

inline void mask_scalar_ref(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  std::uint8_t k[4];
  std::memcpy(k, &key, 4);
  for (std::size_t i = 0; i < n; ++i) p[i] ^= k[i & 3];
}

// Word-at-a-time tail shared by every kernel: 8 bytes per step, then bytes.
inline void mask_words(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  const std::uint64_t k64 = (std::uint64_t{key} << 32) | key;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= k64;
    std::memcpy(p + i, &w, 8);
  }
  if (n - i >= 4) {  // i stays a multiple of 4: the key phase is unchanged
    std::uint32_t w;
    std::memcpy(&w, p + i, 4);
    w ^= key;
    std::memcpy(p + i, &w, 4);
    i += 4;
  }
  mask_scalar_ref(p + i, n - i, key);
}

// dst[i] = src[i] ^ key: unmasking fused with the copy into the message
// buffer, so freshly written bytes are never re-read (that re-read stalls
// on store forwarding when the copy used wider stores).
inline void mask_copy_words(std::uint8_t* d, const std::uint8_t* s, std::size_t n, std::uint32_t key) noexcept {
  const std::uint64_t k64 = (std::uint64_t{key} << 32) | key;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s + i, 8);
    w ^= k64;
    std::memcpy(d + i, &w, 8);
  }
  std::uint8_t k[4];
  std::memcpy(k, &key, 4);
  for (; i < n; ++i) d[i] = static_cast<std::uint8_t>(s[i] ^ k[i & 3]);
}

#if SIGWIRE_X86
SIGWIRE_TARGET_SSE2 inline void mask_copy_sse2(std::uint8_t* d, const std::uint8_t* s, std::size_t n,
                                                         std::uint32_t key) noexcept {
  const __m128i k = _mm_set1_epi32(static_cast<int>(key));
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), _mm_xor_si128(a, k));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i + 16), _mm_xor_si128(b, k));
  }
  if (i + 16 <= n) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)), k));
    i += 16;
  }
  if (i == n) return;
  if (n >= 16) {
    // The tail as one 16-byte block ending at n, overlapping bytes already
    // written: they are recomputed from src, so the result is the same.
    const std::size_t t = n - 16;
    const __m128i kt = _mm_set1_epi32(static_cast<int>(std::rotr(key, static_cast<int>(t & 3) * 8)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + t), _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + t)), kt));
    return;
  }
  mask_copy_words(d, s, n, key);
}

SIGWIRE_TARGET_SSE2 inline void mask_sse2(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  const __m128i k = _mm_set1_epi32(static_cast<int>(key));
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    auto* q = reinterpret_cast<__m128i*>(p + i);
    const __m128i a = _mm_loadu_si128(q), b = _mm_loadu_si128(q + 1);
    const __m128i c = _mm_loadu_si128(q + 2), d = _mm_loadu_si128(q + 3);
    _mm_storeu_si128(q, _mm_xor_si128(a, k));
    _mm_storeu_si128(q + 1, _mm_xor_si128(b, k));
    _mm_storeu_si128(q + 2, _mm_xor_si128(c, k));
    _mm_storeu_si128(q + 3, _mm_xor_si128(d, k));
  }
  for (; i + 16 <= n; i += 16) {
    auto* q = reinterpret_cast<__m128i*>(p + i);
    _mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q), k));
  }
  mask_words(p + i, n - i, key);
}

// Bytes to mask before p is aligned to `align` (kernels then use aligned
// lines: unaligned 32/64-byte accesses split cache lines and halve the speed).
inline std::size_t head_to_align(const std::uint8_t* p, std::size_t n, std::size_t align) noexcept {
  const std::size_t head = (align - (reinterpret_cast<std::uintptr_t>(p) & (align - 1))) & (align - 1);
  return head < n ? head : n;
}
// The key pattern after `bytes` bytes were masked (x86 is little-endian).
inline std::uint32_t advance_key(std::uint32_t key, std::size_t bytes) noexcept {
  return std::rotr(key, static_cast<int>(bytes & 3) * 8);
}

SIGWIRE_TARGET_AVX2 inline void mask_avx2(std::uint8_t* p, std::size_t n, std::uint32_t key) noexcept {
  if (n >= 256) {
    const std::size_t head = head_to_align(p, n, 32);
    mask_words(p, head, key);
    p += head;
    n -= head;
    key = advance_key(key, head);
  }
  const __m256i k = _mm256_set1_epi32(static_cast<int>(key));
  std::size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    auto* q = reinterpret_cast<__m256i*>(p + i);
    const __m256i a = _mm256_loadu_si256(q), b = _mm256_loadu_si256(q + 1);
    const __m256i c = _mm256_loadu_si256(q + 2), d = _mm256_loadu_si256(q + 3);
    _mm256_storeu_si256(q, _mm256_xor_si256(a, k));
    _mm256_storeu_si256(q + 1, _mm256_xor_si256(b, k));
    _mm256_storeu_si256(q + 2, _mm256_xor_si256(c, k));
    _mm256_storeu_si256(q + 3, _mm256_xor_si256(d, k));
  }
  for (; i + 32 <= n; i += 32) {
    auto* q = reinterpret_cast<__m256i*>(p + i);
    _mm256_storeu_si256(q, _mm256_xor_si256(_mm256_loadu_si256(q), k));
  }
  if (i + 16 <= n) {
    auto* q = reinterpret_cast<__m128i*>(p + i);
    _mm_storeu_si128(q, _mm_xor_si128(_mm_loadu_si128(q), _mm256_castsi256_si128(k)));
    i += 16;
  }
  mask_words(p + i, n - i, key);
}

SIGWIRE_TARGET_AVX512 inline void mask_avx512(std::uint8_t* p, std::size_t n,
                                                                  std::uint32_t key) noexcept {
  // Masked head up to the next 64-byte line, for large buffers only: below
  // a few KiB the masked load/store costs more than the split lines it saves
  // (measured: 1 KiB at a 16-byte offset 16.5 ns aligned, 13.6 ns not).
  if (n >= 4096) {
    const std::size_t head = head_to_align(p, n, 64);
    if (head != 0) {
      const __mmask64 m = (std::uint64_t{1} << head) - 1;
      const __m512i k0 = _mm512_set1_epi32(static_cast<int>(key));
      _mm512_mask_storeu_epi8(p, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, p), k0));
      p += head;
      n -= head;
      key = advance_key(key, head);
    }
  }
  const __m512i k = _mm512_set1_epi32(static_cast<int>(key));
  std::size_t i = 0;
  for (; i + 256 <= n; i += 256) {
    auto* q = p + i;
    const __m512i a = _mm512_loadu_si512(q), b = _mm512_loadu_si512(q + 64);
    const __m512i c = _mm512_loadu_si512(q + 128), d = _mm512_loadu_si512(q + 192);
    _mm512_storeu_si512(q, _mm512_xor_si512(a, k));
    _mm512_storeu_si512(q + 64, _mm512_xor_si512(b, k));
    _mm512_storeu_si512(q + 128, _mm512_xor_si512(c, k));
    _mm512_storeu_si512(q + 192, _mm512_xor_si512(d, k));
  }
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(p + i, _mm512_xor_si512(_mm512_loadu_si512(p + i), k));
  if (i < n) {  // masked tail: one load/store of the remaining 0-63 bytes
    const __mmask64 m = (std::uint64_t{1} << (n - i)) - 1;  // n - i < 64
    const __m512i v = _mm512_maskz_loadu_epi8(m, p + i);
    _mm512_mask_storeu_epi8(p + i, m, _mm512_xor_si512(v, k));
  }
}
#endif

inline mask_fn mask_kernel_for(core::simd_level level) noexcept {
#if SIGWIRE_X86
  switch (level) {
    case core::simd_level::avx512: return mask_avx512;
    case core::simd_level::avx2: return mask_avx2;
    case core::simd_level::sse2: return mask_sse2;
    case core::simd_level::scalar: break;
  }
#else
  (void)level;
#endif
  return mask_scalar_ref;
}

inline mask_fn best_mask_kernel() noexcept {
  static const mask_fn fn = mask_kernel_for(core::detected_simd());
  return fn;
}

// One 32-bit load and a rotate (building it byte by byte would make the
// following 32-bit load stall on store forwarding).
inline std::uint32_t rotated_key(const mask_key& key, std::size_t offset) noexcept {
  std::uint32_t w;
  std::memcpy(&w, key.data(), 4);
  const int shift = static_cast<int>(offset & 3) * 8;
  if constexpr (std::endian::native == std::endian::little) return std::rotr(w, shift);
  else return std::rotl(w, shift);
}

}  // namespace detail

// Masks (or unmasks: XOR is its own inverse) p[0, n) in place; `offset` is
// the payload position of p[0].
inline void mask(std::byte* p, std::size_t n, const mask_key& key, std::size_t offset = 0) noexcept {
  const auto k = detail::rotated_key(key, offset);
  auto* u = reinterpret_cast<std::uint8_t*>(p);
#if SIGWIRE_X86 && defined(__SSE2__)
  // Small payloads (most signalling frames): SSE2 is in every x86-64, so it
  // is inlined here without the indirect call of the run-time dispatch (and
  // without AVX-512's masked stores, slower than a short scalar tail).
  if (n < 256) return detail::mask_sse2(u, n, k);
#else
  if (n < 32) return detail::mask_words(u, n, k);
#endif
#if SIGWIRE_X86 && defined(__AVX512F__) && defined(__AVX512BW__)
  detail::mask_avx512(u, n, k);  // the compile target already has it: no dispatch
#elif SIGWIRE_X86 && defined(__AVX2__)
  detail::mask_avx2(u, n, k);
#else
  detail::best_mask_kernel()(u, n, k);
#endif
}

// Copies src[0, n) to dst masked (dst and src must not overlap).
inline void mask_copy(std::byte* dst, const std::byte* src, std::size_t n, const mask_key& key,
                      std::size_t offset = 0) noexcept {
  const auto k = detail::rotated_key(key, offset);
  auto* d = reinterpret_cast<std::uint8_t*>(dst);
  const auto* s = reinterpret_cast<const std::uint8_t*>(src);
#if SIGWIRE_X86 && defined(__SSE2__)
  if (n < 1024) return detail::mask_copy_sse2(d, s, n, k);
#else
  if (n < 64) return detail::mask_copy_words(d, s, n, k);
#endif
  std::memcpy(dst, src, n);  // large: bandwidth-bound, the wide kernels win
  detail::best_mask_kernel()(d, n, k);
}

// The same with an explicit kernel (tests, benchmarks).
inline void mask(core::simd_level level, std::byte* p, std::size_t n, const mask_key& key,
                 std::size_t offset = 0) noexcept {
  detail::mask_kernel_for(level)(reinterpret_cast<std::uint8_t*>(p), n, detail::rotated_key(key, offset));
}

// Reference: the RFC's byte loop.
inline void mask_reference(std::byte* p, std::size_t n, const mask_key& key, std::size_t offset = 0) noexcept {
  for (std::size_t i = 0; i < n; ++i) p[i] ^= key[(offset + i) & 3];
}

}  // namespace sigwire::ws
