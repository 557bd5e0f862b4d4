// sigwire/sip/transaction/client_non_invite.hpp - the non-INVITE client
// transaction, RFC 3261 §17.1.2 Figure 6.
//
//                                    |Request from TU
//                                    |send request
//                Timer E             V
//                send request  +-----------+
//                    +---------|           |-------------------+
//                    |         |  Trying   |  Timer F          |
//                    +-------->|           |  or Transport Err.|
//                              +-----------+  inform TU        |
//                 200-699         |  |                         |
//                 resp. to TU     |  |1xx                      |
//                 +---------------+  |resp. to TU              |
//                 |                  |                         |
//                 |   Timer E        V       Timer F           |
//                 |   send req +-----------+ or Transport Err. |
//                 |  +---------|           | inform TU         |
//                 |  |         |Proceeding |------------------>|
//                 |  +-------->|           |-----+             |
//                 |            +-----------+     |1xx          |
//                 |              |      ^        |resp to TU   |
//                 | 200-699      |      +--------+             |
//                 | resp. to TU  |                             |
//                 |              |                             |
//                 |              V                             |
//                 |            +-----------+                   |
//                 |            |           |                   |
//                 |            | Completed |                   |
//                 |            |           |                   |
//                 |            +-----------+                   |
//                 |              ^   |                         |
//                 |              |   | Timer K                 |
//                 +--------------+   | -                       |
//                                    |                         |
//                                    V                         |
//              NOTE:           +-----------+                   |
//                              |           |                   |
//          transitions         | Terminated|<------------------+
//          labeled with        |           |
//          the event           +-----------+
//          over the action
//          to take
//
// Timer E doubles up to T2 in Trying and is T2 in Proceeding (§17.1.2.2).
#pragma once

#include <sigwire/sip/transaction/core.hpp>

#include <string>

namespace sigwire::sip::transaction::client_non_invite {

inline void start(core& c, record& r) {
  c.send(r, r.request);
  c.change(r, state::trying, cause::request_sent);
  if (const auto e = c.values(r).e()) {
    r.interval = *e;
    c.arm(r, timer_slot::retransmit, *e);
  }
  c.arm(r, timer_slot::timeout, c.values(r).f());
}

inline void on_provisional(core& c, record& r, sip::message&& response) {
  r.provisional_seen = true;
  if (r.state == state::trying) c.change(r, state::proceeding, cause::provisional);
  c.emit(response_event{c.id_of(r), std::move(response), false});
}

inline void on_final(core& c, record& r, sip::message&& response) {
  c.disarm(r, timer_slot::retransmit);
  c.arm(r, timer_slot::timeout, c.values(r).k());
  c.change(r, state::completed, cause::final_response);
  c.emit(response_event{c.id_of(r), std::move(response), false});
  if (c.values(r).k() == duration{0}) c.terminate(r, cause::timer_expired);
}

inline void on_response(core& c, record& r, sip::message&& response) {
  r.last_status = response->status();
  switch (r.state) {
    case state::trying:
    case state::proceeding:
      if (response->status() < 200) return on_provisional(c, r, std::move(response));
      return on_final(c, r, std::move(response));
    default: return;  // Completed absorbs retransmissions (§17.1.2.2)
  }
}

inline void on_timer(core& c, record& r, timer_slot which) {
  if (which == timer_slot::retransmit) {  // Timer E
    if (r.state != state::trying && r.state != state::proceeding) return;
    c.send(r, r.request);
    r.interval = r.state == state::proceeding ? c.timers().t2 : c.values(r).doubled_to_t2(r.interval);
    c.arm(r, timer_slot::retransmit, r.interval);
    return;
  }
  if (r.state == state::completed) return c.terminate(r, cause::timer_expired);  // Timer K
  c.terminate(r, cause::timeout);                                                 // Timer F
}

inline void on_transport_error(core& c, record& r) { c.terminate(r, cause::transport_error); }

}  // namespace sigwire::sip::transaction::client_non_invite
