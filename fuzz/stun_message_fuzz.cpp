// libFuzzer: stun::parse (stun/message.hpp) on any datagram. Properties: no
// crash; a message that parses is one looks_like_stun() admits; a mapped
// address read back is the one our success response for it encodes; our
// own request, success and error responses for the parsed transaction
// parse again, with a matching FINGERPRINT.
#include <sigwire/stun/message.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace stun = sigwire::stun;

static void require(bool ok) {
  if (!ok) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  stun::message m;
  const stun::error e = stun::parse(in, m);
  if (e != stun::error::ok) return 0;
  require(stun::looks_like_stun(in));
  stun::message again;
  require(stun::parse(stun::binding_request_for(m.transaction), again) == stun::error::ok && again.has_fingerprint);
  require(again.transaction == m.transaction);
  if (m.mapped) {
    require(stun::parse(stun::binding_success_for(m.transaction, *m.mapped), again) == stun::error::ok);
    require(again.mapped && *again.mapped == *m.mapped);
  }
  require(stun::parse(stun::binding_error_for(m.transaction, 420, "Unknown Attribute", m.unknown_required), again) ==
          stun::error::ok);
  require(again.type == stun::binding_error_response);
  return 0;
}
