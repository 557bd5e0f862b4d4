// sigwire/ws/error.hpp - every WebSocket failure as a value, and the close
// code RFC 6455 requires for each protocol violation (close_code_for).
// Values are never renumbered once published.
#pragma once

#include <optional>
#include <string_view>
#include <system_error>

#include <sigwire/core/error.hpp>
#include <sigwire/ws/close_code.hpp>

namespace sigwire::ws {

enum class error {
  // --- framing (RFC 6455 §5) -------------------------------------------
  reserved_opcode = 1,      // opcode 3-7 or 0xB-0xF (§5.2)            -> 1002
  reserved_bits,            // RSV1-3 set without an extension (§5.2)  -> 1002
  fragmented_control,       // control frame with FIN clear (§5.5)      -> 1002
  control_too_large,        // control payload > 125 bytes (§5.5)       -> 1002
  non_minimal_length,       // length not in its minimal form (§5.2)    -> 1002
  length_msb_set,           // 64-bit length with the MSB set (§5.2)    -> 1002
  unmasked_frame,           // client frame not masked (§5.1)           -> 1002
  masked_frame,             // server frame masked (§5.1)               -> 1002
  unexpected_continuation,  // continuation with no message open (§5.4)-> 1002
  expected_continuation,    // new data frame inside a message (§5.4)  -> 1002
  invalid_utf8,             // text payload not UTF-8 (§8.1)            -> 1007
  bad_close_payload,        // close payload of 1 byte (§5.5.1)         -> 1002
  bad_close_code,           // code not valid on the wire (§7.4)        -> 1002
  bad_close_reason,         // close reason not UTF-8 (§5.5.1)          -> 1007
  frame_too_big,            // payload > limits.max_frame_payload       -> 1009
  message_too_big,          // message > limits.max_message_size        -> 1009
  too_many_fragments,       // fragments > limits.max_fragments         -> 1009
  // --- permessage-deflate (RFC 7692) ------------------------------------
  rsv1_on_continuation,     // RSV1 on a continuation frame (§6.1)      -> 1002
  rsv1_on_control,          // RSV1 on a control frame (§6.1)           -> 1002
  inflate_failed,           // corrupt compressed data (§6.2)           -> 1007
  inflate_too_big,          // decompressed size over the limit         -> 1009
  deflate_failed,           // zlib failed while compressing            -> 1011
  // --- state -----------------------------------------------------------
  closed,                   // send after our Close frame was queued
  connection_failed,        // the connection failed earlier; no more input
  // --- handshake, server side (RFC 6455 §4.2.1) --------------------------
  bad_method,               // not GET                                  -> 400
  bad_http_version,         // not HTTP/1.1 or later                    -> 400
  missing_host,             // no (or repeated) Host                    -> 400
  missing_upgrade,          // Upgrade lacks the token "websocket"      -> 400
  missing_connection,       // Connection lacks the token "Upgrade"     -> 400
  bad_key,                  // Sec-WebSocket-Key missing, repeated, not 16 bytes base64 -> 400
  missing_version,          // no Sec-WebSocket-Version                 -> 426
  bad_version,              // Sec-WebSocket-Version other than 13     -> 426
  origin_rejected,          // the origin policy said no                -> 403
  no_subprotocol,           // policy requires a subprotocol, none shared -> 400
  bad_extension_offer,      // malformed Sec-WebSocket-Extensions       -> 400
  bad_request_head,         // the HTTP head did not parse              -> 400
  // --- handshake, client side (RFC 6455 §4.1) ----------------------------
  bad_status,               // status other than 101
  bad_response_upgrade,     // Upgrade/Connection missing in the 101
  bad_accept,               // Sec-WebSocket-Accept mismatch
  unexpected_subprotocol,   // a protocol we did not offer
  unexpected_extension,     // an extension we did not offer
  bad_extension_response,   // extension parameters invalid or not honourable
  bad_response_head,        // the HTTP head did not parse
  // --- adapter (ws/asio) ---------------------------------------------------
  timeout,                  // handshake, keep-alive ping or close handshake timed out
  closed_abnormally,        // the transport ended before the close handshake completed (§7.1.5: 1006)
};

constexpr const char* error_category_name(error) noexcept { return "sigwire.ws"; }

constexpr std::string_view error_message(error e) noexcept {
  switch (e) {
    case error::reserved_opcode: return "reserved opcode";
    case error::reserved_bits: return "reserved bits set without a negotiated extension";
    case error::fragmented_control: return "fragmented control frame";
    case error::control_too_large: return "control frame payload longer than 125 bytes";
    case error::non_minimal_length: return "payload length not minimally encoded";
    case error::length_msb_set: return "64-bit payload length with the most significant bit set";
    case error::unmasked_frame: return "client frame not masked";
    case error::masked_frame: return "server frame masked";
    case error::unexpected_continuation: return "continuation frame without a message in progress";
    case error::expected_continuation: return "new data frame while a fragmented message is in progress";
    case error::invalid_utf8: return "text message is not valid UTF-8";
    case error::bad_close_payload: return "close frame payload of one byte";
    case error::bad_close_code: return "close code not allowed on the wire";
    case error::bad_close_reason: return "close reason is not valid UTF-8";
    case error::frame_too_big: return "frame payload exceeds the limit";
    case error::message_too_big: return "message exceeds the limit";
    case error::too_many_fragments: return "message has too many fragments";
    case error::rsv1_on_continuation: return "RSV1 set on a continuation frame";
    case error::rsv1_on_control: return "RSV1 set on a control frame";
    case error::inflate_failed: return "compressed payload is corrupt";
    case error::inflate_too_big: return "decompressed message exceeds the limit";
    case error::deflate_failed: return "compression failed";
    case error::closed: return "the connection is closing or closed";
    case error::connection_failed: return "the connection failed";
    case error::bad_method: return "handshake method is not GET";
    case error::bad_http_version: return "handshake is not HTTP/1.1";
    case error::missing_host: return "handshake lacks a single Host header";
    case error::missing_upgrade: return "handshake Upgrade header lacks websocket";
    case error::missing_connection: return "handshake Connection header lacks Upgrade";
    case error::bad_key: return "handshake Sec-WebSocket-Key missing or not 16 bytes of base64";
    case error::missing_version: return "handshake lacks Sec-WebSocket-Version";
    case error::bad_version: return "handshake Sec-WebSocket-Version is not 13";
    case error::origin_rejected: return "handshake origin rejected";
    case error::no_subprotocol: return "no acceptable subprotocol offered";
    case error::bad_extension_offer: return "malformed Sec-WebSocket-Extensions offer";
    case error::bad_request_head: return "malformed HTTP request head";
    case error::bad_status: return "handshake response status is not 101";
    case error::bad_response_upgrade: return "handshake response lacks Upgrade: websocket / Connection: Upgrade";
    case error::bad_accept: return "handshake response Sec-WebSocket-Accept mismatch";
    case error::unexpected_subprotocol: return "handshake response selected a subprotocol that was not offered";
    case error::unexpected_extension: return "handshake response selected an extension that was not offered";
    case error::bad_extension_response: return "handshake response extension parameters invalid";
    case error::bad_response_head: return "malformed HTTP response head";
    case error::timeout: return "WebSocket timeout";
    case error::closed_abnormally: return "the connection ended without a complete close handshake";
  }
  return "unknown sigwire.ws error";
}

// Coarse conditions (Beast's pattern): fine errors compare equal to these.
enum class condition { protocol_violation = 1, handshake_failed, limit_exceeded };

constexpr const char* error_category_name(condition) noexcept { return "sigwire.ws.condition"; }
constexpr std::string_view error_message(condition c) noexcept {
  switch (c) {
    case condition::protocol_violation: return "WebSocket protocol violation";
    case condition::handshake_failed: return "WebSocket handshake failed";
    case condition::limit_exceeded: return "WebSocket limit exceeded";
  }
  return "unknown sigwire.ws condition";
}
inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), core::category_of<condition>()};
}

// Each error's conditions, every value named once (no ranges, no default:
// -Wswitch catches a new one): its own ws::condition (none: the error is
// its own condition) and the coarse condition every layer shares.
struct error_class {
  std::optional<condition> own;
  core::condition coarse;
};
constexpr error_class classify(error e) noexcept {
  using C = core::condition;
  constexpr auto protocol = condition::protocol_violation, handshake = condition::handshake_failed,
                 limit = condition::limit_exceeded;
  switch (e) {
    case error::reserved_opcode:
    case error::reserved_bits:
    case error::fragmented_control:
    case error::control_too_large:
    case error::non_minimal_length:
    case error::length_msb_set:
    case error::unmasked_frame:
    case error::masked_frame:
    case error::unexpected_continuation:
    case error::expected_continuation:
    case error::invalid_utf8:
    case error::bad_close_payload:
    case error::bad_close_code:
    case error::bad_close_reason:
    case error::rsv1_on_continuation:
    case error::rsv1_on_control:
    case error::inflate_failed: return {protocol, C::malformed};
    case error::closed_abnormally: return {protocol, C::failed};
    case error::frame_too_big:
    case error::message_too_big:
    case error::too_many_fragments:
    case error::inflate_too_big: return {limit, C::limit_exceeded};
    case error::closed:
    case error::connection_failed: return {std::nullopt, C::invalid_use};
    case error::timeout:
    case error::deflate_failed: return {std::nullopt, C::failed};
    case error::bad_method:
    case error::bad_http_version:
    case error::missing_host:
    case error::missing_upgrade:
    case error::missing_connection:
    case error::bad_key:
    case error::missing_version:
    case error::bad_extension_offer:
    case error::bad_request_head:
    case error::bad_status:
    case error::bad_response_upgrade:
    case error::bad_accept:
    case error::unexpected_subprotocol:
    case error::unexpected_extension:
    case error::bad_extension_response:
    case error::bad_response_head: return {handshake, C::malformed};
    case error::bad_version: return {handshake, C::unsupported};  // a WebSocket version other than 13 (426)
    case error::origin_rejected:
    case error::no_subprotocol: return {handshake, C::rejected};
  }
  return {protocol, C::malformed};
}

inline std::error_condition error_condition_for(error e) noexcept {
  if (const auto own = classify(e).own) return make_error_condition(*own);
  return {static_cast<int>(e), core::category_of<error>()};
}
constexpr core::condition coarse_condition(error e) noexcept { return classify(e).coarse; }

inline std::error_code make_error_code(error e) noexcept { return core::make_error_code_for(e); }

// The close code to send when failing the connection for `e` (RFC 6455
// §7.4.1). 1002 for framing violations, 1007 for bad payload data, 1009 for
// limits, 1011 for our own failures.
constexpr close_code close_code_for(error e) noexcept {
  switch (e) {
    case error::invalid_utf8:
    case error::bad_close_reason:
    case error::inflate_failed: return close_code::invalid_payload;
    case error::frame_too_big:
    case error::message_too_big:
    case error::too_many_fragments:
    case error::inflate_too_big: return close_code::message_too_big;
    case error::deflate_failed: return close_code::internal_error;
    case error::closed:
    case error::connection_failed: return close_code::normal;
    case error::timeout: return close_code::going_away;
    default: return close_code::protocol_error;
  }
}

// The HTTP status a server answers a failed handshake with.
constexpr unsigned http_status_for(error e) noexcept {
  switch (e) {
    case error::missing_version:
    case error::bad_version: return 426;  // with Sec-WebSocket-Version: 13 (§4.2.2)
    case error::origin_rejected: return 403;  // §4.2.2 "e.g. 403 Forbidden"
    default: return 400;
  }
}

}  // namespace sigwire::ws

template <>
struct std::is_error_code_enum<sigwire::ws::error> : std::true_type {};
template <>
struct std::is_error_condition_enum<sigwire::ws::condition> : std::true_type {};
