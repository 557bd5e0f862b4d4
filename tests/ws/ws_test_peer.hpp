// Test helpers: a scripted peer that writes raw frames (like the
// Autobahn|Testsuite fuzzing peer) to a connection under test and reads the
// frames it answers with. Used by the connection and conformance tests.
#pragma once

#include <sigwire/ws/connection.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sigwire::test {

struct raw_frame {
  ws::frame_header h;
  std::string payload;  // unmasked
  std::uint16_t close_code() const {
    return payload.size() >= 2 ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                            static_cast<std::uint8_t>(payload[1]))
                               : 0;
  }
};

struct seen_event {
  ws::event_type type;
  std::string data;
  std::uint16_t code;
  std::error_code ec;
};

// Builds one frame as the peer of `under_test` sends it: masked when the
// connection under test is a server (§5.3). b0 = FIN/RSV/opcode byte.
inline std::string peer_frame(ws::role under_test, int b0, std::string_view payload) {
  ws::frame_header h;
  h.fin = (b0 & 0x80) != 0;
  h.rsv1 = (b0 & 0x40) != 0;
  h.rsv2 = (b0 & 0x20) != 0;
  h.rsv3 = (b0 & 0x10) != 0;
  h.opcode = static_cast<ws::opcode>(b0 & 0xF);
  h.payload_length = payload.size();
  h.masked = under_test == ws::role::server;
  h.key = {std::byte{0x12}, std::byte{0x34}, std::byte{0x56}, std::byte{0x78}};
  std::string out(ws::max_header_size, '\0');
  out.resize(ws::encode_header(h, reinterpret_cast<std::byte*>(out.data())));
  const std::size_t start = out.size();
  out.append(payload);
  if (h.masked) ws::mask(reinterpret_cast<std::byte*>(out.data() + start), payload.size(), h.key);
  return out;
}

inline std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  return p.append(reason);
}

// Parses frames a connection of role `sender` wrote.
inline std::vector<raw_frame> parse_frames(std::string_view out, ws::role sender) {
  std::vector<raw_frame> frames;
  while (!out.empty()) {
    raw_frame f;
    const auto r = ws::decode_header(std::as_bytes(std::span(out.data(), out.size())), f.h, 0x4);
    REQUIRE(r.complete());
    REQUIRE(f.h.masked == (sender == ws::role::client));
    REQUIRE(out.size() >= r.size + f.h.payload_length);
    f.payload.assign(out.substr(r.size, f.h.payload_length));
    if (f.h.masked) ws::mask(reinterpret_cast<std::byte*>(f.payload.data()), f.payload.size(), f.h.key);
    frames.push_back(std::move(f));
    out.remove_prefix(r.size + f.h.payload_length);
  }
  return frames;
}

// A connection under test that echoes every message, as ws_echo_server does.
struct echo_harness {
  ws::connection c;
  std::vector<seen_event> events;
  bool echo = true;

  explicit echo_harness(ws::role r, ws::connection_options o = {}) : c(r, std::move(o)) {}

  // Delivers bytes in pieces of `chunk` (1 = byte by byte).
  void deliver(std::string_view bytes, std::size_t chunk = static_cast<std::size_t>(-1)) {
    while (!bytes.empty()) {
      std::string_view piece = bytes.substr(0, chunk);
      bytes.remove_prefix(piece.size());
      while (!piece.empty()) {
        const auto r = c.feed(piece);
        REQUIRE(r.consumed <= piece.size());
        piece.remove_prefix(r.consumed);
        if (r.ev) on_event(r.ev);
        else REQUIRE(piece.empty());
      }
    }
  }
  void on_event(const ws::event& ev) {
    events.push_back({ev.type, std::string(ev.data), ev.code, ev.ec});
    if (!echo) return;
    if (ev.type == ws::event_type::text) CHECK_FALSE(c.send_text(ev.data));
    if (ev.type == ws::event_type::binary) CHECK_FALSE(c.send_binary(ev.data));
  }
  std::vector<raw_frame> sent() {
    auto f = parse_frames(c.output(), c.role());
    c.consume_output(c.output().size());
    return f;
  }
  std::string frame(int b0, std::string_view payload) const { return peer_frame(c.role(), b0, payload); }
  // The connection failed (or closed) with a Close frame carrying `code` last.
  void expect_closed_with(std::uint16_t code) {
    const auto frames = sent();
    REQUIRE_FALSE(frames.empty());
    CHECK(frames.back().h.opcode == ws::opcode::close);
    CHECK(frames.back().close_code() == code);
    CHECK(c.close_sent());
  }
};

}  // namespace sigwire::test
