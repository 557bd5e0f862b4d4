// uas: a SIP user agent that answers every call, over UDP and TCP on one port,
// and on request over WebSocket (RFC 7118), TLS and secure WebSocket.
// The target of the load tests (bench/sip_ua_load.sh), of softphones and of
// browser stacks (SIP.js, JsSIP).
//
//   uas [--port 5070] [--address 127.0.0.1] [--ring] [--hangup-after MS]
//       [--ws-port P] [--tls-port P] [--wss-port P] [--cert cert.pem --key key.pem]
//       [--register sip:REGISTRAR[:port][;transport=tcp] --user U --password P [--instance URN]] [--proxy URI]
//       [--ca ca.pem]
//       [--udp-batch N] [--reuse-port] [--registrar] [--call-registered [--fork N]]
//       [--registrar-realm R --registrar-user U:P ... [--registrar-md5-only]] [--flow-timer S] [--webrtc]
//
// Every INVITE gets 200 with an SDP answer from the negotiator (or the offer,
// when the INVITE had none); --ring sends 180 first; --hangup-after ends each
// confirmed call with a BYE after MS milliseconds. ACK, BYE, CANCEL,
// OPTIONS, re-INVITE, UPDATE, PRACK, INFO and MESSAGE are handled by the
// session layer as a UA must. With --register it registers <sip:U@REGISTRAR>
// with digest credentials, keeps it refreshed and prints each registration
// state (a registrar over TLS is verified against --ca, default: the system's
// store). --proxy sends every request outside a call (the REGISTER, our
// calls) through that outbound proxy (ua::config::outbound_proxy); the
// registrar may then be a domain name ("sip:example.com"), which is also the
// AOR's domain. A MESSAGE outside a call is printed and answered 200. SIGINT/SIGTERM
// unregister (at most 2 s) and stop it; it then prints its counts on one line
// to stderr. --udp-batch sets transport::options::udp_batch (UDP datagrams
// per recvmmsg/sendmmsg; 1: one per call through Asio). --reuse-port lets
// several uas processes listen on one port (SO_REUSEPORT), one per core.
// --registrar serves REGISTER (RFC 3261 §10.3, no authentication) and
// prints each one; --call-registered also calls every address-of-record
// when it first registers (over the client's own connection when its
// Contact is a WebSocket or .invalid one) and prints that call's states;
// with --fork N it waits until the address-of-record has N bindings and
// rings them all at once (user_agent::make_call_all: the first to answer
// wins, the others are cancelled).
// --registrar-realm turns digest authentication on (RFC 3261 §22): only the
// --registrar-user U:P users, each for its own address-of-record; it
// challenges with SHA-256 and MD5, or with MD5 alone (--registrar-md5-only:
// for clients such as sipp that answer the first challenge and know only MD5).
// --flow-timer S asks the clients of outbound registrations for keep-alives
// at most S seconds apart (RFC 5626 Flow-Timer); uas answers their STUN
// keep-alives on its UDP port in any case. --instance "<urn:uuid:...>" makes
// its --register an RFC 5626 outbound one (reg-id 1): with a registrar that
// does outbound it then keeps its flow alive (STUN on UDP).
// The counts line ends with stun=A/S: STUN requests answered plus our
// keep-alives answered, and our keep-alive requests sent.
// --webrtc also accepts browsers' audio (DTLS-SRTP over ICE, opus; RFC 8827)
// and offers it in the calls uas places: ICE credentials and a DTLS
// fingerprint are announced, but there is no media engine behind them.
#include <sigwire/sdp/presets.hpp>
#include <sigwire/sip/ua/user_agent.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace sigwire;
namespace ua = sigwire::sip::ua;

// G.711 and DTMF events on RTP/AVP; no media engine here: port 4000 is only announced.
static sdp::capabilities audio(const std::string& address) { return sdp::presets::plain_audio(address, 4000); }

// --webrtc: opus too, and what a browser needs to accept an SDP: DTLS-SRTP
// (UDP/TLS/RTP/SAVPF) with a fingerprint, ICE credentials and a host
// candidate, rtcp-mux. Plain RTP/AVP offers are still answered as above.
static sdp::capabilities webrtc_audio(const std::string& address) {
  sdp::capabilities caps = sdp::presets::plain_audio(
      address, 4000,
      {{.name = "opus", .clock_rate = 48000, .channels = 2, .payload_type = 111, .fmtp = "minptime=10;useinbandfec=1"},
       sdp::presets::pcmu(), sdp::presets::pcma(), sdp::presets::telephone_event()});
  caps.rtcp_mux = true;
  caps.ice = sdp::ice_parameters{.ufrag = core::random_token(8), .pwd = core::random_token(24),
                                 .candidates = {"1 1 udp 2122260223 " + address + " 4000 typ host"}, .trickle = false};
  std::string fingerprint;  // of no certificate: nothing answers DTLS here
  for (const std::byte b : core::random_array<32>()) {
    static constexpr char hex[] = "0123456789ABCDEF";
    if (!fingerprint.empty()) fingerprint += ':';
    fingerprint += hex[std::to_integer<unsigned>(b) >> 4];
    fingerprint += hex[std::to_integer<unsigned>(b) & 15];
  }
  caps.dtls = sdp::dtls_parameters{.fingerprint = fingerprint};
  return caps;
}

int main(int argc, char** argv) {
  unsigned short port = 5070;
  std::string address = "127.0.0.1";
  bool ring = false, serve_register = false, call_registered = false, webrtc = false;
  int hangup_after = -1;
  std::size_t fork_bindings = 0;  // --fork N: ring all N bindings of an AOR (0: call the best one)
  std::string registrar, user = "uas", password, proxy, instance;
  int ws_port = -1, tls_port = -1, wss_port = -1;  // -1: no such listener (0: any port)
  sip::transport::options transport;
  sip::dialog::registrar_config registrar_cfg;
  std::map<std::string, std::string> users;  // --registrar-user
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc) port = static_cast<unsigned short>(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--ws-port") && i + 1 < argc) ws_port = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--tls-port") && i + 1 < argc) tls_port = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--wss-port") && i + 1 < argc) wss_port = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--cert") && i + 1 < argc) transport.tls.certificate_chain_file = argv[++i];
    else if (!std::strcmp(argv[i], "--key") && i + 1 < argc) transport.tls.private_key_file = argv[++i];
    else if (!std::strcmp(argv[i], "--ca") && i + 1 < argc) transport.tls.ca_file = argv[++i];
    else if (!std::strcmp(argv[i], "--address") && i + 1 < argc) address = argv[++i];
    else if (!std::strcmp(argv[i], "--ring")) ring = true;
    else if (!std::strcmp(argv[i], "--hangup-after") && i + 1 < argc) hangup_after = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--register") && i + 1 < argc) registrar = argv[++i];
    else if (!std::strcmp(argv[i], "--user") && i + 1 < argc) user = argv[++i];
    else if (!std::strcmp(argv[i], "--password") && i + 1 < argc) password = argv[++i];
    else if (!std::strcmp(argv[i], "--proxy") && i + 1 < argc) proxy = argv[++i];
    else if (!std::strcmp(argv[i], "--instance") && i + 1 < argc) instance = argv[++i];
    else if (!std::strcmp(argv[i], "--udp-batch") && i + 1 < argc) transport.udp_batch = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--reuse-port")) transport.reuse_port = true;
    else if (!std::strcmp(argv[i], "--registrar")) serve_register = true;
    else if (!std::strcmp(argv[i], "--call-registered")) serve_register = call_registered = true;
    else if (!std::strcmp(argv[i], "--fork") && i + 1 < argc) fork_bindings = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--registrar-realm") && i + 1 < argc) registrar_cfg.realm = argv[++i];
    else if (!std::strcmp(argv[i], "--registrar-md5-only")) registrar_cfg.algorithms = {sip::digest_algorithm::md5};
    else if (!std::strcmp(argv[i], "--flow-timer") && i + 1 < argc) registrar_cfg.flow_timer = static_cast<std::uint32_t>(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--webrtc")) webrtc = true;
    else if (!std::strcmp(argv[i], "--registrar-user") && i + 1 < argc && std::strchr(argv[i + 1], ':')) {
      const std::string_view pair = argv[++i];
      users[std::string(pair.substr(0, pair.find(':')))] = std::string(pair.substr(pair.find(':') + 1));
    }
    else {
      std::fprintf(stderr,
                   "usage: uas [--port 5070] [--address 127.0.0.1] [--ring] [--hangup-after MS] [--ws-port P] [--tls-port P]\n"
                   "           [--wss-port P]\n"
                   "           [--cert cert.pem --key key.pem] [--register URI --user U --password P [--instance URN]] [--proxy URI]\n"
                   "           [--ca ca.pem]\n"
                   "           [--udp-batch N] [--reuse-port] [--registrar] [--call-registered [--fork N]]\n"
                   "           [--registrar-realm R --registrar-user U:P ... [--registrar-md5-only]] [--flow-timer S] [--webrtc]\n");
      return 2;
    }
  }
  if (!registrar_cfg.realm.empty()) {
    serve_register = true;
    registrar_cfg.password_for = [&users](std::string_view user) -> std::optional<std::string> {
      const auto it = users.find(std::string(user));
      return it == users.end() ? std::nullopt : std::optional(it->second);
    };
  }
  asio::io_context io;
  unsigned incoming = 0, confirmed = 0, ended = 0;
  std::error_code bad_address;
  const asio::ip::address at = asio::ip::make_address(address, bad_address);
  if (bad_address) {
    std::fprintf(stderr, "uas: --address %s is not an IP address\n", address.c_str());
    return 2;
  }
  const std::string uri_host = at.is_v6() ? "[" + address + "]" : address;  // RFC 3261 §19.1.1
  std::unique_ptr<sip::ua::user_agent> agent;
  try {  // the certificate and key are loaded here
    agent = std::make_unique<sip::ua::user_agent>(
        io,
        sip::ua::config{.from = "<sip:uas@" + uri_host + ">", .media = webrtc ? webrtc_audio(address) : audio(address), .transport = transport,
                        .registrar = serve_register ? std::optional(registrar_cfg) : std::nullopt,
                        .outbound_proxy = proxy},
        sip::ua::callbacks{});
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "uas: cannot load the TLS certificate or key: %s\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "uas: --proxy %s: %s\n", proxy.c_str(), e.what());
    return 2;
  }
  sip::ua::user_agent& uas = *agent;
  ua::callbacks cb;
  std::list<asio::steady_timer> hangups;  // one per call waiting for --hangup-after
  std::set<std::string> called;  // --call-registered: each address-of-record once
  std::map<std::uint32_t, std::string> outgoing;  // our calls' slots -> the AOR called
  cb.on_call_state = [&](ua::call_id call, ua::call_state s, int status, std::string_view) {
    if (const auto it = outgoing.find(call.slot); it != outgoing.end()) {
      std::printf("call to %s: %s (last status %d)\n", it->second.c_str(), std::string(sip::dialog::text(s)).c_str(), status);
      std::fflush(stdout);
      if (s == ua::call_state::disconnected) outgoing.erase(it);
    }
    confirmed += s == ua::call_state::confirmed;
    if (s == ua::call_state::confirmed && hangup_after >= 0) {
      auto& t = hangups.emplace_back(io, std::chrono::milliseconds(hangup_after));
      t.async_wait([&, call, it = std::prev(hangups.end())](std::error_code ec) {
        if (!ec) uas.hangup(call);
        hangups.erase(it);
      });
    }
    ended += s == ua::call_state::disconnected;
  };
  cb.on_incoming_call = [&](ua::call_id call, const sip::message&) {
    ++incoming;
    if (ring) uas.answer(call, 180);
    uas.answer(call, 200);
  };
  cb.on_request = [](const sip::message& request) {
    if (request.view().method() != "MESSAGE") return 405;
    std::printf("MESSAGE: %.*s\n", static_cast<int>(request.view().body().size()), request.view().body().data());
    std::fflush(stdout);
    return 200;
  };
  cb.on_register = [&](std::string_view aor, int status) {
    const std::size_t bindings = uas.bindings(aor).size();
    std::printf("REGISTER %.*s: %d, %zu binding(s)\n", static_cast<int>(aor.size()), aor.data(), status, bindings);
    std::fflush(stdout);
    if (!call_registered || status != 200 || bindings == 0 || bindings < fork_bindings) return;
    if (!called.insert(std::string(aor)).second) return;
    asio::post(io, [&, aor = std::string(aor)] {  // after the 200 has gone
      const auto calls = fork_bindings ? uas.make_call_all(aor) : std::vector{uas.make_call(aor)};
      for (const auto& call : calls) {
        if (call) outgoing[call.call.slot] = aor;
        else std::printf("call to %s: not placed (%s)\n", aor.c_str(), std::string(call.why).c_str());
      }
      std::fflush(stdout);
    });
  };
  bool stopping = false;
  cb.on_registration = [&](ua::registration_id, const sip::dialog::registration_event& e) {
    std::printf("registration: %s (last status %d, expires %u, contact <%s>)\n", std::string(sip::dialog::text(e.state)).c_str(),
                e.last_status, e.expires, e.contact.c_str());
    std::fflush(stdout);
    if (stopping && e.state != sip::dialog::registration_state::unregistering) {
      uas.close();
      io.stop();
    }
  };
  uas.set_callbacks(std::move(cb));
  try {
    uas.listen_udp_and_tcp({at, port});
    std::printf("uas listening on udp and tcp %s:%u\n", address.c_str(), uas.local_endpoint(0).port());
    const std::pair<int, sip::transport::protocol> more[] = {
        {ws_port, sip::transport::protocol::ws}, {tls_port, sip::transport::protocol::tls}, {wss_port, sip::transport::protocol::wss}};
    for (const auto& [p, proto] : more) {
      if (p < 0) continue;
      const std::size_t listener = uas.listen(proto, {at, static_cast<unsigned short>(p)});
      std::string name(sip::transport::text(proto));  // "WSS" -> "wss"
      for (char& c : name) c = core::ascii::to_lower(c);
      std::printf("uas listening on %s %s:%u\n", name.c_str(), address.c_str(), uas.local_endpoint(listener).port());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uas: cannot listen on %s: %s\n", address.c_str(), e.what());
    return 2;
  }
  std::fflush(stdout);
  ua::registration_id account;
  if (!registrar.empty()) {
    const auto registrar_uri = sip::parse_uri(registrar, false);
    const std::string domain = registrar_uri ? std::string(registrar_uri->host) : std::string();  // "[::1]" for IPv6
    account = uas.add_account(registrar, "<sip:" + user + "@" + domain + ">", {{.realm = "", .username = user, .password = password}},
                              600, instance);
    if (!account.valid()) {
      std::fprintf(stderr, "uas: cannot register at %s\n", registrar.c_str());
      return 2;
    }
  }
  asio::signal_set stop(io, SIGINT, SIGTERM);
  asio::steady_timer give_up(io);
  stop.async_wait([&](std::error_code, int) {
    stopping = true;
    if (account.valid() && uas.remove_account(account) == ua::call_error::ok) {
      give_up.expires_after(std::chrono::seconds(2));  // the registrar may be gone already
      give_up.async_wait([&](std::error_code) {
        uas.close();
        io.stop();
      });
      return;
    }
    uas.close();
    io.stop();
  });
  io.run();
  const auto& n = uas.transports().stats();
  std::fprintf(stderr, "uas: incoming=%u confirmed=%u ended=%u open=%zu messages in=%llu out=%llu connections=%llu stun=%llu/%llu\n",
               incoming, confirmed, ended, uas.calls(), static_cast<unsigned long long>(n.messages_in),
               static_cast<unsigned long long>(n.messages_out), static_cast<unsigned long long>(n.connections_accepted),
               static_cast<unsigned long long>(n.stun_answered + n.stun_keepalives_answered),
               static_cast<unsigned long long>(n.stun_keepalives_sent));
  return 0;
}
