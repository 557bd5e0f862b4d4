// STUN Binding messages (stun/message.hpp) against the RFC 5769 test
// vectors, our own encodings read back, and hostile datagrams.
#include <sigwire/stun/message.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace stun = sigwire::stun;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

// RFC 5769 §2.1: a request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
// MESSAGE-INTEGRITY and FINGERPRINT.
const std::string rfc5769_request = bytes({
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
});

// RFC 5769 §2.2: the IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
const std::string rfc5769_response = bytes({
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
    0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91,
    0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
    0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
});

const stun::transaction_id rfc5769_transaction{0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

stun::address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  return {1, {a, b, c, d}, port};
}

}  // namespace

TEST_CASE("rfc5769 §2.1: the sample request parses; its FINGERPRINT matches; PRIORITY is an unknown required attribute") {
  REQUIRE(stun::looks_like_stun(rfc5769_request));
  stun::message m;
  REQUIRE(stun::parse(rfc5769_request, m) == stun::error::ok);
  CHECK(m.type == stun::binding_request);
  CHECK(m.transaction == rfc5769_transaction);
  CHECK(m.has_fingerprint);
  CHECK_FALSE(m.mapped);
  CHECK(m.unknown_required == std::vector<std::uint16_t>{0x0024});  // PRIORITY (ICE, RFC 8445): not ours
}

TEST_CASE("rfc5769 §2.2: the sample IPv4 response gives 192.0.2.1:32853; our encoding of that address is the RFC's") {
  stun::message m;
  REQUIRE(stun::parse(rfc5769_response, m) == stun::error::ok);
  CHECK(m.type == stun::binding_success);
  CHECK(m.has_fingerprint);
  REQUIRE(m.mapped);
  CHECK(*m.mapped == v4(192, 0, 2, 1, 32853));
  const std::string ours = stun::binding_success_for(rfc5769_transaction, v4(192, 0, 2, 1, 32853));
  CHECK(ours.substr(20, 12) == bytes({0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43}));
}

TEST_CASE("rfc5389: our Binding request, success (IPv4 and IPv6) and 420 read back, each with a matching FINGERPRINT") {
  const stun::transaction_id t{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  stun::message m;
  const std::string request = stun::binding_request_for(t);
  CHECK(request.size() == 28);  // header and FINGERPRINT only (RFC 5626 §4.4.2)
  REQUIRE(stun::parse(request, m) == stun::error::ok);
  CHECK(m.type == stun::binding_request);
  CHECK(m.transaction == t);
  CHECK(m.has_fingerprint);

  // RFC 5769 §2.3's address; the XOR key of IPv6 is the cookie and the transaction (§15.2).
  const stun::address six{2, {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}, 32853};
  for (const stun::address& a : {v4(127, 0, 0, 1, 5060), v4(255, 255, 255, 255, 65535), six}) {
    const std::string success = stun::binding_success_for(t, a);
    REQUIRE(stun::parse(success, m) == stun::error::ok);
    CHECK(m.type == stun::binding_success);
    REQUIRE(m.mapped);
    CHECK(*m.mapped == a);
  }
  const std::string v6 = stun::binding_success_for(t, six);
  CHECK(static_cast<std::uint8_t>(v6[20 + 8]) == (0x20 ^ 0x21));  // first address byte XOR the cookie's
  CHECK(static_cast<std::uint8_t>(v6[20 + 8 + 4]) == (0x12 ^ 1));  // fifth XOR the transaction's first

  const std::string refused = stun::binding_error_for(t, 420, "Unknown Attribute", {0x0024, 0x0025});
  REQUIRE(stun::parse(refused, m) == stun::error::ok);
  CHECK(m.type == stun::binding_error_response);
  CHECK(refused.find(bytes({0x00, 0x09, 0x00, 0x15, 0x00, 0x00, 0x04, 0x14})) == 20);  // ERROR-CODE: class 4, number 20
  CHECK(refused.find(bytes({0x00, 0x0a, 0x00, 0x04, 0x00, 0x24, 0x00, 0x25})) != std::string::npos);
}

TEST_CASE("rfc5389 §7.3 / rfc5626 §8: SIP text and hostile datagrams are told apart and refused precisely") {
  CHECK_FALSE(stun::looks_like_stun("INVITE sip:bob@example.com SIP/2.0\r\n"));
  CHECK_FALSE(stun::looks_like_stun("\r\n\r\n"));
  CHECK_FALSE(stun::looks_like_stun(rfc5769_request.substr(0, 19)));
  std::string no_cookie = rfc5769_request;
  no_cookie[4] = 0x22;
  CHECK_FALSE(stun::looks_like_stun(no_cookie));

  stun::message m;
  CHECK(stun::parse(rfc5769_request.substr(0, 100), m) == stun::error::bad_length);  // shorter than its header says
  std::string odd = rfc5769_request;
  odd[3] = 0x57;  // 87: not a multiple of 4
  CHECK(stun::parse(odd, m) == stun::error::bad_length);
  std::string flipped = rfc5769_request;
  flipped[30] ^= 1;  // one bit of SOFTWARE: the FINGERPRINT no longer matches
  CHECK(stun::parse(flipped, m) == stun::error::bad_fingerprint);
  std::string overrun = rfc5769_response;
  overrun[23] = 0x40;  // SOFTWARE says 64 bytes
  CHECK(stun::parse(overrun, m) == stun::error::bad_attribute);
  // FINGERPRINT not last: a PRIORITY-like attribute after it.
  const stun::transaction_id t{};
  std::string not_last = stun::binding_request_for(t) + bytes({0x80, 0x99, 0x00, 0x00});
  not_last[3] = static_cast<char>(not_last[3] + 4);
  CHECK(stun::parse(not_last, m) == stun::error::bad_fingerprint);
  // An XOR-MAPPED-ADDRESS of family 3, and one of IPv4 with 16 bytes.
  std::string family = stun::binding_success_for(t, v4(192, 0, 2, 1, 1));
  family[25] = 3;
  CHECK(stun::parse(family, m) == stun::error::bad_address);
  std::string head = bytes({0x01, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                            0x00, 0x20, 0x00, 0x14, 0x00, 0x01});
  head.append(18, '\0');
  CHECK(stun::parse(head, m) == stun::error::bad_address);
  // Without FINGERPRINT a message is still STUN (RFC 5389 makes it optional).
  const std::string bare = bytes({0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9});
  REQUIRE(stun::parse(bare, m) == stun::error::ok);
  CHECK_FALSE(m.has_fingerprint);
}
