// libFuzzer: stream framer. Differential: feeding the stream in chunks
// (sizes taken from the first bytes) frames exactly the same messages as
// feeding it at once; the chunked run also drops keep-alive-only buffers with
// drop_keepalive(), as the TCP transport does (sip/transport/hub.hpp).
#include <sigwire/sip/framer.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace sip = sigwire::sip;

static std::vector<std::string> frame_all(std::string_view stream, std::size_t chunk, bool& failed, bool drop = false) {
  sip::framer f;
  std::string buf;
  std::vector<std::string> out;
  failed = false;
  for (std::size_t pos = 0; pos < stream.size() && !failed;) {
    const std::size_t n = chunk < stream.size() - pos ? chunk : stream.size() - pos;
    buf.append(stream.substr(pos, n));
    pos += n;
    for (;;) {
      const auto fr = f.next(buf);
      if (fr.state == sip::frame::status::failed) {
        failed = true;
        break;
      }
      if (fr.state == sip::frame::status::need_more) {
        if (drop && fr.skipped == buf.size()) buf.erase(0, f.drop_keepalive());
        break;
      }
      if (fr.message.empty()) abort();
      out.emplace_back(fr.message);
      buf.erase(0, fr.consumed());
    }
  }
  return out;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 17;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  bool failed_a = false, failed_b = false;
  const auto a = frame_all(stream, stream.size() + 1, failed_a);
  const auto b = frame_all(stream, chunk, failed_b, true);
  // Chunked feeding may stop earlier only where the whole-buffer run also failed.
  if (!failed_a && !failed_b && a != b) abort();
  if (failed_a == failed_b && !failed_a && a.size() != b.size()) abort();
  return 0;
}
