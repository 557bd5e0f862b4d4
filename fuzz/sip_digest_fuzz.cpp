// libFuzzer: digest challenge / credentials parsing. Any challenge that
// parses must yield credentials that the server side verifies.
#include <sigwire/sip/auth.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sip = sigwire::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)sip::verify(in, "REGISTER", "secret", "realm", "nonce");
  if (auto h = sip::parse_auth_header(in)) {
    for (auto p : {"realm", "nonce", "qop", "algorithm", "opaque"}) (void)h->param(p);
  }
  auto c = sip::parse_challenge(in);
  if (!c) return 0;
  const std::string cred = sip::authorization_value(*c, {"user", "secret", "REGISTER", "sip:example.com", "cn0nce", 7});
  if (sip::verify(cred, "REGISTER", "secret", c->realm, c->nonce)) abort();
  return 0;
}
