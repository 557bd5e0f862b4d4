// sigwire/sip/transaction/server_non_invite.hpp - the non-INVITE server
// transaction, RFC 3261 §17.2.2 Figure 8, with RFC 4320.
//
//                                   |Request received
//                                   |pass to TU
//                                   V
//                             +-----------+
//                             |           |
//                             | Trying    |-------------+
//                             |           |             |
//                             +-----------+             |200-699 from TU
//                                   |                   |send response
//                                   |1xx from TU        |
//                                   |send response      |
//                                   |                   |
//                Request            V      1xx from TU  |
//                send response+-----------+send response|
//                    +--------|           |--------+    |
//                    |        | Proceeding|        |    |
//                    +------->|           |<-------+    |
//             +<--------------|           |             |
//             |Trnsprt Err    +-----------+             |
//             |Inform TU            |                   |
//             |                     |                   |
//             |                     |200-699 from TU    |
//             |                     |send response      |
//             |  Request            V                   |
//             |  send response+-----------+             |
//             |      +--------|           |             |
//             |      |        | Completed |<------------+
//             |      +------->|           |
//             +<--------------|           |
//             |Trnsprt Err    +-----------+
//             |Inform TU            |
//             |                     |Timer J fires
//             |                     |-
//             |                     |
//             |                     V
//             |               +-----------+
//             |               |           |
//             +-------------->| Terminated|
//                             |           |
//                             +-----------+
//
// RFC 4320 §4.1: over an unreliable transport a 100 is sent only once the
// client's Timer E has reached T2 (retransmit slot). RFC 4320 §4.2: never a
// 408: if the TU has not answered by 64*T1 the transaction ends silently
// (timeout slot, cause timeout).
#pragma once

#include <sigwire/sip/transaction/core.hpp>
#include <sigwire/sip/transaction/server_invite.hpp>

#include <string>

namespace sigwire::sip::transaction::server_non_invite {

inline void start(core& c, record& r) {
  c.change(r, state::trying, cause::request_received);
  if (!r.remote.reliable) c.arm(r, timer_slot::retransmit, c.values(r).non_invite_100_after());
  c.arm(r, timer_slot::timeout, 64 * c.timers().t1);
}

inline void on_request_retransmission(core& c, record& r) {
  if (r.state != state::trying && r.resend) c.send(r, r.resend);  // §17.2.2
}

inline bool on_tu_response(core& c, record& r, std::string bytes, int status) {
  if (r.state != state::trying && r.state != state::proceeding) return false;
  r.last_status = status;
  r.resend = share(std::move(bytes));
  c.send(r, r.resend);
  if (status < 200) {
    r.provisional_seen = true;
    c.disarm(r, timer_slot::retransmit);
    if (r.state == state::trying) c.change(r, state::proceeding, cause::provisional);
    return true;
  }
  c.disarm(r, timer_slot::retransmit);
  c.arm(r, timer_slot::timeout, c.values(r).j());
  c.change(r, state::completed, cause::final_response);
  if (c.values(r).j() == duration{0}) c.terminate(r, cause::timer_expired);
  return true;
}

inline void on_timer(core& c, record& r, timer_slot which) {
  if (which == timer_slot::retransmit) {  // RFC 4320 §4.1: the client's E has reached T2
    if (r.state != state::trying) return;
    core::with_request(r, [&](const message_view& request) { r.resend = share(server_invite::trying_for(request)); });
    c.send(r, r.resend);
    c.change(r, state::proceeding, cause::provisional);
    return;
  }
  if (r.state == state::completed) return c.terminate(r, cause::timer_expired);  // Timer J
  c.terminate(r, cause::timeout);  // RFC 4320 §4.2: no 408, just the end
}

inline void on_transport_error(core& c, record& r) { c.terminate(r, cause::transport_error); }

}  // namespace sigwire::sip::transaction::server_non_invite
