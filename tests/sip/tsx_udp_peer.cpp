// The transaction layer over one real UDP socket on the loopback, with a
// steady clock: the test driver that lets real peers (sipp) talk to the
// layer before the Asio transports exist. Two small transaction users:
//
//   tsx_udp_peer uas SECONDS
//       prints its port, then answers: INVITE -> 180, 200 (the TU re-sends
//       the 2xx until the ACK comes, RFC 3261 §13.3.1.4), merged -> 482,
//       CANCEL -> 200 if it matches an INVITE, else 481 (§9.2), others -> 200.
//   tsx_udp_peer uac PORT CALLS
//       places CALLS calls to PORT: INVITE, ACK to each 2xx (§13.2.2.4),
//       BYE 2 s after the last 2xx; prints one line per call and a summary.
//       Exit 0 when every call ended (completed, or failed as the RFC says),
//       1 if any was still open when the run ended.
#include <sigwire/sip.hpp>
#include <sigwire/sip/transaction/layer.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace sip = sigwire::sip;
namespace tx = sigwire::sip::transaction;

namespace {

// The driver: one socket, peers by id, the layer, one steady clock.
class udp_driver {
 public:
  udp_driver() : layer_({}, [this] { return rng_(); }) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::exit(2);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~udp_driver() { close(fd_); }

  tx::layer& layer() { return layer_; }
  unsigned port() const { return port_; }
  tx::instant now() const {
    return std::chrono::duration_cast<tx::instant>(std::chrono::steady_clock::now() - start_);
  }
  tx::peer peer_for(const sockaddr_in& a) {
    for (std::size_t i = 0; i < peers_.size(); ++i)
      if (peers_[i].sin_addr.s_addr == a.sin_addr.s_addr && peers_[i].sin_port == a.sin_port) return {i, false};
    peers_.push_back(a);
    return {peers_.size() - 1, false};
  }
  tx::peer loopback_peer(unsigned port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    return peer_for(a);
  }

  // Waits for a datagram or the layer's next deadline (at most `cap`), feeds
  // it in, fires due timers, and hands every event to `on_event`.
  void turn(tx::duration cap, const std::function<void(tx::event&)>& on_event) {
    tx::instant wake = now() + cap;
    if (const auto d = layer_.next_deadline()) wake = std::min(wake, *d);
    const auto wait = std::max<long long>(0, (wake - now()).count());
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait)) > 0) {
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      const ssize_t n = recvfrom(fd_, buf_.data(), buf_.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n > 0) {
        ++received_;
        // A message that does not parse is not the layer's; a UAS would answer 400.
        if (layer_.receive(std::string(buf_.data(), static_cast<std::size_t>(n)), peer_for(from), now()) ==
            tx::layer_error::bad_message)
          ++bad_;
      }
    }
    layer_.on_timer(now());
    for (auto& e : layer_.take_events()) {
      if (auto* s = std::get_if<tx::send_event>(&e)) send(*s);
      else on_event(e);
    }
  }

  unsigned received() const { return received_; }
  unsigned sent() const { return sent_; }
  unsigned bad() const { return bad_; }

 private:
  void send(const tx::send_event& s) {
    const sockaddr_in& to = peers_.at(s.to.id);
    if (sendto(fd_, s.bytes().data(), s.bytes().size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0) ++sent_;
  }

  std::mt19937_64 rng_{std::random_device{}()};
  tx::layer layer_;
  int fd_ = -1;
  unsigned port_ = 0;
  std::vector<sockaddr_in> peers_;
  std::array<char, 65536> buf_{};
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  unsigned received_ = 0, sent_ = 0, bad_ = 0;
};

const std::string sdp =
    "v=0\r\no=tsx 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n";

std::string response(const sip::message_view& req, int status, std::string_view reason, std::string_view tag,
                     bool with_sdp = false) {
  std::array<char, 8192> buf{};
  sip::builder b(buf, with_sdp ? std::string_view(sdp) : std::string_view{});
  if (sip::response_from_request(b, req, status, reason, tag)) return {};
  if (status >= 180 && status < 300) b.header(sip::header_id::contact, "<sip:tsx@127.0.0.1>");
  if (with_sdp) b.header(sip::header_id::content_type, "application/sdp");
  const auto out = b.finish();
  return out ? std::string(*out) : std::string{};
}

std::string tag_for(std::string_view call_id) {
  char t[24];
  std::snprintf(t, sizeof t, "u%zx", std::hash<std::string_view>{}(call_id));
  return t;
}

// --- UAS ------------------------------------------------------------------------
volatile std::sig_atomic_t stop_requested = 0;

int run_uas(int seconds) {
  std::signal(SIGTERM, [](int) { stop_requested = 1; });  // prints its counts on the way out
  udp_driver d;
  std::printf("%u\n", d.port());
  std::fflush(stdout);
  struct pending_2xx {
    tx::tsx_id id;
    std::string bytes;
    tx::instant next;
    tx::duration interval;
  };
  std::map<std::string, pending_2xx, std::less<>> unacked;  // by Call-ID
  unsigned calls = 0, acks = 0, byes = 0, cancels = 0, merged = 0, retransmitted_2xx = 0;
  const tx::timer_config t = d.layer().timers();

  auto on_event = [&](tx::event& e) {
    if (auto* ov = std::get_if<tx::overloaded_event>(&e)) {
      d.layer().send_stateless(response(ov->msg.view(), 503, "Service Unavailable", tag_for(ov->msg->call_id())), ov->from);
      return;
    }
    auto* r = std::get_if<tx::request_event>(&e);
    if (!r) return;
    const sip::message_view& m = r->msg.view();
    const std::string call_id(m.call_id());
    if (!r->id.valid()) {  // an ACK to our 2xx
      if (unacked.erase(call_id)) ++acks;
      return;
    }
    const std::string tag = tag_for(call_id);
    if (r->merged) {
      ++merged;
      d.layer().send_response(r->id, response(m, 482, "Loop Detected", tag), d.now());
      return;
    }
    const sip::method method = r->msg.method();
    if (method == sip::method::invite) {
      ++calls;
      d.layer().send_response(r->id, response(m, 180, "Ringing", tag), d.now());
      std::string ok = response(m, 200, "OK", tag, true);
      d.layer().send_response(r->id, ok, d.now());
      unacked[call_id] = {r->id, std::move(ok), d.now() + t.t1, t.t1};
      return;
    }
    if (method == sip::method::cancel) {
      ++cancels;
      // The INVITE was answered at once, so there is no 487 to send.
      const bool matched = r->cancels.valid();
      d.layer().send_response(r->id, response(m, matched ? 200 : 481, matched ? "OK" : "Call/Transaction Does Not Exist", tag), d.now());
      return;
    }
    if (method == sip::method::bye) {
      ++byes;
      unacked.erase(call_id);  // the peer is done with the call: its ACK was lost on the way
    }
    d.layer().send_response(r->id, response(m, 200, "OK", tag), d.now());
  };

  const auto end = d.now() + std::chrono::seconds(seconds);
  while (d.now() < end && !stop_requested) {
    d.turn(std::chrono::milliseconds(50), on_event);
    // §13.3.1.4: the 2xx again at T1, 2*T1, ... up to T2, until the ACK or 64*T1.
    for (auto it = unacked.begin(); it != unacked.end();) {
      pending_2xx& p = it->second;
      if (d.now() < p.next) {
        ++it;
        continue;
      }
      if (d.layer().send_response(p.id, p.bytes, d.now()) != tx::layer_error::ok) {  // Timer L ended the wait
        it = unacked.erase(it);
        continue;
      }
      ++retransmitted_2xx;
      p.interval = std::min(2 * p.interval, t.t2);
      p.next = d.now() + p.interval;
      ++it;
    }
  }
  std::fprintf(stderr, "uas: calls=%u acks=%u byes=%u cancels=%u merged=%u 2xx-resent=%u unacked=%zu received=%u sent=%u bad=%u\n",
               calls, acks, byes, cancels, merged, retransmitted_2xx, unacked.size(), d.received(), d.sent(), d.bad());
  return 0;
}

// --- UAC ------------------------------------------------------------------------
struct call {
  std::string call_id, from_tag;
  tx::tsx_id invite, bye;
  std::string to, contact;  // from the 2xx: To with the tag, and the remote target
  std::string ack;
  tx::instant bye_at{-1};
  int final_status = 0;
  enum { inviting, confirmed, ending, done, failed } phase = inviting;
  std::string outcome;
};

std::string first_contact_uri(const sip::message_view& m) {
  std::string uri;
  (void)sip::for_each_contact(m, [&](const sip::name_addr& na) {
    if (uri.empty()) uri = std::string(na.address.raw);
  });
  return uri;
}

std::string request(std::string_view method, std::string_view target, const call& c, unsigned cseq, unsigned port,
                    const std::string& branch, std::string_view to) {
  std::string r(method);
  r.append(" ").append(target).append(" SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:").append(std::to_string(port));
  r.append(";branch=").append(branch).append("\r\nMax-Forwards: 70\r\nFrom: <sip:tsx@127.0.0.1>;tag=").append(c.from_tag);
  r.append("\r\nTo: ").append(to).append("\r\nCall-ID: ").append(c.call_id).append("\r\nCSeq: ");
  r.append(std::to_string(cseq)).append(" ").append(method);
  r.append("\r\nContact: <sip:tsx@127.0.0.1:").append(std::to_string(port)).append(">\r\nContent-Length: 0\r\n\r\n");
  return r;
}

int run_uac(unsigned target_port, unsigned ncalls) {
  udp_driver d;
  const tx::peer sipp = d.loopback_peer(target_port);
  const std::string target = "sip:service@127.0.0.1:" + std::to_string(target_port);
  std::vector<call> calls(ncalls);
  std::map<tx::tsx_id, std::size_t, decltype([](tx::tsx_id a, tx::tsx_id b) {
             return std::pair(a.slot, a.generation) < std::pair(b.slot, b.generation);
           })>
      by_tsx;
  std::size_t started = 0;
  tx::instant next_start = d.now();

  auto finish = [](call& c, bool ok, std::string outcome) {
    c.phase = ok ? call::done : call::failed;
    c.outcome = std::move(outcome);
  };
  auto on_event = [&](tx::event& e) {
    if (auto* r = std::get_if<tx::response_event>(&e)) {
      const auto it = by_tsx.find(r->id);
      if (it == by_tsx.end()) return;
      call& c = calls[it->second];
      const int status = r->msg->status();
      if (r->id == c.invite) {
        if (status < 200) return;
        c.final_status = status;
        if (status >= 300) return finish(c, false, "INVITE failed " + std::to_string(status));  // ACKed by the tsx
        // §13.2.2.4: the TU ACKs every 2xx (retransmissions too), to the remote target.
        if (c.ack.empty()) {
          c.to = std::string(r->msg.view().find(sip::header_id::to)->value);
          c.contact = first_contact_uri(r->msg.view());
          if (c.contact.empty()) c.contact = target;
          c.ack = request("ACK", c.contact, c, 1, d.port(), d.layer().new_branch(), c.to);
          c.phase = call::confirmed;
        }
        d.layer().send_stateless(c.ack, sipp);
        c.bye_at = d.now() + std::chrono::seconds(2);
        return;
      }
      if (r->id == c.bye && status >= 200)
        return finish(c, status < 300, status < 300 ? "completed" : "BYE failed " + std::to_string(status));
      return;
    }
    if (auto* s = std::get_if<tx::state_event>(&e)) {
      if (s->to != tx::state::terminated) return;
      const auto it = by_tsx.find(s->id);
      if (it == by_tsx.end()) return;
      call& c = calls[it->second];
      by_tsx.erase(it);
      if (s->cause == tx::cause::timeout && (c.phase == call::inviting || c.phase == call::ending))
        finish(c, false, std::string(s->id == c.invite ? "INVITE" : "BYE") + " timed out (408, §17.1.1.2/§17.1.2.2)");
    }
  };

  const tx::instant give_up = d.now() + std::chrono::seconds(120);
  auto open_calls = [&] {
    return std::count_if(calls.begin(), calls.end(), [](const call& c) { return c.phase != call::done && c.phase != call::failed; });
  };
  while (d.now() < give_up && (started < ncalls || open_calls() > 0)) {
    if (started < ncalls && d.now() >= next_start) {
      call& c = calls[started];
      c.call_id = "tsx-" + std::to_string(started) + "-" + std::string(d.layer().new_branch().view().substr(7, 12)) + "@127.0.0.1";
      c.from_tag = "f" + std::to_string(started);
      sip::message m;
      if (sip::message::parse(request("INVITE", target, c, 1, d.port(), d.layer().new_branch(), "<" + target + ">"), m))
        return 2;
      const auto r = d.layer().send_request(std::move(m), sipp, d.now());
      if (!r) return 2;
      c.invite = r.id;
      by_tsx[r.id] = started;
      ++started;
      next_start = d.now() + std::chrono::milliseconds(100);
    }
    for (std::size_t i = 0; i < started; ++i) {
      call& c = calls[i];
      if (c.phase != call::confirmed || d.now() < c.bye_at) continue;
      sip::message m;
      if (sip::message::parse(request("BYE", c.contact, c, 2, d.port(), d.layer().new_branch(), c.to), m)) return 2;
      const auto r = d.layer().send_request(std::move(m), sipp, d.now());
      if (!r) return 2;
      c.bye = r.id;
      by_tsx[r.id] = i;
      c.phase = call::ending;
    }
    d.turn(std::chrono::milliseconds(20), on_event);
  }
  unsigned completed = 0, failed = 0, open = 0;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const call& c = calls[i];
    if (c.phase == call::done) ++completed;
    else if (c.phase == call::failed) ++failed;
    else ++open;
    std::printf("call %zu: %s\n", i, c.phase == call::done || c.phase == call::failed ? c.outcome.c_str() : "OPEN (hung)");
  }
  std::printf("uac: %u completed, %u failed as the RFC says, %u open; received=%u sent=%u\n", completed, failed, open,
              d.received(), d.sent());
  return open == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "uas") return run_uas(argc > 2 ? std::atoi(argv[2]) : 30);
  if (mode == "uac" && argc > 3)
    return run_uac(static_cast<unsigned>(std::atoi(argv[2])), static_cast<unsigned>(std::atoi(argv[3])));
  std::fprintf(stderr, "usage: tsx_udp_peer uas SECONDS | uac PORT CALLS\n");
  return 2;
}
