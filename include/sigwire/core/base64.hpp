// sigwire/core/base64.hpp - RFC 4648 §4 base64 (standard alphabet, padded).
// Decoding is strict: only the alphabet, '=' only as the final one or two
// characters of a length that is a multiple of four, and the unused bits of
// the last symbol must be zero (RFC 4648 §3.5), so every encoding is canonical.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include <sigwire/core/error.hpp>

namespace sigwire::core::base64 {

inline constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::size_t encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }
// Upper bound on decoded bytes for an input of n characters.
constexpr std::size_t max_decoded_size(std::size_t n) noexcept { return n / 4 * 3; }

namespace detail {
inline constexpr std::uint8_t invalid = 0xff;
constexpr std::array<std::uint8_t, 256> make_decode_table() noexcept {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = invalid;
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  return t;
}
inline constexpr std::array<std::uint8_t, 256> decode_table = make_decode_table();
}  // namespace detail

// Writes encoded_size(in.size()) characters to out; returns the count.
inline std::size_t encode(std::span<const std::byte> in, char* out) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size(), o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = alphabet[v & 63];
  }
  if (const std::size_t rest = n - i; rest != 0) {
    std::uint32_t v = std::uint32_t{p[i]} << 16;
    if (rest == 2) v |= std::uint32_t{p[i + 1]} << 8;
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

inline std::string encode(std::span<const std::byte> in) {
  std::string s(encoded_size(in.size()), '\0');
  encode(in, s.data());
  return s;
}
inline std::string encode(std::string_view in) {
  return encode(std::as_bytes(std::span(in.data(), in.size())));
}

struct decode_result {
  std::size_t size = 0;     // bytes written
  std::size_t position = 0; // on error: index of the offending character
  std::error_code ec;
  explicit operator bool() const noexcept { return !ec; }
};

// Decodes into out, which must hold max_decoded_size(in.size()) bytes.
inline decode_result decode(std::string_view in, std::byte* out) noexcept {
  if (in.size() % 4 != 0) return {0, in.size(), make_error_code(error::bad_padding)};
  std::size_t o = 0;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    std::uint32_t v = 0;
    int pads = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=') {
        // '=' may only fill positions 2 and 3 of the final quantum, and once
        // padding starts everything after it is padding too.
        if (!last || k < 2) return {o, i + k, make_error_code(error::bad_padding)};
        ++pads;
        v <<= 6;
        continue;
      }
      if (pads != 0) return {o, i + k, make_error_code(error::bad_padding)};
      const std::uint8_t d = detail::decode_table[static_cast<unsigned char>(c)];
      if (d == detail::invalid) return {o, i + k, make_error_code(error::invalid_character)};
      v = (v << 6) | d;
    }
    // RFC 4648 §3.5: pad bits must be zero, or the encoding is not canonical.
    if ((pads == 1 && (v & 0xff) != 0) || (pads == 2 && (v & 0xffff) != 0))
      return {o, i + 4 - static_cast<std::size_t>(pads) - 1, make_error_code(error::bad_padding)};
    out[o++] = static_cast<std::byte>(v >> 16);
    if (pads < 2) out[o++] = static_cast<std::byte>(v >> 8);
    if (pads < 1) out[o++] = static_cast<std::byte>(v);
  }
  return {o, 0, {}};
}

// Convenience: decode to a std::string (bytes), empty + ec on error.
inline std::string decode(std::string_view in, std::error_code& ec) {
  std::string s(max_decoded_size(in.size()), '\0');
  const auto r = decode(in, reinterpret_cast<std::byte*>(s.data()));
  ec = r.ec;
  s.resize(r ? r.size : 0);
  return s;
}

}  // namespace sigwire::core::base64
