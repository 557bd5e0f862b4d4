// Fault injection (Boost.Beast's fail_count is the model): ws::stream over an
// in-memory stream whose Nth read or write fails, for N = 0, 1, 2, ... until a
// run passes without a fault, with whole and with short reads and writes,
// plain and TLS, the fault on the server's or on the client's end. Each run
// goes through the handshake, a message each way (one large enough to be
// attached rather than copied), and the close handshake. Every run must end
// with every operation completed exactly once, nothing left pending on the
// io_context (no timer, no read: no hang), an error reported to a caller on
// the failing end, and, under ASan, no leak.
#include <sigwire/ws/asio/stream.hpp>

#include <doctest/doctest.h>

#include "../support/fault_stream.hpp"
#include "../support/test_cert.hpp"

#include <asio/ssl.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

using namespace sigwire;

namespace {

using plain_stream = ws::stream<test::fault_stream>;
using tls_stream = ws::stream<asio::ssl::stream<test::fault_stream>>;

ws::stream_options stream_opts() {
  ws::stream_options o;
  // Long timeouts: every end of a run must come from the I/O, never from a
  // timer (a run that needs one is a hang, caught by run_for's limit).
  o.handshake_timeout = std::chrono::seconds(60);
  o.connection.timeouts = {.idle = std::chrono::seconds(60), .close = std::chrono::seconds(60)};
  o.read_buffer_size = 512;  // several reads per message even without short reads
  return o;
}

struct run_result {
  bool fault_fired = false;
  bool nothing_pending = false;  // the io_context ran out of work by itself
  int started = 0, completed = 0;
  int failed_on_faulty_end = 0;  // completions with an error on the end whose I/O failed
  bool clean = false;            // everything as without faults
  std::string not_completed;     // names of the operations still pending, for the failure message
};

struct scenario {
  bool tls = false;
  bool fault_on_server = false;
  std::size_t max_io = 0;
  std::string big_message;  // sent by the client after "hello", echoed back
};

struct tls_contexts {
  asio::ssl::context server{asio::ssl::context::tls_server}, client{asio::ssl::context::tls_client};
  tls_contexts() {
    const auto dir = test::make_test_cert("ws_fault");
    server.use_certificate_chain_file((dir / "cert.pem").string());
    server.use_private_key_file((dir / "key.pem").string(), asio::ssl::context::pem);
    client.load_verify_file((dir / "cert.pem").string());
  }
};

template <class Stream>
run_result run_once(const scenario& sc, std::size_t fail_at, tls_contexts* ctx) {
  asio::io_context io;
  test::fail_count fc(fail_at);
  const test::fault_options faulty{.fail = &fc, .max_io = sc.max_io}, sound{.max_io = sc.max_io};
  auto [a, b] = test::fault_stream::make_pair(io.get_executor(), sc.fault_on_server ? faulty : sound,
                                              sc.fault_on_server ? sound : faulty);
  std::unique_ptr<Stream> server, client;
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    server = std::make_unique<Stream>(stream_opts(), std::move(a), ctx->server);
    client = std::make_unique<Stream>(stream_opts(), std::move(b), ctx->client);
  } else {
    server = std::make_unique<Stream>(stream_opts(), std::move(a));
    client = std::make_unique<Stream>(stream_opts(), std::move(b));
  }

  run_result r;
  // Wraps a completion handler: counts it started, then completed (once).
  std::vector<std::pair<const char*, bool>> ops;  // name, completed
  ops.reserve(16);
  auto track = [&](const char* name, bool on_server, auto f) {
    ++r.started;
    ops.emplace_back(name, false);
    return [&r, &sc, &ops, i = ops.size() - 1, on_server, f = std::move(f)](std::error_code ec, auto... rest) mutable {
      REQUIRE_FALSE(ops[i].second);  // no operation completes twice
      ops[i].second = true;
      ++r.completed;
      if (ec && on_server == sc.fault_on_server) ++r.failed_on_faulty_end;
      f(ec, rest...);
    };
  };

  std::string server_msg, client_msg, client_big;
  std::error_code server_hs, server_end, client_hs, client_close = ws::make_error_code(ws::error::timeout);
  bool server_saw_both = false, client_saw_both = false;

  // Server: accept, echo two messages, then read until the client's Close.
  std::function<void(int)> serve = [&](int left) {
    server->async_read(server_msg, track("server read", true, [&, left](std::error_code e, ws::message_type) {
      if (e) {
        server_end = e;
        return;
      }
      (void)server->send_text(std::string(server_msg));
      if (left == 1) server_saw_both = true;
      serve(left - 1);
    }));
  };
  server->async_accept(ws::server_options{}, track("server accept", true, [&](std::error_code e) {
    server_hs = e;
    if (!e) serve(2);
  }));

  // Client: handshake, two messages out, two back, then the close handshake.
  ws::client_options co;
  co.host = "localhost";
  client->async_handshake(co, track("client handshake", false, [&](std::error_code e) {
    client_hs = e;
    if (e) return;
    client->async_write_text("hello", track("client write hello", false, [](std::error_code) {}));
    client->async_write_text(std::string(sc.big_message), track("client write big", false, [](std::error_code) {}));
    client->async_read(client_msg, track("client read hello", false, [&](std::error_code e2, ws::message_type) {
      if (e2) return;
      client->async_read(client_big, track("client read big", false, [&](std::error_code e3, ws::message_type) {
        if (e3) return;
        client_saw_both = client_msg == "hello" && client_big == sc.big_message;
        client->async_close(1000, "bye", track("client close", false, [&](std::error_code e4) { client_close = e4; }));
      }));
    }));
  }));

  io.run_for(std::chrono::seconds(5));
  r.nothing_pending = io.stopped();
  r.fault_fired = fc.fired();
  for (const auto& [name, completed] : ops)
    if (!completed) r.not_completed += std::string(name) + "; ";
  r.clean = !server_hs && !client_hs && server_saw_both && client_saw_both && !client_close &&
            server_end == ws::make_error_code(ws::error::closed) && client->close_code() == 1000;
  server.reset();
  client.reset();
  return r;
}

// Runs the scenario failing the 0th, 1st, ... operation until one run sees no fault.
template <class Stream>
void walk_every_failure(const scenario& sc, tls_contexts* ctx = nullptr) {
  CAPTURE(sc.tls);
  CAPTURE(sc.fault_on_server);
  CAPTURE(sc.max_io);
  std::size_t fail_at = 0;
  for (;; ++fail_at) {
    CAPTURE(fail_at);
    REQUIRE(fail_at < 20000);  // the scenario is finite: some N sees no fault
    const run_result r = run_once<Stream>(sc, fail_at, ctx);
    CHECK(r.nothing_pending);
    CHECK_MESSAGE(r.completed == r.started, "pending: " << r.not_completed);
    if (!r.fault_fired) {
      CHECK(r.clean);
      break;
    }
    CHECK(r.failed_on_faulty_end > 0);
  }
  MESSAGE("operations before the run without a fault: " << fail_at);
  CHECK(fail_at > 4);  // a handshake, two messages each way and a close take more
}

}  // namespace

TEST_CASE("fault_injection_plain_every_step_both_ends") {
  for (bool on_server : {true, false})
    for (std::size_t max_io : {std::size_t{0}, std::size_t{3}}) {
      scenario sc{.tls = false, .fault_on_server = on_server, .max_io = max_io, .big_message = std::string(max_io ? 300 : 40000, 'x')};
      walk_every_failure<plain_stream>(sc);
    }
}

TEST_CASE("fault_injection_tls_every_step_both_ends") {
  tls_contexts ctx;
  for (bool on_server : {true, false})
    for (std::size_t max_io : {std::size_t{0}, std::size_t{61}}) {
      scenario sc{.tls = true, .fault_on_server = on_server, .max_io = max_io, .big_message = std::string(max_io ? 300 : 40000, 'x')};
      walk_every_failure<tls_stream>(sc, &ctx);
    }
}

TEST_CASE("fault_stream_reads_and_writes_in_short_pieces_and_ends_with_eof") {
  asio::io_context io;
  // (named references, not a structured binding: clang 14 cannot capture those)
  auto ends = test::fault_stream::make_pair(io.get_executor(), {.max_io = 2});
  test::fault_stream& a = ends.first;
  test::fault_stream& b = ends.second;
  std::string got;
  std::array<char, 16> buf{};
  std::function<void()> read_more = [&] {
    b.async_read_some(asio::buffer(buf), [&](std::error_code ec, std::size_t n) {
      if (ec) {
        CHECK(ec == asio::error::eof);
        return;
      }
      CHECK(n <= 2);
      got.append(buf.data(), n);
      read_more();
    });
  };
  read_more();
  asio::async_write(a, asio::buffer(std::string_view("hello")), [&](std::error_code ec, std::size_t n) {
    CHECK_FALSE(ec);
    CHECK(n == 5);
    a.close();
  });
  io.run();
  CHECK(got == "hello");

  test::fail_count fc(1);
  asio::io_context io2;
  auto ends2 = test::fault_stream::make_pair(io2.get_executor(), {.fail = &fc});
  test::fault_stream& c = ends2.first;
  std::error_code first, second;
  c.async_write_some(asio::buffer(std::string_view("x")), [&](std::error_code ec, std::size_t) { first = ec; });
  c.async_write_some(asio::buffer(std::string_view("y")), [&](std::error_code ec, std::size_t) { second = ec; });
  io2.run();
  CHECK_FALSE(first);
  CHECK(second == test::injected_error());
  CHECK(fc.fired());
}
