// sigwire/core/random.hpp - cryptographically secure random bytes (OpenSSL
// RAND_bytes). Used for WebSocket keys and masks, SIP branches, tags and
// Call-IDs: RFC 6455 §10.3 and RFC 3261 §8.1.1.7 require unpredictability.
#pragma once

#include <openssl/rand.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace sigwire::core {

// Fills `out`. RAND_bytes failing means the process has no entropy source;
// that is not a network input, so it is reported by exception.
inline void random_bytes(std::span<std::byte> out) {
  if (out.empty()) return;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size())) != 1)
    throw std::runtime_error("sigwire: RAND_bytes failed");
}

template <std::size_t N>
inline std::array<std::byte, N> random_array() {
  std::array<std::byte, N> a{};
  random_bytes(a);
  return a;
}

inline std::uint32_t random_u32() {
  auto a = random_array<4>();
  return std::uint32_t(a[0]) | std::uint32_t(a[1]) << 8 | std::uint32_t(a[2]) << 16 |
         std::uint32_t(a[3]) << 24;
}

// `n` random characters from [0-9a-z]: usable as a SIP token (tag, branch
// suffix, Call-ID). Each character carries log2(36) ~ 5.17 bits.
inline std::string random_token(std::size_t n) {
  static constexpr char chars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s(n, '\0');
  std::array<std::byte, 64> buf{};
  std::size_t filled = 0, used = buf.size();
  while (filled < n) {
    if (used == buf.size()) {
      random_bytes(buf);
      used = 0;
    }
    const auto b = static_cast<unsigned>(buf[used++]);
    if (b >= 252) continue;  // 252 = 7 * 36: reject to stay uniform
    s[filled++] = chars[b % 36];
  }
  return s;
}

}  // namespace sigwire::core
