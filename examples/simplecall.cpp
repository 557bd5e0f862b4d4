// simplecall: place one call and print what happens to it; the C++
// counterpart of PJSIP's simplecall.py.
//
//   simplecall sip:alice@127.0.0.1:5070 [--duration S] [--local-port P] [--late] [--ca ca.pem]
//              [--register sip:REGISTRAR[;transport=tcp] --user U [--password P]] [--proxy URI]
//              [--header "Name: value"]...
//
// Opens a UDP transport (on port P, or any), calls the URI with an SDP offer
// (--late: without one; the answer then goes in the ACK), prints each call
// state and the last status code, and hangs up on Enter or S seconds after
// the call is confirmed. A re-INVITE, UPDATE or BYE from the peer is answered
// as a UA must (by the session layer). ;transport=tcp|tls|ws|wss in the URI
// (or a sips: URI) calls over that transport; TLS and WSS verify the server's
// certificate against --ca (default: the system's store).
// With --register it first registers <sip:U@REGISTRAR> (the call is placed
// once registered) and unregisters after the call, as a softphone does.
// With --proxy URI every request outside the call goes through that outbound
// proxy (ua::config::outbound_proxy, RFC 3261 §8.1.1.1): the target and the
// registrar may then be named by domain (sip:bob@example.com, sip:example.com).
// --header adds a header line to the INVITE (repeatable; pjsua's msg_data).
// Exit status: 0 when the call was established and ended cleanly, 1 otherwise.
#include <sigwire/sdp/presets.hpp>
#include <sigwire/sip/ua/user_agent.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

using namespace sigwire;
namespace ua = sigwire::sip::ua;

// G.711 and DTMF events on RTP/AVP; no media engine here: port 4002 is only announced.
static sdp::capabilities audio(const std::string& address) { return sdp::presets::plain_audio(address, 4002); }

// The address this host sends from toward `to` (a connected UDP socket sends nothing).
static asio::ip::address local_address_toward(asio::io_context& io, const asio::ip::tcp::endpoint& to) {
  asio::ip::udp::socket probe(io);
  std::error_code ec;
  probe.connect({to.address(), to.port()}, ec);
  return ec ? to.address() : probe.local_endpoint().address();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: simplecall sip:user@host[:port][;transport=tcp|tls|ws|wss] [--duration S] [--local-port P] [--late]\n"
                 "                  [--ca ca.pem] [--register URI --user U [--password P]] [--proxy URI] [--header \"Name: value\"]...\n");
    return 2;
  }
  const std::string target = argv[1];
  int duration = 0;
  unsigned short local_port = 0;
  bool late = false;
  std::string registrar, user = "simplecall", password, proxy;
  std::vector<std::string> header_texts;  // --header "Name: value"
  sip::transport::options transport;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--ca") && i + 1 < argc) transport.tls.ca_file = argv[++i];
    else if (!std::strcmp(argv[i], "--duration") && i + 1 < argc) duration = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--local-port") && i + 1 < argc) local_port = static_cast<unsigned short>(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--late")) late = true;
    else if (!std::strcmp(argv[i], "--register") && i + 1 < argc) registrar = argv[++i];
    else if (!std::strcmp(argv[i], "--user") && i + 1 < argc) user = argv[++i];
    else if (!std::strcmp(argv[i], "--password") && i + 1 < argc) password = argv[++i];
    else if (!std::strcmp(argv[i], "--proxy") && i + 1 < argc) proxy = argv[++i];
    else if (!std::strcmp(argv[i], "--header") && i + 1 < argc) header_texts.emplace_back(argv[++i]);
  }
  std::vector<sip::dialog::header_line> headers;
  for (const std::string& h : header_texts) {
    const std::size_t colon = h.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "simplecall: --header %s: not \"Name: value\"\n", h.c_str());
      return 2;
    }
    const std::string_view line(h);
    headers.push_back({line.substr(0, colon), sigwire::core::ascii::trim(line.substr(colon + 1))});
  }
  const std::string& first_hop = proxy.empty() ? target : proxy;  // where our requests go first
  const ua::next_hop hop = ua::resolve(first_hop);
  if (!hop.error.empty()) {
    std::fprintf(stderr, "simplecall: %s: %s\n", first_hop.c_str(), std::string(hop.error).c_str());
    return 2;
  }
  asio::io_context io;
  const asio::ip::address local = local_address_toward(io, hop.endpoint);
  bool established = false, hung_up = false, clean = false;
  ua::call_id call;
  asio::steady_timer hangup_timer(io);
  asio::posix::stream_descriptor input(io, ::dup(STDIN_FILENO));
  std::string line(256, '\0');

  // Our address-of-record's domain: the registrar's host ("[::1]" for IPv6), or this host.
  const auto registrar_uri = sip::parse_uri(registrar, false);
  const std::string domain = registrar_uri ? std::string(registrar_uri->host)
                             : local.is_v6()  ? "[" + local.to_string() + "]"
                                              : local.to_string();
  std::unique_ptr<ua::user_agent> owned;
  try {  // the CA file is loaded here
    owned = std::make_unique<ua::user_agent>(
        io,
        ua::config{.from = "<sip:" + user + "@" + domain + ">", .media = audio(local.to_string()), .transport = transport,
                   .outbound_proxy = proxy},
        ua::callbacks{});
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "simplecall: cannot load the CA file: %s\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "simplecall: --proxy %s: %s\n", proxy.c_str(), e.what());
    return 2;
  }
  ua::user_agent& agent = *owned;
  ua::registration_id account;
  const auto hangup = [&] {
    if (hung_up) return;
    hung_up = true;
    std::printf("hanging up\n");
    agent.hangup(call);
  };
  ua::callbacks cb;
  cb.on_call_state = [&](ua::call_id, ua::call_state s, int status, std::string_view reason) {
    if (status == 0) std::printf("call state: %s\n", std::string(sip::dialog::text(s)).c_str());
    else std::printf("call state: %s (last status %d %.*s)\n", std::string(sip::dialog::text(s)).c_str(), status,
                     static_cast<int>(reason.size()), reason.data());
    std::fflush(stdout);
    if (s == ua::call_state::confirmed && !established) {
      established = true;
      if (duration > 0) {
        hangup_timer.expires_after(std::chrono::seconds(duration));
        hangup_timer.async_wait([&](std::error_code ec) {
          if (!ec) hangup();
        });
      }
    }
    if (s == ua::call_state::disconnected) {
      clean = established && status >= 200 && status < 300;  // our BYE answered 200, or the peer's BYE
      input.close();
      if (account.valid() && agent.remove_account(account) == ua::call_error::ok) return;  // closes when unregistered
      // Close once what is being sent (the 200 to the peer's BYE) has left.
      hangup_timer.expires_after(std::chrono::milliseconds(100));
      hangup_timer.async_wait([&](std::error_code) { agent.close(); });
    }
  };
  cb.on_media = [&](ua::call_id, bool ok) { std::printf("media: %s\n", ok ? "negotiated" : "failed"); };
  bool call_placed = false;
  std::function<bool()> place_call;
  cb.on_registration = [&](ua::registration_id, const sip::dialog::registration_event& e) {
    std::printf("registration: %s (last status %d)\n", std::string(sip::dialog::text(e.state)).c_str(), e.last_status);
    std::fflush(stdout);
    using rs = sip::dialog::registration_state;
    if (e.state == rs::registered && !call_placed && !place_call()) agent.close();
    if (e.state == rs::failed || e.state == rs::unregistered) agent.close();  // no call without it; or done
  };
  agent.set_callbacks(std::move(cb));
  try {
    agent.listen(ua::protocol::udp, {local, local_port});
    if (hop.proto == ua::protocol::tcp || (proxy.empty() && !registrar.empty() && ua::resolve(registrar).proto == ua::protocol::tcp))
      agent.listen(ua::protocol::tcp, {local, 0});
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "simplecall: cannot listen on %s:%u: %s\n", local.to_string().c_str(), local_port, e.what());
    return 2;
  }
  std::printf("calling %s from %s:%u\n", target.c_str(), local.to_string().c_str(), agent.local_endpoint(0).port());
  place_call = [&] {
    call_placed = true;
    const auto placed = agent.make_call(target, late, headers);
    if (!placed)
      std::fprintf(stderr, "simplecall: cannot call: %s %s\n", std::string(sip::dialog::text(placed.error)).c_str(),
                   std::string(placed.why).c_str());
    call = placed.call;
    return bool(placed);
  };
  if (!registrar.empty()) {
    account = agent.add_account(registrar, "<sip:" + user + "@" + domain + ">",
                                {{.realm = "", .username = user, .password = password}});
    if (!account.valid()) {
      std::fprintf(stderr, "simplecall: cannot register at %s\n", registrar.c_str());
      return 1;
    }
  } else if (!place_call()) {
    return 1;
  }
  // Enter hangs up. End of input (no terminal) only stops listening for it.
  std::function<void()> read_line = [&] {
    input.async_read_some(asio::buffer(line), [&](std::error_code ec, std::size_t) {
      if (ec) return;
      hangup();
      read_line();
    });
  };
  read_line();
  io.run();
  std::printf("call %s\n", clean ? "ended cleanly" : "failed");
  return clean ? 0 : 1;
}
