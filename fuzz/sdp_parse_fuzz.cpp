// libFuzzer: sdp::parse (+ every typed accessor) and write(parse(x)) stability.
// The first byte picks the options (attribute checking, RFC 8840 fragment).
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/view.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sdp = sigwire::sdp;

static void touch(const sdp::attribute_set& a) {
  std::size_t n = 0;
  n += a.rtpmaps().size() + a.fmtps().size() + a.rtcp_fbs().size() + a.rtcp().has_value() + a.rtcp_mux();
  n += a.ptime().value_or(0) + a.maxptime().value_or(0) + a.direction().has_value() + a.mid().has_value();
  n += a.groups().size() + a.bundle_group().has_value() + a.msids().size() + a.ssrcs().size();
  n += a.ssrc_groups().size() + a.extmaps().size() + a.extmap_allow_mixed() + a.rids().size();
  n += a.simulcast().has_value() + a.ice_ufrag().has_value() + a.ice_pwd().has_value() + a.ice_options().size();
  n += a.ice_trickle() + a.ice_lite() + a.candidates().size() + a.end_of_candidates() + a.fingerprints().size();
  n += a.setup().has_value() + a.cryptos().size() + a.sctp_port().value_or(0) + a.max_message_size().value_or(0);
  for (const auto& f : a.fmtps()) n += f.param("profile-level-id").has_value();
  for (const auto& c : a.cryptos()) n += c.inline_key().size();
  for (const auto& r : a.rtpmaps()) n += r.channels() + a.fmtp_for(std::to_string(r.payload_type)).has_value();
  volatile std::size_t sink = n;
  (void)sink;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  sdp::parse_options opts;
  opts.check_attributes = (data[0] & 1) == 0;
  opts.fragment = (data[0] & 2) != 0;
  opts.limits.max_attributes = 64 + (data[0] >> 2) * 8;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto s = sdp::parse(text, opts);
  if (!s) {
    if (s.error_line() > text.size() + 1) std::abort();
    return 0;
  }
  touch(s);
  for (const auto& m : s.media) {
    touch(m);
    (void)s.connection_for(m);
    (void)s.find_in(m, "ice-ufrag");
  }
  // write(parse(x)) parses, and writing that again is a fixed point.
  const std::string w1 = sdp::write(s);
  if (w1.empty()) return 0;  // a fragment of only empty optional lines
  auto again = sdp::parse(w1, opts);
  if (!again) std::abort();
  if (again.media.size() != s.media.size()) std::abort();
  if (sdp::write(again) != w1) std::abort();
  return 0;
}
