// sigwire/sip/transaction/event.hpp - what the transaction layer hands out.
//
// The layer's outputs are small structs in one std::variant, drained by the
// caller after each input (like ws::connection's output):
//   send             bytes for the wire, to a peer the driver knows by id
//   request          a request for the TU (new server tsx, ACK for a 2xx,
//                    or CANCEL with the INVITE it cancels, §9.2)
//   response         a response matched to a client tsx (§17.1.3)
//   stray_response   a response matching no client tsx (never dropped silently)
//   state_changed    a tsx changed state, with the cause (PJSIP's on_tsx_state)
//   overloaded       a request refused because the table is full: answer 503
#pragma once

#include <sigwire/sip/owned_message.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace sigwire::sip::transaction {

// Transport identity: an id the driver maps to an address or a connection,
// and whether the transport is reliable (RFC 3261 Table 4).
struct peer {
  std::uint64_t id = 0;
  bool reliable = false;
  friend bool operator==(const peer&, const peer&) = default;
};

// A transaction handle: slot + generation, so a stale id never reaches a reused slot.
struct tsx_id {
  std::uint32_t slot = UINT32_MAX;
  std::uint32_t generation = 0;
  bool valid() const noexcept { return slot != UINT32_MAX; }
  friend bool operator==(const tsx_id&, const tsx_id&) = default;
};

enum class role : std::uint8_t { client_invite, client_non_invite, server_invite, server_non_invite };

// null: before the first state (the creation event reports null -> the first state).
enum class state : std::uint8_t { null, calling, trying, proceeding, completed, confirmed, accepted, terminated };

enum class cause : std::uint8_t {
  none,
  request_sent,       // client created
  request_received,   // server created
  provisional,        // 1xx sent or received
  final_response,     // final response sent or received
  ack_received,       // §17.2.1: Completed -> Confirmed
  timeout,            // Timer B/F (no answer), H (no ACK), or the TU never answered
  transport_error,    // §17.1.4 / §17.2.4
  timer_expired,      // normal end: D, I, J, K, L, M
};

constexpr std::string_view text(state s) noexcept {
  constexpr std::string_view names[] = {"null", "calling", "trying", "proceeding", "completed", "confirmed", "accepted", "terminated"};
  return names[static_cast<int>(s)];
}
constexpr std::string_view text(cause c) noexcept {
  constexpr std::string_view names[] = {"none", "request_sent", "request_received", "provisional", "final_response",
                                        "ack_received", "timeout", "transport_error", "timer_expired"};
  return names[static_cast<int>(c)];
}

// Bytes to send, shared and immutable: a retransmission hands out the same
// buffer again instead of a copy; the driver may keep it alive for an
// asynchronous write.
using shared_bytes = std::shared_ptr<const std::string>;
inline shared_bytes share(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

struct send_event {
  tsx_id id;           // invalid for stateless sends
  peer to;
  shared_bytes data;
  std::string_view bytes() const noexcept { return data ? std::string_view(*data) : std::string_view{}; }
};
struct request_event {
  tsx_id id;                 // the new server tsx; invalid for an ACK to a 2xx (no tsx, §17.1.1.3)
  sip::message msg;
  peer from;
  tsx_id cancels{};          // CANCEL: the INVITE server tsx it matches (§9.2), invalid if none
  bool merged = false;       // §8.2.2.2: answer 482 (Loop Detected) on `id`
};
struct response_event {
  tsx_id id;
  sip::message msg;
  bool retransmission = false;  // RFC 6026 §8.4: a 2xx received again in Accepted
};
struct stray_response_event {
  sip::message msg;
  peer from;
};
struct state_event {
  tsx_id id;
  transaction::role role;
  state from, to;
  transaction::cause cause;
};
struct overloaded_event {  // the layer's pending limit was reached: answer 503 statelessly
  sip::message msg;
  peer from;
};

using event = std::variant<send_event, request_event, response_event, stray_response_event, state_event, overloaded_event>;

}  // namespace sigwire::sip::transaction
