// sigwire/core/detail/utf8_scalar.hpp - the reference UTF-8 decoder state
// machine (Unicode 15 Table 3-7, RFC 3629 §4). Every SIMD kernel is tested
// against it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sigwire::core::utf8::detail {

// Where a decoder stands between bytes: how many continuation bytes are still
// owed, and the allowed range of the next one (the first continuation after
// E0, ED, F0 and F4 has a narrower range; that is how overlongs, surrogates
// and code points above U+10FFFF are rejected).
struct scalar_state {
  std::uint8_t need = 0;
  std::uint8_t lo = 0x80;
  std::uint8_t hi = 0xBF;

  constexpr bool at_boundary() const noexcept { return need == 0; }

  // Consumes one byte; false when it cannot continue a valid sequence.
  constexpr bool step(std::uint8_t b) noexcept {
    if (need != 0) {
      if (b < lo || b > hi) return false;
      --need;
      lo = 0x80;
      hi = 0xBF;
      return true;
    }
    if (b < 0x80) return true;
    if (b < 0xC2) return false;  // lone continuation, or C0/C1 (always overlong)
    if (b < 0xE0) return start(1, 0x80, 0xBF);
    if (b == 0xE0) return start(2, 0xA0, 0xBF);  // no overlong 3-byte forms
    if (b == 0xED) return start(2, 0x80, 0x9F);  // no surrogates U+D800-DFFF
    if (b < 0xF0) return start(2, 0x80, 0xBF);
    if (b == 0xF0) return start(3, 0x90, 0xBF);  // no overlong 4-byte forms
    if (b < 0xF4) return start(3, 0x80, 0xBF);
    if (b == 0xF4) return start(3, 0x80, 0x8F);  // nothing above U+10FFFF
    return false;                                // F5-FF never appear
  }

 private:
  constexpr bool start(std::uint8_t n, std::uint8_t l, std::uint8_t h) noexcept {
    need = n;
    lo = l;
    hi = h;
    return true;
  }
};

// Reference: index of the first byte that cannot be part of valid UTF-8, or
// n when none. `state` carries over between calls (chunked input).
constexpr std::size_t scalar_find_invalid(scalar_state& state, const std::uint8_t* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    if (!state.step(p[i])) return i;
  return n;
}

// True when p[0, n) is complete, valid UTF-8 (the scalar "kernel").
inline bool scalar_validate_complete(const std::uint8_t* p, std::size_t n) noexcept {
  scalar_state s;
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    if (s.at_boundary() && i + 8 <= n) {
      std::uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    if (!s.step(p[i])) return false;
    ++i;
  }
  return s.at_boundary();
}

}  // namespace sigwire::core::utf8::detail
