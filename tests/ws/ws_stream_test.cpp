// The Asio adapter over loopback TCP and TLS: our client against our server
// (callbacks and C++20 coroutines), the send queue, watermarks and timers.
#include <sigwire/ws/asio/stream.hpp>

#include <doctest/doctest.h>

#include "../support/test_cert.hpp"

#include <asio/experimental/as_tuple.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

using namespace sigwire;
using asio::ip::tcp;
using tcp_stream = ws::stream<tcp::socket>;
using tls_stream = ws::stream<asio::ssl::stream<tcp::socket>>;

namespace {

ws::client_options copts(std::string host) {
  ws::client_options o;
  o.host = std::move(host);
  return o;
}

asio::awaitable<void> echo_server(tcp::acceptor& acc, ws::stream_options opt, ws::server_options sopt, int connections) {
  for (int i = 0; i < connections; ++i) {
    tcp_stream s(opt, co_await acc.async_accept(asio::use_awaitable));
    auto [ec] = co_await s.async_accept(sopt, asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) continue;
    // The request stays readable after the 101 went (its views are not in the answer's buffer).
    CHECK(s.request().method == "GET");
    CHECK(s.request().header("Upgrade") == std::optional<std::string_view>("websocket"));
    std::string msg;
    while (true) {
      auto [rec, type] = co_await s.async_read(msg, asio::experimental::as_tuple(asio::use_awaitable));
      if (rec) break;
      if (type == ws::message_type::text) s.send_text(msg);
      else s.send_binary(msg);
    }
  }
}

}  // namespace

TEST_CASE("stream_echo_over_tcp_with_coroutines_and_deflate") {
  for (bool deflate : {false, true}) {
    asio::io_context io;
    tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acc.local_endpoint().port();
    ws::server_options sopt;
    sopt.subprotocols = {"sip"};
    sopt.deflate.enabled = deflate;
    asio::co_spawn(io, echo_server(acc, {}, sopt, 1), asio::detached);
    bool done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      tcp::socket sock(io);
      co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
      tcp_stream c(std::move(sock));
      ws::client_options copt;
      copt.host = "127.0.0.1:" + std::to_string(port);
      copt.subprotocols = {"sip"};
      copt.deflate.enabled = true;
      co_await c.async_handshake(copt, asio::use_awaitable);
      CHECK(c.subprotocol() == "sip");
      CHECK(c.deflate().has_value() == deflate);
      // Many sends while earlier ones are in flight: the queue takes them all.
      std::string big(200000, 'x');
      for (int i = 0; i < 50; ++i) CHECK(c.send_text("message " + std::to_string(i)) == ws::send_status::queued);
      co_await c.async_write_binary(big, asio::use_awaitable);
      std::string msg;
      for (int i = 0; i < 50; ++i) {
        auto type = co_await c.async_read(msg, asio::use_awaitable);
        CHECK(type == ws::message_type::text);
        CHECK(msg == "message " + std::to_string(i));
      }
      auto type = co_await c.async_read(msg, asio::use_awaitable);
      CHECK(type == ws::message_type::binary);
      CHECK(msg == big);
      co_await c.async_close(1000, "done", asio::use_awaitable);
      CHECK(c.close_code() == 1000);
      done = true;
    }, asio::detached);
    io.run_for(std::chrono::seconds(10));
    CHECK(done);
  }
}

TEST_CASE("stream_with_callbacks_and_a_rejected_handshake") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  std::optional<tcp_stream> server;
  std::error_code server_ec, client_ec;
  acc.async_accept([&](std::error_code ec, tcp::socket sock) {
    REQUIRE_FALSE(ec);
    server.emplace(std::move(sock));
    ws::server_options sopt;
    sopt.subprotocols = {"sip"};
    sopt.require_subprotocol = true;
    server->async_accept(sopt, [&](std::error_code e) { server_ec = e; });
  });
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  tcp_stream client(std::move(sock));
  ws::client_options copt;
  copt.host = "localhost";
  copt.subprotocols = {"mqtt"};
  client.async_handshake(copt, [&](std::error_code e) { client_ec = e; });
  io.run_for(std::chrono::seconds(5));
  CHECK(server_ec == make_error_code(ws::error::no_subprotocol));
  CHECK(client_ec == make_error_code(ws::error::bad_status));  // got 400, not 101
}

TEST_CASE("stream_answers_a_malformed_head_with_400") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  std::optional<tcp_stream> server;
  std::error_code server_ec;
  acc.async_accept([&](std::error_code, tcp::socket sock) {
    server.emplace(std::move(sock));
    server->async_accept({}, [&](std::error_code e) { server_ec = e; });
  });
  tcp::socket raw(io);
  raw.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(raw, asio::buffer(std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n")));
  std::string reply;
  std::array<char, 512> buf{};
  std::function<void()> read_all = [&] {
    raw.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t n) {
      reply.append(buf.data(), n);
      if (!ec) read_all();
    });
  };
  read_all();
  io.run_for(std::chrono::seconds(3));
  CHECK(server_ec == make_error_code(ws::error::bad_request_head));
  CHECK(reply.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
}

TEST_CASE("stream_timeouts_handshake_and_keepalive") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  ws::stream_options opt;
  opt.handshake_timeout = std::chrono::milliseconds(100);
  opt.connection.timeouts.idle = std::chrono::milliseconds(100);
  std::error_code hs_ec, read_ec;
  bool read_done = false;
  std::optional<tcp_stream> s1, s2;
  // 1. A client that connects and says nothing: the handshake times out.
  acc.async_accept([&](std::error_code, tcp::socket sock) {
    s1.emplace(opt, std::move(sock));
    s1->async_accept({}, [&](std::error_code e) { hs_ec = e; });
    // 2. A client that upgrades and then never reads or answers pings.
    acc.async_accept([&](std::error_code, tcp::socket sock2) {
      s2.emplace(opt, std::move(sock2));
      s2->async_accept({}, [&](std::error_code e) {
        REQUIRE_FALSE(e);
        static std::string msg;
        s2->async_read(msg, [&](std::error_code e2, ws::message_type) { read_ec = e2; read_done = true; });
      });
    });
  });
  tcp::socket silent(io), deaf(io);
  silent.connect({asio::ip::make_address("127.0.0.1"), port});
  deaf.connect({asio::ip::make_address("127.0.0.1"), port});
  ws::client_handshake hs(copts("x"));
  asio::write(deaf, asio::buffer(hs.request()));
  const auto start = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(3));
  CHECK(hs_ec == make_error_code(ws::error::timeout));
  CHECK(read_done);
  CHECK(read_ec == make_error_code(ws::error::timeout));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("stream_watermarks_drop_and_drain") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  std::optional<tcp_stream> server;
  ws::stream_options opt;
  opt.high_watermark = 1 << 20;
  opt.low_watermark = 1 << 16;
  int drained = 0, dropped = 0, queued = 0;
  tcp::socket peer(io);
  acc.async_accept([&](std::error_code, tcp::socket sock) {
    server.emplace(opt, std::move(sock));
    server->on_drain([&] { ++drained; });
    server->async_accept({}, [&](std::error_code e) {
      REQUIRE_FALSE(e);
      // The peer does not read yet: the kernel buffers fill, then ours.
      const std::string chunk(64 * 1024, 'z');
      for (int i = 0; i < 200; ++i) (server->send_binary(chunk) == ws::send_status::queued ? queued : dropped)++;
    });
  });
  peer.connect({asio::ip::make_address("127.0.0.1"), port});
  ws::client_handshake hs(copts("x"));
  asio::write(peer, asio::buffer(hs.request()));
  io.run_for(std::chrono::milliseconds(300));
  CHECK(dropped > 0);
  CHECK(server->buffered_amount() <= opt.high_watermark);
  // Now the peer reads everything: the buffer drains, on_drain fires.
  std::vector<char> sink(1 << 16);
  std::function<void()> read_more = [&] {
    peer.async_read_some(asio::buffer(sink), [&](std::error_code ec, std::size_t) { if (!ec) read_more(); });
  };
  read_more();
  io.run_for(std::chrono::milliseconds(500));
  CHECK(drained == 1);
  CHECK(server->buffered_amount() == 0);
  MESSAGE("queued " << queued << ", dropped " << dropped);
}

using sigwire::test::make_test_cert;

TEST_CASE("stream_over_tls_with_verification") {
  namespace fs = std::filesystem;
  const fs::path dir = make_test_cert("tls");
  asio::io_context io;
  asio::ssl::context sctx(asio::ssl::context::tls_server);
  sctx.use_certificate_chain_file((dir / "cert.pem").string());
  sctx.use_private_key_file((dir / "key.pem").string(), asio::ssl::context::pem);
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  std::optional<tls_stream> server;
  acc.async_accept([&](std::error_code, tcp::socket sock) {
    server.emplace(ws::stream_options{}, std::move(sock), sctx);
    server->async_accept({}, [&](std::error_code e) {
      REQUIRE_FALSE(e);
      static std::string msg;
      server->async_read(msg, [&](std::error_code e2, ws::message_type) {
        REQUIRE_FALSE(e2);
        server->send_text(msg);
        server->async_read(msg, [](std::error_code, ws::message_type) {});
      });
    });
  });
  for (bool trusted : {true, false}) {
    asio::ssl::context cctx(asio::ssl::context::tls_client);
    if (trusted) cctx.load_verify_file((dir / "cert.pem").string());
    tls_stream client(ws::stream_options{}, tcp::socket(io), cctx);
    client.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    std::error_code hs_ec;
    std::string echo;
    // Large enough to be read straight into the message buffer on both sides.
    const std::string text = "over tls " + std::string(300000, 'z');
    client.async_handshake(copts("localhost:" + std::to_string(port)), [&](std::error_code e) {
      hs_ec = e;
      if (e) return io.stop();
      client.send_text(text);
      static std::string m;
      client.async_read(m, [&](std::error_code, ws::message_type) {
        echo = m;
        io.stop();
      });
    });
    io.restart();
    io.run_for(std::chrono::seconds(5));
    if (trusted) {
      CHECK_FALSE(hs_ec);
      CHECK(echo == text);
    } else {
      CHECK(hs_ec);  // verification is on by default: an unknown CA fails
    }
    if (trusted) acc.async_accept([](std::error_code, tcp::socket) {});
  }
  fs::remove_all(dir);
}

// Replies to messages that arrived in one read are held so that they leave in
// one write; a reply must still go out when the handler stops reading.
TEST_CASE("stream_reply_is_sent_when_the_reader_stops_mid_batch") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  std::string client_got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    tcp_stream s(co_await acc.async_accept(asio::use_awaitable));
    co_await s.async_accept(ws::server_options{}, asio::use_awaitable);
    std::string msg;
    co_await s.async_read(msg, asio::use_awaitable);  // the first of three buffered messages
    s.send_text("reply to " + msg);                   // and no further read
    asio::steady_timer wait(io, std::chrono::seconds(3));
    co_await wait.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    tcp::socket sock(io);
    co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    tcp_stream c(std::move(sock));
    co_await c.async_handshake(copts("127.0.0.1:" + std::to_string(port)), asio::use_awaitable);
    // Three masked frames in one TCP write, so the server reads them at once.
    ws::connection frames(ws::role::client, {});
    frames.send_text("one");
    frames.send_text("two");
    frames.send_text("three");
    std::string wire;
    frames.take_output(wire);
    co_await asio::async_write(c.next_layer(), asio::buffer(wire), asio::use_awaitable);
    co_await c.async_read(client_got, asio::use_awaitable);
    io.stop();
  }, asio::detached);
  io.run_for(std::chrono::seconds(5));
  CHECK(client_got == "reply to one");
}

namespace {

// A callback echo loop, the way a server answers each message from the
// completion of its read (stream completes buffered messages in one turn).
struct callback_echo : std::enable_shared_from_this<callback_echo> {
  tcp_stream s;
  std::string msg;
  std::vector<std::string> seen;
  std::size_t destroy_after = 0;  // 0: never
  explicit callback_echo(tcp::socket sock) : s(std::move(sock)) {}
  void read() {
    s.async_read(msg, [self = shared_from_this()](std::error_code ec, ws::message_type) {
      if (ec) return;
      self->seen.push_back(self->msg);
      self->s.send_text(self->msg);
      self->read();
    });
  }
};

// Sends `count` masked text frames in one TCP write and returns the client stream.
asio::awaitable<void> send_batch(tcp_stream& c, unsigned short port, int count) {
  co_await c.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  co_await c.async_handshake(copts("127.0.0.1:" + std::to_string(port)), asio::use_awaitable);
  ws::connection frames(ws::role::client, {});
  for (int i = 0; i < count; ++i) frames.send_text("m" + std::to_string(i));
  std::string wire;
  frames.take_output(wire);
  co_await asio::async_write(c.next_layer(), asio::buffer(wire), asio::use_awaitable);
}

}  // namespace

// 100 frames in one read: more than stream completes in one turn (32), so
// both the inline and the posted path deliver; order and echoes must hold.
TEST_CASE("stream_delivers_a_batch_in_order_from_a_callback_loop") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  std::shared_ptr<callback_echo> server;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    server = std::make_shared<callback_echo>(co_await acc.async_accept(asio::use_awaitable));
    co_await server->s.async_accept(ws::server_options{}, asio::use_awaitable);
    server->read();
  }, asio::detached);
  std::vector<std::string> echoes;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    tcp_stream c(tcp::socket{io});
    co_await send_batch(c, port, 100);
    std::string m;
    for (int i = 0; i < 100; ++i) {
      co_await c.async_read(m, asio::use_awaitable);
      echoes.push_back(m);
    }
    io.stop();
  }, asio::detached);
  io.run_for(std::chrono::seconds(5));
  REQUIRE(server);
  REQUIRE(server->seen.size() == 100);
  REQUIRE(echoes.size() == 100);
  for (int i = 0; i < 100; ++i) {
    const std::string expected = 'm' + std::to_string(i);
    CHECK(server->seen[static_cast<std::size_t>(i)] == expected);
    CHECK(echoes[static_cast<std::size_t>(i)] == expected);
  }
}

// A handler that destroys its stream in the middle of a batch (a server
// dropping a session) must stop the batch there, with nothing touched after.
TEST_CASE("stream_destroyed_by_its_handler_mid_batch") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  std::unique_ptr<tcp_stream> server;
  std::string msg;
  int delivered = 0;
  std::function<void()> read_next = [&] {
    server->async_read(msg, [&](std::error_code ec, ws::message_type) {
      if (ec) return;
      if (++delivered == 10) {
        server.reset();  // the stream goes away inside its own completion
        return;
      }
      read_next();
    });
  };
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    server = std::make_unique<tcp_stream>(co_await acc.async_accept(asio::use_awaitable));
    co_await server->async_accept(ws::server_options{}, asio::use_awaitable);
    read_next();
  }, asio::detached);
  bool client_saw_end = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    tcp_stream c(tcp::socket{io});
    co_await send_batch(c, port, 50);
    std::string m;
    auto [ec, type] = co_await c.async_read(m, asio::experimental::as_tuple(asio::use_awaitable));
    client_saw_end = static_cast<bool>(ec);  // the server's socket closed with the stream
    io.stop();
  }, asio::detached);
  io.run_for(std::chrono::seconds(5));
  CHECK(delivered == 10);
  CHECK_FALSE(server);
  CHECK(client_saw_end);
}

// RFC 6455 §5.5.1 / §7.1.7: the Close a server sends in reply to the peer's
// Close, or after a protocol error, must reach the peer even when the
// handler destroys the stream as soon as its read reports the end. Over TLS
// the reply is an async write that is still pending at that moment.
TEST_CASE("stream_close_reply_survives_a_handler_that_destroys_the_stream") {
  const auto dir = make_test_cert("tlsclose");
  asio::io_context io;
  asio::ssl::context sctx(asio::ssl::context::tls_server);
  sctx.use_certificate_chain_file((dir / "cert.pem").string());
  sctx.use_private_key_file((dir / "key.pem").string(), asio::ssl::context::pem);
  asio::ssl::context cctx(asio::ssl::context::tls_client);
  cctx.load_verify_file((dir / "cert.pem").string());
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();

  for (bool protocol_error : {false, true}) {
    CAPTURE(protocol_error);
    std::unique_ptr<tls_stream> server;
    std::string server_msg;
    std::error_code server_end;
    acc.async_accept([&](std::error_code, tcp::socket sock) {
      server = std::make_unique<tls_stream>(ws::stream_options{}, std::move(sock), sctx);
      server->async_accept({}, [&](std::error_code e) {
        REQUIRE_FALSE(e);
        server->async_read(server_msg, [&](std::error_code e2, ws::message_type) {
          server_end = e2;
          server.reset();  // at once, from inside the completion
        });
      });
    });
    tls_stream client(ws::stream_options{}, tcp::socket(io), cctx);
    client.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    std::error_code client_end;
    bool client_done = false;
    static std::string client_msg;
    client.async_handshake(copts("localhost:" + std::to_string(port)), [&](std::error_code e) {
      REQUIRE_FALSE(e);
      if (!protocol_error) {
        client.async_close(1000, "bye", [&](std::error_code e2) {
          client_end = e2;
          client_done = true;
        });
        return;
      }
      // An unmasked text frame from a client: §5.1 says close with 1002.
      static const char bad[] = {char(0x81), 0x02, 'h', 'i'};
      asio::async_write(client.next_layer(), asio::buffer(bad, sizeof bad), [](std::error_code, std::size_t) {});
      client.async_read(client_msg, [&](std::error_code e2, ws::message_type) {
        client_end = e2;
        client_done = true;
      });
    });
    io.restart();
    io.run_for(std::chrono::seconds(4));
    REQUIRE(client_done);
    CHECK_FALSE(server);
    if (!protocol_error) {
      CHECK(server_end == ws::make_error_code(ws::error::closed));
      CHECK_FALSE(client_end);                  // not a timeout: the reply arrived
      CHECK(client.close_code() == 1000);       // echoed, §5.5.1
    } else {
      CHECK(server_end);
      CHECK(client_end == ws::make_error_code(ws::error::closed));
      CHECK(client.close_code() == 1002);
    }
  }
  std::filesystem::remove_all(dir);
}

// The same when the Close reply has to queue behind 32 MiB the peer has not
// read yet (the socket buffer is full): the read that reports the peer's
// Close completes only after the reply left, so the peer sees every byte
// and a clean 1000, not 1006.
TEST_CASE("stream_close_reply_behind_a_full_socket_buffer") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  ws::stream_options big;
  big.high_watermark = 64u << 20;
  const std::string chunk(8u << 20, 'b');
  std::unique_ptr<tcp_stream> server;
  std::string server_msg;
  std::error_code server_end;
  std::size_t server_buffered_at_close = 0;
  acc.async_accept([&](std::error_code, tcp::socket sock) {
    server = std::make_unique<tcp_stream>(big, std::move(sock));
    server->async_accept({}, [&](std::error_code e) {
      REQUIRE_FALSE(e);
      for (int i = 0; i < 4; ++i) REQUIRE(server->send_binary(chunk) != ws::send_status::dropped);
      server->async_read(server_msg, [&](std::error_code e2, ws::message_type) {
        server_end = e2;
        server_buffered_at_close = server ? server->buffered_amount() : 0;
        server.reset();  // at once, from inside the completion
      });
    });
  });
  ws::stream_options copt;
  copt.connection.timeouts.close = std::chrono::seconds(20);
  tcp_stream client(copt, tcp::socket(io));
  client.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  std::error_code client_end = ws::make_error_code(ws::error::timeout);
  asio::steady_timer pause(io);
  client.async_handshake(copts("127.0.0.1:" + std::to_string(port)), [&](std::error_code e) {
    REQUIRE_FALSE(e);
    pause.expires_after(std::chrono::milliseconds(200));  // let the server's buffer fill
    pause.async_wait([&](std::error_code) {
      client.async_close(1000, "bye", [&](std::error_code e2) { client_end = e2; });
    });
  });
  io.run_for(std::chrono::seconds(20));
  CHECK(server_end == ws::make_error_code(ws::error::closed));
  CHECK(server_buffered_at_close == 0);  // everything left before the read reported the end
  CHECK_FALSE(client_end);
  CHECK(client.close_code() == 1000);
}

// §7.1.5: a connection that ends without a Close frame has close code 1006,
// and async_close says the handshake did not complete.
TEST_CASE("stream_peer_gone_without_close_is_1006") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  std::unique_ptr<tcp_stream> server;
  acc.async_accept([&](std::error_code, tcp::socket sock) {
    server = std::make_unique<tcp_stream>(ws::stream_options{}, std::move(sock));
    server->async_accept({}, [&](std::error_code e) {
      REQUIRE_FALSE(e);
      server->lowest_layer().close();  // the transport goes; no Close frame
    });
  });
  tcp_stream client(ws::stream_options{}, tcp::socket(io));
  client.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  std::optional<std::error_code> read_end, close_end;
  static std::string msg;
  client.async_handshake(copts("127.0.0.1:" + std::to_string(port)), [&](std::error_code e) {
    REQUIRE_FALSE(e);
    client.async_close(1000, "bye", [&](std::error_code e2) {
      close_end = e2;
      if (read_end) io.stop();
    });
    client.async_read(msg, [&](std::error_code e2, ws::message_type) {
      read_end = e2;
      if (close_end) io.stop();
    });
  });
  io.run_for(std::chrono::seconds(5));
  REQUIRE(read_end);
  REQUIRE(close_end);
  CHECK(*read_end);
  CHECK(*close_end == ws::make_error_code(ws::error::closed_abnormally));
  CHECK(client.close_code() == 1006);
}

namespace {
// Message i of the owned-send test: small copied text, large owned binary,
// or owned text just above the attach threshold.
std::string owned_test_message(int i) {
  if (i % 3 == 0) return "small " + std::to_string(i);
  const std::size_t n = i % 3 == 1 ? 300000 : ws::connection::min_attached_payload + 100;
  std::string m(n, 'a');
  for (std::size_t k = 0; k < n; k += 997) m[k] = static_cast<char>('a' + (i + k) % 26);
  return m;
}

// Echoes every message by moving it into the send queue.
template <class Stream>
asio::awaitable<void> moving_echo(Stream& s) {
  co_await s.async_accept(ws::server_options{}, asio::use_awaitable);
  std::string msg;
  for (;;) {
    auto [ec, type] = co_await s.async_read(msg, asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (type == ws::message_type::text) s.send_text(std::move(msg));
    else s.send_binary(std::move(msg));
  }
}
}  // namespace

// send_text/send_binary(std::string&&) on both sides (the client masks the
// taken-over payloads in place): the frames are written with gathered
// writes, partly async behind a reader that pauses, over TCP and TLS.
// Every message must arrive whole and in order.
TEST_CASE("stream_owned_messages_are_written_gathered_and_arrive_in_order") {
  const auto dir = make_test_cert("owned");
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    asio::io_context io;
    asio::ssl::context sctx(asio::ssl::context::tls_server), cctx(asio::ssl::context::tls_client);
    sctx.use_certificate_chain_file((dir / "cert.pem").string());
    sctx.use_private_key_file((dir / "key.pem").string(), asio::ssl::context::pem);
    cctx.load_verify_file((dir / "cert.pem").string());
    tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acc.local_endpoint().port();
    std::unique_ptr<tcp_stream> plain_server;
    std::unique_ptr<tls_stream> tls_server;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      auto sock = co_await acc.async_accept(asio::use_awaitable);
      sock.set_option(asio::socket_base::send_buffer_size(32768));  // partial writes, mid-piece
      if (!tls) {
        plain_server = std::make_unique<tcp_stream>(ws::stream_options{}, std::move(sock));
        co_await moving_echo(*plain_server);
      } else {
        tls_server = std::make_unique<tls_stream>(ws::stream_options{}, std::move(sock), sctx);
        co_await moving_echo(*tls_server);
      }
    }, asio::detached);

    constexpr int count = 30;
    std::vector<std::string> echoes;
    auto client_run = [&](auto& c, std::string host) -> asio::awaitable<void> {
      c.lowest_layer().open(tcp::v4());
      c.lowest_layer().set_option(asio::socket_base::receive_buffer_size(32768));
      co_await c.lowest_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
      co_await c.async_handshake(copts(host + ":" + std::to_string(port)), asio::use_awaitable);
      for (int i = 0; i < count - 1; ++i) {
        std::string m = owned_test_message(i);
        const auto st = i % 3 == 2 ? c.send_text(std::move(m)) : i % 3 == 1 ? c.send_binary(std::move(m)) : c.send_text(m);
        CHECK(st == ws::send_status::queued);
      }
      // The last one by move through the completion-reporting write.
      co_await c.async_write_text(owned_test_message(count - 1), asio::use_awaitable);
      CHECK(c.buffered_amount() == 0);
      asio::steady_timer pause(io, std::chrono::milliseconds(200));  // let the server's socket buffer fill
      co_await pause.async_wait(asio::use_awaitable);
      std::string m;
      for (int i = 0; i < count; ++i) {
        co_await c.async_read(m, asio::use_awaitable);
        echoes.push_back(m);
      }
      co_await c.async_close(1000, "", asio::use_awaitable);
      io.stop();
    };
    tcp_stream plain_client(ws::stream_options{}, tcp::socket(io));
    tls_stream tls_client(ws::stream_options{}, tcp::socket(io), cctx);
    if (!tls) asio::co_spawn(io, client_run(plain_client, "127.0.0.1"), asio::detached);
    else asio::co_spawn(io, client_run(tls_client, "localhost"), asio::detached);
    io.run_for(std::chrono::seconds(20));
    REQUIRE(echoes.size() == count);
    for (int i = 0; i < count; ++i) CHECK(echoes[static_cast<std::size_t>(i)] == owned_test_message(i));
  }
  std::filesystem::remove_all(dir);
}

// Many connections on one thread, every client pipelining: each stream then
// re-arms its read behind the scheduler's next poll (rearm_after_poll), and
// closes may meet such a pending re-arm. Every echo must arrive in order and
// every close handshake complete.
TEST_CASE("stream_many_pipelining_connections_on_one_thread") {
  asio::io_context io;
  tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acc.local_endpoint().port();
  constexpr int clients = 24, messages = 300;
  std::vector<std::shared_ptr<callback_echo>> servers;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < clients; ++i) {
      auto s = std::make_shared<callback_echo>(co_await acc.async_accept(asio::use_awaitable));
      servers.push_back(s);
      s->s.async_accept(ws::server_options{}, [s](std::error_code ec) {
        if (!ec) s->read();
      });
    }
  }, asio::detached);
  int clean_closes = 0, finished = 0;
  std::vector<std::unique_ptr<tcp_stream>> streams;
  for (int c = 0; c < clients; ++c) {
    streams.push_back(std::make_unique<tcp_stream>(tcp::socket{io}));
    asio::co_spawn(io, [&, c, &cs = *streams.back()]() -> asio::awaitable<void> {
      co_await cs.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
      co_await cs.async_handshake(copts("127.0.0.1:" + std::to_string(port)), asio::use_awaitable);
      std::string m;
      int in_order = 0;
      for (int round = 0; round < messages / 30; ++round) {  // 30 in flight at a time
        for (int i = 0; i < 30; ++i) cs.send_text("c" + std::to_string(c) + " m" + std::to_string(round * 30 + i));
        for (int i = 0; i < 30; ++i) {
          co_await cs.async_read(m, asio::use_awaitable);
          in_order += m == "c" + std::to_string(c) + " m" + std::to_string(round * 30 + i);
        }
      }
      CHECK(in_order == messages);
      auto [ec] = co_await cs.async_close(1000, "", asio::experimental::as_tuple(asio::use_awaitable));
      clean_closes += !ec;
      if (++finished == clients) io.stop();
    }, asio::detached);
  }
  io.run_for(std::chrono::seconds(20));
  CHECK(finished == clients);
  CHECK(clean_closes == clients);
  for (const auto& s : servers) CHECK(s->seen.size() == messages);
}

// Issue 15: memory follows the traffic. Over plain TCP a stream holds a
// receive buffer only while it has something to parse: none while it waits
// for the upgrade request, none between messages, and the zlib state of a
// direction without context takeover only while a message goes through.
// What an idle stream may hold: nothing on Asio's epoll reactor (the stream
// waits for readability, then reads into a pooled buffer); on the io_uring
// backend the read is submitted with its buffer, which then stays at the
// pooled size and never grows for small messages (docs/ws.md, memory).
static std::size_t idle_read_buffer_limit() {
  return tcp_stream::direct_io ? 0 : ws::stream_options{}.read_buffer_size;
}

TEST_CASE("stream_idle_connection_holds_no_read_buffer") {
  const std::size_t idle_limit = idle_read_buffer_limit();
  struct variant {
    bool low_memory_deflate, release_idle_read_buffer;
  };
  for (const variant v : {variant{false, true}, variant{true, true}, variant{false, false}}) {
    const bool low_memory_deflate = v.low_memory_deflate, release = v.release_idle_read_buffer;
    CAPTURE(low_memory_deflate);
    CAPTURE(release);
    ws::stream_options server_options;
    server_options.release_idle_read_buffer = release;
    // stream_options::release_idle_read_buffer = false keeps the pooled-size buffer.
    const auto idle_ok = [&](std::size_t held) {
      return release ? held <= idle_limit : held == server_options.read_buffer_size;
    };
    asio::io_context io;
    tcp::acceptor acc(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acc.local_endpoint().port();
    std::optional<tcp_stream> server;
    std::string server_msg;
    int echoed = 0;
    std::function<void()> serve = [&] {
      server->async_read(server_msg, [&](std::error_code ec, ws::message_type) {
        if (ec) return;
        server->send_text(std::move(server_msg));
        ++echoed;
        serve();
      });
    };
    acc.async_accept([&](std::error_code ec, tcp::socket sock) {
      REQUIRE_FALSE(ec);
      server.emplace(server_options, std::move(sock));
      ws::server_options sopt;
      if (low_memory_deflate) sopt.deflate = ws::deflate_options::low_memory();
      server->async_accept(sopt, [&](std::error_code e) {
        REQUIRE_FALSE(e);
        serve();
      });
    });
    tcp::socket sock(io);
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
    // Connected, nothing sent: the server waits for the head without a buffer.
    io.run_for(std::chrono::milliseconds(50));
    REQUIRE(server);
    CHECK(server->read_buffer_bytes() <= idle_limit);

    tcp_stream client(std::move(sock));
    ws::client_options copt;
    copt.host = "127.0.0.1";
    copt.deflate.enabled = true;
    bool open = false;
    client.async_handshake(copt, [&](std::error_code e) { open = !e; });
    io.run_for(std::chrono::milliseconds(100));
    REQUIRE(open);
    CHECK(client.deflate().has_value() == low_memory_deflate);
    CHECK(idle_ok(server->read_buffer_bytes()));

    std::string reply;
    for (int i = 0; i < 3; ++i) {
      const std::string m = "REGISTER sip:example.com SIP/2.0 #" + std::to_string(i) + std::string(500, 'x');
      bool got = false;
      client.send_text(m);
      client.async_read(reply, [&](std::error_code e, ws::message_type) { got = !e; });
      io.run_for(std::chrono::milliseconds(100));
      REQUIRE(got);
      CHECK(reply == m);
      // Idle again: no receive buffer on either side.
      CHECK(idle_ok(server->read_buffer_bytes()));
      CHECK(client.read_buffer_bytes() <= idle_limit);
    }
    CHECK(echoed == 3);
  }
}
