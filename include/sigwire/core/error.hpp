// sigwire/core/error.hpp - the error pattern every layer follows.
//
// Each layer declares an `enum class error` (values never renumbered once
// published), a name and a message per value, and gets a std::error_category
// from this template, so its errors are plain std::error_code values that
// work with Asio:
//
//   namespace sigwire::ws {
//   enum class error { bad_opcode = 1, ... };
//   constexpr const char* error_category_name(error) noexcept { return "sigwire.ws"; }
//   constexpr std::string_view error_message(error e) noexcept { ... }
//   inline std::error_code make_error_code(error e) noexcept { return core::make_error_code_for(e); }
//   }
//   template <> struct std::is_error_code_enum<sigwire::ws::error> : std::true_type {};
//
// Every layer also declares `core::condition coarse_condition(error)` (found
// by ADL; a switch naming every value, so a new error cannot go unmapped
// without -Wswitch saying so): any error_code of any layer then compares
// equal to one of a few conditions users branch on, the same in every layer:
//
//   if (ec == sigwire::core::condition::limit_exceeded) ...   // SIP, SDP, WS, HTTP alike
//
// A layer may also declare `std::error_condition error_condition_for(error)`
// for conditions of its own (ws::condition, as Beast's websocket::condition).
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace sigwire::core {

// The coarse conditions.
enum class condition {
  // 1 was `incomplete`: input that ends early is a status (core::parse_status), never an error.
  malformed = 2,   // the input breaks the grammar or a rule of the protocol
  limit_exceeded,  // a configured limit was reached (sizes, counts)
  unsupported,     // well-formed, but asks for what this library does not do (a version, scheme, algorithm)
  rejected,        // well-formed and understood, but refused: policy, negotiation, authentication
  invalid_use,     // the call does not fit: the object's state, or an argument the caller got wrong
  failed,          // what lies below failed: the transport, a timeout, OpenSSL, zlib
};

constexpr const char* error_category_name(condition) noexcept { return "sigwire.condition"; }
constexpr std::string_view error_message(condition c) noexcept {
  switch (c) {
    case condition::malformed: return "malformed input";
    case condition::limit_exceeded: return "limit exceeded";
    case condition::unsupported: return "not supported";
    case condition::rejected: return "rejected";
    case condition::invalid_use: return "invalid use";
    case condition::failed: return "failure below the protocol";
  }
  return "unknown sigwire condition";
}

template <class Enum>
concept layer_error_enum = std::is_enum_v<Enum> && requires(Enum e) {
  { error_category_name(e) } -> std::convertible_to<const char*>;
  { error_message(e) } -> std::convertible_to<std::string_view>;
};

template <layer_error_enum Enum>
class layer_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return error_category_name(Enum{}); }

  std::string message(int value) const override {
    return std::string(error_message(static_cast<Enum>(value)));
  }

  std::error_condition default_error_condition(int value) const noexcept override {
    if constexpr (requires(Enum e) { { error_condition_for(e) } -> std::same_as<std::error_condition>; }) {
      return error_condition_for(static_cast<Enum>(value));
    } else {
      return std::error_condition(value, *this);
    }
  }

  // Equal to its default condition, and to its layer's coarse condition.
  bool equivalent(int value, const std::error_condition& c) const noexcept override {
    if (default_error_condition(value) == c) return true;
    if constexpr (requires(Enum e) { { coarse_condition(e) } -> std::same_as<condition>; }) {
      return c.category() == layer_error_category<condition>::instance() &&
             c.value() == static_cast<int>(coarse_condition(static_cast<Enum>(value)));
    } else {
      return false;
    }
  }

  static const layer_error_category& instance() noexcept {
    static const layer_error_category category;
    return category;
  }
};

template <layer_error_enum Enum>
inline std::error_code make_error_code_for(Enum e) noexcept {
  return {static_cast<int>(e), layer_error_category<Enum>::instance()};
}

template <layer_error_enum Enum>
inline const std::error_category& category_of() noexcept {
  return layer_error_category<Enum>::instance();
}

// core's own errors (base64, integers, digests).
enum class error {
  invalid_character = 1,  // a byte outside the alphabet / digit set
  bad_padding,            // base64 '=' in the wrong place or missing
  empty_input,            // an integer with no digits
  overflow,               // an integer larger than the target type
  crypto_failure,         // OpenSSL reported a failure
};

constexpr const char* error_category_name(error) noexcept { return "sigwire.core"; }

constexpr std::string_view error_message(error e) noexcept {
  switch (e) {
    case error::invalid_character: return "invalid character";
    case error::bad_padding: return "bad base64 padding";
    case error::empty_input: return "empty input";
    case error::overflow: return "integer overflow";
    case error::crypto_failure: return "OpenSSL failure";
  }
  return "unknown sigwire.core error";
}

inline std::error_code make_error_code(error e) noexcept { return make_error_code_for(e); }

constexpr condition coarse_condition(error e) noexcept {
  switch (e) {
    case error::invalid_character:
    case error::bad_padding:
    case error::empty_input:
    case error::overflow: return condition::malformed;
    case error::crypto_failure: return condition::failed;
  }
  return condition::failed;
}

inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), layer_error_category<condition>::instance()};
}

}  // namespace sigwire::core

template <>
struct std::is_error_code_enum<sigwire::core::error> : std::true_type {};
template <>
struct std::is_error_condition_enum<sigwire::core::condition> : std::true_type {};
