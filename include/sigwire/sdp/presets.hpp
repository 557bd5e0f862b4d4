// sigwire/sdp/presets.hpp - ready-made negotiator capabilities.
//
//   sdp::negotiator n(sdp::presets::plain_audio("192.0.2.1", 4000));
//   auto caps = sdp::presets::plain_audio("192.0.2.1", 4000, {sdp::presets::pcmu()});
//
// plain_audio is what a desk phone, sipp, baresip or a PBX expects: one
// RTP/AVP audio stream, G.711 (PCMU, PCMA) and DTMF events (RFC 4733),
// without ICE, BUNDLE or rtcp-mux. WebRTC peers need browser-like
// capabilities instead (docs/sdp.md).
#pragma once

#include <sigwire/sdp/negotiator.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sigwire::sdp::presets {

inline codec_capability pcmu() { return {.name = "PCMU", .clock_rate = 8000, .payload_type = 0}; }
inline codec_capability pcma() { return {.name = "PCMA", .clock_rate = 8000, .payload_type = 8}; }
inline codec_capability telephone_event() {
  return {.name = "telephone-event", .clock_rate = 8000, .payload_type = 101, .fmtp = "0-16"};
}

inline capabilities plain_audio(std::string address, std::uint16_t rtp_port,
                                std::vector<codec_capability> codecs = {pcmu(), pcma(), telephone_event()}) {
  capabilities caps;
  caps.address = std::move(address);
  caps.bundle = false;
  caps.rtcp_mux = false;
  media_capability audio;
  audio.port = rtp_port;
  audio.codecs = std::move(codecs);
  caps.media.push_back(std::move(audio));
  return caps;
}

}  // namespace sigwire::sdp::presets
