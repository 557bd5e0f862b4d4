// sigwire/ws/frame.hpp - RFC 6455 §5.2 frame headers: decode (incremental)
// and encode.
//
//   ws::frame_header h;
//   auto r = ws::decode_header(bytes, h);       // r.need_more(): r.needed more bytes
//   std::byte buf[ws::max_header_size];
//   std::size_t n = ws::encode_header(h, buf);  // always the minimal length form
//
// Decision on non-minimal lengths: §5.2 says the minimal number of bytes
// MUST be used to encode the length. A receiver that accepted longer forms
// would let the same frame have several encodings (a smuggling and fuzzing
// hazard), so decode_header rejects them with error::non_minimal_length,
// which fails the connection with 1002 (Protocol Error). So do Chromium and
// Autobahn's strict mode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include <sigwire/core/parse_status.hpp>
#include <sigwire/ws/error.hpp>
#include <sigwire/ws/mask.hpp>

namespace sigwire::ws {

enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

constexpr bool is_control(opcode op) noexcept { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }
constexpr bool is_known_opcode(std::uint8_t op) noexcept { return op <= 2 || (op >= 8 && op <= 10); }

inline constexpr std::size_t max_header_size = 14;       // 2 + 8 + 4
inline constexpr std::size_t max_control_payload = 125;  // §5.5

struct frame_header {
  bool fin = true;
  bool rsv1 = false, rsv2 = false, rsv3 = false;
  ws::opcode opcode = opcode::text;
  bool masked = false;
  mask_key key{};
  std::uint64_t payload_length = 0;
};

// Size of the encoded header for a payload length and masking.
constexpr std::size_t header_size(std::uint64_t payload_length, bool masked) noexcept {
  const std::size_t len = payload_length < 126 ? 0 : payload_length <= 0xFFFF ? 2 : 8;
  return 2 + len + (masked ? 4 : 0);
}

using decode_status = core::parse_status;

struct decode_result {
  decode_status status = decode_status::need_more;
  std::size_t size = 0;    // complete: header bytes; need_more: bytes still missing (at least)
  std::error_code ec;      // failed: the violation

  bool complete() const noexcept { return status == decode_status::complete; }
  bool need_more() const noexcept { return status == decode_status::need_more; }
  bool failed() const noexcept { return status == decode_status::failed; }
};

// rsv_allowed: bit 0x4 = RSV1, 0x2 = RSV2, 0x1 = RSV3 (those a negotiated
// extension uses). Masking is checked by the connection, which knows the role.
inline decode_result decode_header(std::span<const std::byte> in, frame_header& h,
                                   std::uint8_t rsv_allowed = 0) noexcept {
  auto fail = [](error e) { return decode_result{decode_status::failed, 0, make_error_code(e)}; };
  if (in.size() < 2) return {decode_status::need_more, 2 - in.size(), {}};
  const auto b0 = static_cast<std::uint8_t>(in[0]);
  const auto b1 = static_cast<std::uint8_t>(in[1]);
  const std::uint8_t op = b0 & 0x0F;
  if (!is_known_opcode(op)) return fail(error::reserved_opcode);
  if (((b0 >> 4) & 0x7 & ~rsv_allowed) != 0) return fail(error::reserved_bits);
  h.fin = (b0 & 0x80) != 0;
  h.rsv1 = (b0 & 0x40) != 0;
  h.rsv2 = (b0 & 0x20) != 0;
  h.rsv3 = (b0 & 0x10) != 0;
  h.opcode = static_cast<ws::opcode>(op);
  h.masked = (b1 & 0x80) != 0;
  const std::uint8_t len7 = b1 & 0x7F;
  if (is_control(h.opcode)) {
    if (!h.fin) return fail(error::fragmented_control);
    if (len7 > max_control_payload) return fail(error::control_too_large);
  }
  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  const std::size_t total = 2 + ext + (h.masked ? 4 : 0);
  if (in.size() < total) return {decode_status::need_more, total - in.size(), {}};
  std::uint64_t len = len7;
  if (ext != 0) {
    len = 0;
    for (std::size_t i = 0; i < ext; ++i) len = (len << 8) | static_cast<std::uint8_t>(in[2 + i]);
    if (ext == 8 && (len >> 63) != 0) return fail(error::length_msb_set);
    if ((ext == 2 && len < 126) || (ext == 8 && len <= 0xFFFF)) return fail(error::non_minimal_length);
  }
  h.payload_length = len;
  if (h.masked)
    for (std::size_t i = 0; i < 4; ++i) h.key[i] = in[2 + ext + i];
  return {decode_status::complete, total, {}};
}

// Writes the header to out (max_header_size bytes); returns its size.
inline std::size_t encode_header(const frame_header& h, std::byte* out) noexcept {
  out[0] = static_cast<std::byte>((h.fin ? 0x80 : 0) | (h.rsv1 ? 0x40 : 0) | (h.rsv2 ? 0x20 : 0) |
                                  (h.rsv3 ? 0x10 : 0) | static_cast<std::uint8_t>(h.opcode));
  const std::uint8_t mask_bit = h.masked ? 0x80 : 0;
  std::size_t n = 2;
  if (h.payload_length < 126) {
    out[1] = static_cast<std::byte>(mask_bit | h.payload_length);
  } else if (h.payload_length <= 0xFFFF) {
    out[1] = static_cast<std::byte>(mask_bit | 126);
    out[2] = static_cast<std::byte>(h.payload_length >> 8);
    out[3] = static_cast<std::byte>(h.payload_length);
    n = 4;
  } else {
    out[1] = static_cast<std::byte>(mask_bit | 127);
    for (std::size_t i = 0; i < 8; ++i) out[2 + i] = static_cast<std::byte>(h.payload_length >> (56 - 8 * i));
    n = 10;
  }
  if (h.masked)
    for (std::size_t i = 0; i < 4; ++i) out[n + i] = h.key[i];
  return n + (h.masked ? 4 : 0);
}

}  // namespace sigwire::ws
