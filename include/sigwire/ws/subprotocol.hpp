// sigwire/ws/subprotocol.hpp - names from the IANA "WebSocket Subprotocol
// Name Registry" (RFC 6455 §11.5), as constants for Sec-WebSocket-Protocol.
#pragma once

#include <array>
#include <string_view>

namespace sigwire::ws::subprotocol {

inline constexpr std::string_view sip = "sip";            // RFC 7118
inline constexpr std::string_view soap = "soap";
inline constexpr std::string_view xmpp = "xmpp";          // RFC 7395
inline constexpr std::string_view mqtt = "mqtt";
inline constexpr std::string_view wamp = "wamp";
inline constexpr std::string_view msrp = "msrp";          // RFC 7977
inline constexpr std::string_view stomp_10 = "v10.stomp";
inline constexpr std::string_view stomp_11 = "v11.stomp";
inline constexpr std::string_view stomp_12 = "v12.stomp";
inline constexpr std::string_view ocpp_16 = "ocpp1.6";
inline constexpr std::string_view ocpp_201 = "ocpp2.0.1";
inline constexpr std::string_view coap = "coap";          // RFC 8323
inline constexpr std::string_view amqp = "amqp";
inline constexpr std::string_view nats = "nats";
inline constexpr std::string_view bfcp = "bfcp";          // RFC 8857

inline constexpr std::array<std::string_view, 15> registry = {
    sip, soap, xmpp, mqtt, wamp, msrp, stomp_10, stomp_11, stomp_12, ocpp_16, ocpp_201, coap, amqp, nats, bfcp};

constexpr bool is_registered(std::string_view name) noexcept {
  for (auto n : registry)
    if (n == name) return true;  // registry names are case-sensitive (§11.5)
  return false;
}

}  // namespace sigwire::ws::subprotocol
