// core_tour: what sigwire's core gives every layer, in one screen.
// Build: g++ -std=c++20 -Iinclude examples/core_tour.cpp -lcrypto
#include <sigwire/core.hpp>

#include <cstdio>
#include <string>

using namespace sigwire::core;

int main(int argc, char** argv) {
  // RFC 6455 §1.3: the server proves it read the key by hashing it with a GUID.
  const std::string key = argc > 1 ? argv[1] : "dGhlIHNhbXBsZSBub25jZQ==";
  const auto sha = sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  std::printf("Sec-WebSocket-Key:    %s\n", key.c_str());
  std::printf("Sec-WebSocket-Accept: %s\n", base64::encode(std::as_bytes(std::span(sha))).c_str());

  // A fresh key for a client handshake, and a SIP-style tag.
  const auto nonce = random_array<16>();
  std::printf("new client key:       %s\n", base64::encode(nonce).c_str());
  std::printf("random SIP tag:       %s\n", random_token(10).c_str());

  // UTF-8, validated across chunks as WebSocket fragments arrive.
  utf8::validator v;
  v.feed("caf\xC3");  // 'é' split over two fragments
  const auto ok = v.feed("\xA9 ok").status == utf8::status::complete;
  std::printf("UTF-8 across fragments: %s (kernel: %s)\n", ok ? "valid" : "invalid",
              std::string(to_string(detected_simd())).c_str());
  const auto bad = utf8::validator().feed("abc\xED\xA0\x80");  // a surrogate
  std::printf("surrogate U+D800 rejected at byte %zu\n", bad.position);

  // Strict integers: no sign, no spaces, overflow is an error.
  const auto n = ascii::parse_uint<std::uint32_t>("4294967296");
  std::printf("parse_uint(\"4294967296\"): %s\n", n ? "ok" : n.ec.message().c_str());
  // Every layer's errors also compare equal to a few coarse conditions.
  std::printf("an overflow is malformed input: %s\n", n.ec == condition::malformed ? "yes" : "no");
  return ok && n.ec == condition::malformed ? 0 : 1;
}
