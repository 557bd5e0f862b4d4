// sigwire/ws/close_code.hpp - the IANA "WebSocket Close Code Number
// Registry" (RFC 6455 §7.4, §11.7) as constexpr data.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sigwire::ws {

enum class close_code : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  reserved = 1004,          // never on the wire
  no_status = 1005,         // never on the wire: "no code in the close frame"
  abnormal = 1006,          // never on the wire: "closed without a close frame"
  invalid_payload = 1007,   // e.g. non-UTF-8 text
  policy_violation = 1008,
  message_too_big = 1009,
  mandatory_extension = 1010,  // sent by a client only
  internal_error = 1011,
  service_restart = 1012,
  try_again_later = 1013,
  bad_gateway = 1014,
  tls_handshake = 1015,     // never on the wire
};

struct close_code_info {
  std::uint16_t code;
  std::string_view name;
  bool on_wire;  // may appear in a Close frame
};

inline constexpr std::array<close_code_info, 16> close_code_registry = {{
    {1000, "Normal Closure", true},
    {1001, "Going Away", true},
    {1002, "Protocol error", true},
    {1003, "Unsupported Data", true},
    {1004, "Reserved", false},
    {1005, "No Status Rcvd", false},
    {1006, "Abnormal Closure", false},
    {1007, "Invalid frame payload data", true},
    {1008, "Policy Violation", true},
    {1009, "Message Too Big", true},
    {1010, "Mandatory Ext.", true},
    {1011, "Internal Error", true},
    {1012, "Service Restart", true},
    {1013, "Try Again Later", true},
    {1014, "Bad Gateway", true},
    {1015, "TLS handshake", false},
}};

// RFC 6455 §7.4.2 and the registry: which codes a received Close frame may
// carry. 0-999 unused; 1000-2999 only registered on-wire codes; 3000-3999
// registered by libraries/frameworks and 4000-4999 private use are valid.
constexpr bool is_valid_on_wire(std::uint16_t code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  for (const auto& info : close_code_registry)
    if (info.code == code) return info.on_wire;
  return false;
}

constexpr std::string_view close_code_name(std::uint16_t code) noexcept {
  for (const auto& info : close_code_registry)
    if (info.code == code) return info.name;
  if (code >= 3000 && code <= 3999) return "Registered";
  if (code >= 4000 && code <= 4999) return "Private Use";
  return "Invalid";
}

}  // namespace sigwire::ws
