// utf8_fuzz: differential check of every UTF-8 kernel against the scalar
// reference, whole and chunked. The first input byte chooses the chunk size.
#include <sigwire/core/utf8.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace sigwire::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  ++data;
  --size;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  utf8::detail::scalar_state ref;
  const std::size_t bad = utf8::detail::scalar_find_invalid(ref, data, size);
  const bool valid = bad == size && ref.at_boundary();

  for (auto level : {simd_level::scalar, simd_level::sse2, simd_level::avx2, simd_level::avx512}) {
    if (!cpu_supports(level)) continue;
    if (utf8::is_valid(text, level) != valid) std::abort();
    utf8::validator v(level);
    for (std::size_t i = 0; i < size; i += chunk) v.feed(text.substr(i, chunk));
    const auto r = v.finish();
    if (bad < size) {
      if (r.status != utf8::status::invalid || r.position != bad) std::abort();
    } else if (r.status != (valid ? utf8::status::complete : utf8::status::incomplete)) {
      std::abort();
    }
  }
  return 0;
}
