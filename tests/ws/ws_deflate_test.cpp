#include <sigwire/ws/deflate.hpp>

#include <doctest/doctest.h>

#include <sigwire/ws/connection.hpp>

#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace sigwire;

namespace {
std::string hex_bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}
std::span<const std::byte> as_span(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

http::header_list exts(std::string_view value) {
  http::header_list h;
  h.fields.push_back({"Sec-WebSocket-Extensions", value});
  return h;
}

// zlib's widest windows (15 bits both ways): the negotiation tables below
// read most simply against them. The defaults (12 bits) have their own test.
constexpr ws::deflate_options widest{.enabled = true, .server_max_window_bits = 15, .client_max_window_bits = 15};

std::optional<ws::deflate_params> server_sees(std::string_view offer, ws::deflate_options o = widest) {
  return ws::deflate_accept(exts(offer), o);
}

ws::deflate_validation client_sees(std::string_view response, ws::deflate_options o = widest) {
  return ws::deflate_validate_response(exts(response), o);
}

const std::string sip_invite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9snljd8f\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws;ob>\r\n"
    "Supported: outbound, path, gruu\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE, OPTIONS, REFER, INFO\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 251\r\n\r\n"
    "v=0\r\no=alice 2890844526 2890844526 IN IP4 atlanta.example.com\r\ns=-\r\n"
    "c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/SAVPF 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\na=sendrecv\r\na=rtcp-mux\r\n";
}  // namespace

TEST_CASE("rfc7692_7_2_3_1_hello_compresses_to_the_rfc_bytes") {
  ws::deflater d;
  std::string out;
  REQUIRE_FALSE(d.compress(as_span("Hello"), out));
  CHECK(out == hex_bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
}

TEST_CASE("rfc7692_7_2_3_2_sharing_the_lz77_window") {
  ws::deflater d;
  std::string a, b;
  REQUIRE_FALSE(d.compress(as_span("Hello"), a));
  REQUIRE_FALSE(d.compress(as_span("Hello"), b));
  CHECK(b == hex_bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
  ws::inflater i;
  std::string out;
  REQUIRE_FALSE(i.feed(as_span(a), out, 100));
  REQUIRE_FALSE(i.finish(out, 100));
  CHECK(out == "Hello");
  out.clear();
  REQUIRE_FALSE(i.feed(as_span(b), out, 100));
  REQUIRE_FALSE(i.finish(out, 100));
  CHECK(out == "Hello");
}

// §7.2.3.6: an empty message compresses to one empty stored block, 0x00,
// first on a stream or after others (zlib then writes nothing at all), with
// and without context takeover; the peer inflates it back to nothing.
TEST_CASE("rfc7692_7_2_3_6_an_empty_message_is_one_zero_byte") {
  for (bool takeover : {true, false}) {
    ws::deflater d(15, 8, 6, !takeover, true);
    ws::inflater i(15, !takeover, true);
    for (std::string_view m : {"", "Hello", "", "", "Hello again", ""}) {
      std::string wire, back;
      REQUIRE_FALSE(d.compress(as_span(m), wire));
      if (m.empty()) CHECK(wire == hex_bytes({0x00}));
      REQUIRE_FALSE(i.feed(as_span(wire), back, 1000));
      REQUIRE_FALSE(i.finish(back, 1000));
      CHECK(back == m);
    }
  }
}

TEST_CASE("rfc7692_7_2_3_inflate_examples") {
  const std::string cases[] = {
      hex_bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),                                  // 7.2.3.1
      hex_bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}),          // 7.2.3.3 stored
      hex_bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}),                            // 7.2.3.4 BFINAL
      hex_bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}),  // 7.2.3.5
  };
  for (const auto& c : cases) {
    ws::inflater i;
    std::string out;
    REQUIRE_FALSE(i.feed(as_span(c), out, 100));
    REQUIRE_FALSE(i.finish(out, 100));
    CHECK(out == "Hello");
    // The next message still inflates (after BFINAL the stream restarts).
    out.clear();
    REQUIRE_FALSE(i.feed(as_span(cases[0]), out, 100));
    REQUIRE_FALSE(i.finish(out, 100));
    CHECK(out == "Hello");
  }
  // 7.2.3.6: an empty message is a single 0x00 byte.
  ws::deflater d;
  std::string z;
  REQUIRE_FALSE(d.compress({}, z));
  CHECK(z == hex_bytes({0x00}));
  ws::inflater i;
  std::string out;
  REQUIRE_FALSE(i.feed(as_span(z), out, 100));
  REQUIRE_FALSE(i.finish(out, 100));
  CHECK(out.empty());
}

TEST_CASE("rfc7692_7_2_1_context_takeover_keeps_the_window") {
  ws::deflater keep(15, 8, 6, false, true), reset(15, 8, 6, true, true);
  std::string k1, k2, r1, r2;
  REQUIRE_FALSE(keep.compress(as_span(sip_invite), k1));
  REQUIRE_FALSE(keep.compress(as_span(sip_invite), k2));
  REQUIRE_FALSE(reset.compress(as_span(sip_invite), r1));
  REQUIRE_FALSE(reset.compress(as_span(sip_invite), r2));
  MESSAGE("INVITE " << sip_invite.size() << " B -> first " << k1.size() << " B, again with takeover " << k2.size()
                    << " B, without " << r2.size() << " B");
  CHECK(k2.size() * 10 < sip_invite.size());  // the second copy is mostly back-references
  CHECK(r2.size() == r1.size());
  CHECK(r2.size() > sip_invite.size() / 3);
}

TEST_CASE("inflate_limit_stops_a_decompression_bomb") {
  const std::string zeros(1 << 20, '\0');
  ws::deflater d;
  std::string z;
  REQUIRE_FALSE(d.compress(as_span(zeros), z));
  CHECK(z.size() < 2000);
  ws::inflater i;
  std::string out;
  auto ec = i.feed(as_span(z), out, 64 * 1024);
  if (!ec) ec = i.finish(out, 64 * 1024);
  CHECK(ec == make_error_code(ws::error::inflate_too_big));
  CHECK(out.size() <= 64 * 1024 + 1);
  ws::inflater corrupt;
  out.clear();
  CHECK(corrupt.feed(as_span(hex_bytes({0xff, 0xff, 0xff, 0xff})), out, 100) == make_error_code(ws::error::inflate_failed));
}

TEST_CASE("rfc7692_7_1_server_negotiation_matrix") {
  using P = ws::deflate_params;
  // offer -> accepted params (nullopt = declined)
  CHECK(server_sees("permessage-deflate") == P{});
  CHECK(server_sees("permessage-deflate; client_max_window_bits") == P{});
  CHECK(server_sees("permessage-deflate; client_max_window_bits=10") == P{false, false, 15, 10});
  CHECK(server_sees("permessage-deflate; client_max_window_bits=\"10\"") == P{false, false, 15, 10});
  CHECK(server_sees("permessage-deflate; server_max_window_bits=12") == P{false, false, 12, 15, true});
  CHECK(server_sees("permessage-deflate; server_no_context_takeover") == P{true, false, 15, 15});
  CHECK(server_sees("permessage-deflate; client_no_context_takeover") == P{});
  // Declined offers: unknown/duplicate/invalid parameters, and window 8 (zlib).
  CHECK_FALSE(server_sees("permessage-deflate; foo"));
  CHECK_FALSE(server_sees("permessage-deflate; server_max_window_bits"));
  CHECK_FALSE(server_sees("permessage-deflate; server_max_window_bits=16"));
  CHECK_FALSE(server_sees("permessage-deflate; server_max_window_bits=07"));
  CHECK_FALSE(server_sees("permessage-deflate; server_max_window_bits=8"));
  CHECK_FALSE(server_sees("permessage-deflate; client_max_window_bits=7"));
  CHECK_FALSE(server_sees("permessage-deflate; server_no_context_takeover=1"));
  CHECK_FALSE(server_sees("permessage-deflate; server_no_context_takeover; server_no_context_takeover"));
  CHECK_FALSE(server_sees("x-webkit-deflate-frame"));
  // Fallback: the first acceptable offer wins.
  CHECK(server_sees("permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits") == P{});
  CHECK(server_sees("foo, permessage-deflate; server_max_window_bits=10") == P{false, false, 10, 15, true});
  // Our own settings: memory budget.
  ws::deflate_options small{.enabled = true, .server_no_context_takeover = true, .client_no_context_takeover = true,
                            .server_max_window_bits = 10, .client_max_window_bits = 11};
  CHECK(server_sees("permessage-deflate; client_max_window_bits", small) == P{true, true, 10, 11});
  CHECK(server_sees("permessage-deflate; client_max_window_bits=9", small) == P{true, true, 10, 9});
  // Without client_max_window_bits in the offer the server must not limit it.
  CHECK(server_sees("permessage-deflate", small) == P{true, true, 10, 15});
  CHECK(ws::deflate_response(P{true, true, 10, 9, true}) ==
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
        "client_max_window_bits=9");
  CHECK_FALSE(server_sees("permessage-deflate", {.enabled = false}));
}

TEST_CASE("rfc7692_7_1_client_validation_matrix") {
  using P = ws::deflate_params;
  CHECK(*client_sees("permessage-deflate").params == P{});
  CHECK(*client_sees("permessage-deflate; server_no_context_takeover").params == P{true, false, 15, 15});
  CHECK(*client_sees("permessage-deflate; client_no_context_takeover").params == P{false, true, 15, 15});
  CHECK(*client_sees("permessage-deflate; server_max_window_bits=9").params == P{false, false, 9, 15, true});
  CHECK(*client_sees("permessage-deflate; server_max_window_bits=8").params == P{false, false, 8, 15, true});
  CHECK(*client_sees("permessage-deflate; client_max_window_bits=12").params == P{false, false, 15, 12});
  const auto bad = make_error_code(ws::error::bad_extension_response);
  CHECK(client_sees("permessage-deflate; client_max_window_bits").ec == bad);    // needs a value in a response
  CHECK(client_sees("permessage-deflate; client_max_window_bits=8").ec == bad);  // zlib cannot honour it
  CHECK(client_sees("permessage-deflate; foo=1").ec == bad);
  CHECK(client_sees("permessage-deflate; server_max_window_bits=20").ec == bad);
  CHECK(client_sees("permessage-deflate, permessage-deflate").ec == make_error_code(ws::error::unexpected_extension));
  CHECK(client_sees("permessage-deflate", {.enabled = false}).ec == make_error_code(ws::error::unexpected_extension));
  // We asked for server_max_window_bits=10: a larger answer is a failure.
  ws::deflate_options o{.enabled = true, .server_max_window_bits = 10, .client_max_window_bits = 15};
  CHECK(ws::deflate_offer(o) == "permessage-deflate; server_max_window_bits=10; client_max_window_bits");
  CHECK(client_sees("permessage-deflate; server_max_window_bits=12", o).ec == bad);
  CHECK(*client_sees("permessage-deflate; server_max_window_bits=10", o).params == P{false, false, 10, 15, true});
  // ... and a response without it did not accept that offer (§7.1.2.1).
  CHECK(client_sees("permessage-deflate", o).ec == bad);
  // We asked for server_no_context_takeover: the server must agree.
  ws::deflate_options n = widest;
  n.server_no_context_takeover = true;
  CHECK(client_sees("permessage-deflate", n).ec == bad);
  CHECK(client_sees("permessage-deflate; server_no_context_takeover", n).params);
  // No extension in the response: no compression, no error.
  CHECK_FALSE(ws::deflate_validate_response({}, {.enabled = true}).params);
  CHECK_FALSE(ws::deflate_validate_response({}, {.enabled = true}).ec);
}

TEST_CASE("deflate_memory_per_connection_for_each_budget") {
  struct budget { int bits; int mem_level; };
  for (const budget b : {budget{15, 8}, budget{15, 9}, budget{12, 5}, budget{10, 4}, budget{9, 1}}) {
    ws::deflater d(b.bits, b.mem_level, 6, false, true);
    ws::inflater i(b.bits, false, true);
    std::string z, out;
    REQUIRE_FALSE(d.compress(as_span(sip_invite), z));
    REQUIRE_FALSE(i.feed(as_span(z), out, 1 << 20));
    REQUIRE_FALSE(i.finish(out, 1 << 20));
    REQUIRE(out == sip_invite);
    const std::size_t dz = d.memory_in_use(), iz = i.memory_in_use();
    MESSAGE("window_bits " << b.bits << " mem_level " << b.mem_level << ": deflate " << dz << " B, inflate " << iz << " B");
    // zlib's documented formulas, plus its small objects.
    CHECK(dz >= (1u << (b.bits + 2)) + (1u << (b.mem_level + 9)));
    CHECK(dz <= (1u << (b.bits + 2)) + (1u << (b.mem_level + 9)) + 8 * 1024);
    CHECK(iz >= (1u << b.bits));
    CHECK(iz <= (1u << b.bits) + 8 * 1024);
  }
  // No context takeover and keep_idle_codec = false: nothing held between messages.
  ws::deflater d(15, 8, 6, true, false);
  ws::inflater i(15, true, false);
  std::string z, out;
  REQUIRE_FALSE(d.compress(as_span(sip_invite), z));
  REQUIRE_FALSE(i.feed(as_span(z), out, 1 << 20));
  REQUIRE_FALSE(i.finish(out, 1 << 20));
  CHECK(d.memory_in_use() == 0);
  CHECK(i.memory_in_use() == 0);
  CHECK(out == sip_invite);
}

TEST_CASE("deflate_round_trips_random_messages_with_and_without_takeover") {
  std::mt19937 rng(3);
  for (bool takeover : {true, false}) {
    ws::deflater d(15, 8, 6, !takeover, true);
    ws::inflater i(15, !takeover, true);
    for (int m = 0; m < 50; ++m) {
      std::string msg(rng() % 5000, '\0');
      for (auto& c : msg) c = static_cast<char>('a' + rng() % (m % 2 ? 4 : 26));
      std::string z, out;
      REQUIRE_FALSE(d.compress(as_span(msg), z));
      // feed in random pieces, as frames arrive
      std::size_t pos = 0;
      while (pos < z.size()) {
        const std::size_t n = std::min<std::size_t>(1 + rng() % 100, z.size() - pos);
        REQUIRE_FALSE(i.feed(as_span(std::string_view(z).substr(pos, n)), out, 1 << 20));
        pos += n;
      }
      REQUIRE_FALSE(i.finish(out, 1 << 20));
      REQUIRE(out == msg);
    }
  }
}

namespace {

// One parameter of an offer: absent, present without a value, or 8..15.
struct bits_choice {
  bool present = false;
  int value = 0;  // 0: no value
  std::string text(std::string_view name) const {
    if (!present) return {};
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for
    // "literal" + std::string&& (the release build CI makes warns on it).
    std::string out = "; ";
    out.append(name);
    if (value) out.append("=").append(std::to_string(value));
    return out;
  }
};

std::vector<bits_choice> bits_choices(bool without_value) {
  std::vector<bits_choice> v{{}};
  if (without_value) v.push_back({true, 0});
  for (int b = 8; b <= 15; ++b) v.push_back({true, b});
  return v;
}

// The response's own parameters, read back as a client reads them.
struct response_view {
  bool ok = true, server_nct = false, client_nct = false;
  std::optional<int> server_bits, client_bits;
};
response_view read_response(std::string_view element) {
  response_view r;
  const auto name = ws::detail::parse_extension(element, [&](const ws::extension_param& p) {
    const int bits = p.has_value ? ws::detail::window_bits(p.value) : -1;
    if (p.name == "server_no_context_takeover") r.server_nct = true;
    else if (p.name == "client_no_context_takeover") r.client_nct = true;
    else if (p.name == "server_max_window_bits") r.server_bits = bits;
    else if (p.name == "client_max_window_bits") r.client_bits = bits;
    else r.ok = false;
  });
  r.ok = r.ok && name == ws::permessage_deflate;
  return r;
}

}  // namespace

// RFC 7692 §7.1.1-§7.1.2, server role: every combination of the four
// parameters in one offer (window bits absent, without a value where
// §7.1.2.2 allows it, and every value 8-15), against servers that limit
// their windows to 9, 12 or 15 bits. What the RFC requires of the response:
//   server_max_window_bits in the offer -> in the response, same or smaller
//     (§7.1.2.1; 8 we cannot produce with zlib, so that offer is declined);
//   client_max_window_bits absent -> absent from the response (§7.1.2.2),
//     and present with a value -> at most that value;
//   server_no_context_takeover in the offer -> in the response (§7.1.1.1);
// and the parameters the codec runs with agree with the response.
TEST_CASE("rfc7692_7_1_2_every_offer_gets_the_response_the_rfc_requires") {
  int accepted = 0, declined = 0;
  for (const int server_limit : {9, 12, 15})
    for (const int client_limit : {9, 12, 15})
      for (const auto& sb : bits_choices(false))
        for (const auto& cb : bits_choices(true))
          for (const bool snct : {false, true})
            for (const bool cnct : {false, true}) {
              const std::string offer = std::string(ws::permessage_deflate) + (snct ? "; server_no_context_takeover" : "") +
                                        (cnct ? "; client_no_context_takeover" : "") + sb.text("server_max_window_bits") +
                                        cb.text("client_max_window_bits");
              ws::deflate_options o{.enabled = true, .server_max_window_bits = server_limit, .client_max_window_bits = client_limit};
              CAPTURE(offer);
              CAPTURE(server_limit);
              CAPTURE(client_limit);
              const auto params = server_sees(offer, o);
              const bool must_decline = (sb.present && sb.value == 8) || (sb.present && sb.value == 0);
              if (!params) {
                CHECK(must_decline);
                ++declined;
                continue;
              }
              REQUIRE_FALSE(must_decline);
              ++accepted;
              const auto r = read_response(ws::deflate_response(*params));
              REQUIRE(r.ok);
              // §7.1.2.1
              CHECK(r.server_bits.has_value() == sb.present);
              if (sb.present) CHECK(*r.server_bits <= sb.value);
              CHECK(params->server_max_window_bits <= server_limit);
              CHECK(params->server_max_window_bits >= 9);
              if (r.server_bits) CHECK(params->server_max_window_bits == *r.server_bits);
              // §7.1.2.2
              if (!cb.present) CHECK_FALSE(r.client_bits.has_value());
              if (cb.present && cb.value && r.client_bits) CHECK(*r.client_bits <= cb.value);
              if (r.client_bits) CHECK(*r.client_bits > 0);
              CHECK(params->client_max_window_bits == r.client_bits.value_or(15));
              // §7.1.1.1, §7.1.1.2
              if (snct) CHECK(r.server_nct);
              CHECK(params->server_no_context_takeover == r.server_nct);
              CHECK(params->client_no_context_takeover == r.client_nct);
              // A client that made this offer accepts this response and agrees on the parameters.
              ws::deflate_options client_o{.enabled = true,
                                           .server_no_context_takeover = snct,
                                           .client_no_context_takeover = false,
                                           .server_max_window_bits = sb.present ? sb.value : 15,
                                           .client_max_window_bits = 15};
              // (Our client never offers client_max_window_bits=8: zlib cannot deflate with it.)
              if (sb.present && sb.value < 15 && cb.present && cb.value != 8) {
                const auto v = client_sees(ws::deflate_response(*params), client_o);
                REQUIRE_FALSE(v.ec);
                CHECK(v.params->server_max_window_bits == *r.server_bits);
                CHECK(v.params->client_max_window_bits == params->client_max_window_bits);
              }
            }
  MESSAGE(accepted << " offers accepted, " << declined << " declined");
  CHECK(accepted > 0);
  CHECK(declined > 0);
}

// The defect seen with Python websockets 10.4 and
// ClientPerMessageDeflateFactory(server_max_window_bits=15): the response
// dropped server_max_window_bits=15, and the client rightly failed.
TEST_CASE("rfc7692_7_1_2_1_an_offer_of_15_bits_is_answered_with_15") {
  const auto p = server_sees("permessage-deflate; server_max_window_bits=15; client_max_window_bits");
  REQUIRE(p);
  CHECK(ws::deflate_response(*p) == "permessage-deflate; server_max_window_bits=15");
  // With the defaults (12-bit windows) the answer may be smaller.
  const auto d = server_sees("permessage-deflate; server_max_window_bits=15; client_max_window_bits", {.enabled = true});
  REQUIRE(d);
  CHECK(ws::deflate_response(*d) == "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
  // Without the parameter in the offer the response does not name it,
  // though the server compresses with its own smaller window.
  const auto q = server_sees("permessage-deflate; client_max_window_bits", {.enabled = true});
  REQUIRE(q);
  CHECK(ws::deflate_response(*q) == "permessage-deflate; client_max_window_bits=12");
  CHECK(q->server_max_window_bits == 12);
}

// Client role: several offers in one header and fallbacks, as a server
// chooses among them (§5.1: the first acceptable one, in the client's order).
TEST_CASE("rfc7692_5_1_several_offers_and_fallbacks") {
  using P = ws::deflate_params;
  CHECK(server_sees("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=10") ==
        P{false, false, 10, 15, true});
  CHECK(server_sees("permessage-deflate; foo, permessage-deflate; client_max_window_bits=9, permessage-deflate") ==
        P{false, false, 15, 9, false});
  CHECK_FALSE(server_sees("permessage-deflate; server_max_window_bits=8, permessage-deflate; bar"));
  // Across two header lines, too.
  http::header_list two;
  two.fields.push_back({"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits"});
  two.fields.push_back({"Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover"});
  CHECK(ws::deflate_accept(two, widest) == P{true, false, 15, 15, false});
}
