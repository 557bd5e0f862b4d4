// libFuzzer: SIP message parser + every typed accessor, and the differential
// check parse(build(parse(x))) == parse(x) (rebuild is stable after one round).
// First byte: leniency flags (low 5 bits) and transport (bit 7).
#include <sigwire/sip.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace sip = sigwire::sip;

static void touch_everything(const sip::message_view& m) {
  (void)sip::validate_all(m);
  (void)sip::uas_check(m);
  (void)sip::for_each_via(m, [](const sip::via& v) { (void)v.param("branch"); });
  (void)sip::for_each_contact(m, [](const sip::name_addr& c) {
    (void)c.display_name_text();
    (void)c.address.param("transport");
    if (c.address.has_user) (void)sip::unescape(c.address.user);
  });
  (void)sip::for_each_route(m, [](const sip::name_addr&) {});
  (void)sip::for_each_record_route(m, [](const sip::name_addr&) {});
  for (auto id : {sip::header_id::allow, sip::header_id::supported, sip::header_id::require})
    (void)sip::for_each_token(m, id, [](std::string_view) {});
  (void)sip::content_type(m);
  (void)sip::expires(m);
  for (auto id : {sip::header_id::www_authenticate, sip::header_id::proxy_authenticate, sip::header_id::authorization,
                  sip::header_id::proxy_authorization}) {
    if (auto a = sip::auth(m, id)) (void)a->param("nonce");
    if (auto* h = m.find(id)) (void)sip::parse_challenge(h->value);
  }
  if (m.from()) (void)m.from()->display_name_text();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  sip::parse_options o;
  o.lenient = data[0] & 0x1f;
  o.transport = (data[0] & 0x80) ? sip::transport_kind::stream : sip::transport_kind::datagram;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  static std::vector<sip::header_field> arena(300);
  sip::message_view m;
  if (!sip::parse(in, m, o, arena).complete()) return 0;
  touch_everything(m);

  static std::array<char, 1 << 18> out1, out2;
  auto b1 = sip::rebuild(m, out1);
  if (!b1) abort();
  sip::parse_options relaxed;
  relaxed.limits.max_message_size = 1 << 18;
  relaxed.limits.max_header_line = 1 << 18;
  relaxed.limits.max_headers = 300;
  relaxed.transport = sip::transport_kind::stream;
  sip::message_view m2;
  if (!sip::parse(*b1, m2, relaxed, arena).complete()) abort();
  if (m2.headers().size() < m.headers().size() || m2.body() != m.body() || m2.call_id() != m.call_id()) abort();
  if (m.is_request() && (m2.method() != m.method() || m2.request_uri_text() != m.request_uri_text())) abort();
  auto b2 = sip::rebuild(m2, out2);
  if (!b2 || *b2 != *b1) abort();
  return 0;
}
