// sigwire/sip/detail/ieq.hpp - case-insensitive compare against a literal
// that is already lower case (header and parameter names): one OR per byte.
#pragma once

#include <cstddef>
#include <string_view>

namespace sigwire::sip::detail {

// `lower` holds only a-z, 0-9 and '-': for those, (c | 0x20) == t exactly
// when c matches t ignoring case, and no other byte maps onto them.
[[gnu::always_inline]] constexpr bool ieq_lower(std::string_view s, std::string_view lower) noexcept {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (static_cast<char>(s[i] | 0x20) != lower[i]) return false;
  return true;
}

}  // namespace sigwire::sip::detail
