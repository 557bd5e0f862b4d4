// sigwire/sip/transaction/timers.hpp - RFC 3261 Table 4 (Timers A-K) and
// RFC 6026 Timers L and M, as data of one layer instance.
//
//   Timer  Value (unreliable)       Reliable   Meaning
//   A      initially T1, doubles    none       INVITE request retransmit
//   B      64*T1                    64*T1      INVITE transaction timeout
//   D      > 32 s                   0          wait for response retransmits
//   E      initially T1, to T2      none       non-INVITE request retransmit
//   F      64*T1                    64*T1      non-INVITE transaction timeout
//   G      initially T1, to T2      none       INVITE response retransmit
//   H      64*T1                    64*T1      wait time for ACK receipt
//   I      T4                       0          wait time for ACK retransmits
//   J      64*T1                    0          wait for non-INVITE request retransmits
//   K      T4                       0          wait for response retransmits
//   L      64*T1                    64*T1      RFC 6026: Accepted, INVITE server
//   M      64*T1                    64*T1      RFC 6026: Accepted, INVITE client
//
// Values belong to a layer (config), never to the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace sigwire::sip::transaction {

using duration = std::chrono::milliseconds;
// A point on the caller's clock, in ms since any epoch it likes (sans-IO: the
// layer never reads a clock).
using instant = std::chrono::milliseconds;

struct timer_config {
  duration t1{500};   // RFC 3261 §17.1.1.1: RTT estimate
  duration t2{4000};  // maximum retransmit interval for non-INVITE requests and INVITE responses
  duration t4{5000};  // maximum duration a message remains in the network
  duration timer_d{32000};            // RFC 3261 §17.1.1.2: at least 32 s on unreliable transports
  duration trying_after{200};         // RFC 3261 §17.2.1: 100 Trying if the TU has not answered
  duration server_invite_no_final{180000};  // TU never answered an INVITE: give up silently (like Timer C, §16.6)
  // A client INVITE in Proceeding has no timer in RFC 3261 (Figure 5): a peer
  // that sends a 1xx and never a final would hold it forever. Like a proxy's
  // Timer C (§16.6, > 3 min), each 1xx re-arms this limit; at its end the
  // transaction ends with cause timeout (the TU should have sent CANCEL).
  duration client_invite_proceeding{180000};
};

// The timer values for one transaction's transport (RFC 3261 Table 4).
struct timer_values {
  timer_config c;
  bool reliable = false;

  // Retransmission timers A, E, G do not run on reliable transports.
  std::optional<duration> a() const noexcept { return reliable ? std::nullopt : std::optional<duration>(c.t1); }
  std::optional<duration> e() const noexcept { return a(); }
  std::optional<duration> g() const noexcept { return a(); }
  duration b() const noexcept { return 64 * c.t1; }
  duration f() const noexcept { return 64 * c.t1; }
  duration h() const noexcept { return 64 * c.t1; }
  duration d() const noexcept { return reliable ? duration{0} : c.timer_d; }
  duration i() const noexcept { return reliable ? duration{0} : c.t4; }
  duration j() const noexcept { return reliable ? duration{0} : 64 * c.t1; }
  duration k() const noexcept { return reliable ? duration{0} : c.t4; }
  duration l() const noexcept { return 64 * c.t1; }
  duration m() const noexcept { return 64 * c.t1; }

  // RFC 3261 §17.1.1.2 (A): doubles without bound.
  static duration doubled(duration interval) noexcept { return 2 * interval; }
  // RFC 3261 §17.1.2.2 (E), §17.2.1 (G): doubles up to T2.
  duration doubled_to_t2(duration interval) const noexcept { return 2 * interval < c.t2 ? 2 * interval : c.t2; }

  // RFC 4320 §4.1: no 100 to a non-INVITE request over an unreliable
  // transport before the client's Timer E has reached T2 (T1+2T1+4T1... <T2).
  duration non_invite_100_after() const noexcept {
    duration sum{0};
    for (duration i = c.t1; i < c.t2; i *= 2) sum += i;
    return sum;
  }
};

}  // namespace sigwire::sip::transaction
