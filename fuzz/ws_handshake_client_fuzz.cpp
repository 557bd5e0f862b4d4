// libFuzzer: client-side validation of arbitrary 101 responses. The first
// byte picks the offer (subprotocols, deflate parameters).
#include <sigwire/ws/handshake.hpp>

#include <cstdint>
#include <cstdlib>

using namespace sigwire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t bits = data[0];
  const std::string_view buf(reinterpret_cast<const char*>(data + 1), size - 1);
  ws::client_options opt;
  opt.host = "example.com";
  if (bits & 1) opt.subprotocols = {"sip", "mqtt"};
  opt.deflate.enabled = (bits & 2) != 0;
  opt.deflate.server_no_context_takeover = (bits & 4) != 0;
  opt.deflate.server_max_window_bits = (bits & 8) ? 10 : 15;
  // A fixed key, so seeds can carry the matching accept value.
  ws::client_handshake hs(opt, "dGhlIHNhbXBsZSBub25jZQ==");
  http::response_head res;
  if (!http::parse_response(buf, res).complete()) return 0;
  const auto r = hs.validate(res);
  if (r.ec && r.deflate) std::abort();
  if (!r.ec && r.deflate && !opt.deflate.enabled) std::abort();
  if (!r.ec && !r.subprotocol.empty() && !(bits & 1)) std::abort();
  return 0;
}
