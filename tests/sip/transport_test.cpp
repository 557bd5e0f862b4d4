// SIP transports (sip/transport): the Via stamp of RFC 3261 §18.2.1 / RFC 3581
// on raw bytes, and the Asio hub over UDP, TCP, TLS, WS and WSS on the
// loopback with raw sockets, TLS streams and WebSocket clients as the peer:
// framing, keep-alive pings, framing errors, transport errors reported with
// their transaction, idle and handshake timeouts, the flow limit, the sip
// subprotocol (RFC 7118), certificate verification.
#include <sigwire/sip/transport/hub.hpp>
#include <sigwire/stun/message.hpp>

#include <doctest/doctest.h>

#include "../support/test_cert.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sip = sigwire::sip;
namespace transport = sigwire::sip::transport;
namespace tx = sigwire::sip::transaction;
namespace stun = sigwire::stun;
using namespace std::chrono_literals;

namespace {

std::string request(std::string_view via, std::string_view body = {}) {
  return "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n" + std::string(via) +
         "\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\n"
         "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string stamped(std::string m, std::string_view address = "192.0.2.4", unsigned port = 5062) {
  transport::stamp_received(m, address, port);
  return m;
}

}  // namespace

TEST_CASE("rfc3581 §4 example: rport filled and received added") {
  // RFC 3581 §4: "Via: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff"
  // from 192.0.2.1:9988 becomes ";received=192.0.2.1;rport=9988".
  const std::string out = stamped(request("Via: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff"), "192.0.2.1", 9988);
  CHECK(out.find("Via: SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;received=192.0.2.1\r\n") !=
        std::string::npos);
}

TEST_CASE("rfc3261 §18.2.1: received only when the sent-by host is not the source") {
  const std::string same = request("Via: SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bK1");
  CHECK(stamped(same) == same);
  CHECK(stamped(request("Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1"))
            .find("Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK1;received=192.0.2.4\r\n") != std::string::npos);
  // rport with a value already, received already: nothing to add
  const std::string done = request("Via: SIP/2.0/UDP 10.0.0.1;received=192.0.2.4;rport=5062;branch=z9hG4bK1");
  CHECK(stamped(done) == done);
}

TEST_CASE("the top Via only: compact form, several values, quoted commas, responses left alone") {
  CHECK(stamped(request("v: SIP/2.0/UDP 10.0.0.1 ;rport;branch=z9hG4bK1 , SIP/2.0/UDP 10.0.0.2;rport"))
            .find("v: SIP/2.0/UDP 10.0.0.1 ;rport=5062;branch=z9hG4bK1;received=192.0.2.4 , SIP/2.0/UDP 10.0.0.2;rport\r\n") !=
        std::string::npos);
  CHECK(stamped(request("Via: SIP/2.0/UDP 10.0.0.1;x=\"a,b\";branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.2"))
            .find(";x=\"a,b\";branch=z9hG4bK1;received=192.0.2.4, SIP/2.0/UDP 10.0.0.2\r\n") != std::string::npos);
  CHECK(stamped(request("Via: [2001:db8::1]:5060;branch=z9hG4bK1")).find("received") != std::string::npos);
  CHECK(stamped(request("Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1"), "2001:db8::1", 5060).find("received") ==
        std::string::npos);
  const std::string response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bK1\r\n\r\n";
  CHECK(stamped(response) == response);
  const std::string no_via = "OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n";
  CHECK(stamped(no_via) == no_via);
  const std::string via_in_body = "OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\nVia: SIP/2.0/UDP 10.0.0.1;rport\r\n";
  CHECK(stamped(via_in_body) == via_in_body);
}

// --- the hub on the loopback ----------------------------------------------------------
namespace {

struct received {
  std::string bytes;
  tx::peer from;
};

struct fixture {
  asio::io_context io;
  std::vector<received> in;
  std::vector<tx::tsx_id> failed;
  std::vector<tx::peer> failed_flows;
  transport::hub net;
  explicit fixture(transport::options o = {})
      : net(io,
            {.on_message = [this](std::string b, tx::peer p) { in.push_back({std::move(b), p}); },
             .on_send_failed = [this](tx::tsx_id t) { failed.push_back(t); },
             .on_flow_failed = [this](tx::peer p) { failed_flows.push_back(p); }},
            std::move(o)) {}

  // A TCP client connected to listener `l`.
  asio::ip::tcp::socket client_of(std::size_t l) {
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), net.local_endpoint(l).port()});
    return s;
  }

  // Runs the loop until `done` or 5 s (a bound for a broken test, never a measurement).
  template <class F>
  bool run_until(F done) {
    const auto end = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < end) {
      io.restart();
      io.run_for(10ms);
    }
    return done();
  }
};

const asio::ip::address loopback = asio::ip::make_address("127.0.0.1");

}  // namespace

// Every UDP test runs both receive paths: recvmmsg/sendmmsg batches (Linux)
// and Asio's one datagram per call (options::udp_batch = 1, every platform).
static transport::options udp_path(std::size_t batch) {
  transport::options o;
  o.udp_batch = batch;
  return o;
}

TEST_CASE("hub: UDP request in with received/rport, response out to the source") {
  std::size_t batch = 16;
  SUBCASE("in batches") { batch = 16; }
  SUBCASE("one datagram per call") { batch = 1; }
  fixture f(udp_path(batch));
  const std::size_t l = f.net.listen(transport::protocol::udp, {loopback, 0});
  asio::ip::udp::socket peer(f.io, {loopback, 0});
  const unsigned peer_port = peer.local_endpoint().port();
  peer.send_to(asio::buffer(request("Via: SIP/2.0/UDP 10.9.9.9:5060;rport;branch=z9hG4bK1")),
               {loopback, f.net.local_endpoint(l).port()});
  REQUIRE(f.run_until([&] { return !f.in.empty(); }));
  CHECK(f.in[0].bytes.find(";rport=" + std::to_string(peer_port) + ";branch=z9hG4bK1;received=127.0.0.1\r\n") !=
        std::string::npos);
  CHECK_FALSE(f.in[0].from.reliable);
  CHECK(f.net.via_for(f.in[0].from) == "SIP/2.0/UDP 127.0.0.1:" + std::to_string(f.net.local_endpoint(l).port()) + ";rport");
  CHECK(f.net.remote_of(f.in[0].from).port() == peer_port);

  f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\n\r\n"));
  std::string got(100, '\0');
  asio::ip::udp::endpoint from;
  got.resize(peer.receive_from(asio::buffer(got), from));
  CHECK(got == "SIP/2.0 200 OK\r\n\r\n");
  // A keep-alive datagram is no message; the same source is the same flow.
  peer.send_to(asio::buffer(std::string("\r\n\r\n")), {loopback, f.net.local_endpoint(l).port()});
  peer.send_to(asio::buffer(request("Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK2")), {loopback, f.net.local_endpoint(l).port()});
  REQUIRE(f.run_until([&] { return f.in.size() == 2; }));
  CHECK(f.in[1].from == f.in[0].from);
  CHECK(f.net.flows() == 0);  // UDP over IPv4: the peer id holds the address, no table entry per source
}

TEST_CASE("hub: UDP over IPv6 (::1), a flow per source in the table") {
  std::size_t batch = 16;
  SUBCASE("in batches") { batch = 16; }
  SUBCASE("one datagram per call") { batch = 1; }
  fixture f(udp_path(batch));
  const auto v6 = asio::ip::make_address("::1");
  const std::size_t l = f.net.listen(transport::protocol::udp, {v6, 0});
  asio::ip::udp::socket peer(f.io, {v6, 0});
  peer.send_to(asio::buffer(request("Via: SIP/2.0/UDP [::1]:5060;rport;branch=z9hG4bK1")), {v6, f.net.local_endpoint(l).port()});
  REQUIRE(f.run_until([&] { return !f.in.empty(); }));
  CHECK(f.in[0].bytes.find(";rport=" + std::to_string(peer.local_endpoint().port()) + ";branch=z9hG4bK1;received=::1\r\n") !=
        std::string::npos);
  CHECK(f.net.flows() == 1);
  CHECK(f.net.via_for(f.in[0].from).starts_with("SIP/2.0/UDP [::1]:"));
  f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\n\r\n"));
  std::string got(100, '\0');
  asio::ip::udp::endpoint from;
  got.resize(peer.receive_from(asio::buffer(got), from));
  CHECK(got == "SIP/2.0 200 OK\r\n\r\n");
}

// A burst larger than several batches, from three sources, each request
// answered from the handler (the answers of a batch leave in one sendmmsg):
// every one arrives, in order per source; a send that fails inside a batch
// (a destination port 0: EINVAL) is reported with its transaction and the
// datagrams queued after it still leave.
TEST_CASE("hub: UDP bursts: every datagram taken and answered in order, a failed send inside a batch reported alone") {
  transport::options o;
  o.udp_batch = 4;  // 100 datagrams: 25 batches, a full queue handed back to the loop every 4
  SUBCASE("at once") {}
  SUBCASE("one datagram per call") { o.udp_batch = 1; }
  asio::io_context io;
  std::vector<std::string> in;
  std::vector<tx::tsx_id> failed;
  std::unique_ptr<transport::hub> net;
  net = std::make_unique<transport::hub>(
      io,
      transport::handlers{.on_message =
                              [&](std::string bytes, tx::peer from) {
                                in.push_back(bytes);
                                const auto n = static_cast<std::uint32_t>(in.size());
                                if (n % 10 == 0) net->send(net->peer_for(transport::protocol::udp, {loopback, 0}), tx::share("x"), {n, 7});
                                net->send(from, tx::share("SIP/2.0 200 OK\r\nX-N: " + std::to_string(n) + "\r\n\r\n"), {n, 1});
                              },
                          .on_send_failed = [&](tx::tsx_id t) { failed.push_back(t); }},
      o);
  const std::size_t l = net->listen(transport::protocol::udp, {loopback, 0});
  const asio::ip::udp::endpoint to{loopback, net->local_endpoint(l).port()};
  std::array<asio::ip::udp::socket, 3> peers{asio::ip::udp::socket(io, {loopback, 0}), asio::ip::udp::socket(io, {loopback, 0}),
                                             asio::ip::udp::socket(io, {loopback, 0})};
  for (int i = 0; i < 100; ++i)  // sent before the loop runs: they wait in the socket's queue together
    peers[i % 3].send_to(asio::buffer(request("Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK" + std::to_string(i))), to);
  const auto end = std::chrono::steady_clock::now() + 5s;  // a bound for a broken test, never a measurement
  while (in.size() < 100 && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(10ms);
  }
  REQUIRE(in.size() == 100);
  for (int i = 0; i < 100; ++i)
    CHECK(in[i].find(";branch=z9hG4bK" + std::to_string(i) + "\r\n") != std::string::npos);
  // Ten sends to port 0 failed, each reported with its own transaction; no answer did.
  REQUIRE(failed.size() == 10);
  for (std::uint32_t k = 0; k < 10; ++k) CHECK(failed[k] == tx::tsx_id{10 * (k + 1), 7});
  CHECK(net->stats().send_failures == 10);
  // Each source got its answers, in the order its requests were taken.
  for (auto& peer : peers) {
    peer.non_blocking(true);
    int last = 0, answers = 0;
    std::string got(200, '\0');
    asio::ip::udp::endpoint from;
    std::error_code ec;
    for (std::size_t n; (n = peer.receive_from(asio::buffer(got), from, 0, ec)), !ec; ++answers) {
      const int number = std::stoi(got.substr(got.find("X-N: ") + 5, n));
      CHECK(number > last);
      last = number;
    }
    CHECK(answers >= 33);
  }
}

// One user agent per thread on one port (docs/sip-transport.md, "Threads"):
// with options::reuse_port two hubs bind the same UDP and TCP port; the
// kernel gives each UDP source, and each TCP connection, to one of them.
TEST_CASE("hub: reuse_port: two hubs on one UDP and TCP port share the sources, each source sticks to one; without it the bind fails") {
  transport::options sharing;
  sharing.reuse_port = true;
  fixture a(sharing), b(sharing);
  const unsigned short port = a.net.local_endpoint(a.net.listen_udp_and_tcp({loopback, 0})).port();
  b.net.listen_udp_and_tcp({loopback, port});
  const auto run_both = [&](auto done) {
    const auto end = std::chrono::steady_clock::now() + 5s;  // a bound for a broken test, never a measurement
    while (!done() && std::chrono::steady_clock::now() < end)
      for (fixture* f : {&a, &b}) {
        f->io.restart();
        f->io.run_for(5ms);
      }
    return done();
  };
  asio::io_context io;
  std::vector<asio::ip::udp::socket> sources;
  for (int i = 0; i < 20; ++i) {
    sources.emplace_back(io, asio::ip::udp::endpoint{loopback, 0});
    for (int k = 0; k < 2; ++k)
      sources.back().send_to(asio::buffer(request("Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK" + std::to_string(2 * i + k))),
                             {loopback, port});
  }
  REQUIRE(run_both([&] { return a.in.size() + b.in.size() == 40; }));
  CHECK_FALSE(a.in.empty());  // shared: all 20 sources hashed to one socket has odds of 1 in 2^19
  CHECK_FALSE(b.in.empty());
  // Every source's two requests went to the same hub.
  std::vector<int> hub_of(65536, -1);
  for (const fixture* f : {&a, &b})
    for (const received& r : f->in) {
      const unsigned source = f->net.remote_of(r.from).port();
      const int which = f == &a ? 0 : 1;
      CHECK((hub_of[source] == -1 || hub_of[source] == which));
      hub_of[source] = which;
    }
  std::vector<asio::ip::tcp::socket> clients;
  for (int i = 0; i < 10; ++i) {
    clients.emplace_back(io);
    clients.back().connect({loopback, port});
  }
  REQUIRE(run_both([&] { return a.net.connections() + b.net.connections() == 10; }));

  fixture alone;  // without reuse_port the port is taken
  CHECK_THROWS_AS(alone.net.listen(transport::protocol::udp, {loopback, port}), std::system_error);
  CHECK_THROWS_AS(alone.net.listen(transport::protocol::tcp, {loopback, port}), std::system_error);
}

TEST_CASE("hub: listeners on 0.0.0.0 never say 0.0.0.0 in Via or Contact") {
  fixture f;
  const asio::ip::tcp::endpoint any{asio::ip::address_v4::any(), 0};
  const std::size_t u = f.net.listen(transport::protocol::udp, any);
  const std::size_t t = f.net.listen(transport::protocol::tcp, any);
  asio::ip::udp::socket udp_peer(f.io, {loopback, 0});
  udp_peer.send_to(asio::buffer(request("Via: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK1")), {loopback, f.net.local_endpoint(u).port()});
  asio::ip::tcp::socket tcp_peer = f.client_of(t);
  asio::write(tcp_peer, asio::buffer(request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK2")));
  REQUIRE(f.run_until([&] { return f.in.size() == 2; }));
  for (const received& r : f.in) {
    const std::string via(f.net.via_for(r.from)), contact(f.net.contact_for(r.from));
    CAPTURE(via);
    CAPTURE(contact);
    CHECK(via.find("0.0.0.0") == std::string::npos);
    CHECK(contact.find("0.0.0.0") == std::string::npos);
    const unsigned port = f.net.local_endpoint(r.from.reliable ? t : u).port();
    CHECK(via.find(":" + std::to_string(port)) != std::string::npos);
  }
  // the connection says the address it was reached at
  const tx::peer over_tcp = f.in[0].from.reliable ? f.in[0].from : f.in[1].from;
  CHECK(f.net.via_for(over_tcp) == "SIP/2.0/TCP 127.0.0.1:" + std::to_string(f.net.local_endpoint(t).port()));
}

TEST_CASE("hub: TCP framing by Content-Length, split and joined messages, pings answered") {
  fixture f;
  const std::size_t l = f.net.listen(transport::protocol::tcp, {loopback, 0});
  asio::ip::tcp::socket peer = f.client_of(l);
  const std::string one = request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1", "hello");
  const std::string two = request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK2", "world!");
  const std::string stream = "\r\n\r\n" + one + two;
  // byte by byte for the first part, then the rest at once
  for (std::size_t i = 0; i < 40; ++i) {
    asio::write(peer, asio::buffer(stream.data() + i, 1));
    f.io.restart();
    f.io.poll();
  }
  asio::write(peer, asio::buffer(stream.substr(40)));
  REQUIRE(f.run_until([&] { return f.in.size() == 2; }));
  CHECK(f.in[0].bytes.ends_with("\r\n\r\nhello"));
  CHECK(f.in[1].bytes.ends_with("\r\n\r\nworld!"));
  CHECK(f.in[0].from == f.in[1].from);
  CHECK(f.in[0].from.reliable);
  CHECK(f.net.contact_for(f.in[0].from).ends_with(";transport=tcp"));
  std::string pong(2, '\0');
  REQUIRE(f.run_until([&] { return peer.available() >= 2; }));
  asio::read(peer, asio::buffer(pong));
  CHECK(pong == "\r\n");  // RFC 5626 §3.5.1: CRLFCRLF ping, CRLF pong
  CHECK(f.net.stats().pings_answered == 1);
  // a response on the same connection
  f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  std::string resp(std::string_view("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n").size(), '\0');
  f.run_until([&] { return peer.available() >= resp.size(); });
  asio::read(peer, asio::buffer(resp));
  CHECK(resp == "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("hub: a framing error closes the connection; later sends on it fail with their transaction") {
  fixture f;
  const std::size_t l = f.net.listen(transport::protocol::tcp, {loopback, 0});
  asio::ip::tcp::socket peer = f.client_of(l);
  asio::write(peer, asio::buffer(request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1")));
  REQUIRE(f.run_until([&] { return f.in.size() == 1; }));
  asio::write(peer, asio::buffer(std::string("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n")));
  REQUIRE(f.run_until([&] { return f.net.connections() == 0; }));
  CHECK(f.net.stats().framing_errors == 1);
  CHECK(f.failed_flows == std::vector<tx::peer>{f.in[0].from});
  std::error_code ec;
  char c;
  peer.read_some(asio::buffer(&c, 1), ec);
  CHECK(ec == asio::error::eof);
  f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\n\r\n"), {7, 1});
  REQUIRE(f.failed.size() == 1);
  CHECK(f.failed[0] == tx::tsx_id{7, 1});
  CHECK(f.net.flows() == 0);  // the connection's flow is freed
}

TEST_CASE("hub: a connection we open that is refused reports every queued send") {
  fixture f;
  f.net.listen(transport::protocol::udp, {loopback, 0});
  asio::ip::tcp::acceptor closed(f.io, {loopback, 0});
  const unsigned short port = closed.local_endpoint().port();
  closed.close();  // nobody listens there now
  const tx::peer p = f.net.peer_for(transport::protocol::tcp, {loopback, port});
  REQUIRE(p.id != 0);
  CHECK(p.reliable);
  CHECK(f.net.via_for(p).starts_with("SIP/2.0/TCP 127.0.0.1:"));
  f.net.send(p, tx::share("INVITE"), {1, 1});
  f.net.send(p, tx::share("BYE"), {2, 1});
  REQUIRE(f.run_until([&] { return f.failed.size() == 2; }));
  CHECK(f.failed[0] == tx::tsx_id{1, 1});
  CHECK(f.failed[1] == tx::tsx_id{2, 1});
  CHECK(f.net.connections() == 0);
}

TEST_CASE("hub: an outgoing connection is reused by target and carries the answers back") {
  fixture f;
  asio::ip::tcp::acceptor server(f.io, {loopback, 0});
  const asio::ip::tcp::endpoint target{loopback, server.local_endpoint().port()};
  const tx::peer p = f.net.peer_for(transport::protocol::tcp, target);
  CHECK(f.net.peer_for(transport::protocol::tcp, target) == p);
  f.net.send(p, tx::share(request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1")));
  asio::ip::tcp::socket accepted = server.accept();
  asio::write(accepted, asio::buffer(std::string("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1\r\n"
                                                 "Content-Length: 0\r\n\r\n")));
  REQUIRE(f.run_until([&] { return f.in.size() == 1; }));
  CHECK(f.in[0].from == p);
  CHECK(f.in[0].bytes.starts_with("SIP/2.0 200 OK"));
}

TEST_CASE("hub: a connection the peer closes after our request reports its flow as failed") {
  fixture f;
  asio::ip::tcp::acceptor server(f.io, {loopback, 0});
  const tx::peer p = f.net.peer_for(transport::protocol::tcp, {loopback, server.local_endpoint().port()});
  const std::string invite = request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1");
  f.net.send(p, tx::share(invite), {3, 1});
  asio::ip::tcp::socket accepted = server.accept();
  REQUIRE(f.run_until([&] { return accepted.available() >= invite.size(); }));  // the hub writes only as it runs
  std::string got(invite.size(), '\0');
  asio::read(accepted, asio::buffer(got));
  CHECK(got == invite);
  accepted.close();  // no answer will come on this connection
  REQUIRE(f.run_until([&] { return !f.failed_flows.empty(); }));
  CHECK(f.failed_flows == std::vector<tx::peer>{p});
  CHECK(f.failed.empty());  // the request left: no send failed
  CHECK(f.net.connections() == 0);
  CHECK(f.net.flows() == 0);
}

TEST_CASE("hub: idle connections are closed; the flow limit refuses new sources") {
  transport::options o;
  o.idle_timeout = 1s;
  o.max_flows = 1;
  fixture f(o);
  const std::size_t l = f.net.listen(transport::protocol::tcp, {loopback, 0});
  asio::ip::tcp::socket first = f.client_of(l);
  REQUIRE(f.run_until([&] { return f.net.connections() == 1; }));
  asio::ip::tcp::socket second = f.client_of(l);  // over the limit: accepted and closed at once
  REQUIRE(f.run_until([&] { return f.net.stats().refused_flows == 1; }));
  char c;
  std::error_code ec;
  second.read_some(asio::buffer(&c, 1), ec);
  CHECK(ec == asio::error::eof);
  // nothing on `first` for a second or more: closed by the sweep
  REQUIRE(f.run_until([&] { return f.net.connections() == 0; }));
  first.read_some(asio::buffer(&c, 1), ec);
  CHECK(ec == asio::error::eof);
  CHECK(f.net.stats().connections_closed == 1);
  CHECK(f.failed_flows.empty());  // closed by our choice, not failed
}

TEST_CASE("hub: rfc5626 §4.4.1: a client's CRLFCRLF pings keep the connection it opened from the idle timeout") {
  transport::options o;
  o.idle_timeout = 1s;
  fixture f(o);
  const std::size_t l = f.net.listen(transport::protocol::tcp, {loopback, 0});
  asio::ip::tcp::socket pinging = f.client_of(l), silent = f.client_of(l);
  REQUIRE(f.run_until([&] { return f.net.connections() == 2; }));
  const auto started = std::chrono::steady_clock::now();
  std::size_t pongs = 0;
  while (std::chrono::steady_clock::now() - started < 2500ms) {  // 2.5 idle timeouts, a ping every 400 ms
    asio::write(pinging, asio::buffer(std::string_view("\r\n\r\n")));
    const std::size_t before = f.net.stats().pings_answered;
    REQUIRE(f.run_until([&] { return f.net.stats().pings_answered > before; }));
    char pong[2];
    asio::read(pinging, asio::buffer(pong));
    pongs += std::string_view(pong, 2) == "\r\n";
    const auto next = std::chrono::steady_clock::now() + 400ms;
    f.run_until([&] { return std::chrono::steady_clock::now() >= next; });
  }
  CHECK(pongs >= 5);
  CHECK(f.net.connections() == 1);  // the silent one is gone, the pinging one stays
  char c;
  std::error_code ec;
  silent.read_some(asio::buffer(&c, 1), ec);
  CHECK(ec == asio::error::eof);
  // Pings stop: the idle timeout closes it too.
  REQUIRE(f.run_until([&] { return f.net.connections() == 0; }));
}

TEST_CASE("hub: a peer that stops reading is closed when its send queue passes the limit; the rest go on") {
  transport::options o;
  o.max_send_queue = 256 * 1024;
  fixture f(o);
  const std::size_t l = f.net.listen(transport::protocol::tcp, {loopback, 0});
  asio::ip::tcp::socket sleeper(f.io);
  sleeper.open(asio::ip::tcp::v4());
  sleeper.set_option(asio::socket_base::receive_buffer_size(4096));
  sleeper.connect({loopback, f.net.local_endpoint(l).port()});
  asio::write(sleeper, asio::buffer(request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1")));
  REQUIRE(f.run_until([&] { return f.in.size() == 1; }));
  const auto big = tx::share("SIP/2.0 200 OK\r\nContent-Length: 60000\r\n\r\n" + std::string(60000, 'x'));
  // The kernel's buffers take some; then the queue grows to the limit and the connection is closed.
  for (std::uint32_t i = 0; i < 400 && f.net.connections() == 1; ++i) {
    f.net.send(f.in[0].from, big, {i, 1});
    f.io.restart();
    f.io.poll();
  }
  CHECK(f.net.stats().slow_peers == 1);
  CHECK(f.net.connections() == 0);
  CHECK_FALSE(f.failed.empty());  // every message it never took is a transport error
  // another client is served as before
  asio::ip::tcp::socket other = f.client_of(l);
  asio::write(other, asio::buffer(request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK2")));
  REQUIRE(f.run_until([&] { return f.in.size() == 2; }));
}

TEST_CASE("hub: 5 rounds of 200 connections that send a message and close: the flow table returns to empty") {
  fixture f;
  const std::size_t l = f.net.listen(transport::protocol::tcp, {loopback, 0});
  const std::string m = request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1");
  for (int round = 0; round < 5; ++round) {
    std::vector<asio::ip::tcp::socket> clients;
    for (int i = 0; i < 200; ++i) {
      clients.push_back(f.client_of(l));
      asio::write(clients.back(), asio::buffer(m));
    }
    REQUIRE(f.run_until([&] { return f.in.size() == static_cast<std::size_t>(200 * (round + 1)); }));
    CHECK(f.net.connections() == 200);
    clients.clear();  // closed by the peers
    REQUIRE(f.run_until([&] { return f.net.connections() == 0; }));
    CHECK(f.net.flows() == 0);
  }
  CHECK(f.net.stats().connections_closed == 1000);
}

// --- TLS, WS and WSS -------------------------------------------------------------------
namespace {

using ws_client = sigwire::ws::stream<asio::ip::tcp::socket>;

// A WebSocket client (our stream, speaking as a browser would) connected to
// listener `l` and through its handshake, offering `subprotocols`.
// A listener's certificate for 127.0.0.1 and a client context that trusts it.
struct test_tls {
  std::filesystem::path dir;
  transport::options options;
  asio::ssl::context client{asio::ssl::context::tls_client};
  explicit test_tls(const char* name) : dir(sigwire::test::make_test_cert(name, "IP:127.0.0.1")) {
    options.tls.certificate_chain_file = (dir / "cert.pem").string();
    options.tls.private_key_file = (dir / "key.pem").string();
    client.load_verify_file((dir / "cert.pem").string());
  }
};

// An open socket for a client: moving one never opened trips GCC 12's
// -Wmaybe-uninitialized inside Asio at -O3 (a false positive).
asio::ip::tcp::socket open_socket(asio::io_context& io) {
  asio::ip::tcp::socket s(io);
  s.open(asio::ip::tcp::v4());
  return s;
}

std::error_code ws_connect(fixture& f, ws_client& c, std::size_t l, std::vector<std::string> subprotocols) {
  c.next_layer().connect({loopback, f.net.local_endpoint(l).port()});
  sigwire::ws::client_options o;
  o.host = "127.0.0.1";
  o.subprotocols = std::move(subprotocols);
  std::optional<std::error_code> result;
  c.async_handshake(std::move(o), [&](std::error_code ec) { result = ec; });
  REQUIRE(f.run_until([&] { return result.has_value(); }));
  return *result;
}

}  // namespace

TEST_CASE("hub: WS (RFC 7118): subprotocol sip, one SIP message per WebSocket message, answers on the same connection") {
  fixture f;
  const std::size_t l = f.net.listen(transport::protocol::ws, {loopback, 0});
  CHECK(f.net.via_for({}).starts_with("SIP/2.0/WS 127.0.0.1:"));
  ws_client c(open_socket(f.io));
  REQUIRE_FALSE(ws_connect(f, c, l, {"sip"}));
  CHECK(c.subprotocol() == "sip");
  // RFC 7118 §5.2: a browser's Via names an .invalid host; the hub adds received.
  const std::string one = request("Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1", "hello");
  c.send_text(one);
  c.send_text("\r\n\r\n");  // line ends only: not a SIP message, dropped
  c.send_binary(request("Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK2"));
  REQUIRE(f.run_until([&] { return f.in.size() == 2; }));
  CHECK(f.in[0].bytes.find("Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1;received=127.0.0.1\r\n") != std::string::npos);
  CHECK(f.in[0].bytes.ends_with("\r\n\r\nhello"));
  CHECK(f.in[0].from == f.in[1].from);
  CHECK(f.in[0].from.reliable);
  CHECK(f.net.protocol_of(f.in[0].from) == transport::protocol::ws);
  CHECK(f.net.contact_for(f.in[0].from).ends_with(";transport=ws"));
  // the response (and a request to the .invalid Contact) go back on this connection
  f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  std::string got;
  std::optional<std::error_code> read;
  c.async_read(got, [&](std::error_code ec, sigwire::ws::message_type t) {
    read = ec;
    CHECK(t == sigwire::ws::message_type::text);
  });
  REQUIRE(f.run_until([&] { return read.has_value(); }));
  CHECK_FALSE(*read);
  CHECK(got == "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("hub: WS: a client without the sip subprotocol is refused; one that sends nothing is closed after the handshake timeout") {
  transport::options o;
  o.handshake_timeout = 1s;
  fixture f(o);
  const std::size_t l = f.net.listen(transport::protocol::ws, {loopback, 0});
  ws_client plain(open_socket(f.io));
  CHECK(ws_connect(f, plain, l, {"chat"}));  // RFC 7118 §4: the server requires sip (400)
  REQUIRE(f.run_until([&] { return f.net.connections() == 0; }));
  CHECK(f.in.empty());

  asio::ip::tcp::socket silent = f.client_of(l);
  REQUIRE(f.run_until([&] { return f.net.connections() == 1; }));
  REQUIRE(f.run_until([&] { return f.net.connections() == 0; }));  // within the 5 s bound: 1 s deadline, 1 s sweep
  CHECK(f.net.flows() == 0);
  CHECK(f.net.stats().handshake_failures == 2);
}

TEST_CASE("hub: TLS: framing over the secure stream, answers back; a TLS or WSS listener needs a certificate") {
  test_tls tls("hub");
  fixture f(tls.options);
  const std::size_t l = f.net.listen(transport::protocol::tls, {loopback, 0});
  asio::ssl::stream<asio::ip::tcp::socket> peer(f.io, tls.client);
  peer.set_verify_mode(asio::ssl::verify_peer);
  peer.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  peer.lowest_layer().connect({loopback, f.net.local_endpoint(l).port()});
  std::optional<std::error_code> shook;
  peer.async_handshake(asio::ssl::stream_base::client, [&](std::error_code ec) { shook = ec; });
  REQUIRE(f.run_until([&] { return shook.has_value(); }));
  REQUIRE_FALSE(*shook);
  const std::string two = request("Via: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK1", "one") +
                          request("Via: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK2", "two");
  asio::async_write(peer, asio::buffer(two), [](std::error_code, std::size_t) {});
  REQUIRE(f.run_until([&] { return f.in.size() == 2; }));
  CHECK(f.in[1].bytes.ends_with("\r\n\r\ntwo"));
  CHECK(f.net.contact_for(f.in[0].from).ends_with(";transport=tls"));
  f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  std::string resp(std::string_view("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n").size(), '\0');
  std::optional<std::error_code> read;
  asio::async_read(peer, asio::buffer(resp), [&](std::error_code ec, std::size_t) { read = ec; });
  REQUIRE(f.run_until([&] { return read.has_value(); }));
  CHECK_FALSE(*read);
  CHECK(resp == "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");

  fixture no_cert;
  CHECK_THROWS_AS(no_cert.net.listen(transport::protocol::tls, {loopback, 0}), std::invalid_argument);
  CHECK_THROWS_AS(no_cert.net.listen(transport::protocol::wss, {loopback, 0}), std::invalid_argument);
}

TEST_CASE("hub: TLS: a connection closed in good order says so with close_notify (RFC 8446 §6.1)") {
  test_tls tls("hubclose");
  fixture f(tls.options);
  const std::size_t l = f.net.listen(transport::protocol::tls, {loopback, 0});
  using tls_client = asio::ssl::stream<asio::ip::tcp::socket>;
  // A client through its handshake whose first request has reached the hub.
  const auto connected = [&](tls_client& peer) {
    peer.lowest_layer().connect({loopback, f.net.local_endpoint(l).port()});
    std::optional<std::error_code> shook;
    peer.async_handshake(asio::ssl::stream_base::client, [&](std::error_code ec) { shook = ec; });
    REQUIRE(f.run_until([&] { return shook.has_value(); }));
    REQUIRE_FALSE(*shook);
    const std::size_t before = f.in.size();
    static const std::string hello = request("Via: SIP/2.0/TLS 127.0.0.1:1;branch=z9hG4bK1");
    asio::async_write(peer, asio::buffer(hello), [](std::error_code, std::size_t) {});
    REQUIRE(f.run_until([&] { return f.in.size() == before + 1; }));
  };

  SUBCASE("the peer closes first: its shutdown completes because ours answers it") {
    tls_client peer(f.io, tls.client);
    connected(peer);
    std::optional<std::error_code> shut;
    peer.async_shutdown([&](std::error_code ec) { shut = ec; });
    REQUIRE(f.run_until([&] { return shut.has_value(); }));
    CHECK_FALSE(*shut);  // without our close_notify: stream_truncated
    CHECK(f.run_until([&] { return f.net.connections() == 0; }));
  }
  SUBCASE("the hub closes: the peer reads a clean end, and the socket closes without waiting for its answer") {
    tls_client peer(f.io, tls.client);
    connected(peer);
    f.net.close();
    std::array<char, 64> buffer{};
    std::optional<std::error_code> read;
    peer.async_read_some(asio::buffer(buffer), [&](std::error_code ec, std::size_t) { read = ec; });
    REQUIRE(f.run_until([&] { return read.has_value(); }));
    CHECK(*read == asio::error::eof);  // close_notify; a bare TCP close reads as stream_truncated
    std::optional<std::error_code> raw;  // the hub does not wait for our close_notify
    peer.next_layer().async_read_some(asio::buffer(buffer), [&](std::error_code ec, std::size_t) { raw = ec; });
    REQUIRE(f.run_until([&] { return raw.has_value(); }));
    CHECK(*raw == asio::error::eof);
  }
}

TEST_CASE("hub: WSS: a connection closed in good order does the WebSocket close handshake (RFC 6455 §7.1.2), then close_notify") {
  test_tls tls("hubwssclose");
  fixture f(tls.options);
  const std::size_t l = f.net.listen(transport::protocol::wss, {loopback, 0});
  // A client written out by hand, not our WebSocket stream: TLS, the
  // upgrade, frames masked with a zero key (RFC 6455 §5.3 allows any key).
  asio::ssl::stream<asio::ip::tcp::socket> peer(f.io, tls.client);
  const auto frame = [](unsigned char opcode, std::string_view payload) {  // FIN, masked, up to 65,535 bytes
    std::string out{static_cast<char>(0x80 | opcode)};
    if (payload.size() < 126) {
      out += static_cast<char>(0x80 | payload.size());
    } else {
      out += static_cast<char>(0x80 | 126);
      out += static_cast<char>(payload.size() >> 8);
      out += static_cast<char>(payload.size() & 0xff);
    }
    out.append(4, '\0');  // the masking key
    return out.append(payload);
  };
  const auto write = [&](const std::string& bytes) {
    std::optional<std::error_code> wrote;
    asio::async_write(peer, asio::buffer(bytes), [&](std::error_code ec, std::size_t) { wrote = ec; });
    REQUIRE(f.run_until([&] { return wrote.has_value(); }));
    REQUIRE_FALSE(*wrote);
  };
  const auto read_exactly = [&](std::size_t n) {
    std::string got(n, '\0');
    std::optional<std::error_code> read;
    asio::async_read(peer, asio::buffer(got), [&](std::error_code ec, std::size_t) { read = ec; });
    REQUIRE(f.run_until([&] { return read.has_value(); }));
    REQUIRE_FALSE(*read);
    return got;
  };
  const auto clean_end = [&] {  // close_notify reads as eof; a bare TCP close as stream_truncated
    std::array<char, 16> buffer{};
    std::optional<std::error_code> read;
    peer.async_read_some(asio::buffer(buffer), [&](std::error_code ec, std::size_t) { read = ec; });
    REQUIRE(f.run_until([&] { return read.has_value(); }));
    return *read;
  };
  peer.lowest_layer().connect({loopback, f.net.local_endpoint(l).port()});
  std::optional<std::error_code> shook;
  peer.async_handshake(asio::ssl::stream_base::client, [&](std::error_code ec) { shook = ec; });
  REQUIRE(f.run_until([&] { return shook.has_value(); }));
  REQUIRE_FALSE(*shook);
  write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n");
  std::string head;
  std::optional<std::error_code> upgraded;
  asio::async_read_until(peer, asio::dynamic_buffer(head), "\r\n\r\n", [&](std::error_code ec, std::size_t) { upgraded = ec; });
  REQUIRE(f.run_until([&] { return upgraded.has_value(); }));
  REQUIRE_FALSE(*upgraded);
  REQUIRE(head.starts_with("HTTP/1.1 101"));
  REQUIRE(head.ends_with("\r\n\r\n"));  // nothing after the head yet
  write(frame(0x1, request("Via: SIP/2.0/WSS h.invalid;branch=z9hG4bK1")));
  REQUIRE(f.run_until([&] { return f.in.size() == 1; }));
  CHECK(f.in[0].bytes.starts_with("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"));

  SUBCASE("the hub closes: Close 1001, and after our Close the TLS close_notify") {
    f.net.close();
    CHECK(read_exactly(4) == std::string("\x88\x02\x03\xe9", 4));  // Close, 1001 going away
    write(frame(0x8, std::string("\x03\xe9", 2)));
    CHECK(clean_end() == asio::error::eof);
  }
  SUBCASE("a send after the hub closed fails with its transaction and leaves the close handshake alone") {
    f.net.close();
    f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\n\r\n"), {7, 1});
    CHECK(f.failed == std::vector<tx::tsx_id>{{7, 1}});
    CHECK(f.net.stats().slow_peers == 0);  // not a peer that stopped reading
    CHECK(read_exactly(4) == std::string("\x88\x02\x03\xe9", 4));  // Close, 1001 going away
    write(frame(0x8, std::string("\x03\xe9", 2)));
    CHECK(clean_end() == asio::error::eof);
  }
  SUBCASE("the peer closes: its Close is answered with the same code, then close_notify") {
    write(frame(0x8, std::string("\x03\xe8", 2)));  // 1000
    CHECK(read_exactly(4) == std::string("\x88\x02\x03\xe8", 4));
    CHECK(clean_end() == asio::error::eof);
    CHECK(f.run_until([&] { return f.net.connections() == 0; }));
  }
}

TEST_CASE("hub: WSS and TLS connections we open: verified against the CA, refused when the name does not match") {
  const auto dir = sigwire::test::make_test_cert("hubclient", "IP:127.0.0.1");
  transport::options server_opt;
  server_opt.tls.certificate_chain_file = (dir / "cert.pem").string();
  server_opt.tls.private_key_file = (dir / "key.pem").string();
  fixture f(server_opt);
  const std::size_t wss = f.net.listen(transport::protocol::wss, {loopback, 0});
  const std::size_t tls = f.net.listen(transport::protocol::tls, {loopback, 0});
  transport::options client_opt;
  client_opt.tls.ca_file = (dir / "cert.pem").string();
  std::vector<received> answers;
  std::vector<tx::tsx_id> failed;
  transport::hub client(f.io,
                        {.on_message = [&](std::string b, tx::peer p) { answers.push_back({std::move(b), p}); },
                         .on_send_failed = [&](tx::tsx_id t) { failed.push_back(t); }},
                        client_opt);
  for (const auto& listening : {std::pair{wss, transport::protocol::wss}, std::pair{tls, transport::protocol::tls}}) {
    const std::size_t listener = listening.first;  // (not a structured binding: clang 14 cannot capture one)
    const transport::protocol proto = listening.second;
    CAPTURE(transport::text(proto));
    f.in.clear();
    answers.clear();
    const tx::peer to = client.peer_for(proto, {loopback, f.net.local_endpoint(listener).port()});
    REQUIRE(to.id != 0);
    CHECK(client.via_for(to).starts_with("SIP/2.0/" + std::string(transport::text(proto)) + " 127.0.0.1:"));
    client.send(to, tx::share(request("Via: " + std::string(client.via_for(to)) + ";branch=z9hG4bK1")), {1, 1});
    REQUIRE(f.run_until([&] { return f.in.size() == 1; }));
    f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    REQUIRE(f.run_until([&] { return answers.size() == 1; }));
    CHECK(answers[0].from == to);
    // a name the certificate does not carry: the handshake fails, the send is reported
    const tx::peer wrong = client.peer_for(proto, {loopback, f.net.local_endpoint(listener).port()}, "sip.example.com");
    CHECK(wrong == to);  // the open connection to that address is reused: it was verified already
  }
  CHECK(failed.empty());
  client.close();
  transport::hub strict(f.io, {.on_message = {}, .on_send_failed = [&](tx::tsx_id t) { failed.push_back(t); }}, client_opt);
  const tx::peer wrong = strict.peer_for(transport::protocol::tls, {loopback, f.net.local_endpoint(tls).port()}, "sip.example.com");
  strict.send(wrong, tx::share("OPTIONS"), {2, 1});
  REQUIRE(f.run_until([&] { return failed.size() == 1; }));
  CHECK(failed[0] == tx::tsx_id{2, 1});
  CHECK(strict.stats().handshake_failures == 1);
}

namespace {
// A certificate that is never signed or verified: only what RFC 5922 §7.1 reads from it.
std::unique_ptr<X509, decltype(&X509_free)> certificate(const char* common_name, const char* subject_alt_names) {
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  if (subject_alt_names) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, subject_alt_names);
    REQUIRE(ext != nullptr);
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  return x;
}
using names = std::vector<std::string>;
}  // namespace

TEST_CASE("rfc5922 §7.1: SIP domain identities of a certificate") {
  // sip URIs without userinfo win; with a user, or another scheme (sips too), they are no domain.
  CHECK(transport::sip_domain_identities(certificate("cn.example.com",
          "URI:sip:Example.COM,URI:sip:bob@example.net,URI:sips:secure.example.org,URI:https://example.info,"
          "DNS:dns.example.com,URI:sip:second.example.com;transport=tls").get()) ==
        names{"example.com", "second.example.com"});
  // No such URI: the dNSNames, and never the CN while there is a subjectAltName.
  CHECK(transport::sip_domain_identities(certificate("cn.example.com", "URI:sip:bob@example.net,DNS:a.example.com,DNS:B.example.com").get()) ==
        names{"a.example.com", "b.example.com"});
  CHECK(transport::sip_domain_identities(certificate("cn.example.com", "IP:192.0.2.1").get()).empty());
  // No subjectAltName at all: the CN, when it is a DNS name.
  CHECK(transport::sip_domain_identities(certificate("CN.Example.com", nullptr).get()) == names{"cn.example.com"});
  CHECK(transport::sip_domain_identities(certificate("Example Corporation", nullptr).get()).empty());
  CHECK(transport::sip_domain_identities(nullptr).empty());
}

TEST_CASE("hub: mutual TLS: a listener with verify_client takes a client whose certificate its CA file vouches for, and refuses one without") {
  const auto server_cert = sigwire::test::make_test_cert("mtls_server", "IP:127.0.0.1,DNS:Proxy.Example.ORG");
  const auto client_cert = sigwire::test::make_test_cert(
      "mtls_client", "URI:sip:client.example.com,URI:sip:alice@example.com,DNS:client.example.com");
  transport::options server_opt;
  server_opt.tls.certificate_chain_file = (server_cert / "cert.pem").string();
  server_opt.tls.private_key_file = (server_cert / "key.pem").string();
  server_opt.tls.ca_file = (client_cert / "cert.pem").string();
  server_opt.tls.verify_client = true;
  fixture f(server_opt);
  const std::size_t tls = f.net.listen(transport::protocol::tls, {loopback, 0});
  const std::size_t wss = f.net.listen(transport::protocol::wss, {loopback, 0});

  transport::options with_cert;
  with_cert.tls.certificate_chain_file = (client_cert / "cert.pem").string();
  with_cert.tls.private_key_file = (client_cert / "key.pem").string();
  with_cert.tls.ca_file = (server_cert / "cert.pem").string();
  std::vector<received> answers;
  transport::hub client(f.io, {.on_message = [&](std::string b, tx::peer p) { answers.push_back({std::move(b), p}); }}, with_cert);
  for (const auto& listening : {std::pair{tls, transport::protocol::tls}, std::pair{wss, transport::protocol::wss}}) {
    const std::size_t listener = listening.first;
    const transport::protocol proto = listening.second;
    CAPTURE(transport::text(proto));
    f.in.clear();
    answers.clear();
    const tx::peer to = client.peer_for(proto, {loopback, f.net.local_endpoint(listener).port()});
    client.send(to, tx::share(request("Via: " + std::string(client.via_for(to)) + ";branch=z9hG4bKm1")), {1, 1});
    REQUIRE(f.run_until([&] { return f.in.size() == 1; }));
    // RFC 5922 §7.1: what each side's verified certificate proves (the
    // client's SIP URI without userinfo; the server has no SIP URI: its dNSName).
    CHECK(f.net.verified_identities(f.in[0].from) == std::vector<std::string>{"client.example.com"});
    CHECK(client.verified_identities(to) == std::vector<std::string>{"proxy.example.org"});
    f.net.send(f.in[0].from, tx::share("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    REQUIRE(f.run_until([&] { return answers.size() == 1; }));
  }
  CHECK(f.net.stats().handshake_failures == 0);

  // A client with no certificate (it trusts the server): refused in the handshake, nothing arrives.
  transport::options no_cert;
  no_cert.tls.ca_file = (server_cert / "cert.pem").string();
  transport::hub anonymous(f.io, {}, no_cert);
  f.in.clear();
  const tx::peer to = anonymous.peer_for(transport::protocol::tls, {loopback, f.net.local_endpoint(tls).port()});
  anonymous.send(to, tx::share(request("Via: " + std::string(anonymous.via_for(to)) + ";branch=z9hG4bKm2")), {2, 1});
  REQUIRE(f.run_until([&] { return f.net.stats().handshake_failures == 1; }));
  CHECK(f.in.empty());  // the server never reads past a handshake it refused
  // One whose certificate the server's CA file does not vouch for: refused as well.
  const auto stranger_cert = sigwire::test::make_test_cert("mtls_stranger", "DNS:stranger.example.com");
  transport::options wrong_cert = with_cert;
  wrong_cert.tls.certificate_chain_file = (stranger_cert / "cert.pem").string();
  wrong_cert.tls.private_key_file = (stranger_cert / "key.pem").string();
  transport::hub stranger(f.io, {}, wrong_cert);
  const tx::peer to2 = stranger.peer_for(transport::protocol::tls, {loopback, f.net.local_endpoint(tls).port()});
  stranger.send(to2, tx::share(request("Via: " + std::string(stranger.via_for(to2)) + ";branch=z9hG4bKm3")), {3, 1});
  REQUIRE(f.run_until([&] { return f.net.stats().handshake_failures == 2; }));
  CHECK(f.in.empty());
  client.close();
  anonymous.close();
  stranger.close();
}

TEST_CASE("hub: rfc3261 §18.1.1: a request over 1300 bytes for UDP goes over TCP with its Via saying so, back to UDP when TCP fails") {
  fixture f;
  const std::size_t l = f.net.listen_udp_and_tcp({loopback, 0});
  const std::string ours = "SIP/2.0/UDP 127.0.0.1:" + std::to_string(f.net.local_endpoint(l).port());
  const std::string big = request("Via: " + ours + ";rport;branch=z9hG4bKbig", std::string(1400, 'x'));
  const std::string small = request("Via: " + ours + ";rport;branch=z9hG4bKsmall", "hi");

  // the peer listens on UDP and TCP on one port
  asio::ip::tcp::acceptor tcp_peer(f.io, {loopback, 0});
  const unsigned short port = tcp_peer.local_endpoint().port();
  asio::ip::udp::socket udp_peer(f.io, {loopback, port});
  const tx::peer to = f.net.peer_for(transport::protocol::udp, {loopback, port});
  f.net.send(to, tx::share(small), {1, 1});
  f.net.send(to, tx::share(big), {2, 1});
  f.net.send(to, tx::share("SIP/2.0 200 OK\r\nVia: " + ours + ";branch=z9hG4bK1\r\nContent-Length: 1400\r\n\r\n" +
                           std::string(1400, 'y')));  // a response stays on UDP
  asio::ip::tcp::socket accepted = tcp_peer.accept();  // the kernel completed the connect already
  REQUIRE(f.run_until([&] { return accepted.available() >= big.size(); }));
  std::string over_tcp(big.size(), '\0');
  asio::read(accepted, asio::buffer(over_tcp));
  CHECK(over_tcp.find("\r\nVia: SIP/2.0/TCP 127.0.0.1:" + std::to_string(f.net.local_endpoint(l + 1).port()) +
                      ";rport;branch=z9hG4bKbig\r\n") != std::string::npos);
  CHECK(over_tcp.ends_with(std::string(1400, 'x')));
  std::vector<char> datagram(65536);
  const std::size_t first = udp_peer.receive(asio::buffer(datagram));
  CHECK(std::string_view(datagram.data(), first) == small);
  const std::size_t second = udp_peer.receive(asio::buffer(datagram));
  CHECK(std::string_view(datagram.data(), second).starts_with("SIP/2.0 200 OK"));
  CHECK(f.net.stats().requests_moved_to_tcp == 1);

  // a peer on UDP only: the TCP connection is refused, the request goes over UDP as it was
  asio::ip::udp::socket udp_only(f.io, {loopback, 0});
  const tx::peer to_udp_only = f.net.peer_for(transport::protocol::udp, {loopback, udp_only.local_endpoint().port()});
  f.net.send(to_udp_only, tx::share(big), {3, 1});
  REQUIRE(f.run_until([&] { return udp_only.available() > 0; }));
  const std::size_t n = udp_only.receive(asio::buffer(datagram));
  CHECK(std::string_view(datagram.data(), n) == big);
  CHECK(f.net.stats().moved_back_to_udp == 1);
  CHECK(f.failed.empty());

  transport::options never;
  never.udp_request_limit = 0;
  fixture g(never);
  g.net.listen(transport::protocol::udp, {loopback, 0});
  asio::ip::udp::socket plain(g.io, {loopback, 0});
  g.net.send(g.net.peer_for(transport::protocol::udp, {loopback, plain.local_endpoint().port()}), tx::share(big));
  CHECK(plain.receive(asio::buffer(datagram)) == big.size());
  CHECK(g.net.stats().requests_moved_to_tcp == 0);
}

TEST_CASE("hub: rfc3261 §9.1, §17.1.1.3: the CANCEL and the non-2xx ACK of an INVITE moved to TCP follow it") {
  fixture f;
  const std::size_t l = f.net.listen_udp_and_tcp({loopback, 0});
  const std::string ours = "SIP/2.0/UDP 127.0.0.1:" + std::to_string(f.net.local_endpoint(l).port());
  const std::string tcp_via = "SIP/2.0/TCP 127.0.0.1:" + std::to_string(f.net.local_endpoint(l + 1).port());
  auto with_method = [](std::string m, std::string_view method) {
    m.replace(0, m.find(' '), method);
    m.replace(m.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 " + std::string(method));
    return m;
  };
  const std::string invite = with_method(request("Via: " + ours + ";rport;branch=z9hG4bKinv", std::string(1400, 'x')), "INVITE");
  const std::string cancel = with_method(request("Via: " + ours + ";rport;branch=z9hG4bKinv"), "CANCEL");
  const std::string ack = with_method(request("Via: " + ours + ";rport;branch=z9hG4bKinv"), "ACK");
  const std::string other_cancel = with_method(request("Via: " + ours + ";rport;branch=z9hG4bKother"), "CANCEL");

  asio::ip::tcp::acceptor tcp_peer(f.io, {loopback, 0});
  const unsigned short port = tcp_peer.local_endpoint().port();
  asio::ip::udp::socket udp_peer(f.io, {loopback, port});
  const tx::peer to = f.net.peer_for(transport::protocol::udp, {loopback, port});
  f.net.send(to, tx::share(invite), {1, 1});
  asio::ip::tcp::socket accepted = tcp_peer.accept();
  REQUIRE(f.run_until([&] { return accepted.available() >= invite.size(); }));
  std::string got(invite.size(), '\0');
  asio::read(accepted, asio::buffer(got));
  CHECK(got.starts_with("INVITE "));
  // The CANCEL and the ACK take the INVITE's connection and its Via.
  auto over_tcp = [&](const std::string& sent) {
    std::string moved = sent;
    moved.replace(moved.find(ours), ours.size(), tcp_via);
    std::string in(moved.size(), '\0');
    REQUIRE(f.run_until([&] { return accepted.available() >= moved.size(); }));
    asio::read(accepted, asio::buffer(in));
    CHECK(in == moved);
  };
  f.net.send(to, tx::share(cancel), {2, 1});
  over_tcp(cancel);
  f.net.send(to, tx::share(ack), {1, 1});
  over_tcp(ack);
  CHECK(f.net.stats().follow_ups_moved_to_tcp == 2);
  // After the ACK, and for another branch, small requests stay on UDP.
  std::vector<char> datagram(65536);
  f.net.send(to, tx::share(ack), {1, 1});
  CHECK(std::string_view(datagram.data(), udp_peer.receive(asio::buffer(datagram))) == ack);
  f.net.send(to, tx::share(other_cancel), {3, 1});
  CHECK(std::string_view(datagram.data(), udp_peer.receive(asio::buffer(datagram))) == other_cancel);
  CHECK(f.net.stats().follow_ups_moved_to_tcp == 2);
  CHECK(f.failed.empty());
}

TEST_CASE("hub: rfc5626 §4.4.1: a connection we opened sends CRLFCRLF pings when quiet, and is closed when no pong comes") {
  transport::options o;
  o.keepalive_interval = 1s;
  o.pong_timeout = 1s;
  fixture f(o);
  asio::ip::tcp::acceptor server(f.io, {loopback, 0});
  const tx::peer p = f.net.peer_for(transport::protocol::tcp, {loopback, server.local_endpoint().port()});
  const std::string hello = request("Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1");
  f.net.send(p, tx::share(hello));
  asio::ip::tcp::socket peer = server.accept();
  REQUIRE(f.run_until([&] { return peer.available() >= hello.size() + 4; }));  // the message, then a ping
  std::string got(hello.size() + 4, '\0');
  asio::read(peer, asio::buffer(got));
  CHECK(got == hello + "\r\n\r\n");
  asio::write(peer, asio::buffer(std::string("\r\n")));  // the pong
  REQUIRE(f.run_until([&] { return f.net.stats().pings_sent == 2; }));  // quiet again: the next ping
  CHECK(f.net.connections() == 1);
  // no pong this time: the flow has failed
  REQUIRE(f.run_until([&] { return f.net.connections() == 0; }));
  CHECK(f.net.stats().keepalive_failures == 1);
  CHECK(f.net.flows() == 0);
  CHECK(f.failed_flows == std::vector<tx::peer>{p});
  CHECK(f.in.empty());  // pongs are not messages
}

// --- STUN on UDP (RFC 5626 §4.4.2, §8) ----------------------------------------------
namespace {
std::string receive_datagram(fixture& f, asio::ip::udp::socket& s, asio::ip::udp::endpoint* from = nullptr) {
  if (!f.run_until([&] { return s.available() > 0; })) return {};
  std::string got(2048, '\0');
  asio::ip::udp::endpoint sender;
  got.resize(s.receive_from(asio::buffer(got), sender));
  if (from) *from = sender;
  return got;
}
}  // namespace

TEST_CASE("hub: rfc5626 §8: a STUN Binding request on a SIP UDP port is answered with where it came from; bad STUN is dropped") {
  std::size_t batch = 16;
  SUBCASE("in batches") { batch = 16; }
  SUBCASE("one datagram per call") { batch = 1; }
  fixture f(udp_path(batch));
  const std::size_t l = f.net.listen(transport::protocol::udp, {loopback, 0});
  const asio::ip::udp::endpoint to{loopback, f.net.local_endpoint(l).port()};
  asio::ip::udp::socket client(f.io, {loopback, 0});
  const stun::transaction_id t{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  client.send_to(asio::buffer(stun::binding_request_for(t)), to);
  stun::message m;
  REQUIRE(stun::parse(receive_datagram(f, client), m) == stun::error::ok);
  CHECK(m.type == stun::binding_success);
  CHECK(m.transaction == t);
  CHECK(m.has_fingerprint);
  REQUIRE(m.mapped);
  CHECK(m.mapped->port == client.local_endpoint().port());
  CHECK(m.mapped->bytes[0] == 127);
  // A comprehension-required attribute we do not know (ICE's PRIORITY): 420 (RFC 5389 §7.3.1).
  std::string with_priority = stun::binding_request_for(t).substr(0, 20);
  with_priority += std::string("\x00\x24\x00\x04\x6e\x00\x01\xff", 8);
  with_priority[3] = 8;
  client.send_to(asio::buffer(with_priority), to);
  REQUIRE(stun::parse(receive_datagram(f, client), m) == stun::error::ok);
  CHECK(m.type == stun::binding_error_response);
  // Bad STUN (its FINGERPRINT does not match) and a success nobody asked for: dropped, no answer, no SIP message.
  std::string bad = stun::binding_request_for(t);
  bad[10] ^= 1;
  client.send_to(asio::buffer(bad), to);
  client.send_to(asio::buffer(stun::binding_success_for(t, stun::address{})), to);
  REQUIRE(f.run_until([&] { return f.net.stats().stun_dropped == 2; }));
  CHECK(f.net.stats().stun_answered == 2);
  CHECK(f.in.empty());
  CHECK(client.available() == 0);
}

TEST_CASE("hub: rfc5626 §4.4.2: keep_alive sends STUN Binding requests on a UDP flow; answered, they go on; unanswered, the flow fails") {
  transport::options o;
  o.pong_timeout = 2s;
  fixture a(o), b;
  const std::size_t la = a.net.listen(transport::protocol::udp, {loopback, 0});
  const std::size_t lb = b.net.listen(transport::protocol::udp, {loopback, 0});
  (void)la;
  const tx::peer to_b = a.net.peer_for(transport::protocol::udp, {loopback, b.net.local_endpoint(lb).port()});
  CHECK_FALSE(a.net.keep_alive(tx::peer{}, 1s));  // no such flow
  REQUIRE(a.net.keep_alive(to_b, 1s));
  // Two hubs, one loop each: run both until three keep-alives were answered.
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (a.net.stats().stun_keepalives_answered < 3 && std::chrono::steady_clock::now() < end) {
    for (asio::io_context* io : {&a.io, &b.io}) {
      io->restart();
      io->run_for(5ms);
    }
  }
  CHECK(a.net.stats().stun_keepalives_answered == 3);
  CHECK(b.net.stats().stun_answered >= 3);
  CHECK(a.failed_flows.empty());
  CHECK(b.in.empty());  // STUN is no SIP message

  // A peer that never answers: the request, sent again at 0.5 and 1.5 s, then the flow fails at pong_timeout.
  asio::ip::udp::socket silent(a.io, {loopback, 0});
  const tx::peer to_silent = a.net.peer_for(transport::protocol::udp, {loopback, silent.local_endpoint().port()});
  a.net.stop_keep_alive(to_b);
  REQUIRE(a.net.keep_alive(to_silent, 1s));
  std::vector<stun::transaction_id> requests;
  REQUIRE(a.run_until([&] {
    while (silent.available() > 0) {
      std::string d(512, '\0');
      asio::ip::udp::endpoint from;
      d.resize(silent.receive_from(asio::buffer(d), from));
      stun::message m;
      if (stun::parse(d, m) == stun::error::ok && m.type == stun::binding_request) requests.push_back(m.transaction);
    }
    return !a.failed_flows.empty();
  }));
  CHECK(a.failed_flows == std::vector<tx::peer>{to_silent});
  REQUIRE(requests.size() >= 3);  // first sending and retransmissions: one transaction
  CHECK(std::all_of(requests.begin(), requests.end(), [&](const auto& id) { return id == requests.front(); }));
  CHECK(a.net.stats().keepalive_failures == 1);
}

TEST_CASE("hub: rfc5626 §4.4.2: an answer that maps us to another address than the first fails the flow") {
  fixture f;
  f.net.listen(transport::protocol::udp, {loopback, 0});
  asio::ip::udp::socket nat(f.io, {loopback, 0});  // answers as a registrar behind a NAT that rebinds us
  const tx::peer p = f.net.peer_for(transport::protocol::udp, {loopback, nat.local_endpoint().port()});
  REQUIRE(f.net.keep_alive(p, 1s));
  for (std::uint16_t mapped_port : {40000, 40001}) {
    asio::ip::udp::endpoint from;
    stun::message m;
    REQUIRE(stun::parse(receive_datagram(f, nat, &from), m) == stun::error::ok);
    nat.send_to(asio::buffer(stun::binding_success_for(m.transaction, stun::address{1, {192, 0, 2, 7}, mapped_port})), from);
    if (mapped_port == 40000) REQUIRE(f.run_until([&] { return f.net.stats().stun_keepalives_answered == 1; }));
  }
  REQUIRE(f.run_until([&] { return !f.failed_flows.empty(); }));
  CHECK(f.failed_flows == std::vector<tx::peer>{p});
  CHECK(f.net.stats().stun_keepalives_answered == 1);
}
