// sigwire/core/cpu.hpp - run-time CPU feature detection for SIMD dispatch.
// A default build (no -march flags) still uses AVX2/AVX-512 kernels when the
// CPU has them: kernels carry __attribute__((target(...))) and a function
// pointer is chosen once, on first use.
#pragma once

#include <string_view>

#if defined(__x86_64__) || defined(__i386__)
#define SIGWIRE_X86 1
#include <immintrin.h>
// The one set of target attributes for run-time dispatched kernels (WebSocket
// masking, UTF-8 validation); core/scan.hpp needs none (SSE2 is baseline).
#define SIGWIRE_TARGET_SSE2 __attribute__((target("sse2")))
#define SIGWIRE_TARGET_AVX2 __attribute__((target("avx2")))
#define SIGWIRE_TARGET_AVX512 __attribute__((target("avx512f,avx512bw")))
#else
#define SIGWIRE_X86 0
#endif

namespace sigwire::core {

enum class simd_level { scalar = 0, sse2 = 1, avx2 = 2, avx512 = 3 };

constexpr std::string_view to_string(simd_level l) noexcept {
  switch (l) {
    case simd_level::scalar: return "scalar";
    case simd_level::sse2: return "sse2";
    case simd_level::avx2: return "avx2";
    case simd_level::avx512: return "avx512";
  }
  return "?";
}

// The best level this CPU (and OS, for the wide registers) supports.
inline simd_level detected_simd() noexcept {
#if SIGWIRE_X86
  static const simd_level level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
      return simd_level::avx512;
    if (__builtin_cpu_supports("avx2")) return simd_level::avx2;
    if (__builtin_cpu_supports("sse2")) return simd_level::sse2;
    return simd_level::scalar;
  }();
  return level;
#else
  return simd_level::scalar;
#endif
}

inline bool cpu_supports(simd_level l) noexcept { return l <= detected_simd(); }

}  // namespace sigwire::core
