// libFuzzer: server-side handshake validation of arbitrary request heads.
// The first byte picks options (subprotocol policy, deflate, origin policy).
#include <sigwire/ws/handshake.hpp>

#include <cstdint>
#include <cstdlib>

using namespace sigwire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t bits = data[0];
  const std::string_view buf(reinterpret_cast<const char*>(data + 1), size - 1);
  http::request_head req;
  if (!http::parse_request(buf, req).complete()) return 0;
  ws::server_options opt;
  if (bits & 1) opt.subprotocols = {"sip", "xmpp"};
  opt.require_subprotocol = (bits & 2) != 0;
  opt.deflate.enabled = (bits & 4) != 0;
  opt.deflate.server_no_context_takeover = (bits & 8) != 0;
  opt.deflate.client_max_window_bits = (bits & 16) ? 10 : 15;
  if (bits & 32) opt.origin_allowed = [](std::optional<std::string_view> o) { return o && o->size() % 2 == 0; };
  const auto r = ws::server_accept(req, opt);
  // The response must itself be a well-formed head with the status we claim.
  http::response_head res;
  const auto p = http::parse_response(r.response, res, {.max_head_bytes = 1 << 16, .max_headers = 64});
  if (!p.complete() || res.status != r.status) std::abort();
  if (r.ok() != (r.status == 101)) std::abort();
  if (r.deflate) {
    // What we agreed must be within what we can honour.
    if (r.deflate->server_max_window_bits < 9 || r.deflate->server_max_window_bits > 15) std::abort();
    if (r.deflate->client_max_window_bits < 8 || r.deflate->client_max_window_bits > 15) std::abort();
  }
  return 0;
}
