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

// A number unique enough for identifiers that must not repeat but need not
// be secret (an SDP o= session id, RFC 8866 §5.2): splitmix64 over a
// per-thread state seeded once from RAND_bytes. RAND_bytes itself costs a
// getpid() system call per call (OpenSSL's fork check), which is most of
// what answering a small offer costs. Throws as random_bytes() does when the
// first call of a thread finds no entropy source.
inline std::uint64_t unique_u64() {
  thread_local std::uint64_t state = [] {
    std::uint64_t seed = 0;
    auto a = random_array<8>();
    for (std::byte b : a) seed = seed << 8 | std::to_integer<std::uint64_t>(b);
    return seed;
  }();
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Cryptographically random 64-bit numbers for a layer's random_source (SIP
// tags, Call-IDs and branches: RFC 3261 §19.3 says tags MUST be
// cryptographically random), drawn from RAND_bytes 64 at a time, since each
// RAND_bytes call costs a getpid() system call. One per thread of use, like
// the layer it feeds; a process that forks must not keep using its copy in
// the child (the child would repeat what is left of the buffer).
class random_stream {
 public:
  std::uint64_t operator()() {
    if (next_ == buffer_.size()) {
      random_bytes(std::as_writable_bytes(std::span(buffer_)));
      next_ = 0;
    }
    return buffer_[next_++];
  }

 private:
  std::array<std::uint64_t, 64> buffer_{};
  std::size_t next_ = buffer_.size();
};

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
