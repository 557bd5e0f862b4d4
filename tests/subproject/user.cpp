// Built by a separate meson project against dependency('sigwire').
#include <sigwire/sigwire.hpp>

#include <cstdio>

int main() {
  using namespace sigwire::core;
  const auto accept = sha1("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  const bool ok = base64::encode(std::as_bytes(std::span(accept))) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" &&
                  utf8::is_valid("caf\xC3\xA9");
  std::puts(ok ? "sigwire as a subproject: ok" : "sigwire as a subproject: FAILED");
  return ok ? 0 : 1;
}
