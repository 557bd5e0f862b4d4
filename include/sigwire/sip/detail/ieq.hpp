// sigwire/sip/detail/ieq.hpp - case-insensitive compare against a literal
// that is already lower case (header and parameter names): one OR per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace sigwire::sip::detail {

// `lower` holds only a-z, 0-9 and '-': for those, (c | 0x20) == t exactly
// when c matches t ignoring case (the callers pass token bytes only, where
// no other byte maps onto them). At run time four or eight bytes are
// compared per step, with an overlapping last load (never past either view).
[[gnu::always_inline]] constexpr bool ieq_lower(std::string_view s, std::string_view lower) noexcept {
  const std::size_t n = s.size();
  if (n != lower.size()) return false;
  if (!std::is_constant_evaluated() && n >= 4) {
    const auto differs = [&](std::size_t at, auto word) {
      std::memcpy(&word, s.data() + at, sizeof word);
      decltype(word) l;
      std::memcpy(&l, lower.data() + at, sizeof l);
      return static_cast<decltype(word)>(word | static_cast<decltype(word)>(0x2020202020202020ull)) != l;
    };
    if (n <= 8) return !differs(0, std::uint32_t{}) && !differs(n - 4, std::uint32_t{});
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (differs(i, std::uint64_t{})) return false;
    return !differs(n - 8, std::uint64_t{});
  }
  for (std::size_t i = 0; i < n; ++i)
    if (static_cast<char>(s[i] | 0x20) != lower[i]) return false;
  return true;
}

}  // namespace sigwire::sip::detail
