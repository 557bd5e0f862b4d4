// libFuzzer: the HTTP/1.1 head parser on arbitrary bytes, both head kinds.
// Every view must lie inside the input; consumed never exceeds it.
#include <sigwire/http/head.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace sigwire;

namespace {
void check_inside(std::string_view buf, std::string_view v) {
  if (v.empty()) return;
  if (v.data() < buf.data() || v.data() + v.size() > buf.data() + buf.size()) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view buf(reinterpret_cast<const char*>(data), size);
  http::limits lim;
  lim.max_head_bytes = 4096;
  lim.max_headers = 32;
  http::request_head req;
  const auto r = http::parse_request(buf, req, lim);
  if (r.consumed > size) std::abort();
  if (r.complete()) {
    check_inside(buf, req.method);
    check_inside(buf, req.target);
    check_inside(buf, req.path);
    check_inside(buf, req.query);
    if (req.headers.fields.size() > lim.max_headers) std::abort();
    for (const auto& h : req.headers.fields) {
      check_inside(buf, h.name);
      check_inside(buf, h.value);
    }
    (void)req.has_token("connection", "upgrade");
    (void)http::query_param(req.query, "sid");
  }
  http::response_head res;
  const auto s = http::parse_response(buf, res, lim);
  if (s.consumed > size) std::abort();
  if (s.complete()) {
    if (res.status > 999) std::abort();
    check_inside(buf, res.reason);
  }
  return 0;
}
