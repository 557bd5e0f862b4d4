// sigwire/sip/transaction/client_invite.hpp - the INVITE client transaction,
// RFC 3261 §17.1.1 Figure 5 as updated by RFC 6026 §7.2 (Accepted state).
//
//                                |INVITE from TU
//              Timer A fires     |INVITE sent
//              Reset A,          V                      Timer B fires
//              INVITE sent +-----------+                or Transport Err.
//                +---------|           |---------------+inform TU
//                |         |  Calling  |-------------+ |
//                +-------->|           |             | |
//                          +-----------+ 2xx         | |
//                             |  |       2xx to TU   | |
//                             |  |1xx                | |
//     300-699 +---------------+  |1xx to TU          | |
//    ACK sent |                  |                   | |
// resp. to TU |  1xx             V                   | |
//             |  1xx to TU  -----------+             | |
//             |  +---------|           |             | |
//             |  |         |Proceeding |-----------+ | |
//             |  +-------->|           | 2xx       | | |
//             |            +-----------+ 2xx to TU | | |
//             |       300-699    |                 | | |
//             |       ACK sent,  |                 V V |
//             |       resp. to TU|          +-----------+
//             |                  |          |           |  2xx
//             |                  |          | Accepted  |  2xx to TU
//             |  +-----------+   |          |           |<-+
//             +->|           |<--+          +-----------+
//    300-699     | Completed |                    |
//    ACK sent +--|           |   Timer D fires    | Timer M fires
//             +->|           |   -                | -
//                +-----------+--------------+     |
//                                           V     V
//                                        +-------------+
//                                        | Terminated  |
//                                        +-------------+
//
// The ACK for a non-2xx final response is built here (§17.1.1.3) and sent
// again for each retransmission of that response; an ACK for a 2xx is the
// TU's (§13.2.2.4). RFC 6026 §8.4: 2xx retransmissions in Accepted are
// passed to the TU (marked as such), never to a new transaction.
#pragma once

#include <sigwire/sip/transaction/core.hpp>
#include <sigwire/sip/transaction/key.hpp>

#include <string>

namespace sigwire::sip::transaction::client_invite {

// A request made from an INVITE's fields (§9.1 CANCEL, §17.1.1.3 ACK):
// its Request-URI, single top Via, Route headers, From, Call-ID and CSeq
// number, with `method` and the To value given, and `extra_lines` (whole
// header lines, CRLF-terminated) before Content-Length.
inline std::string request_from_invite(std::string_view method, const message_view& invite, std::string_view to,
                                       std::string_view extra_lines = {}) {
  std::string s;
  s.reserve(invite.size());
  s.append(method).append(" ").append(invite.request_uri_text()).append(" SIP/2.0\r\n");
  if (const header_field* via = invite.find(header_id::via)) {
    std::string_view v = via->value;  // the top Via only (the first value of the first field)
    if (const auto comma = v.find(','); comma != std::string_view::npos) v = v.substr(0, comma);
    s.append("Via: ").append(v).append("\r\n");
  }
  for (const header_field& h : invite.headers())
    if (h.id == header_id::route) s.append("Route: ").append(h.value).append("\r\n");
  s.append("Max-Forwards: 70\r\n");
  if (const header_field* from = invite.find(header_id::from)) s.append("From: ").append(from->value).append("\r\n");
  s.append("To: ").append(to).append("\r\n");
  s.append("Call-ID: ").append(invite.call_id()).append("\r\nCSeq: ");
  detail::append_u32(s, invite.cseq() ? invite.cseq()->number : 0);
  s.append(" ").append(method).append("\r\n").append(extra_lines).append("Content-Length: 0\r\n\r\n");
  return s;
}

// RFC 3261 §17.1.1.3: the ACK for a non-2xx takes To from the response.
inline std::string build_ack(const message_view& invite, const message_view& response) {
  const header_field* to = response.find(header_id::to);
  return request_from_invite("ACK", invite, to ? to->value : std::string_view{});
}

// Entered from the TU: the INVITE is sent, Timers A and B start (§17.1.1.2).
inline void start(core& c, record& r) {
  c.send(r, r.request);
  c.change(r, state::calling, cause::request_sent);
  if (const auto a = c.values(r).a()) {
    r.interval = *a;
    c.arm(r, timer_slot::retransmit, *a);
  }
  c.arm(r, timer_slot::timeout, c.values(r).b());
}

inline void to_tu(core& c, record& r, sip::message&& response, bool retransmission = false) {
  c.emit(response_event{c.id_of(r), std::move(response), retransmission});
}

inline void on_provisional(core& c, record& r, sip::message&& response) {
  r.provisional_seen = true;
  // Timer B only runs in Calling; the Proceeding limit (timer_config) replaces
  // it and starts again with every 1xx.
  c.arm(r, timer_slot::timeout, c.timers().client_invite_proceeding);
  if (r.state == state::calling) {
    c.disarm(r, timer_slot::retransmit);  // §17.1.1.2: no more retransmissions
    c.change(r, state::proceeding, cause::provisional);
  }
  to_tu(c, r, std::move(response));
}

// RFC 6026 §8.4: Calling/Proceeding -> Accepted, Timer M.
inline void on_success(core& c, record& r, sip::message&& response) {
  c.disarm(r, timer_slot::retransmit);
  c.arm(r, timer_slot::timeout, c.values(r).m());
  c.change(r, state::accepted, cause::final_response);
  to_tu(c, r, std::move(response));
}

// §17.1.1.2: ACK sent, response to the TU, Completed, Timer D.
inline void on_failure(core& c, record& r, sip::message&& response) {
  core::with_request(r, [&](const message_view& invite) { r.resend = share(build_ack(invite, response.view())); });
  c.send(r, r.resend);
  c.disarm(r, timer_slot::retransmit);
  c.arm(r, timer_slot::timeout, c.values(r).d());
  c.change(r, state::completed, cause::final_response);
  to_tu(c, r, std::move(response));
  if (c.values(r).d() == duration{0}) c.terminate(r, cause::timer_expired);
}

inline void on_response(core& c, record& r, sip::message&& response) {
  const int status = response->status();
  r.last_status = status;
  switch (r.state) {
    case state::calling:
    case state::proceeding:
      if (status < 200) return on_provisional(c, r, std::move(response));
      if (status < 300) return on_success(c, r, std::move(response));
      return on_failure(c, r, std::move(response));
    case state::completed:
      if (status >= 300) c.send(r, r.resend);  // §17.1.1.2: ACK again, not passed up
      return;
    case state::accepted:
      if (status >= 200 && status < 300) to_tu(c, r, std::move(response), true);
      return;
    default: return;
  }
}

inline void on_timer(core& c, record& r, timer_slot which) {
  if (which == timer_slot::retransmit) {  // Timer A, Calling only
    if (r.state != state::calling) return;
    c.send(r, r.request);
    r.interval = timer_values::doubled(r.interval);
    c.arm(r, timer_slot::retransmit, r.interval);
    return;
  }
  switch (r.state) {
    case state::calling:                                                  // Timer B
    case state::proceeding: return c.terminate(r, cause::timeout);       // no final within the limit
    case state::completed:                                                // Timer D
    case state::accepted: return c.terminate(r, cause::timer_expired);    // Timer M
    default: return;
  }
}

// §17.1.4: a transport error ends the transaction; the TU is told.
inline void on_transport_error(core& c, record& r) { c.terminate(r, cause::transport_error); }

}  // namespace sigwire::sip::transaction::client_invite
