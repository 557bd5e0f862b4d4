#include <sigwire/ws/frame.hpp>

#include <doctest/doctest.h>

#include <sigwire/ws/close_code.hpp>
#include <sigwire/ws/error.hpp>
#include <sigwire/ws/subprotocol.hpp>

#include <string>
#include <vector>

using namespace sigwire;

namespace {
std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}
std::string payload_of(const std::vector<std::byte>& f, const ws::frame_header& h, std::size_t hsize) {
  std::string s(reinterpret_cast<const char*>(f.data()) + hsize, h.payload_length);
  if (h.masked) ws::mask(reinterpret_cast<std::byte*>(s.data()), s.size(), h.key);
  return s;
}
}  // namespace

TEST_CASE("rfc6455_5_7_single_frame_unmasked_text") {
  const auto f = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  ws::frame_header h;
  const auto r = ws::decode_header(f, h);
  REQUIRE(r.complete());
  CHECK(r.size == 2);
  CHECK(h.fin);
  CHECK(h.opcode == ws::opcode::text);
  CHECK_FALSE(h.masked);
  CHECK(payload_of(f, h, r.size) == "Hello");
  std::byte out[ws::max_header_size];
  REQUIRE(ws::encode_header(h, out) == 2);
  CHECK(std::vector<std::byte>(out, out + 2) == bytes({0x81, 0x05}));
}

TEST_CASE("rfc6455_5_7_single_frame_masked_text") {
  const auto f = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  ws::frame_header h;
  const auto r = ws::decode_header(f, h);
  REQUIRE(r.complete());
  CHECK(r.size == 6);
  CHECK(h.masked);
  CHECK(h.key == ws::mask_key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}});
  CHECK(payload_of(f, h, r.size) == "Hello");
  std::byte out[ws::max_header_size];
  REQUIRE(ws::encode_header(h, out) == 6);
  CHECK(std::vector<std::byte>(out, out + 6) == std::vector<std::byte>(f.begin(), f.begin() + 6));
}

TEST_CASE("rfc6455_5_7_fragmented_unmasked_text") {
  const auto a = bytes({0x01, 0x03, 0x48, 0x65, 0x6c});
  const auto b = bytes({0x80, 0x02, 0x6c, 0x6f});
  ws::frame_header h1, h2;
  REQUIRE(ws::decode_header(a, h1).complete());
  REQUIRE(ws::decode_header(b, h2).complete());
  CHECK_FALSE(h1.fin);
  CHECK(h1.opcode == ws::opcode::text);
  CHECK(h2.fin);
  CHECK(h2.opcode == ws::opcode::continuation);
  CHECK(payload_of(a, h1, 2) + payload_of(b, h2, 2) == "Hello");
}

TEST_CASE("rfc6455_5_7_ping_and_masked_pong") {
  const auto ping = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  const auto pong = bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  ws::frame_header h;
  REQUIRE(ws::decode_header(ping, h).complete());
  CHECK(h.opcode == ws::opcode::ping);
  CHECK(payload_of(ping, h, 2) == "Hello");
  REQUIRE(ws::decode_header(pong, h).complete());
  CHECK(h.opcode == ws::opcode::pong);
  CHECK(payload_of(pong, h, 6) == "Hello");
}

TEST_CASE("rfc6455_5_7_256_byte_and_64_kib_binary_lengths") {
  ws::frame_header h;
  auto f16 = bytes({0x82, 0x7E, 0x01, 0x00});
  REQUIRE(ws::decode_header(f16, h).complete());
  CHECK(h.payload_length == 256);
  CHECK(h.opcode == ws::opcode::binary);
  auto f64 = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0});
  const auto r = ws::decode_header(f64, h);
  REQUIRE(r.complete());
  CHECK(r.size == 10);
  CHECK(h.payload_length == 65536);
  std::byte out[ws::max_header_size];
  REQUIRE(ws::encode_header(h, out) == 10);
  CHECK(std::vector<std::byte>(out, out + 10) == f64);
}

TEST_CASE("rfc6455_5_2_all_length_forms_round_trip_at_the_boundaries") {
  for (std::uint64_t len : {0ull, 1ull, 125ull, 126ull, 127ull, 65535ull, 65536ull, 0x7FFFFFFFFFFFFFFFull}) {
    for (bool masked : {false, true}) {
      ws::frame_header h;
      h.opcode = ws::opcode::binary;
      h.payload_length = len;
      h.masked = masked;
      h.key = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
      std::byte out[ws::max_header_size];
      const std::size_t n = ws::encode_header(h, out);
      CHECK(n == ws::header_size(len, masked));
      ws::frame_header d;
      const auto r = ws::decode_header(std::span<const std::byte>(out, n), d);
      REQUIRE(r.complete());
      CHECK(r.size == n);
      CHECK(d.payload_length == len);
      CHECK(d.masked == masked);
      if (masked) CHECK(d.key == h.key);
    }
  }
}

TEST_CASE("rfc6455_5_2_partial_input_says_how_many_bytes_are_needed") {
  const auto f = bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4});
  for (std::size_t n = 0; n < f.size(); ++n) {
    ws::frame_header h;
    const auto r = ws::decode_header(std::span(f.data(), n), h);
    REQUIRE(r.need_more());
    CHECK(r.size == (n < 2 ? 2 - n : f.size() - n));
  }
  ws::frame_header h;
  CHECK(ws::decode_header(f, h).size == 14);
}

TEST_CASE("rfc6455_5_2_violations") {
  struct bad { std::vector<std::byte> f; ws::error e; };
  const bad cases[] = {
      {bytes({0x83, 0x00}), ws::error::reserved_opcode},
      {bytes({0x87, 0x00}), ws::error::reserved_opcode},
      {bytes({0x8B, 0x00}), ws::error::reserved_opcode},
      {bytes({0x8F, 0x00}), ws::error::reserved_opcode},
      {bytes({0xC1, 0x00}), ws::error::reserved_bits},
      {bytes({0xA1, 0x00}), ws::error::reserved_bits},
      {bytes({0x91, 0x00}), ws::error::reserved_bits},
      {bytes({0x09, 0x00}), ws::error::fragmented_control},
      {bytes({0x89, 0x7E, 0x00, 0x7E}), ws::error::control_too_large},
      {bytes({0x88, 0x7E}), ws::error::control_too_large},
      {bytes({0x82, 0x7E, 0x00, 0x7D}), ws::error::non_minimal_length},
      {bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}), ws::error::non_minimal_length},
      {bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}), ws::error::length_msb_set},
  };
  for (const auto& c : cases) {
    ws::frame_header h;
    const auto r = ws::decode_header(c.f, h);
    REQUIRE(r.failed());
    CHECK(r.ec == make_error_code(c.e));
    CHECK(ws::close_code_for(c.e) == ws::close_code::protocol_error);
  }
  // RSV1 is allowed once an extension (permessage-deflate) negotiated it.
  ws::frame_header h;
  CHECK(ws::decode_header(bytes({0xC1, 0x00}), h, 0x4).complete());
  CHECK(h.rsv1);
  CHECK(ws::decode_header(bytes({0xE1, 0x00}), h, 0x4).failed());
}

TEST_CASE("rfc6455_7_4_close_code_registry") {
  for (std::uint16_t c : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999})
    CHECK(ws::is_valid_on_wire(c));
  for (std::uint16_t c : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    CHECK_FALSE(ws::is_valid_on_wire(c));
  CHECK(ws::close_code_name(1000) == "Normal Closure");
  CHECK(ws::close_code_name(4001) == "Private Use");
  CHECK(ws::close_code_name(2000) == "Invalid");
}

TEST_CASE("every_error_maps_to_a_close_code_or_http_status") {
  for (int v = 1; v <= static_cast<int>(ws::error::timeout); ++v) {
    const auto e = static_cast<ws::error>(v);
    const std::error_code ec = e;
    CHECK(ec.category().name() == std::string("sigwire.ws"));
    CHECK(ec.message() != "unknown sigwire.ws error");
    const auto code = static_cast<std::uint16_t>(ws::close_code_for(e));
    CHECK(ws::is_valid_on_wire(code));
  }
  CHECK(ws::close_code_for(ws::error::invalid_utf8) == ws::close_code::invalid_payload);
  CHECK(ws::close_code_for(ws::error::bad_close_reason) == ws::close_code::invalid_payload);
  CHECK(ws::close_code_for(ws::error::message_too_big) == ws::close_code::message_too_big);
  CHECK(ws::close_code_for(ws::error::inflate_too_big) == ws::close_code::message_too_big);
  CHECK(ws::http_status_for(ws::error::bad_version) == 426);
  CHECK(ws::http_status_for(ws::error::origin_rejected) == 403);
  CHECK(ws::http_status_for(ws::error::bad_key) == 400);
  // Coarse conditions.
  CHECK(std::error_code(ws::error::bad_key) == ws::condition::handshake_failed);
  CHECK(std::error_code(ws::error::reserved_opcode) == ws::condition::protocol_violation);
  CHECK(std::error_code(ws::error::message_too_big) == ws::condition::limit_exceeded);
  CHECK(std::error_code(ws::error::message_too_big) != ws::condition::protocol_violation);
}

TEST_CASE("iana_subprotocol_names") {
  CHECK(ws::subprotocol::sip == "sip");
  CHECK(ws::subprotocol::stomp_12 == "v12.stomp");
  CHECK(ws::subprotocol::is_registered("mqtt"));
  CHECK(ws::subprotocol::is_registered("msrp"));
  CHECK_FALSE(ws::subprotocol::is_registered("SIP"));
}

#include <sigwire/ws/connection.hpp>

#include "../support/guarded_buffer.hpp"

TEST_CASE("decoder_and_connection_never_read_past_the_input") {
  test::guarded_buffer g;
  const auto f = bytes({0x81, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4});
  const std::string_view raw(reinterpret_cast<const char*>(f.data()), f.size());
  std::size_t complete = 0;
  for (std::size_t n = 0; n <= f.size(); ++n) {
    const auto in = g.place(raw.substr(0, n));
    ws::frame_header h;
    complete += ws::decode_header(std::as_bytes(std::span(in.data(), in.size())), h).complete();
    ws::connection c(ws::role::server);
    (void)c.feed(in);
  }
  CHECK(complete == 1);
  // A whole masked message ending at the guard page, fed in one piece.
  ws::connection client(ws::role::client);
  REQUIRE_FALSE(client.send_text(std::string(300, 'q')));
  ws::connection server(ws::role::server);
  const auto in = g.place(client.output());
  const auto r = server.feed(in);
  CHECK(r.ev.type == ws::event_type::text);
  CHECK(r.ev.data == std::string(300, 'q'));
}
