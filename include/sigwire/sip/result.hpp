// sigwire/sip/result.hpp - a value or an error, plus the offending text.
#pragma once

#include <sigwire/sip/error.hpp>

#include <string_view>
#include <system_error>

namespace sigwire::sip {

template <class T>
struct result {
  T value{};
  std::error_code ec{};
  std::string_view where{};  // the header line or fragment that failed (a view into the input)

  static result fail(error e, std::string_view at = {}) { return {T{}, make_error_code(e), at}; }
  explicit operator bool() const noexcept { return !ec; }
  const T* operator->() const noexcept { return &value; }
  const T& operator*() const noexcept { return value; }
};

}  // namespace sigwire::sip
