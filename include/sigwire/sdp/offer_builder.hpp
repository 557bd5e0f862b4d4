// sigwire/sdp/offer_builder.hpp - our offers (RFC 3264 §5) from our
// capabilities: one m-line per media capability, codecs in our order with
// rtx after each video codec, and for WebRTC peers the JSEP shape browsers
// accept (RFC 8829 §5.2: mid, BUNDLE, rtcp-mux, ICE, DTLS fingerprint).
// Usable without a negotiator: tests and applications that write SDP by
// hand build offers or single m-lines with it.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sigwire/core/ascii.hpp>
#include <sigwire/sdp/capabilities.hpp>
#include <sigwire/sdp/codec_match.hpp>
#include <sigwire/sdp/detail/building.hpp>
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/srtp.hpp>

namespace sigwire::sdp {

class offer_builder {
 public:
  // `keys` holds the SDES keys of RTP/SAVP m-lines (kept by the negotiator
  // so that a re-offer repeats them).
  offer_builder(const capabilities& caps, sdes_keys& keys) : caps_(caps), keys_(keys) {}

  // A whole offer: every media capability, mids "0", "1", ... and one
  // BUNDLE group when the peer is WebRTC. No o= line values: the negotiator
  // sets them (RFC 3264 §8 versioning).
  session build() {
    session s = detail::base_session(caps_);
    std::string bundle = "BUNDLE";
    std::size_t index = 0;
    for (const auto& cap : caps_.media) {
      const std::string mid = std::to_string(index++);
      s.media.push_back(build_media(cap, caps_.webrtc() ? mid : std::string_view{}));
      bundle += ' ' + mid;
    }
    detail::model_sink session_attributes(s.attributes);
    detail::add_session_attributes(session_attributes, caps_, caps_.webrtc() && caps_.bundle ? bundle : std::string{},
                                   true, false);
    return s;
  }

  // One m-line for capability `cap` (also for adding a stream to a re-offer).
  media build_media(const media_capability& cap, std::string_view mid) {
    media m = cap.data_channel ? data_media(cap) : rtp_media(cap);
    if (!mid.empty()) m.attributes.insert(m.attributes.begin(), {"mid", std::string(mid), true});
    if (!cap.data_channel) add_rtp_tail(m, cap, cap.direction);
    if (!cap.data_channel && m.proto == "RTP/SAVP") add_crypto_lines(m, mid);
    detail::add_transport(m, caps_, {setup_role::actpass, caps_.ice.has_value(), caps_.dtls.has_value()});
    return m;
  }

 private:
  std::string_view rtp_proto() const noexcept {
    return caps_.dtls ? "UDP/TLS/RTP/SAVPF" : caps_.sdes_suites.empty() ? "RTP/AVP" : "RTP/SAVP";
  }

  static bool is_rtx(const codec_capability& c) noexcept {
    return rule_for(c.name).role == codec_role::retransmission;
  }

  // Payload types: the codec's own when it names one, else the next free
  // dynamic one (RFC 3551 §3: 96-127).
  static std::vector<std::pair<unsigned, const codec_capability*>> assign_payload_types(
      const media_capability& cap, std::vector<bool>& used, unsigned& next) {
    for (const auto& c : cap.codecs)
      if (c.payload_type >= 0 && c.payload_type < 128) used[static_cast<std::size_t>(c.payload_type)] = true;
    std::vector<std::pair<unsigned, const codec_capability*>> pts;
    for (const auto& c : cap.codecs) {
      unsigned pt;
      if (c.payload_type >= 0) {
        pt = static_cast<unsigned>(c.payload_type);
      } else {
        while (next < 128 && used[next]) ++next;
        if (next >= 128) break;
        pt = next;
        used[next] = true;
      }
      pts.emplace_back(pt, &c);
    }
    return pts;
  }

  media rtp_media(const media_capability& cap) const {
    media m;
    m.type = cap.type;
    m.port = cap.port;
    m.proto = std::string(rtp_proto());
    detail::add_connection(m, caps_);
    std::vector<bool> used(128, false);
    unsigned next = 96;
    const auto pts = assign_payload_types(cap, used, next);
    for (const auto& [pt, c] : pts) {
      if (is_rtx(*c)) continue;
      m.formats.push_back(std::to_string(pt));
      add_codec_lines(m, pt, *c, c->fmtp);
    }
    // rtx follows each codec of its clock rate (RFC 4588 §8.6: apt = the associated PT).
    auto rtx = std::find_if(cap.codecs.begin(), cap.codecs.end(), is_rtx);
    if (rtx == cap.codecs.end()) return m;
    for (const auto& [pt, c] : pts) {
      if (is_rtx(*c) || c->clock_rate != rtx->clock_rate) continue;
      while (next < 128 && used[next]) ++next;
      if (next >= 128) break;
      used[next] = true;
      m.formats.push_back(std::to_string(next));
      add_codec_lines(m, next, *rtx, "apt=" + std::to_string(pt));
    }
    return m;
  }

  static void add_codec_lines(media& m, unsigned pt, const codec_capability& c, std::string_view fmtp_params) {
    std::string map = std::to_string(pt) + ' ' + c.name + '/' + std::to_string(c.clock_rate);
    if (c.channels > 1) map += '/' + std::to_string(c.channels);
    m.add("rtpmap", std::move(map));
    for (const auto& fb : c.rtcp_fb) m.add("rtcp-fb", std::to_string(pt) + ' ' + fb);
    if (!fmtp_params.empty()) m.add("fmtp", std::to_string(pt) + ' ' + std::string(fmtp_params));
  }

  media data_media(const media_capability& cap) const {
    media m;
    m.type = "application";
    m.port = cap.port;
    m.proto = "UDP/DTLS/SCTP";
    m.formats = {"webrtc-datachannel"};
    detail::add_connection(m, caps_);
    m.add("sctp-port", std::to_string(cap.sctp_port));
    m.add("max-message-size", std::to_string(cap.max_message_size));
    return m;
  }

  // direction, rtcp-mux, extmaps, msid for an RTP m-line we send.
  void add_rtp_tail(media& m, const media_capability& cap, direction d) const {
    auto at = std::find_if(m.attributes.begin(), m.attributes.end(),
                           [](const attribute& a) { return a.name == "rtpmap"; });
    std::vector<attribute> head;
    for (const auto& uri : cap.extmaps) head.push_back({"extmap", std::to_string(extmap_id(uri)) + ' ' + uri, true});
    head.push_back({std::string(to_string(d)), {}, false});
    if (sends(d) && !cap.msid.empty()) head.push_back({"msid", cap.msid, true});
    if (caps_.rtcp_mux) head.push_back({"rtcp-mux", {}, false});
    m.attributes.insert(at, head.begin(), head.end());
  }

  // One crypto line per suite we know, tags 1, 2, ... (RFC 4568 §9.1).
  void add_crypto_lines(media& m, std::string_view mid) {
    unsigned tag = 0;
    for (const auto& suite : caps_.sdes_suites) {
      if (!srtp_key_salt_size(suite)) continue;
      ++tag;
      const std::string& key = keys_.key(sdes_keys::offer_slot(mid, tag), suite);
      m.add("crypto", std::to_string(tag) + ' ' + suite + " inline:" + key);
    }
  }

  // One id per URI across the whole offer: BUNDLEd m-lines share one RTP
  // session, so an id must mean the same extension everywhere (RFC 9143 §9.2).
  unsigned extmap_id(std::string_view uri) const {
    std::vector<std::string_view> seen;
    for (const auto& cap : caps_.media)
      for (const auto& u : cap.extmaps)
        if (std::find(seen.begin(), seen.end(), u) == seen.end()) {
          if (u == uri) return static_cast<unsigned>(seen.size() + 1);
          seen.push_back(u);
        }
    return static_cast<unsigned>(seen.size() + 1);
  }

  const capabilities& caps_;
  sdes_keys& keys_;
};

}  // namespace sigwire::sdp
