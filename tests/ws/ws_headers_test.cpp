// Every public header of the http and ws layers compiles alone (see the
// generated header_tu_*.cpp files linked into this test) and the umbrella
// headers pull the layer in.
#include <sigwire/sigwire.hpp>

#include <doctest/doctest.h>

int header_tu_http_error();
int header_tu_http_head();
int header_tu_http();
int header_tu_ws_error();
int header_tu_ws_close_code();
int header_tu_ws_subprotocol();
int header_tu_ws_frame();
int header_tu_ws_mask();
int header_tu_ws_handshake();
int header_tu_ws_deflate();
int header_tu_ws_connection();
int header_tu_ws();
int header_tu_ws_asio_stream();

TEST_CASE("every_public_header_is_self_contained") {
  const int sum = header_tu_http_error() + header_tu_http_head() + header_tu_http() + header_tu_ws_error() +
                  header_tu_ws_close_code() + header_tu_ws_subprotocol() + header_tu_ws_frame() + header_tu_ws_mask() +
                  header_tu_ws_handshake() + header_tu_ws_deflate() + header_tu_ws_connection() + header_tu_ws() +
                  header_tu_ws_asio_stream();
  CHECK(sum == 0);
  // The umbrella header brings in the sans-IO layer.
  CHECK(sigwire::ws::accept_key_string("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
