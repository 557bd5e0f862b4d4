// The session layer (dialogs, INVITE sessions, offer/answer) over one real
// UDP socket on the loopback with a steady clock: the test driver that lets
// sipp talk to it before the Asio transports exist (tests/sip/dialog_sipp_interop.sh).
//
//   dialog_udp_peer uas SECONDS [--challenge PASSWORD]
//       prints its port, then answers every INVITE with 180 and 200 (the SDP
//       answer from the negotiator, or its offer when the INVITE had none);
//       with --challenge, an INVITE without credentials gets 401 and one with
//       wrong credentials 403. Re-INVITE, BYE, CANCEL as the layer does them.
//       On SIGTERM it lets the calls in progress end (at most 70 s), then (or
//       after SECONDS) prints one line of counts to stderr; open=N counts calls
//       that never ended.
//   dialog_udp_peer uac PORT CALLS [--late] [--password P] [--hold MS] [--must-end]
//       places CALLS calls to 127.0.0.1:PORT at once (--late: INVITE without
//       SDP), hangs each up MS (default 500) after it is confirmed, prints one
//       line per call. Exit 0 when every call was confirmed, its media
//       negotiated, and ended by a BYE that was answered; with --must-end
//       (a lossy peer that may give up), when every call ended either way.
#include <sigwire/sdp/presets.hpp>
#include <sigwire/sip/dialog/session_layer.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace sip = sigwire::sip;
namespace dlg = sigwire::sip::dialog;
namespace tx = sigwire::sip::transaction;
namespace sdp = sigwire::sdp;

namespace {

sdp::capabilities audio() { return sdp::presets::plain_audio("127.0.0.1", 6000); }

class udp_driver {
 public:
  explicit udp_driver(dlg::session_config cfg) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::exit(2);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    cfg.via = "SIP/2.0/UDP 127.0.0.1:" + std::to_string(port_);
    cfg.contact = "sip:sigwire@127.0.0.1:" + std::to_string(port_);
    cfg.media = audio();
    layer_ = std::make_unique<dlg::session_layer>(std::move(cfg), [this] { return rng_(); });
  }
  ~udp_driver() { close(fd_); }

  dlg::session_layer& layer() { return *layer_; }
  unsigned port() const { return port_; }
  tx::instant now() const {
    return std::chrono::duration_cast<tx::instant>(std::chrono::steady_clock::now() - start_);
  }
  tx::peer loopback_peer(unsigned port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    return peer_for(a);
  }

  // Waits for a datagram or the next deadline (at most `cap`), feeds it in,
  // fires due timers, sends what is to be sent and hands the rest to `on_event`.
  template <class F>
  void turn(tx::duration cap, F&& on_event) {
    tx::instant wake = now() + cap;
    if (const auto d = layer_->next_deadline()) wake = std::min(wake, *d);
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::max<long long>(0, (wake - now()).count()))) > 0) {
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      const ssize_t n = recvfrom(fd_, buf_.data(), buf_.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n > 0) {
        if (std::getenv("DIALOG_PEER_LOG")) {
          const std::string_view m(buf_.data(), static_cast<std::size_t>(n));
          const auto cid = m.find("Call-ID: ");
          std::fprintf(stderr, "%lld in  %.*s | %.*s\n", static_cast<long long>(now().count()),
                       static_cast<int>(m.find('\r')), m.data(), cid == m.npos ? 0 : static_cast<int>(m.find('\r', cid) - cid),
                       m.data() + (cid == m.npos ? 0 : cid));
        }
        (void)layer_->receive(std::string(buf_.data(), static_cast<std::size_t>(n)), peer_for(from), now());
      }
    }
    layer_->on_timer(now());
    flush(on_event);
  }
  template <class F>
  void flush(F&& on_event) {
    for (auto& e : layer_->take_events()) {
      if (auto* s = std::get_if<tx::send_event>(&e)) send(*s);
      else on_event(e);
    }
  }

 private:
  tx::peer peer_for(const sockaddr_in& a) {
    for (std::size_t i = 0; i < peers_.size(); ++i)
      if (peers_[i].sin_addr.s_addr == a.sin_addr.s_addr && peers_[i].sin_port == a.sin_port) return {i, false};
    peers_.push_back(a);
    return {peers_.size() - 1, false};
  }
  void send(const tx::send_event& s) {
    if (std::getenv("DIALOG_PEER_LOG")) {
      const std::string_view m = s.bytes();
      const auto cid = m.find("Call-ID: ");
      std::fprintf(stderr, "%lld out %.*s | %.*s\n", static_cast<long long>(now().count()), static_cast<int>(m.find('\r')),
                   m.data(), cid == m.npos ? 0 : static_cast<int>(m.find('\r', cid) - cid), m.data() + (cid == m.npos ? 0 : cid));
    }
    const sockaddr_in& to = peers_.at(s.to.id);
    (void)sendto(fd_, s.bytes().data(), s.bytes().size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }

  std::mt19937_64 rng_{std::random_device{}()};
  std::unique_ptr<dlg::session_layer> layer_;
  int fd_ = -1;
  unsigned port_ = 0;
  std::vector<sockaddr_in> peers_;
  std::array<char, 65536> buf_{};
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

volatile std::sig_atomic_t stop_requested = 0;

struct counts {
  unsigned incoming = 0, challenged = 0, forbidden = 0, confirmed = 0, disconnected = 0, media_ok = 0, media_failed = 0;
};

// A challenge per Call-ID: the nonce is the Call-ID's hash, so the retry can be checked.
std::string nonce_for(std::string_view call_id) { return "n" + std::to_string(std::hash<std::string_view>{}(call_id)); }

void answer_incoming(udp_driver& d, const dlg::incoming_call_event& in, const std::string& password, counts& n) {
  ++n.incoming;
  const sip::message_view& invite = in.invite->view();
  if (!password.empty()) {
    const sip::header_field* creds = invite.find(sip::header_id::authorization);
    if (!creds) {
      ++n.challenged;
      const std::string challenge = sip::challenge_value("sigwire.test", nonce_for(invite.call_id()));
      const dlg::header_line lines[] = {{"WWW-Authenticate", challenge}};
      (void)d.layer().answer(in.call, 401, d.now(), {}, lines);
      return;
    }
    if (sip::verify(creds->value, "INVITE", password, "sigwire.test", nonce_for(invite.call_id()))) {
      ++n.forbidden;
      (void)d.layer().answer(in.call, 403, d.now());
      return;
    }
  }
  (void)d.layer().answer(in.call, 180, d.now());
  (void)d.layer().answer(in.call, 200, d.now());
}

int run_uas(int seconds, const std::string& password) {
  std::signal(SIGTERM, [](int) { stop_requested = 1; });
  udp_driver d({});
  std::printf("%u\n", d.port());
  std::fflush(stdout);
  counts n;
  std::vector<dlg::incoming_call_event> incoming;
  std::vector<dlg::call_id> seen;
  const auto on_event = [&](dlg::session_event& e) {
    if (auto* in = std::get_if<dlg::incoming_call_event>(&e)) {
      incoming.push_back(*in);
      seen.push_back(in->call);
    }
    if (auto* s = std::get_if<dlg::call_state_event>(&e)) {
      if (s->to == dlg::call_state::confirmed) ++n.confirmed;
      if (s->to == dlg::call_state::disconnected) ++n.disconnected;
    }
    if (auto* m = std::get_if<dlg::media_event>(&e)) ++(m->ok ? n.media_ok : n.media_failed);
    if (auto* r = std::get_if<dlg::request_event>(&e))  // OPTIONS and the like outside a call
      (void)d.layer().respond(r->tsx, r->request, 200, d.now());
  };
  auto end = d.now() + std::chrono::seconds(seconds);
  bool draining = false;
  while (d.now() < end) {
    // SIGTERM: no new work, but every call in progress runs to its end: at most
    // 64*T1 for a missing ACK, then 64*T1 for the BYE's transaction (70 s).
    if (stop_requested && !draining) {
      draining = true;
      end = d.now() + std::chrono::seconds(70);
    }
    if (draining && d.layer().calls() == 0) break;
    d.turn(std::chrono::milliseconds(50), on_event);
    // Answered outside the event loop: answering changes the layer's output.
    while (!incoming.empty()) {
      const dlg::incoming_call_event in = incoming.back();
      incoming.pop_back();
      answer_incoming(d, in, password, n);
      d.flush(on_event);
    }
  }
  for (const dlg::call_id id : seen)
    if (d.layer().state_of(id) != dlg::call_state::disconnected)
      std::fprintf(stderr, "open call %u: %s; ", id.slot, std::string(dlg::text(d.layer().state_of(id))).c_str());
  std::fprintf(stderr, "uas: incoming=%u challenged=%u forbidden=%u confirmed=%u disconnected=%u media ok=%u failed=%u open=%zu\n",
               n.incoming, n.challenged, n.forbidden, n.confirmed, n.disconnected, n.media_ok, n.media_failed,
               d.layer().calls());
  return 0;
}

int run_uac(unsigned port, unsigned calls, bool late, const std::string& password, int hold_ms, bool must_end) {
  dlg::session_config cfg;
  if (!password.empty()) cfg.credentials = {{.realm = "", .username = "alice", .password = password}};
  udp_driver d(cfg);
  struct call_log {
    bool confirmed = false, media_ok = false, ended = false;
    int last_status = 0;
    tx::instant hangup_at{-1};
  };
  std::map<std::uint32_t, call_log> log;  // by call slot
  std::vector<dlg::call_id> ids;
  const tx::peer target = d.loopback_peer(port);
  const std::string uri = "sip:service@127.0.0.1:" + std::to_string(port);
  for (unsigned i = 0; i < calls; ++i) {
    const auto r = d.layer().make_call(uri, "<sip:alice@127.0.0.1>", target, d.now(), late);
    if (!r) return 2;
    ids.push_back(r.call);
    log[r.call.slot] = {};
  }
  const auto on_event = [&](dlg::session_event& e) {
    if (auto* s = std::get_if<dlg::call_state_event>(&e)) {
      call_log& c = log[s->call.slot];
      c.last_status = s->last_status;
      if (s->to == dlg::call_state::confirmed) {
        c.confirmed = true;
        c.hangup_at = d.now() + std::chrono::milliseconds(hold_ms);
      }
      if (s->to == dlg::call_state::disconnected) c.ended = true;
    }
    if (auto* m = std::get_if<dlg::media_event>(&e)) log[m->call.slot].media_ok = m->ok;
  };
  d.flush(on_event);
  const auto end = d.now() + std::chrono::seconds(60);
  while (d.now() < end && d.layer().calls() > 0) {
    d.turn(std::chrono::milliseconds(20), on_event);
    for (const dlg::call_id id : ids) {
      call_log& c = log[id.slot];
      if (c.hangup_at.count() >= 0 && d.now() >= c.hangup_at && !c.ended) {
        c.hangup_at = tx::instant{-1};
        (void)d.layer().hangup(id, d.now());
        d.flush(on_event);
      }
    }
  }
  unsigned good = 0, ended = 0;
  for (const auto& [slot, c] : log) {
    const bool ok = c.confirmed && c.media_ok && c.ended && c.last_status == 200;
    good += ok;
    ended += c.ended;
    std::printf("call %u: %s (confirmed=%d media=%d ended=%d last=%d)\n", slot, ok ? "ok" : "FAILED", c.confirmed,
                c.media_ok, c.ended, c.last_status);
  }
  std::printf("uac: %u of %u calls confirmed, negotiated and ended by an answered BYE; %u of %u ended\n", good, calls,
              ended, calls);
  return (must_end ? ended : good) == calls ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "uas") == 0) {
    std::string password;
    for (int i = 3; i + 1 < argc; ++i)
      if (std::strcmp(argv[i], "--challenge") == 0) password = argv[i + 1];
    return run_uas(std::atoi(argv[2]), password);
  }
  if (argc >= 4 && std::strcmp(argv[1], "uac") == 0) {
    bool late = false, must_end = false;
    std::string password;
    int hold = 500;
    for (int i = 4; i < argc; ++i) {
      if (std::strcmp(argv[i], "--late") == 0) late = true;
      else if (std::strcmp(argv[i], "--must-end") == 0) must_end = true;
      else if (std::strcmp(argv[i], "--password") == 0 && i + 1 < argc) password = argv[++i];
      else if (std::strcmp(argv[i], "--hold") == 0 && i + 1 < argc) hold = std::atoi(argv[++i]);
    }
    return run_uac(static_cast<unsigned>(std::atoi(argv[2])), static_cast<unsigned>(std::atoi(argv[3])), late, password,
                   hold, must_end);
  }
  std::fprintf(stderr, "usage: dialog_udp_peer uas SECONDS [--challenge PASSWORD] | uac PORT CALLS [--late] [--password P] [--hold MS] [--must-end]\n");
  return 2;
}
