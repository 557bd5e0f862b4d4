// base64_fuzz: strict decode never over-writes, and whatever decodes
// re-encodes to exactly the input (strict decoding accepts only canonical
// encodings); encode(x) always decodes back to x.
#include <sigwire/core/base64.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace sigwire::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::byte> out(base64::max_decoded_size(size));
  const auto r = base64::decode(text, out.data());
  if (r) {
    if (r.size > out.size()) std::abort();
    if (base64::encode(std::span(out.data(), r.size)) != text) std::abort();
  } else if (r.position > size) {
    std::abort();
  }
  const std::string enc = base64::encode(std::as_bytes(std::span(data, size)));
  std::error_code ec;
  if (base64::decode(enc, ec) != text || ec) std::abort();
  return 0;
}
