// sigwire/sip/transaction/server_invite.hpp - the INVITE server transaction,
// RFC 3261 §17.2.1 Figure 7 as updated by RFC 6026 §7.1 (Accepted, Timer L).
//
//                               |INVITE
//                               |pass INV to TU
//            INVITE             V send 100 if TU won't in 200 ms
//            send response+------------+
//                +--------|            |--------+ 101-199 from TU
//                |        |            |        | send response
//                +------->|            |<-------+
//                         | Proceeding |
//                         |            |--------+ Transport Err.
//                         |            |        | Inform TU
//                         |            |<-------+
//                         +------------+
//            300-699 from TU |    |2xx from TU
//            send response   |    |send response
//             +--------------+    +------------+
//             |                                |
//    INVITE   V          Timer G fires         |
//    send +-----------+  send response         |
//    resp.|           |--------+               |
//    +----| Completed |        |               V
//    +--->|           |<-------+        +------------+
//         +-----------+                 |            |--+ 2xx from TU
//            |     |                    |  Accepted  |  | send response
//        ACK |     +- Timer H fires --->|            |<-+
//          - |        or Transport Err. +------------+
//            V        Inform TU               |   INVITE absorbed
//         +-----------+                       |
//         |           |                       | Timer L fires
//         | Confirmed |                       | -
//         |           |                       |
//         +-----------+                       |
//               |  Timer I fires              |
//               |  -                          |
//               V                             V
//         +-------------------------------------------+
//         |                 Terminated                |
//         +-------------------------------------------+
//
// Retransmit slot: the 200 ms 100 Trying timer (§17.2.1) in Proceeding,
// Timer G in Completed. Timeout slot: the TU's answer deadline in Proceeding
// (timer_config::server_invite_no_final, ends silently), H, I, L.
#pragma once

#include <sigwire/sip/transaction/core.hpp>

#include <string>

namespace sigwire::sip::transaction::server_invite {

inline void start(core& c, record& r) {
  c.change(r, state::proceeding, cause::request_received);
  c.arm(r, timer_slot::retransmit, c.timers().trying_after);
  c.arm(r, timer_slot::timeout, c.timers().server_invite_no_final);
}

// §17.2.1: the 100 Trying the transaction sends for a slow TU (§8.2.6: To
// without a tag, Timestamp copied is optional and not done).
inline std::string trying_for(const message_view& invite) {
  std::string s = "SIP/2.0 100 Trying\r\n";
  for (const header_field& h : invite.headers()) {
    if (h.id == header_id::via || h.id == header_id::from || h.id == header_id::to ||
        h.id == header_id::call_id || h.id == header_id::cseq)
      s.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  s.append("Content-Length: 0\r\n\r\n");
  return s;
}

inline void on_request_retransmission(core& c, record& r) {
  if ((r.state == state::proceeding || r.state == state::completed) && r.resend)
    c.send(r, r.resend);  // §17.2.1: the most recent provisional or the final again
}

inline void on_ack(core& c, record& r) {
  if (r.state != state::completed) return;  // Confirmed absorbs ACKs
  c.disarm(r, timer_slot::retransmit);
  c.arm(r, timer_slot::timeout, c.values(r).i());
  c.change(r, state::confirmed, cause::ack_received);
  if (c.values(r).i() == duration{0}) c.terminate(r, cause::timer_expired);
}

// The TU answers (any state where a response is allowed).
inline bool on_tu_response(core& c, record& r, std::string bytes, int status) {
  if (r.state == state::accepted) {  // RFC 6026 §7.1: 2xx retransmissions from the TU
    if (status < 200 || status >= 300) return false;
    c.send(r, share(std::move(bytes)));
    return true;
  }
  if (r.state != state::proceeding) return false;
  r.last_status = status;
  c.disarm(r, timer_slot::retransmit);  // the TU answered: no automatic 100
  if (status < 200) {
    r.provisional_seen = true;
    r.resend = share(std::move(bytes));
    c.send(r, r.resend);
    return true;
  }
  if (status < 300) {
    r.resend.reset();
    c.send(r, share(std::move(bytes)));
    c.arm(r, timer_slot::timeout, c.values(r).l());
    c.change(r, state::accepted, cause::final_response);
    return true;
  }
  r.resend = share(std::move(bytes));
  c.send(r, r.resend);
  if (const auto g = c.values(r).g()) {
    r.interval = *g;
    c.arm(r, timer_slot::retransmit, *g);
  }
  c.arm(r, timer_slot::timeout, c.values(r).h());
  c.change(r, state::completed, cause::final_response);
  return true;
}

inline void on_timer(core& c, record& r, timer_slot which) {
  if (which == timer_slot::retransmit) {
    if (r.state == state::proceeding) {  // 200 ms passed with no word from the TU
      core::with_request(r, [&](const message_view& invite) { r.resend = share(trying_for(invite)); });
      c.send(r, r.resend);
      return;
    }
    if (r.state == state::completed) {  // Timer G
      c.send(r, r.resend);
      r.interval = c.values(r).doubled_to_t2(r.interval);
      c.arm(r, timer_slot::retransmit, r.interval);
    }
    return;
  }
  switch (r.state) {
    case state::proceeding:                                            // the TU never answered
    case state::completed: return c.terminate(r, cause::timeout);      // Timer H: no ACK
    case state::confirmed:                                             // Timer I
    case state::accepted: return c.terminate(r, cause::timer_expired); // Timer L
    default: return;
  }
}

// §17.2.4: a failed response send ends the transaction.
inline void on_transport_error(core& c, record& r) { c.terminate(r, cause::transport_error); }

}  // namespace sigwire::sip::transaction::server_invite
