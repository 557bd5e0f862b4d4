// sigwire/stun/message.hpp - STUN Binding messages (RFC 5389), sans-IO:
// what the keep-alives of RFC 5626 §4.4.2 need on SIP's UDP ports (a UA
// asks, the registrar or edge proxy answers on the port it takes SIP on).
//
//   if (stun::looks_like_stun(datagram)) {
//     stun::message m;
//     if (stun::parse(datagram, m) == stun::error::ok && m.type == stun::binding_request)
//       send(stun::binding_success(m.transaction, stun::address{...the sender...}));
//   }
//
// parse() checks what RFC 5389 §7.3 asks of every STUN message: the two
// leading zero bits, the magic cookie, a length that is a multiple of 4 and
// that of the datagram, attributes that fit (each padded to 4 bytes), and a
// FINGERPRINT (§15.5) that is the last attribute and matches. An
// XOR-MAPPED-ADDRESS (§15.2) is decoded (family 1 or 2, with its length).
// Unknown comprehension-optional attributes (0x8000-0xFFFF) are skipped;
// unknown comprehension-required ones (0x0000-0x7FFF) are listed in
// message::unknown_required, which a server answers with 420 (§7.3.1,
// binding_error). MESSAGE-INTEGRITY is not verified: RFC 5626's Binding
// requests carry no credentials.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sigwire::stun {

inline constexpr std::uint32_t magic_cookie = 0x2112A442;
inline constexpr std::size_t header_size = 20;

// Message types (§6: method Binding 0x001 in each class).
inline constexpr std::uint16_t binding_request = 0x0001;
inline constexpr std::uint16_t binding_indication = 0x0011;
inline constexpr std::uint16_t binding_success = 0x0101;
inline constexpr std::uint16_t binding_error_response = 0x0111;

// Attributes (§18.2).
namespace attribute {
inline constexpr std::uint16_t mapped_address = 0x0001;
inline constexpr std::uint16_t username = 0x0006;
inline constexpr std::uint16_t message_integrity = 0x0008;
inline constexpr std::uint16_t error_code = 0x0009;
inline constexpr std::uint16_t unknown_attributes = 0x000A;
inline constexpr std::uint16_t realm = 0x0014;
inline constexpr std::uint16_t nonce = 0x0015;
inline constexpr std::uint16_t xor_mapped_address = 0x0020;
inline constexpr std::uint16_t software = 0x8022;
inline constexpr std::uint16_t alternate_server = 0x8023;
inline constexpr std::uint16_t fingerprint = 0x8028;
}  // namespace attribute

using transaction_id = std::array<std::uint8_t, 12>;

// A transport address: IPv4 (family 1, the first 4 bytes) or IPv6 (family 2).
struct address {
  std::uint8_t family = 1;
  std::array<std::uint8_t, 16> bytes{};
  std::uint16_t port = 0;
  friend bool operator==(const address&, const address&) = default;
};

enum class error : std::uint8_t {
  ok,
  not_stun,         // too short, leading bits set, or no magic cookie
  bad_length,       // the header's length is not a multiple of 4 or not the datagram's
  bad_attribute,    // an attribute runs past the end
  bad_fingerprint,  // FINGERPRINT not last, of the wrong size, or not matching
  bad_address,      // an XOR-MAPPED-ADDRESS of another family or size
};

constexpr std::string_view text(error e) noexcept {
  constexpr std::string_view names[] = {"ok", "not_stun", "bad_length", "bad_attribute", "bad_fingerprint", "bad_address"};
  return names[static_cast<int>(e)];
}

struct message {
  std::uint16_t type = 0;
  transaction_id transaction{};
  std::optional<address> mapped{};            // XOR-MAPPED-ADDRESS
  bool has_fingerprint = false;               // present and matching
  std::vector<std::uint16_t> unknown_required{};  // comprehension-required attributes we do not know
};

namespace detail {
// CRC-32 (ISO-HDLC, the one of zlib and Ethernet), as FINGERPRINT uses it.
inline constexpr std::array<std::uint32_t, 256> crc_table = [] {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}();
constexpr std::uint32_t crc32(std::string_view bytes) noexcept {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes) c = crc_table[(c ^ static_cast<std::uint8_t>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}
inline constexpr std::uint32_t fingerprint_xor = 0x5354554E;  // §15.5: "STUN"

constexpr std::uint16_t u16(std::string_view s, std::size_t at) noexcept {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(s[at]) << 8 | static_cast<std::uint8_t>(s[at + 1]));
}
constexpr std::uint32_t u32(std::string_view s, std::size_t at) noexcept {
  return std::uint32_t{u16(s, at)} << 16 | u16(s, at + 2);
}
inline void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
inline void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}
// The 16 bytes an IPv6 address is XORed with (§15.2): the cookie, then the transaction.
inline std::array<std::uint8_t, 16> xor_key(const transaction_id& t) {
  std::array<std::uint8_t, 16> k{0x21, 0x12, 0xA4, 0x42};
  for (std::size_t i = 0; i < t.size(); ++i) k[4 + i] = t[i];
  return k;
}

inline error read_xor_address(std::string_view v, const transaction_id& t, address& out) {
  if (v.size() < 4) return error::bad_address;
  out.family = static_cast<std::uint8_t>(v[1]);
  const std::size_t length = out.family == 1 ? 4 : out.family == 2 ? 16 : 0;
  if (length == 0 || v.size() != 4 + length) return error::bad_address;
  out.port = static_cast<std::uint16_t>(u16(v, 2) ^ (magic_cookie >> 16));
  const auto key = xor_key(t);
  out.bytes = {};
  for (std::size_t i = 0; i < length; ++i) out.bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(v[4 + i]) ^ key[i]);
  return error::ok;
}

// A message of `type` with the attributes in `body` (already padded) and a FINGERPRINT.
inline std::string finish(std::uint16_t type, const transaction_id& t, std::string_view body) {
  std::string out;
  out.reserve(header_size + body.size() + 8);
  put16(out, type);
  put16(out, static_cast<std::uint16_t>(body.size() + 8));  // the FINGERPRINT counts (§15.5)
  put32(out, magic_cookie);
  out.append(reinterpret_cast<const char*>(t.data()), t.size());
  out.append(body);
  const std::uint32_t crc = crc32(out) ^ fingerprint_xor;
  put16(out, attribute::fingerprint);
  put16(out, 4);
  put32(out, crc);
  return out;
}
}  // namespace detail

// Whether a datagram is STUN rather than SIP (RFC 5626 §8, RFC 5389 §7.3):
// a SIP message starts with a letter, a STUN one with two zero bits, and
// has the magic cookie at bytes 4-7.
constexpr bool looks_like_stun(std::string_view d) noexcept {
  return d.size() >= header_size && (static_cast<std::uint8_t>(d[0]) & 0xC0) == 0 && detail::u32(d, 4) == magic_cookie;
}

// Parses a whole STUN message (one datagram).
inline error parse(std::string_view d, message& out) {
  out = message{};
  if (!looks_like_stun(d)) return error::not_stun;
  const std::size_t length = detail::u16(d, 2);
  if (length % 4 != 0 || header_size + length != d.size()) return error::bad_length;
  out.type = detail::u16(d, 0);
  for (std::size_t i = 0; i < out.transaction.size(); ++i) out.transaction[i] = static_cast<std::uint8_t>(d[8 + i]);
  std::size_t at = header_size;
  while (at < d.size()) {
    if (d.size() - at < 4) return error::bad_attribute;
    const std::uint16_t type = detail::u16(d, at), size = detail::u16(d, at + 2);
    const std::size_t padded = (std::size_t{size} + 3) & ~std::size_t{3};
    if (d.size() - at - 4 < padded) return error::bad_attribute;
    const std::string_view value = d.substr(at + 4, size);
    if (type == attribute::fingerprint) {  // §15.5: the last attribute, over everything before it
      if (size != 4 || at + 8 != d.size()) return error::bad_fingerprint;
      if ((detail::crc32(d.substr(0, at)) ^ detail::fingerprint_xor) != detail::u32(value, 0)) return error::bad_fingerprint;
      out.has_fingerprint = true;
    } else if (type == attribute::xor_mapped_address) {
      address a;
      if (const error e = detail::read_xor_address(value, out.transaction, a); e != error::ok) return e;
      if (!out.mapped) out.mapped = a;  // §15: only the first of an attribute counts
    } else if (type < 0x8000 && type != attribute::mapped_address && type != attribute::username &&
               type != attribute::message_integrity && type != attribute::error_code &&
               type != attribute::unknown_attributes && type != attribute::realm && type != attribute::nonce) {
      if (out.unknown_required.size() < 16) out.unknown_required.push_back(type);
    }
    at += 4 + padded;
  }
  return error::ok;
}

// A Binding request (RFC 5626 §4.4.2: no attributes but FINGERPRINT).
inline std::string binding_request_for(const transaction_id& t) { return detail::finish(binding_request, t, {}); }

// The success response to a Binding request from `from` (§7.3.1: its
// XOR-MAPPED-ADDRESS says where the request came from).
inline std::string binding_success_for(const transaction_id& t, const address& from) {
  std::string body;
  const std::size_t length = from.family == 2 ? 16 : 4;
  detail::put16(body, attribute::xor_mapped_address);
  detail::put16(body, static_cast<std::uint16_t>(4 + length));
  body.push_back('\0');
  body.push_back(static_cast<char>(from.family == 2 ? 2 : 1));
  detail::put16(body, static_cast<std::uint16_t>(from.port ^ (magic_cookie >> 16)));
  const auto key = detail::xor_key(t);
  for (std::size_t i = 0; i < length; ++i) body.push_back(static_cast<char>(from.bytes[i] ^ key[i]));
  return detail::finish(binding_success, t, body);
}

// An error response (§7.3.1): 420 lists the unknown comprehension-required
// attributes (UNKNOWN-ATTRIBUTES, §15.9); 400 for a request that is wrong.
inline std::string binding_error_for(const transaction_id& t, int code, std::string_view reason,
                                     const std::vector<std::uint16_t>& unknown = {}) {
  std::string body;
  const std::string_view phrase = reason.substr(0, 127);
  detail::put16(body, attribute::error_code);
  detail::put16(body, static_cast<std::uint16_t>(4 + phrase.size()));
  detail::put16(body, 0);
  body.push_back(static_cast<char>(code / 100));
  body.push_back(static_cast<char>(code % 100));
  body.append(phrase);
  body.append((4 - body.size() % 4) % 4, '\0');
  if (!unknown.empty()) {
    detail::put16(body, attribute::unknown_attributes);
    detail::put16(body, static_cast<std::uint16_t>(2 * unknown.size()));
    for (std::uint16_t type : unknown) detail::put16(body, type);
    body.append((4 - body.size() % 4) % 4, '\0');
  }
  return detail::finish(binding_error_response, t, body);
}

}  // namespace sigwire::stun
