// libFuzzer: the negotiator fed a fuzzed remote offer (and, second, a fuzzed
// remote answer to our offer) against a fixed capability set. It must answer
// or reject cleanly; an answer must parse and keep the offer's m-line count.
#include <sigwire/sdp/negotiator.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace sdp = sigwire::sdp;

static sdp::capabilities caps() {
  sdp::capabilities c;
  c.address = "192.0.2.1";
  sdp::media_capability audio;
  audio.type = "audio";
  audio.codecs = {{"opus", 48000, 2, 111, "minptime=10;useinbandfec=1", {"transport-cc"}},
                  {"PCMU", 8000, 1, 0, {}, {}},
                  {"telephone-event", 8000, 1, 101, "0-15", {}}};
  audio.extmaps = {"urn:ietf:params:rtp-hdrext:sdes:mid"};
  sdp::media_capability video;
  video.type = "video";
  video.codecs = {{"VP8", 90000, 1, 96, {}, {"nack", "nack pli"}},
                  {"VP9", 90000, 1, 98, "profile-id=0", {}},
                  {"H264", 90000, 1, 102, "packetization-mode=1;profile-level-id=42e01f", {}},
                  {"rtx", 90000, 1, -1, {}, {}}};
  sdp::media_capability data;
  data.type = "application";
  data.data_channel = true;
  c.media = {audio, video, data};
  c.ice = sdp::ice_parameters{"abcd", "abcdefghijklmnopqrstuv", {"1 1 udp 1 192.0.2.1 9 typ host"}, true, true};
  c.dtls = sdp::dtls_parameters{"sha-256", "AB:CD", sdp::setup_role::active};
  c.sdes_suites = {"AES_CM_128_HMAC_SHA1_80", "AEAD_AES_256_GCM"};
  return c;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const sdp::capabilities local = caps();
  {
    sdp::negotiator n(local);
    if (!n.create_with_remote_offer(text)) {
      if (n.create_answer()) std::abort();
      const std::string answer = n.local_sdp();
      auto a = sdp::parse(answer);
      auto o = sdp::parse(text);
      if (!a || !o || a.media.size() != o.media.size()) std::abort();
      if (n.negotiate()) std::abort();
      if (n.streams().size() != o.media.size()) std::abort();
      // A second round with the same offer must not change the version.
      const auto v = n.active_local()->origin.session_version;
      if (!n.set_remote_offer(text) && !n.create_answer() && !n.negotiate())
        if (n.active_local()->origin.session_version != v) std::abort();
    }
  }
  {
    sdp::negotiator n(local);
    if (n.create_offer()) std::abort();
    if (!n.set_remote_answer(text)) {
      const auto ec = n.negotiate();
      if (ec && n.current_state() != sdp::negotiator::state::null) std::abort();
      if (!ec && n.current_state() != sdp::negotiator::state::done) std::abort();
    }
  }
  return 0;
}
