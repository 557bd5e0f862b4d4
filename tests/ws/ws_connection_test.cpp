#include <sigwire/ws/connection.hpp>

#include <doctest/doctest.h>

#include "ws_test_peer.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

using namespace sigwire;
using test::echo_harness;

namespace {
constexpr ws::role both_roles[] = {ws::role::server, ws::role::client};

// Our client and our server, wired back to back in memory.
struct pair {
  ws::connection client, server;
  std::vector<test::seen_event> at_client, at_server;
  pair(ws::connection_options co = {}, ws::connection_options so = {})
      : client(ws::role::client, std::move(co)), server(ws::role::server, std::move(so)) {}
  static void pump(ws::connection& from, ws::connection& to, std::vector<test::seen_event>& seen, std::size_t chunk) {
    std::string bytes(from.output());
    from.consume_output(bytes.size());
    std::string_view v = bytes;
    while (!v.empty()) {
      std::string_view piece = v.substr(0, chunk);
      v.remove_prefix(piece.size());
      while (!piece.empty()) {
        auto r = to.feed(piece);
        piece.remove_prefix(r.consumed);
        if (r.ev) seen.push_back({r.ev.type, std::string(r.ev.data), r.ev.code, r.ev.ec});
      }
    }
  }
  void run(std::size_t chunk = 1 << 20) {
    for (int i = 0; i < 4; ++i) {
      pump(client, server, at_server, chunk);
      pump(server, client, at_client, chunk);
    }
  }
};
}  // namespace

TEST_CASE("rfc6455_5_3_client_masks_every_frame_server_none") {
  pair p;
  REQUIRE_FALSE(p.client.send_text("hello"));
  REQUIRE_FALSE(p.client.ping("p"));
  const auto frames = test::parse_frames(p.client.output(), ws::role::client);  // REQUIREs masked
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].h.key != frames[1].h.key);  // fresh key per frame
  CHECK(frames[0].payload == "hello");
  REQUIRE_FALSE(p.server.send_binary("x"));
  CHECK_FALSE(test::parse_frames(p.server.output(), ws::role::server)[0].h.masked);
}

TEST_CASE("rfc6455_5_1_wrong_masking_fails_with_1002") {
  for (auto r : both_roles) {
    echo_harness h(r);
    // The frame the other role would send: masked for a client, unmasked for a server.
    h.deliver(test::peer_frame(r == ws::role::server ? ws::role::client : ws::role::server, 0x81, "x"));
    REQUIRE(h.events.size() == 1);
    CHECK(h.events[0].type == ws::event_type::error);
    CHECK(h.events[0].ec == make_error_code(r == ws::role::server ? ws::error::unmasked_frame : ws::error::masked_frame));
    CHECK(h.events[0].code == 1002);
    h.expect_closed_with(1002);
    CHECK(h.c.state() == ws::connection_state::closed);
  }
}

TEST_CASE("both_roles_exchange_messages_in_memory_at_every_chunk_size") {
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 1u << 20}) {
    pair p;
    const std::string big(70000, 'b');
    REQUIRE_FALSE(p.client.send_text("héllo"));
    REQUIRE_FALSE(p.client.send_binary(big));
    REQUIRE_FALSE(p.server.send_text(""));
    REQUIRE_FALSE(p.client.ping("are you there"));
    p.run(chunk);
    REQUIRE(p.at_server.size() == 3);
    CHECK(p.at_server[0].type == ws::event_type::text);
    CHECK(p.at_server[0].data == "héllo");
    CHECK(p.at_server[1].type == ws::event_type::binary);
    CHECK(p.at_server[1].data == big);
    CHECK(p.at_server[2].type == ws::event_type::ping);
    REQUIRE(p.at_client.size() == 2);
    CHECK(p.at_client[0].type == ws::event_type::text);
    CHECK(p.at_client[0].data.empty());
    CHECK(p.at_client[1].type == ws::event_type::pong);  // automatic pong
    CHECK(p.at_client[1].data == "are you there");
  }
}

TEST_CASE("rfc6455_7_close_handshake_both_directions") {
  for (bool client_starts : {true, false}) {
    pair p;
    auto& first = client_starts ? p.client : p.server;
    auto& second = client_starts ? p.server : p.client;
    REQUIRE_FALSE(first.close(4001, "bye"));
    CHECK(first.state() == ws::connection_state::closing);
    CHECK(first.send_text("late") == make_error_code(ws::error::closed));  // no data after Close
    CHECK(first.close() == make_error_code(ws::error::closed));
    p.run();
    const auto& seen_by_second = client_starts ? p.at_server : p.at_client;
    const auto& seen_by_first = client_starts ? p.at_client : p.at_server;
    REQUIRE(seen_by_second.size() == 1);
    CHECK(seen_by_second[0].type == ws::event_type::close);
    CHECK(seen_by_second[0].code == 4001);
    CHECK(seen_by_second[0].data == "bye");
    REQUIRE(seen_by_first.size() == 1);
    CHECK(seen_by_first[0].code == 4001);  // the code is echoed (§5.5.1)
    CHECK(first.state() == ws::connection_state::closed);
    CHECK(second.state() == ws::connection_state::closed);
    CHECK(first.transport_should_close());
  }
}

TEST_CASE("rfc6455_5_5_1_close_argument_checks") {
  ws::connection c(ws::role::server);
  CHECK(c.close(1005) == make_error_code(ws::error::bad_close_code));
  CHECK(c.close(1006) == make_error_code(ws::error::bad_close_code));
  CHECK(c.close(999) == make_error_code(ws::error::bad_close_code));
  CHECK(c.close(1000, std::string(124, 'x')) == make_error_code(ws::error::bad_close_reason));
  CHECK(c.close(1000, "\xff") == make_error_code(ws::error::bad_close_reason));
  CHECK(c.ping(std::string(126, 'x')) == make_error_code(ws::error::control_too_large));
  CHECK_FALSE(c.close(1000, std::string(123, 'x')));
}

TEST_CASE("rfc6455_5_4_fragmented_send_and_receive") {
  pair p;
  const auto bytes = [](std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); };
  REQUIRE_FALSE(p.client.send_fragment(ws::opcode::text, bytes("frag"), false));
  CHECK(p.client.send_text("x") == make_error_code(ws::error::expected_continuation));
  REQUIRE_FALSE(p.client.ping("mid"));
  REQUIRE_FALSE(p.client.send_fragment(ws::opcode::text, bytes("men"), false));
  REQUIRE_FALSE(p.client.send_fragment(ws::opcode::text, bytes("ted"), true));
  p.run(5);
  REQUIRE(p.at_server.size() == 2);
  CHECK(p.at_server[0].type == ws::event_type::ping);
  CHECK(p.at_server[1].data == "fragmented");
}

TEST_CASE("rfc6455_8_1_utf8_validated_across_fragments_and_fails_fast") {
  for (auto r : both_roles) {
    echo_harness h(r);
    // "€" = E2 82 AC split across three fragments: valid.
    h.deliver(h.frame(0x01, "\xE2") + h.frame(0x00, "\x82") + h.frame(0x80, "\xAC"));
    REQUIRE(h.events.size() == 1);
    CHECK(h.events[0].data == "\xE2\x82\xAC");
    // Invalid in the first fragment: the failure comes before the message ends.
    h.deliver(h.frame(0x01, "ok\xC0\xAF"));
    REQUIRE(h.events.size() == 2);
    CHECK(h.events[1].ec == make_error_code(ws::error::invalid_utf8));
    h.expect_closed_with(1007);
  }
  for (auto r : both_roles) {  // unfinished character at the end of the message
    echo_harness h(r);
    h.deliver(h.frame(0x81, "\xE2\x82"));
    REQUIRE(h.events.size() == 1);
    CHECK(h.events[0].ec == make_error_code(ws::error::invalid_utf8));
  }
  for (auto r : both_roles) {  // fail fast inside one frame delivered byte by byte
    echo_harness h(r);
    std::string f = h.frame(0x81, std::string("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80", 14) + std::string(100, 'a'));
    std::size_t fed = 0;
    while (h.events.empty() && fed < f.size()) h.deliver(std::string_view(f).substr(fed++, 1));
    REQUIRE(h.events.size() == 1);
    CHECK(h.events[0].ec == make_error_code(ws::error::invalid_utf8));
    CHECK(fed < f.size() - 100);
  }
}

TEST_CASE("limits_fail_with_1009") {
  for (auto r : both_roles) {
    ws::connection_options o;
    o.limits = {.max_frame_payload = 100, .max_message_size = 150, .max_fragments = 3};
    {
      echo_harness h(r, o);
      h.deliver(h.frame(0x82, std::string(101, 'x')));
      REQUIRE(h.events.size() == 1);
      CHECK(h.events[0].ec == make_error_code(ws::error::frame_too_big));
      h.expect_closed_with(1009);
    }
    {
      echo_harness h(r, o);
      h.deliver(h.frame(0x02, std::string(100, 'x')) + h.frame(0x80, std::string(51, 'x')));
      REQUIRE(h.events.size() == 1);
      CHECK(h.events[0].ec == make_error_code(ws::error::message_too_big));
      h.expect_closed_with(1009);
    }
    {
      echo_harness h(r, o);
      h.deliver(h.frame(0x02, "a") + h.frame(0x00, "b") + h.frame(0x00, "c") + h.frame(0x80, "d"));
      REQUIRE(h.events.size() == 1);
      CHECK(h.events[0].ec == make_error_code(ws::error::too_many_fragments));
      h.expect_closed_with(1009);
    }
    {  // exactly at the limits passes
      echo_harness h(r, o);
      h.deliver(h.frame(0x02, std::string(50, 'a')) + h.frame(0x00, std::string(50, 'b')) + h.frame(0x80, std::string(50, 'c')));
      REQUIRE(h.events.size() == 1);
      CHECK(h.events[0].data.size() == 150);
    }
  }
}

TEST_CASE("auto_pong_can_be_disabled") {
  ws::connection_options o;
  o.auto_pong = false;
  echo_harness h(ws::role::server, o);
  h.deliver(h.frame(0x89, "x"));
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].type == ws::event_type::ping);
  CHECK(h.sent().empty());
}

TEST_CASE("input_after_failure_or_close_is_consumed_and_ignored") {
  echo_harness h(ws::role::server);
  h.deliver(h.frame(0x88, test::close_payload(1000)) + h.frame(0x81, "ignored") + "garbage");
  REQUIRE(h.events.size() == 1);
  CHECK(h.events[0].type == ws::event_type::close);
  h.expect_closed_with(1000);
}

TEST_CASE("rfc7692_compressed_messages_between_our_roles") {
  struct cfg { ws::deflate_params params; };
  const ws::deflate_params matrix[] = {
      {}, {true, false, 15, 15}, {false, true, 15, 15}, {true, true, 15, 15}, {false, false, 9, 9}, {true, true, 10, 12}};
  std::mt19937 rng(1);
  for (const auto& params : matrix) {
    for (bool keep_idle : {true, false}) {
      ws::connection_options o;
      o.deflate = params;
      o.deflate_settings.keep_idle_codec = keep_idle;
      pair p(o, o);
      std::vector<std::string> sent;
      for (int i = 0; i < 20; ++i) {
        std::string m(rng() % 3000, 'a');
        for (auto& ch : m) ch = static_cast<char>('a' + rng() % 3);
        sent.push_back(m);
        REQUIRE_FALSE(p.client.send_text(m));
        REQUIRE_FALSE(p.server.send_binary(m));
      }
      // RSV1 is set on compressed frames.
      CHECK(test::parse_frames(p.client.output(), ws::role::client)[0].h.rsv1);
      p.run(97);
      REQUIRE(p.at_server.size() == sent.size());
      REQUIRE(p.at_client.size() == sent.size());
      for (std::size_t i = 0; i < sent.size(); ++i) {
        CHECK(p.at_server[i].data == sent[i]);
        CHECK(p.at_client[i].data == sent[i]);
      }
      if (!keep_idle && params.server_no_context_takeover && params.client_no_context_takeover)
        CHECK(p.server.deflate_memory() == 0);
    }
  }
}

TEST_CASE("rfc7692_6_1_rsv1_rules") {
  ws::connection_options o;
  o.deflate = ws::deflate_params{};
  {
    echo_harness h(ws::role::server, o);  // RSV1 on a continuation
    h.deliver(h.frame(0x41, "\xf2\x48") + h.frame(0xC0, "\xcd"));
    REQUIRE(h.events.size() == 1);
    CHECK(h.events[0].ec == make_error_code(ws::error::rsv1_on_continuation));
    h.expect_closed_with(1002);
  }
  {
    echo_harness h(ws::role::server, o);  // RSV1 on a control frame
    h.deliver(h.frame(0xC9, ""));
    CHECK(h.events[0].ec == make_error_code(ws::error::rsv1_on_control));
  }
  {
    echo_harness h(ws::role::server, o);  // RFC 7692 §7.2.3.1 frame, then 7.1 fragmented form
    h.deliver(h.frame(0xC1, std::string("\xf2\x48\xcd\xc9\xc9\x07\x00", 7)));
    h.deliver(h.frame(0x41, "\xf2\x48\xcd") + h.frame(0x80, std::string("\xc9\xc9\x07\x00", 4)));
    h.deliver(h.frame(0x81, "plain"));  // an uncompressed message is fine too
    REQUIRE(h.events.size() == 3);
    CHECK(h.events[0].data == "Hello");
    CHECK(h.events[1].data == "Hello");
    CHECK(h.events[2].data == "plain");
  }
  {
    echo_harness h(ws::role::server, o);  // corrupt data -> 1007; a bomb -> 1009
    h.deliver(h.frame(0xC1, "\xff\xff\xff"));
    CHECK(h.events[0].ec == make_error_code(ws::error::inflate_failed));
    h.expect_closed_with(1007);
  }
  {
    ws::connection_options small = o;
    small.limits.max_message_size = 1000;
    ws::connection sender(ws::role::client, o);
    REQUIRE_FALSE(sender.send_binary(std::string(100000, '\0')));
    CHECK(sender.output().size() < 500);
    echo_harness h(ws::role::server, small);
    h.deliver(sender.output());
    REQUIRE(h.events.size() == 1);
    CHECK(h.events[0].ec == make_error_code(ws::error::inflate_too_big));
    h.expect_closed_with(1009);
  }
}

TEST_CASE("random_bytes_never_crash_the_state_machine") {
  std::mt19937 rng(99);
  for (int iter = 0; iter < 2000; ++iter) {
    ws::connection_options o;
    if (iter % 2) o.deflate = ws::deflate_params{};
    o.limits.max_message_size = 1 << 16;
    ws::connection c(iter % 3 ? ws::role::server : ws::role::client, o);
    std::string junk(rng() % 200, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    std::string_view v = junk;
    int guard = 0;
    while (!v.empty() && ++guard < 10000) v.remove_prefix(c.feed(v).consumed);
    REQUIRE(v.empty());
  }
}

// take_message(): the delivered message moves into the caller's string by a
// swap; buffers alternate and every later message (fragmented, compressed,
// shorter or longer than the last) still arrives whole.
TEST_CASE("take_message_moves_each_message_out_without_a_copy") {
  for (bool deflate : {false, true}) {
    ws::connection_options o;
    if (deflate) o.deflate = ws::deflate_params{};
    ws::connection client(ws::role::client, o), server(ws::role::server, o);
    const std::string sent[] = {"first message", std::string(3000, 'x'), "", "é short",
                                std::string(70000, 'y'), "last"};
    std::string got, wire;
    std::vector<std::string> received;
    for (const auto& m : sent) {
      if (m.size() == 3000) {  // this one in three fragments
        CHECK_FALSE(client.send_fragment(ws::opcode::text, std::as_bytes(std::span(m.data(), 1000)), false));
        CHECK_FALSE(client.send_fragment(ws::opcode::text, std::as_bytes(std::span(m.data() + 1000, 1000)), false));
        CHECK_FALSE(client.send_fragment(ws::opcode::text, std::as_bytes(std::span(m.data() + 2000, 1000)), true));
      } else {
        CHECK_FALSE(client.send_text(m));
      }
      client.take_output(wire);
      std::string_view in = wire;
      while (!in.empty()) {
        auto r = server.feed(in);
        in.remove_prefix(r.consumed);
        if (r.ev.type == ws::event_type::text) {
          server.take_message(got);
          received.push_back(got);
        }
      }
    }
    REQUIRE(received.size() == std::size(sent));
    for (std::size_t i = 0; i < received.size(); ++i) CHECK(received[i] == sent[i]);
  }
}

namespace {
// Delivers `wire` to c in random pieces, through payload_window() /
// commit_payload() whenever a window is open (the zero-copy path), else
// through feed(); records every event.
std::vector<test::seen_event> deliver_zero_copy(ws::connection& c, std::string_view wire, std::mt19937& rng,
                                                std::size_t* committed = nullptr) {
  std::vector<test::seen_event> seen;
  while (!wire.empty()) {
    const std::size_t piece = std::uniform_int_distribution<std::size_t>(1, 700)(rng);
    ws::feed_result r;
    auto window = c.payload_window(std::uniform_int_distribution<std::size_t>(1, 900)(rng));
    if (!window.empty()) {
      const std::size_t n = std::min({window.size(), piece, wire.size()});
      std::memcpy(window.data(), wire.data(), n);  // what recv() into the window does
      r = c.commit_payload(n);
      REQUIRE(r.consumed == n);
      if (committed) *committed += n;
    } else {
      r = c.feed(wire.substr(0, piece));
    }
    wire.remove_prefix(r.consumed);
    if (r.ev) seen.push_back({r.ev.type, std::string(r.ev.data), r.ev.code, r.ev.ec});
  }
  return seen;
}
std::vector<test::seen_event> deliver_by_feed(ws::connection& c, std::string_view wire) {
  std::vector<test::seen_event> seen;
  while (!wire.empty()) {
    const auto r = c.feed(wire);
    wire.remove_prefix(r.consumed);
    if (r.ev) seen.push_back({r.ev.type, std::string(r.ev.data), r.ev.code, r.ev.ec});
  }
  return seen;
}
}  // namespace

// The zero-copy receive path gives exactly the events feed() gives: messages
// of every size, fragmented or not, with control frames between fragments,
// UTF-8 split anywhere, and a text message that turns invalid (1007).
TEST_CASE("payload_window_and_commit_match_feed_byte_for_byte") {
  std::mt19937 rng(7);
  for (auto r : both_roles) {
    for (int round = 0; round < 40; ++round) {
      CAPTURE(round);
      std::string wire;
      for (int m = 0; m < 12; ++m) {
        std::string text;
        const std::size_t len = std::uniform_int_distribution<std::size_t>(0, 3000)(rng);
        while (text.size() < len) text += (m % 3 == 0) ? "\xE2\x82\xAC" : (m % 3 == 1 ? "\xCE\xBA" : "abc");
        const int fragments = 1 + m % 4;
        const std::size_t step = text.size() / fragments + 1;
        for (int f = 0; f < fragments; ++f) {
          const int b0 = (f == fragments - 1 ? 0x80 : 0) | (f == 0 ? (m % 2 ? 0x1 : 0x2) : 0x0);
          wire += test::peer_frame(r, b0, std::string_view(text).substr(std::min(text.size(), f * step), step));
          if (f == 0 && fragments > 1) wire += test::peer_frame(r, 0x89, "between");
        }
      }
      if (round % 5 == 4) wire += test::peer_frame(r, 0x81, std::string(2000, 'a') + "\xC0\xAF" + std::string(500, 'b'));
      ws::connection by_feed(r), zero_copy(r);
      std::size_t committed = 0;
      const auto expected = deliver_by_feed(by_feed, wire);
      const auto got = deliver_zero_copy(zero_copy, wire, rng, &committed);
      REQUIRE(got.size() == expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].type == expected[i].type);
        CHECK(got[i].data == expected[i].data);
        CHECK(got[i].code == expected[i].code);
        CHECK(got[i].ec == expected[i].ec);
      }
      CHECK(committed > 0);  // the window path really ran
      if (round % 5 == 4) CHECK(got.back().ec == make_error_code(ws::error::invalid_utf8));
    }
  }
}

TEST_CASE("payload_window_is_closed_where_it_does_not_apply") {
  ws::connection c(ws::role::server);
  CHECK(c.payload_window(100).empty());  // a header comes first
  const std::string ping = test::peer_frame(ws::role::server, 0x89, "12345678");
  CHECK(c.feed(std::string_view(ping).substr(0, 8)).consumed == 8);  // header + part of a control payload
  CHECK(c.payload_window(100).empty());  // control frames go through feed()
  CHECK(c.feed(std::string_view(ping).substr(8)).ev.type == ws::event_type::ping);
  const std::string data = test::peer_frame(ws::role::server, 0x82, std::string(1000, 'x'));
  CHECK(c.feed(std::string_view(data).substr(0, 10)).consumed == 10);
  const auto w = c.payload_window(5000);
  CHECK(w.size() == 1000 - (10 - 8));  // bounded by what the frame still owes
  CHECK(c.payload_window(16).size() == 16);  // and by the caller's maximum
  // commit_payload() takes at most the window, and nothing once feed() ran.
  auto w16 = c.payload_window(16);
  std::memset(w16.data(), 'y', w16.size());
  CHECK(c.commit_payload(1000).consumed == 16);
  CHECK(c.payload_window(8).size() == 8);
  CHECK(c.feed(std::string_view{}).consumed == 0);
  CHECK(c.commit_payload(8).consumed == 0);
  CHECK(c.payload_window(5000).size() == 998 - 16);
}

namespace {
// Everything `from` has to send, as the peer receives it.
std::vector<test::seen_event> received_by_peer(std::string_view wire, ws::role peer_role, ws::connection_options o) {
  ws::connection peer(peer_role, std::move(o));
  std::vector<test::seen_event> seen;
  while (!wire.empty()) {
    auto r = peer.feed(wire);
    wire.remove_prefix(r.consumed);
    if (r.ev) seen.push_back({r.ev.type, std::string(r.ev.data), r.ev.code, r.ev.ec});
  }
  return seen;
}
std::string joined(const ws::output_batch& b) {
  std::string all;
  b.for_each_piece([&](std::string_view piece) { all.append(piece); });
  return all;
}
}  // namespace

// send_text/send_binary(std::string&&): a large payload is attached to the
// output, not copied (the batch's piece is the caller's own buffer), masked
// in place for the client role; small or compressed ones are framed as
// before. Every way of taking the output gives the peer the same messages.
TEST_CASE("owned_payloads_are_attached_without_a_copy_and_arrive_unchanged") {
  for (auto r : both_roles) {
    for (bool deflate : {false, true}) {
      CAPTURE(deflate);
      ws::connection_options o;
      if (deflate) o.deflate = ws::deflate_params{};
      const std::string big_a(ws::connection::min_attached_payload, 'a');
      const std::string big_b(100000, 'b');
      const std::string small(ws::connection::min_attached_payload - 1, 's');
      auto queue_messages = [&](ws::connection& c, const char** big_b_storage) {
        REQUIRE_FALSE(c.send_text("before"));
        REQUIRE_FALSE(c.send_binary(std::string(big_a)));
        REQUIRE_FALSE(c.ping("between"));
        std::string moved = big_b;
        *big_b_storage = moved.data();
        REQUIRE_FALSE(c.send_text(std::move(moved)));
        REQUIRE_FALSE(c.send_binary(std::string(small)));
      };
      const ws::role peer = r == ws::role::server ? ws::role::client : ws::role::server;
      // The five messages of queue_messages(), from seen[at] on.
      auto check_received = [&](const std::vector<test::seen_event>& seen, std::size_t at) {
        REQUIRE(seen.size() == at + 5);
        CHECK(seen[at].data == "before");
        CHECK((seen[at + 1].type == ws::event_type::binary && seen[at + 1].data == big_a));
        CHECK((seen[at + 2].type == ws::event_type::ping && seen[at + 2].data == "between"));
        CHECK((seen[at + 3].type == ws::event_type::text && seen[at + 3].data == big_b));
        CHECK((seen[at + 4].type == ws::event_type::binary && seen[at + 4].data == small));
      };

      // The batch: big payloads are pieces of their own, the caller's buffers.
      ws::connection c(r, o);
      const char* big_b_storage = nullptr;
      queue_messages(c, &big_b_storage);
      const std::size_t buffered = c.buffered_amount();
      ws::output_batch batch;
      c.take_output(batch);
      CHECK(c.buffered_amount() == 0);
      CHECK(batch.size() == buffered);
      CHECK(batch.contiguous() == deflate);
      bool big_b_in_place = false;
      batch.for_each_piece([&](std::string_view piece) { big_b_in_place |= piece.data() == big_b_storage; });
      CHECK(big_b_in_place == !deflate);
      check_received(received_by_peer(joined(batch), peer, o), 0);

      // After a partial consume_output(), the batch starts where it left off;
      // output() splices attached payloads into one view.
      for (bool as_view : {false, true}) {
        CAPTURE(as_view);
        ws::connection d(r, o);
        REQUIRE_FALSE(d.send_text("x"));
        std::string wire(d.output());
        d.consume_output(wire.size() - 1);  // one byte of the first frame is still owed
        wire.pop_back();
        const char* unused = nullptr;
        queue_messages(d, &unused);
        if (as_view) {
          wire += d.output();
          d.consume_output(d.buffered_amount());
        } else {
          ws::output_batch rest;
          d.take_output(rest);
          wire += joined(rest);
        }
        CHECK(d.buffered_amount() == 0);
        const auto seen = received_by_peer(wire, peer, o);
        REQUIRE_FALSE(seen.empty());
        CHECK(seen[0].data == "x");
        check_received(seen, 1);
      }
    }
  }
}

TEST_CASE("reassembly_buffer_follows_what_came_not_what_was_announced") {
  ws::connection client(ws::role::client), server(ws::role::server);
  const std::string big(1u << 20, 'z');
  REQUIRE_FALSE(client.send_binary(std::as_bytes(std::span(big.data(), big.size()))));
  std::string wire;
  client.take_output(wire);
  // The header announces 1 MiB; 10 payload bytes come: little room ahead of them.
  auto r = server.feed(std::string_view(wire).substr(0, 14 + 10));
  CHECK(r.consumed == 24);
  CHECK(server.receive_buffer_bytes() <= 4096);
  // Large reads: room grows with what came (at most 4x a read, or as much again as held).
  std::size_t fed = 24;
  for (const std::size_t chunk : {std::size_t{65536}, std::size_t{200000}, std::size_t{300000}}) {
    r = server.feed(std::string_view(wire).substr(fed, chunk));
    fed += r.consumed;
    CHECK(server.receive_buffer_bytes() <= 4 * (fed - 14) + 4096);
  }
  r = server.feed(std::string_view(wire).substr(fed));
  CHECK(r.ev.type == ws::event_type::binary);
  CHECK(r.ev.data.size() == big.size());

  // A 64 KiB message in one read: exactly its size, in one allocation.
  ws::connection c2(ws::role::client), s2(ws::role::server);
  const std::string m(65536, 'm');
  REQUIRE_FALSE(c2.send_binary(std::as_bytes(std::span(m.data(), m.size()))));
  c2.take_output(wire);
  r = s2.feed(wire);
  CHECK(r.ev.type == ws::event_type::binary);
  CHECK(s2.receive_buffer_bytes() == m.size());
}

// ---- time as an input: keep-alive and close timeout on a virtual clock ----------
namespace {
using namespace std::chrono_literals;
constexpr ws::instant t0 = 1'000us;  // any epoch: the connection never reads a clock

ws::connection_options with_timeouts(ws::duration idle, ws::duration close) {
  ws::connection_options o;
  o.timeouts = {.idle = idle, .close = close};
  return o;
}
// Frames the connection has queued, taken out of its output.
std::vector<test::raw_frame> drain_frames(ws::connection& c) {
  std::string bytes(c.output());
  c.consume_output(bytes.size());
  return test::parse_frames(bytes, c.role());
}
}  // namespace

TEST_CASE("keepalive_pings_after_idle_of_silence_and_times_out_after_as_long_again") {
  ws::connection server(ws::role::server, with_timeouts(30s, 5s), t0);
  ws::connection client(ws::role::client);
  REQUIRE(server.next_deadline() == t0 + 30s);
  CHECK(server.on_timer(t0 + 5s) == ws::timer_outcome::none);  // early: harmless
  CHECK(server.output().empty());

  // A message at +10 s moves the deadline; the timer armed at +30 s finds nothing due.
  REQUIRE_FALSE(client.send_text("hi"));
  server.advance_clock(t0 + 10s);
  CHECK(server.feed(client.output()).ev.type == ws::event_type::text);
  CHECK(server.next_deadline() == t0 + 40s);
  CHECK(server.on_timer(t0 + 30s) == ws::timer_outcome::none);

  CHECK(server.on_timer(t0 + 40s) == ws::timer_outcome::ping_sent);
  const auto frames = drain_frames(server);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].h.opcode == ws::opcode::ping);
  CHECK(server.next_deadline() == t0 + 70s);  // one more idle period to answer
  CHECK(server.state() == ws::connection_state::open);

  CHECK(server.on_timer(t0 + 70s) == ws::timer_outcome::timed_out);
  CHECK(server.timed_out());
  CHECK(server.state() == ws::connection_state::closed);
  CHECK(server.transport_should_close());
  CHECK_FALSE(server.close_handshake_complete());
  CHECK(server.next_deadline() == std::nullopt);
  CHECK(server.send_text("late") == make_error_code(ws::error::closed));
  CHECK(server.output().empty());  // no Close frame: the peer is gone (1006)
  CHECK(server.on_timer(t0 + 100s) == ws::timer_outcome::none);
}

TEST_CASE("keepalive_pong_or_any_byte_restarts_the_idle_period") {
  for (auto r : both_roles) {
    pair p(r == ws::role::client ? with_timeouts(1s, 5s) : ws::connection_options{},
           r == ws::role::server ? with_timeouts(1s, 5s) : ws::connection_options{});
    ws::connection& c = r == ws::role::client ? p.client : p.server;
    c.advance_clock(t0);  // opened at 0, told the time later: the idle period still counts from 0
    CHECK(c.next_deadline() == ws::instant(1s));
    REQUIRE(c.on_timer(1s + 250us) == ws::timer_outcome::ping_sent);
    c.advance_clock(1s + 900us);
    p.run();  // the ping goes over, the peer's automatic pong comes back
    CHECK(c.next_deadline() == 2s + 900us);
    // A late timer never skips the ping: one call pings, the next finds nothing due.
    CHECK(c.on_timer(10s) == ws::timer_outcome::ping_sent);
    CHECK(c.on_timer(10s) == ws::timer_outcome::none);
    CHECK(c.on_timer(11s) == ws::timer_outcome::timed_out);
  }
}

TEST_CASE("close_timeout_counts_from_our_close_and_replaces_keepalive") {
  pair p(with_timeouts(30s, 5s), with_timeouts(30s, 5s));
  p.client.advance_clock(7s);
  REQUIRE_FALSE(p.client.close(1000, "bye"));
  CHECK(p.client.next_deadline() == 12s);
  CHECK(p.client.on_timer(12s - 1us) == ws::timer_outcome::none);
  CHECK(p.client.on_timer(12s) == ws::timer_outcome::timed_out);
  CHECK_FALSE(p.client.close_handshake_complete());

  // The peer's Close echoed: the close timeout counts from its arrival.
  p.server.advance_clock(9s);
  std::string bytes(p.client.output());
  const auto r = p.server.feed(bytes);
  CHECK(r.ev.type == ws::event_type::close);
  CHECK(p.server.close_sent());
  CHECK(p.server.next_deadline() == 14s);
}

TEST_CASE("close_timeout_after_a_failure_and_zero_timeouts_need_no_timer") {
  ws::connection server(ws::role::server, with_timeouts(0s, 5s), t0);
  CHECK(server.next_deadline() == std::nullopt);  // no keep-alive
  CHECK(server.on_timer(t0 + 1s) == ws::timer_outcome::none);
  server.advance_clock(t0 + 2s);
  const std::string unmasked_text("\x81\x02hi", 4);  // §5.1: a client frame must be masked
  CHECK(server.feed(unmasked_text).ev.type == ws::event_type::error);
  CHECK(server.next_deadline() == t0 + 7s);
  CHECK(server.on_timer(t0 + 7s) == ws::timer_outcome::timed_out);

  ws::connection patient(ws::role::client, with_timeouts(0s, 0s));
  REQUIRE_FALSE(patient.close());
  CHECK(patient.next_deadline() == std::nullopt);  // close timeout zero: wait forever

  ws::connection c(ws::role::client, with_timeouts(1s, 5s), 10s);
  c.advance_clock(3s);  // the clock never goes back
  CHECK(c.next_deadline() == 11s);
}
