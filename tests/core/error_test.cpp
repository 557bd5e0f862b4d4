#include <sigwire/core/error.hpp>

#include <doctest/doctest.h>

namespace demo {
enum class error { first = 1, second };
constexpr const char* error_category_name(error) noexcept { return "demo"; }
constexpr std::string_view error_message(error e) noexcept { return e == error::first ? "first" : "second"; }
inline std::error_code make_error_code(error e) noexcept { return sigwire::core::make_error_code_for(e); }

enum class coarse { failed = 1 };
inline const std::error_category& coarse_category() noexcept {
  struct cat : std::error_category {
    const char* name() const noexcept override { return "demo.coarse"; }
    std::string message(int) const override { return "failed"; }
  };
  static const cat c;
  return c;
}
enum class fine { a = 1, b };
constexpr const char* error_category_name(fine) noexcept { return "demo.fine"; }
constexpr std::string_view error_message(fine) noexcept { return "fine"; }
inline std::error_condition error_condition_for(fine) noexcept { return {1, coarse_category()}; }
inline std::error_code make_error_code(fine e) noexcept { return sigwire::core::make_error_code_for(e); }
}  // namespace demo
template <>
struct std::is_error_code_enum<demo::error> : std::true_type {};
template <>
struct std::is_error_code_enum<demo::fine> : std::true_type {};

TEST_CASE("a layer enum becomes a std::error_code with its own category") {
  std::error_code ec = demo::error::second;
  CHECK(ec);
  CHECK(ec == demo::error::second);
  CHECK(ec != demo::error::first);
  CHECK(std::string(ec.category().name()) == "demo");
  CHECK(ec.message() == "second");
  CHECK(&ec.category() == &sigwire::core::category_of<demo::error>());
}

TEST_CASE("fine errors compare equal to a coarse condition") {
  std::error_code a = demo::fine::a, b = demo::fine::b;
  const std::error_condition failed{1, demo::coarse_category()};
  CHECK(a == failed);
  CHECK(b == failed);
  CHECK(a != b);
}

TEST_CASE("core's own errors") {
  std::error_code ec = sigwire::core::error::overflow;
  CHECK(ec.message() == "integer overflow");
  CHECK(std::string(ec.category().name()) == "sigwire.core");
}
