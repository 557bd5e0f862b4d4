// Conformance in the style of the Autobahn|Testsuite fuzzing server/client,
// sections 1-7, 9, 12 and 13: the scripted peer sends the case's frames to
// our connection (server role and client role), which echoes every message
// as ws_echo_server does, and the test checks what comes back. Case numbers
// in the names are Autobahn's.
#include <sigwire/ws/connection.hpp>

#include <doctest/doctest.h>

#include "ws_test_peer.hpp"

#include <random>
#include <string>
#include <vector>

using namespace sigwire;
using test::echo_harness;
using test::raw_frame;

namespace {
constexpr ws::role roles[] = {ws::role::server, ws::role::client};
constexpr std::size_t whole = static_cast<std::size_t>(-1);

std::string pattern(std::size_t n, char base = '*') {
  std::string s(n, base);
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(base == '*' ? 'A' + i % 26 : base);
  return s;
}

// Expects exactly one echo of (opcode, payload) and nothing else.
void expect_echo(echo_harness& h, ws::opcode op, const std::string& payload) {
  const auto f = h.sent();
  REQUIRE(f.size() == 1);
  CHECK(f[0].h.opcode == op);
  CHECK(f[0].h.fin);
  CHECK(f[0].payload == payload);
}

// The peer closes normally at the end of a case; we must echo 1000.
void close_normally(echo_harness& h) {
  h.deliver(h.frame(0x88, test::close_payload(1000)));
  h.expect_closed_with(1000);
  CHECK(h.c.state() == ws::connection_state::closed);
}

void expect_fail(echo_harness& h, std::uint16_t code) {
  REQUIRE_FALSE(h.events.empty());
  CHECK(h.events.back().type == ws::event_type::error);
  h.expect_closed_with(code);
  CHECK(h.c.state() == ws::connection_state::closed);
}
}  // namespace

TEST_CASE("autobahn_1_framing_text_and_binary_lengths") {
  // 1.1.1-1.1.8 (text) and 1.2.1-1.2.8 (binary): 0..65536 bytes, whole and chopped in 997-byte writes.
  for (auto r : roles)
    for (int op : {0x1, 0x2})
      for (std::size_t len : {0u, 125u, 126u, 127u, 128u, 65535u, 65536u})
        for (std::size_t chunk : {whole, std::size_t{997}}) {
          echo_harness h(r);
          const std::string p = op == 1 ? pattern(len) : std::string(len, '\xfe');
          h.deliver(h.frame(0x80 | op, p), chunk);
          expect_echo(h, static_cast<ws::opcode>(op), p);
          close_normally(h);
        }
}

TEST_CASE("autobahn_2_pings_and_pongs") {
  for (auto r : roles) {
    for (std::string p : {std::string(), std::string("Hello, world!"), std::string("\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8),
                          std::string(125, '\xfe')}) {  // 2.1-2.4
      echo_harness h(r);
      h.deliver(h.frame(0x89, p));
      expect_echo(h, ws::opcode::pong, p);
      close_normally(h);
    }
    {  // 2.5: ping with 126 bytes -> fail
      echo_harness h(r);
      h.deliver(h.frame(0x89, std::string(126, '\xfe')));
      expect_fail(h, 1002);
    }
    {  // 2.6: 125-byte ping in 1-byte chops
      echo_harness h(r);
      h.deliver(h.frame(0x89, std::string(125, '\xfe')), 1);
      expect_echo(h, ws::opcode::pong, std::string(125, '\xfe'));
    }
    {  // 2.7, 2.8: unsolicited pongs are ignored
      echo_harness h(r);
      h.deliver(h.frame(0x8A, "") + h.frame(0x8A, "unsolicited pong payload"));
      CHECK(h.sent().empty());
      close_normally(h);
    }
    {  // 2.9: unsolicited pong, then ping
      echo_harness h(r);
      h.deliver(h.frame(0x8A, "unsolicited") + h.frame(0x89, "ping"));
      expect_echo(h, ws::opcode::pong, "ping");
    }
    for (std::size_t chunk : {whole, std::size_t{1}}) {  // 2.10, 2.11: ten pings, ten pongs in order
      echo_harness h(r);
      std::string all;
      for (int i = 0; i < 10; ++i) all += h.frame(0x89, "payload-" + std::to_string(i));
      h.deliver(all, chunk);
      const auto f = h.sent();
      REQUIRE(f.size() == 10);
      for (int i = 0; i < 10; ++i) CHECK(f[i].payload == "payload-" + std::to_string(i));
    }
  }
}

TEST_CASE("autobahn_3_reserved_bits") {
  for (auto r : roles) {
    // 3.1 RSV1 on text; 3.2 RSV2 after a good text; 3.3 RSV3 after text, then ping;
    // 3.4 RSV1|RSV2 chopped; 3.5 RSV1|RSV3 binary; 3.6 RSV2|RSV3 ping; 3.7 all on close.
    struct c { std::vector<std::string> before; int b0; std::string payload; std::size_t chunk; };
    const c cases[] = {
        {{}, 0xC1, "Hello, world!", whole},
        {{"Hello, world!"}, 0xA1, "Hello, world!", whole},
        {{"Hello, world!"}, 0x91, "Hello, world!", whole},
        {{"Hello, world!"}, 0xE1, "Hello, world!", 1},
        {{}, 0xD2, std::string(8, '\xff'), whole},
        {{}, 0xB9, "Hello, world!", whole},
        {{}, 0xF8, "", whole},
    };
    for (const auto& k : cases) {
      echo_harness h(r);
      for (const auto& m : k.before) {
        h.deliver(h.frame(0x81, m));
        expect_echo(h, ws::opcode::text, m);
      }
      h.deliver(h.frame(k.b0, k.payload) + h.frame(0x89, ""), k.chunk);
      CHECK(h.events.back().ec == make_error_code(ws::error::reserved_bits));
      expect_fail(h, 1002);  // and the ping after it is not answered
    }
  }
}

TEST_CASE("autobahn_4_reserved_opcodes") {
  for (auto r : roles)
    for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {  // 4.1.1-4.1.5, 4.2.1-4.2.5
      echo_harness h(r);
      h.deliver(h.frame(0x81, "Hello, world!"));
      expect_echo(h, ws::opcode::text, "Hello, world!");
      h.deliver(h.frame(0x80 | op, op % 2 ? "reserved opcode payload" : "") + h.frame(0x89, ""));
      CHECK(h.events.back().ec == make_error_code(ws::error::reserved_opcode));
      expect_fail(h, 1002);
    }
}

TEST_CASE("autobahn_5_fragmentation") {
  for (auto r : roles) {
    for (int op : {0x09, 0x0A}) {  // 5.1, 5.2: fragmented ping / pong
      echo_harness h(r);
      h.deliver(h.frame(op, "fragment1") + h.frame(0x80, "fragment2"));
      CHECK(h.events.back().ec == make_error_code(ws::error::fragmented_control));
      expect_fail(h, 1002);
    }
    for (std::size_t chunk : {whole, std::size_t{1}}) {  // 5.3-5.5: text in two fragments
      echo_harness h(r);
      h.deliver(h.frame(0x01, "fragment1") + h.frame(0x80, "fragment2"), chunk);
      expect_echo(h, ws::opcode::text, "fragment1fragment2");
    }
    for (std::size_t chunk : {whole, std::size_t{1}}) {  // 5.6-5.8: ping between fragments
      echo_harness h(r);
      h.deliver(h.frame(0x01, "fragment1") + h.frame(0x89, "ping payload") + h.frame(0x80, "fragment2"), chunk);
      const auto f = h.sent();
      REQUIRE(f.size() == 2);
      CHECK(f[0].h.opcode == ws::opcode::pong);
      CHECK(f[0].payload == "ping payload");
      CHECK(f[1].payload == "fragment1fragment2");
    }
    for (int first : {0x80, 0x00}) {  // 5.9-5.14: continuation with nothing to continue
      for (std::size_t chunk : {whole, std::size_t{1}}) {
        echo_harness h(r);
        h.deliver(h.frame(first, "non-continuation payload") + h.frame(0x81, "Hello, world!"), chunk);
        CHECK(h.events.back().ec == make_error_code(ws::error::unexpected_continuation));
        expect_fail(h, 1002);
      }
    }
    {  // 5.15: two fragments, then a continuation after the message ended
      echo_harness h(r);
      h.deliver(h.frame(0x01, "fragment1") + h.frame(0x80, "fragment2") + h.frame(0x00, "fragment3") +
                h.frame(0x80, "fragment4"));
      const auto f = h.sent();
      REQUIRE(f.size() == 2);
      CHECK(f[0].payload == "fragment1fragment2");
      CHECK(f[1].h.opcode == ws::opcode::close);
      CHECK(f[1].close_code() == 1002);
    }
    for (int second : {0x01, 0x81}) {  // 5.16-5.18: a new text frame inside a fragmented message
      echo_harness h(r);
      h.deliver(h.frame(0x01, "fragment1") + h.frame(second, "fragment2") + h.frame(0x80, "fragment3"));
      CHECK(h.events.back().ec == make_error_code(ws::error::expected_continuation));
      expect_fail(h, 1002);
    }
    for (std::size_t chunk : {whole, std::size_t{1}}) {  // 5.19, 5.20: pings between many fragments
      echo_harness h(r);
      std::string s = h.frame(0x01, "fragment1") + h.frame(0x00, "fragment2") + h.frame(0x89, "pongme 1!");
      s += h.frame(0x00, "fragment3") + h.frame(0x89, "pongme 2!") + h.frame(0x00, "fragment4") + h.frame(0x80, "fragment5");
      h.deliver(s, chunk);
      const auto f = h.sent();
      REQUIRE(f.size() == 3);
      CHECK(f[0].payload == "pongme 1!");
      CHECK(f[1].payload == "pongme 2!");
      CHECK(f[2].payload == "fragment1fragment2fragment3fragment4fragment5");
    }
  }
}

namespace {
const std::string kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
// Autobahn 6.x invalid payloads (a selection per subsection).
const std::vector<std::string> invalid_utf8 = {
    "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",  // 6.3.1
    "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80",                                  // 6.6 5/6-byte
    "\xf7\xbf\xbf\xbf", "\xf4\x90\x80\x80",                                              // 6.7, 6.8 > U+10FFFF
    "\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80",                                          // 6.9 lone continuations
    "\xc0\x20", "\xe0\x80\x20", "\xf0\x80\x80\x20",                                      // 6.12 lonely starts
    "\xc0", "\xe0\x80", "\xdf", "\xef\xbf",                                              // 6.14 truncated
    "\xfe", "\xff", "\xfe\xfe\xff\xff",                                                  // 6.16 impossible
    "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xc1\xbf",                          // 6.17, 6.18 overlong
    "\xed\xa0\x80", "\xed\xaf\xbf", "\xed\xbf\xbf", "\xed\xa0\x80\xed\xb0\x80",          // 6.19, 6.20 surrogates
};
const std::vector<std::string> valid_utf8 = {
    "", kosme, "\x7f", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80", "\xdf\xbf", "\xef\xbf\xbf",
    "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xef\xbf\xbe",  // 6.2, 6.5, 6.21-6.23
};
}  // namespace

TEST_CASE("autobahn_6_utf8_handling") {
  for (auto r : roles) {
    for (const auto& v : valid_utf8) {
      for (std::size_t chunk : {whole, std::size_t{1}}) {  // 6.2.x, 6.5.x: whole, chopped
        echo_harness h(r);
        h.deliver(h.frame(0x81, v), chunk);
        expect_echo(h, ws::opcode::text, v);
      }
      if (v.size() > 1) {  // 6.2.3/6.2.4: fragmented at every byte (1-byte frames)
        echo_harness h(r);
        std::string s;
        for (std::size_t i = 0; i < v.size(); ++i)
          s += h.frame((i + 1 == v.size() ? 0x80 : 0x00) | (i == 0 ? 0x01 : 0x00), v.substr(i, 1));
        h.deliver(s);
        expect_echo(h, ws::opcode::text, v);
      }
    }
    for (const auto& bad : invalid_utf8) {
      for (bool fragmented : {false, true}) {
        echo_harness h(r);
        if (fragmented && bad.size() > 1) {
          std::string s;
          for (std::size_t i = 0; i < bad.size(); ++i)
            s += h.frame((i + 1 == bad.size() ? 0x80 : 0x00) | (i == 0 ? 0x01 : 0x00), bad.substr(i, 1));
          h.deliver(s);
        } else {
          h.deliver(h.frame(0x81, bad));
        }
        INFO("payload size " << bad.size());
        CHECK(h.events.back().ec == make_error_code(ws::error::invalid_utf8));
        expect_fail(h, 1007);
      }
    }
    {  // 6.4.1-6.4.4 fail fast: the invalid frame's message never completes
      echo_harness h(r);
      h.deliver(h.frame(0x01, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5") +
                h.frame(0x00, "\xf4\x90\x80\x80"));
      CHECK(h.events.back().ec == make_error_code(ws::error::invalid_utf8));
      expect_fail(h, 1007);
    }
    {  // 6.4.3: invalid in the middle of a frame whose tail never arrives
      echo_harness h(r);
      const std::string f = h.frame(0x81, kosme + "\xf4\x90\x80\x80" + "\x65\x64\x69\x74\x65\x64");
      h.deliver(std::string_view(f).substr(0, f.size() - 6));
      REQUIRE_FALSE(h.events.empty());
      CHECK(h.events.back().ec == make_error_code(ws::error::invalid_utf8));
    }
  }
}

TEST_CASE("autobahn_7_close_handling") {
  for (auto r : roles) {
    {  // 7.1.1: echo, then close
      echo_harness h(r);
      h.deliver(h.frame(0x81, "Hello World!"));
      expect_echo(h, ws::opcode::text, "Hello World!");
      close_normally(h);
    }
    {  // 7.1.2-7.1.4: after the close, a second close, a ping, a text are ignored
      echo_harness h(r);
      h.deliver(h.frame(0x88, test::close_payload(1000)) + h.frame(0x88, test::close_payload(1000)) +
                h.frame(0x89, "") + h.frame(0x81, "Hello World!"));
      h.expect_closed_with(1000);
      CHECK(h.events.size() == 1);
    }
    {  // 7.1.5: fragment, then close mid-message
      echo_harness h(r);
      h.deliver(h.frame(0x01, "fragment1") + h.frame(0x88, test::close_payload(1000)) + h.frame(0x80, "fragment2"));
      h.expect_closed_with(1000);
    }
    {  // 7.1.6: a big message, a ping, then close: all answered in order
      echo_harness h(r);
      const std::string big = pattern(256 * 1024);
      h.deliver(h.frame(0x81, big) + h.frame(0x89, "ping") + h.frame(0x88, test::close_payload(1000)));
      const auto f = h.sent();
      REQUIRE(f.size() == 3);
      CHECK(f[0].payload == big);
      CHECK(f[1].h.opcode == ws::opcode::pong);
      CHECK(f[2].close_code() == 1000);
    }
    {  // 7.3.1: empty close -> empty close back, code 1005 reported
      echo_harness h(r);
      h.deliver(h.frame(0x88, ""));
      const auto f = h.sent();
      REQUIRE(f.size() == 1);
      CHECK(f[0].h.opcode == ws::opcode::close);
      CHECK(f[0].payload.empty());
      CHECK(h.events[0].code == 1005);
    }
    {  // 7.3.2: close payload of 1 byte
      echo_harness h(r);
      h.deliver(h.frame(0x88, "\x03"));
      expect_fail(h, 1002);
    }
    for (std::size_t len : {0u, 10u, 123u}) {  // 7.3.3-7.3.5: code with reasons up to 123 bytes
      echo_harness h(r);
      h.deliver(h.frame(0x88, test::close_payload(1000, std::string(len, '*'))));
      h.expect_closed_with(1000);
      CHECK(h.events[0].data == std::string(len, '*'));
    }
    {  // 7.3.6: reason of 124 bytes (payload 126) -> control frame too long
      echo_harness h(r);
      h.deliver(h.frame(0x88, test::close_payload(1000, std::string(124, '*'))));
      expect_fail(h, 1002);
    }
    {  // 7.5.1: invalid UTF-8 in the reason
      echo_harness h(r);
      h.deliver(h.frame(0x88, test::close_payload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64")));
      expect_fail(h, 1007);
    }
    // 7.7.x valid codes are echoed; 7.9.x invalid ones fail with 1002.
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
      echo_harness h(r);
      h.deliver(h.frame(0x88, test::close_payload(code)));
      h.expect_closed_with(code);
      CHECK(h.events[0].code == code);
    }
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
      echo_harness h(r);
      h.deliver(h.frame(0x88, test::close_payload(code)));
      CHECK(h.events.back().ec == make_error_code(ws::error::bad_close_code));
      expect_fail(h, 1002);
    }
  }
}

TEST_CASE("autobahn_9_limits_and_performance") {
  for (auto r : roles) {
    // 9.1.6 / 9.2.6: 16 MiB text / binary in a single frame.
    for (int op : {0x1, 0x2}) {
      echo_harness h(r);
      const std::string big = pattern(16u << 20);
      h.deliver(h.frame(0x80 | op, big), 1u << 16);
      const auto f = h.sent();
      REQUIRE(f.size() == 1);
      CHECK(f[0].payload == big);
    }
    // 9.3.1 / 9.4.1: 4 MiB as 65,536 fragments of 64 bytes.
    for (int op : {0x1, 0x2}) {
      echo_harness h(r);
      const std::string msg = pattern(4u << 20);
      std::string s;
      s.reserve(msg.size() + 65536 * 6);
      for (std::size_t i = 0; i < 65536; ++i)
        s += h.frame((i == 65535 ? 0x80 : 0x00) | (i == 0 ? op : 0), std::string_view(msg).substr(i * 64, 64));
      h.deliver(s);
      const auto f = h.sent();
      REQUIRE(f.size() == 1);
      CHECK(f[0].payload == msg);
    }
    {  // 9.7.x / 9.8.x: 1000 small messages in a row, each echoed in order
      echo_harness h(r);
      std::string s;
      for (int i = 0; i < 1000; ++i) s += h.frame(0x81, "msg " + std::to_string(i));
      h.deliver(s, 4096);
      const auto f = h.sent();
      REQUIRE(f.size() == 1000);
      CHECK(f[999].payload == "msg 999");
    }
  }
}

// Autobahn 12.x/13.x: messages of 16 B - 128 KiB, echoed compressed, under
// each parameter set 13.1-13.7 uses (13.3/13.5's window 8 is declined by our
// zlib-based side, so those sets run with 9, as they do against zlib servers).
TEST_CASE("autobahn_12_13_permessage_deflate_echo") {
  const ws::deflate_params sets[] = {
      {false, false, 15, 15},  // 13.1 / 12.x: defaults
      {true, false, 15, 15},   // 13.2: server_no_context_takeover
      {false, false, 9, 9},    // 13.3: small windows
      {false, false, 15, 15},  // 13.4: window 15
      {true, true, 9, 9},      // 13.5: no takeover + small windows
      {true, true, 15, 15},    // 13.6
      {false, true, 12, 10},   // 13.7: mixed
  };
  for (const auto& params : sets)
    for (auto r : roles) {
      ws::connection_options o;
      o.deflate = params;
      ws::connection us(r, o);
      ws::connection peer(r == ws::role::server ? ws::role::client : ws::role::server, o);
      std::mt19937 rng(42);
      const std::string words[] = {"INVITE ", "sip:", "alice@", "example.com ", "Via: SIP/2.0/WSS ", "branch=z9hG4bK", "\r\n"};
      for (std::size_t size : {16u, 64u, 256u, 1024u, 4096u, 8192u, 16384u, 32768u, 65536u, 131072u}) {
        std::string msg;
        while (msg.size() < size) msg += words[rng() % 7];
        msg.resize(size);
        REQUIRE_FALSE(peer.send_text(msg));
        std::string wire(peer.output());
        peer.consume_output(wire.size());
        CHECK((static_cast<unsigned char>(wire[0]) & 0x40) != 0);  // RSV1: compressed
        // We receive (in 1400-byte pieces) and echo.
        std::string_view v = wire;
        std::string got;
        while (!v.empty()) {
          auto res = us.feed(v.substr(0, 1400));
          v.remove_prefix(res.consumed);
          if (res.ev) {
            REQUIRE(res.ev.type == ws::event_type::text);
            got = std::string(res.ev.data);
            REQUIRE_FALSE(us.send_text(got));
          }
        }
        REQUIRE(got == msg);
        std::string echo(us.output());
        us.consume_output(echo.size());
        const auto frames = test::parse_frames(echo, r);
        REQUIRE(frames.size() == 1);
        CHECK(frames[0].h.rsv1);
        if (size >= 256) CHECK(frames[0].payload.size() < msg.size());
        // The peer inflates the echo.
        std::string_view e = echo;
        std::string back;
        while (!e.empty()) {
          auto res = peer.feed(e);
          e.remove_prefix(res.consumed);
          if (res.ev) back = std::string(res.ev.data);
        }
        CHECK(back == msg);
      }
    }
}
