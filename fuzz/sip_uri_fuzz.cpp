// libFuzzer: URI parser, parameter lookup, unescaping, §19.1.4 comparison;
// tel: URIs (RFC 3966) and their §4 comparison.
#include <sigwire/sip/tel.hpp>
#include <sigwire/sip/uri.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sip = sigwire::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = in.find('\n');
  const std::string_view a = in.substr(0, cut);
  const std::string_view b = cut == std::string_view::npos ? std::string_view{} : in.substr(cut + 1);
  auto u = sip::parse_uri(a, (size & 1) != 0);
  auto v = sip::parse_uri(b);
  if (u) {
    for (auto p : {"transport", "lr", "maddr", "user", "x"}) (void)u->param(p);
    if (sip::unescape(u->user).size() > u->user.size()) abort();
    if (u->has_port && u->port > 65535) abort();
    if (u->raw != a) abort();
  }
  auto t = sip::parse_tel(a), w = sip::parse_tel(b);
  if (t) {
    std::string digits;
    if (t->digits(digits).size() > t->number.size()) abort();
    if (!t->global && t->phone_context.empty()) abort();  // RFC 3966 §3
    (void)t->param("ext");
    if (!sip::tel_equivalent(*t, *t)) abort();  // reflexive
  }
  if (t && w && sip::tel_equivalent(*t, *w) != sip::tel_equivalent(*w, *t)) abort();
  if (u && v) {
    // symmetric by definition
    if (sip::equivalent(*u, *v) != sip::equivalent(*v, *u)) abort();
  }
  return 0;
}
