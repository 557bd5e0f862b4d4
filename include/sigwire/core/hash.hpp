// sigwire/core/hash.hpp - the hash of keys that come off the network
// (transaction keys, Call-ID with tag) for sigwire::core::slot_index.
//
// std::hash<std::string_view> is a fixed function (libstdc++'s murmur with a
// constant seed): whoever knows it can send Call-IDs or branches that all
// land in one probe run. This one is keyed by a seed drawn once per process
// from RAND_bytes, and costs a multiply per 8 bytes (the "mum" step of
// wyhash), about what std::hash costs (callgrind: the same instructions per
// call in bench/sip_dialog_bench). It spreads keys over a table; it is not
// a MAC.
#pragma once

#include <sigwire/core/random.hpp>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sigwire::core {

namespace detail {
__extension__ using hash_u128 = unsigned __int128;  // GCC and clang; __extension__ keeps -Wpedantic quiet

// The 128-bit product of a and b, its halves folded: every input bit reaches every output bit.
inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) noexcept {
  const hash_u128 p = static_cast<hash_u128>(a) * b;
  return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
}
inline std::uint64_t load_u64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
}  // namespace detail

// Drawn on first use; the same for every table of the process. Without an
// entropy source (RAND_bytes failing) the seed is a constant: the tables
// still work, as with std::hash, and the tags and branches the process
// draws will throw anyway.
inline std::uint64_t hash_seed() noexcept {
  static const std::uint64_t seed = [] {
    try {
      return unique_u64();
    } catch (...) {
      return std::uint64_t{0x2d358dccaa6c78a5ULL};
    }
  }();
  return seed;
}

// The hash of `s` under `seed`.
inline std::uint64_t hash_text(std::string_view s, std::uint64_t seed) noexcept {
  constexpr std::uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL;
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = seed ^ detail::mum(seed ^ k0, s.size() ^ k1);
  for (; n >= 8; p += 8, n -= 8) h = detail::mum(h ^ detail::load_u64(p), k1);
  std::uint64_t tail = 0;
  if (n > 0) std::memcpy(&tail, p, n);
  return detail::mum(h ^ tail ^ k0, k1 ^ n);
}

// hash_text() under the process's seed.
inline std::uint64_t hash_text(std::string_view s) noexcept { return hash_text(s, hash_seed()); }

}  // namespace sigwire::core
