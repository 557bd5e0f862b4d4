// sigwire/sdp/answer_builder.hpp - answering an offer and checking an answer
// to ours (RFC 3264 §6, §7), usable without a negotiator.
//
// An answer has the offer's m-lines in the offer's order (§6). Each one is
// accepted when a media capability of ours takes its type and protocol
// (plain RTP; DTLS-SRTP with a fingerprint; SDES with a crypto line we
// support; SCTP data channels) and, for RTP, at least one media codec is in
// common; else it is rejected with port 0. Accepted RTP lines keep the
// offerer's payload types (§6.1), in the offerer's order unless
// capabilities::prefer_local_order, with the reversed direction narrowed by
// ours, the extensions and feedback both sides know, and our fmtp as
// codec_match.hpp's table says.
//
// The builder also states what was agreed (stream_result per m-line): the
// answerer knows it without reading its own answer back.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sigwire/core/ascii.hpp>
#include <sigwire/sdp/capabilities.hpp>
#include <sigwire/sdp/codec_match.hpp>
#include <sigwire/sdp/detail/building.hpp>
#include <sigwire/sdp/error.hpp>
#include <sigwire/sdp/negotiated.hpp>
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/srtp.hpp>
#include <sigwire/sdp/view.hpp>

namespace sigwire::sdp {

struct built_answer {
  session sdp;                         // o= values are the negotiator's to set
  std::vector<stream_result> streams;  // one per offered m-line
};

class answer_builder {
 public:
  // `keys`: where the SDES key of an answered m-line is kept (slot = its
  // index). `our_last_offer`: per m-line, the direction our last answered
  // offer stated (RFC 3264 §8.4: a stream we hold stays held when the peer
  // re-offers); empty when we never offered.
  answer_builder(const capabilities& caps, sdes_keys& keys, std::span<const direction> our_last_offer = {})
      : caps_(caps), keys_(keys), our_last_offer_(our_last_offer) {}

  built_answer build(const session_view& offer) {
    built_answer out;
    out.sdp = detail::base_session(caps_);
    out.sdp.media.reserve(offer.media.size());
    out.streams.reserve(offer.media.size());
    const auto offered_bundle = offer.bundle_group();
    std::string bundle = "BUNDLE";
    std::string transport_mid;  // RFC 9143 §7.3: the first accepted tag of the answer's group
    bool trickle = offer.ice_trickle();
    for (std::size_t index = 0; index < offer.media.size(); ++index) {
      const auto& m = offer.media[index];
      const detail::line_summary line(offer, m);
      trickle = trickle || line.ice_trickle;
      stream_result s;
      s.index = index;
      s.type = std::string(m.type);
      s.proto = std::string(m.proto);
      s.mid = std::string(line.mid.value_or(""));
      media a;
      if (!answer_media(offer, m, line, s, a)) {
        out.sdp.media.push_back(rejected(m, line));
        out.streams.push_back(std::move(s));
        continue;
      }
      // RFC 9143 §7.3: the answer's BUNDLE group holds the accepted offered tags.
      if (!s.mid.empty() && offered_bundle && caps_.bundle && offered_bundle->contains(s.mid)) {
        bundle += ' ' + s.mid;
        if (transport_mid.empty()) transport_mid = s.mid;
        s.bundled = true;
      }
      out.sdp.media.push_back(std::move(a));
      out.streams.push_back(std::move(s));
    }
    for (auto& s : out.streams)
      if (s.bundled) s.bundle_transport_mid = transport_mid;
    detail::add_session_attributes(out.sdp, caps_, transport_mid.empty() ? std::string{} : bundle,
                                   offer.extmap_allow_mixed());
    if (!trickle) out.sdp.remove("ice-options");
    return out;
  }

 private:
  struct accepted_format {
    format_desc offered;
    const codec_capability* cap;
    std::string fmtp;  // what our answer's a=fmtp says
  };

  static bool is_plain_rtp(std::string_view proto) noexcept { return proto == "RTP/AVP" || proto == "RTP/AVPF"; }
  static bool is_dtls_rtp(std::string_view proto) noexcept {
    return proto == "UDP/TLS/RTP/SAVPF" || proto == "UDP/TLS/RTP/SAVP" || proto == "TCP/TLS/RTP/SAVPF" ||
           proto == "TCP/DTLS/RTP/SAVPF";
  }
  static bool is_sdes_rtp(std::string_view proto) noexcept { return proto == "RTP/SAVP" || proto == "RTP/SAVPF"; }
  static bool is_dtls_sctp(std::string_view proto) noexcept {
    return proto == "UDP/DTLS/SCTP" || proto == "TCP/DTLS/SCTP" || proto == "DTLS/SCTP";
  }

  // Builds the answer's m-line `a` and the stream `s` for an offered m-line
  // we accept; false when we reject it.
  bool answer_media(const session_view& offer, const media_view& m, const detail::line_summary& line,
                    stream_result& s, media& a) {
    const media_capability* cap = m.port == 0 ? nullptr : capability_for(m, line);
    if (!cap) return false;
    const detail::transport_use transport{answer_setup(line), line.ice_ufrag.has_value(),
                                          is_dtls_rtp(m.proto) || is_dtls_sctp(m.proto)};
    if (cap->data_channel) {
      a = answer_data(m, line, *cap, transport);
      detail::take_remote_side(s, offer, m, line);
      s.direction = direction::sendrecv;
    } else {
      const auto offered = describe_formats(m);
      auto accepted = match_codecs(offered, *cap);
      if (accepted.empty()) return false;
      direction ours{};
      a = answer_rtp(m, line, *cap, transport, accepted, s, ours);
      s.codecs = agreed_codecs(std::move(accepted));
      detail::take_remote_side(s, offer, m, line);
      s.direction = detail::agreed_direction(ours, line.direction, detail::held_by_zero_address(s, line));
    }
    detail::add_candidates(a, caps_, transport);
    if (transport.dtls && caps_.dtls) s.local_setup = transport.role;
    s.active = true;
    return true;
  }

  // An answer's m-line starts with the transport attributes (they come
  // before the mid, JSEP's order), then the mid.
  // No reserve for what follows: the model is kept for the call's life
  // (negotiator::active_local()), and spare capacity would stay with it.
  void start_media(media& a, const media_view& m, const detail::line_summary& line,
                   const detail::transport_use& transport) const {
    a.type = std::string(m.type);
    a.proto = std::string(m.proto);
    detail::add_connection(a, caps_);
    detail::append_transport_head(a.attributes, caps_, transport);
    if (line.mid) a.add("mid", std::string(*line.mid));
  }

  const media_capability* capability_for(const media_view& m, const detail::line_summary& line) const {
    const bool has_fp = line.fingerprint.has_value();
    for (const auto& cap : caps_.media) {
      if (cap.type != m.type) continue;
      if (cap.data_channel) {
        if (is_dtls_sctp(m.proto) && caps_.dtls && has_fp && m.formats.size() == 1 &&
            m.formats[0] == "webrtc-datachannel")
          return &cap;
        continue;
      }
      if (is_plain_rtp(m.proto) || (is_dtls_rtp(m.proto) && caps_.dtls && has_fp)) return &cap;
      if (is_sdes_rtp(m.proto) && choose_crypto(m, caps_.sdes_suites)) return &cap;
    }
    return nullptr;
  }

  media rejected(const media_view& m, const detail::line_summary& line) const {
    media r;
    r.type = std::string(m.type);
    r.port = 0;
    r.proto = std::string(m.proto);
    r.formats.assign(m.formats.begin(), m.formats.end());
    if (r.formats.empty()) r.formats.push_back("0");
    detail::add_connection(r, caps_);
    if (line.mid) r.add("mid", std::string(*line.mid));
    return r;
  }

  static bool is_rtx(std::string_view encoding) noexcept {
    return rule_for(encoding).role == codec_role::retransmission;
  }

  // The offered formats we accept, each with the capability it matched.
  std::vector<accepted_format> match_codecs(const std::vector<format_desc>& offered,
                                            const media_capability& cap) const {
    std::vector<accepted_format> out;
    auto take = [&](const format_desc& o, const codec_capability& c) {
      for (const auto& a : out)
        if (a.offered.payload_type == o.payload_type) return;
      out.push_back({o, &c, answer_fmtp_for(o, c)});
    };
    // Codecs we can receive by themselves; rtx is added below, through apt.
    std::vector<const codec_capability*> codecs;
    const codec_capability* rtx_cap = nullptr;
    for (const auto& c : cap.codecs) {
      if (!is_rtx(c.name)) codecs.push_back(&c);
      else if (!rtx_cap) rtx_cap = &c;
    }
    auto matches = [](const format_desc& o, const codec_capability& c) {
      return formats_match(o, format_desc{0, c.name, c.clock_rate, c.channels, c.fmtp});
    };
    if (caps_.prefer_local_order) {
      for (const auto* c : codecs)
        for (const auto& o : offered)
          if (matches(o, *c)) take(o, *c);
    } else {
      for (const auto& o : offered)
        for (const auto* c : codecs)
          if (matches(o, *c)) {
            take(o, *c);
            break;
          }
    }
    const bool usable = std::any_of(out.begin(), out.end(), [](const accepted_format& a) {
      return rule_for(a.offered.encoding).role == codec_role::media;
    });
    if (!usable) return {};
    // RFC 4588: accept rtx whose apt is an accepted PT, when we do rtx.
    if (!rtx_cap) return out;
    const std::size_t media_formats = out.size();
    for (const auto& o : offered) {
      if (o.clock_rate != rtx_cap->clock_rate || !is_rtx(o.encoding)) continue;
      const auto apt = rtx_apt(o);
      if (!apt) continue;
      for (std::size_t i = 0; i < media_formats; ++i)
        if (out[i].offered.payload_type == *apt) {
          out.push_back({o, rtx_cap, answer_fmtp_for(o, *rtx_cap)});
          break;
        }
    }
    return out;
  }

  static std::string answer_fmtp_for(const format_desc& offered, const codec_capability& cap) {
    switch (rule_for(offered.encoding).answer_fmtp) {
      case answer_fmtp::echo_offer: return std::string(offered.fmtp);
      case answer_fmtp::intersect_events:
        return detail::format_events(detail::dtmf_events(offered.fmtp) & detail::dtmf_events(cap.fmtp));
      case answer_fmtp::ours: break;
    }
    return cap.fmtp;
  }

  // What the answer agrees to: each accepted codec with the offerer's PT on
  // both sides (§6.1), rtx after the codecs, paired with its apt codec's
  // (the pairing negotiated.hpp's pair_codecs() finds from the two SDPs).
  static std::vector<negotiated_codec> agreed_codecs(std::vector<accepted_format>&& accepted) {
    std::vector<negotiated_codec> out;
    out.reserve(accepted.size());
    std::array<accepted_format*, 128> rtx_by_apt{};
    for (auto& f : accepted) {
      if (!is_rtx(f.offered.encoding)) {
        out.push_back({std::string(f.offered.encoding), f.offered.clock_rate, f.offered.channels,
                       f.offered.payload_type, f.offered.payload_type, std::move(f.fmtp), std::string(f.offered.fmtp)});
      } else if (auto apt = rtx_apt(f.offered)) {
        rtx_by_apt[*apt] = &f;
      }
    }
    const std::size_t paired = out.size();
    for (std::size_t i = 0; i < paired; ++i)
      if (accepted_format* r = rtx_by_apt[out[i].local_pt])
        out.push_back({"rtx", r->offered.clock_rate, 1, r->offered.payload_type, r->offered.payload_type, std::move(r->fmtp),
                       std::string(r->offered.fmtp)});
    return out;
  }

  // RFC 3264 §8.4: a stream we put on hold (our last answered offer said
  // sendonly or inactive) stays held when the peer re-offers: their hold of
  // a stream we hold makes it inactive, not recvonly.
  direction our_last_offer(std::size_t index) const noexcept {
    return index < our_last_offer_.size() ? our_last_offer_[index] : direction::sendrecv;
  }

  static bool spec_is(std::string_view ours, const rtcp_fb& fb) noexcept {
    if (fb.param.empty()) return ours == fb.type;
    return ours.size() == fb.type.size() + 1 + fb.param.size() && ours.starts_with(fb.type) &&
           ours[fb.type.size()] == ' ' && ours.ends_with(fb.param);
  }

  // `d` is set to the direction our answer states.
  media answer_rtp(const media_view& m, const detail::line_summary& line, const media_capability& cap,
                   const detail::transport_use& transport, const std::vector<accepted_format>& accepted,
                   stream_result& s, direction& d) {
    media a;
    a.port = cap.port ? cap.port : 9;
    start_media(a, m, line, transport);
    // RFC 3264 §6.1: sendonly -> recvonly, recvonly -> sendonly, inactive ->
    // inactive, each limited by what we can do.
    const direction can = make_direction(sends(cap.direction) && sends(our_last_offer(s.index)),
                                         receives(cap.direction) && receives(our_last_offer(s.index)));
    const direction od = line.direction;
    d = make_direction(receives(od) && sends(can), sends(od) && receives(can));
    add_extmaps(a, m, cap);
    a.add_flag(std::string(to_string(d)));
    if (sends(d) && !cap.msid.empty()) a.add("msid", cap.msid);
    s.rtcp_mux = caps_.rtcp_mux && line.rtcp_mux;
    if (s.rtcp_mux) a.add_flag("rtcp-mux");
    if (is_sdes_rtp(m.proto)) add_crypto_line(a, m, s);
    if (line.rtcp_rsize && caps_.rtcp_mux) a.add_flag("rtcp-rsize");
    const auto offered_fb = feedback_for(m, accepted);
    for (const auto& f : accepted) {
      const std::string pt = std::to_string(f.offered.payload_type);  // keep the offerer's PT (§6.1)
      a.formats.push_back(pt);
      std::string map;
      map.reserve(pt.size() + f.offered.encoding.size() + 16);
      map.append(pt).append(1, ' ').append(f.offered.encoding).append(1, '/').append(std::to_string(f.offered.clock_rate));
      if (f.offered.channels > 1) map.append(1, '/').append(std::to_string(f.offered.channels));
      a.add("rtpmap", std::move(map));
      for (const auto& fb : offered_fb) {
        if (fb.format != "*" && fb.format != pt) continue;
        for (const auto& ours : f.cap->rtcp_fb)
          if (spec_is(ours, fb)) {
            a.add("rtcp-fb", pt + ' ' + ours);
            break;
          }
      }
      if (!f.fmtp.empty()) a.add("fmtp", pt + ' ' + f.fmtp);
    }
    return a;
  }

  // The offered header extensions we support, with the offerer's ids (RFC
  // 8285 §7). Only lines naming one of our URIs are parsed.
  static void add_extmaps(media& a, const media_view& m, const media_capability& cap) {
    if (cap.extmaps.empty()) return;
    m.for_each("extmap", [&](std::string_view value) {
      const bool ours = std::any_of(cap.extmaps.begin(), cap.extmaps.end(),
                                    [&](const std::string& uri) { return value.find(uri) != std::string_view::npos; });
      if (!ours) return;
      if (auto e = parse_extmap(value);
          e && std::find(cap.extmaps.begin(), cap.extmaps.end(), e->uri) != cap.extmaps.end())
        a.add("extmap", std::to_string(e->id) + ' ' + std::string(e->uri));
    });
  }

  // The offered a=rtcp-fb lines for "*" or an accepted format, in offered
  // order (a WebRTC video m-line has a hundred, most for formats we reject).
  static std::vector<rtcp_fb> feedback_for(const media_view& m, const std::vector<accepted_format>& accepted) {
    std::vector<rtcp_fb> out;
    const bool wanted = std::any_of(accepted.begin(), accepted.end(),
                                    [](const accepted_format& f) { return !f.cap->rtcp_fb.empty(); });
    if (!wanted) return out;
    std::array<bool, 128> accepted_pt{};
    for (const auto& f : accepted) accepted_pt[f.offered.payload_type] = true;
    m.for_each("rtcp-fb", [&](std::string_view value) {
      const std::string_view format = value.substr(0, value.find(' '));
      const auto pt = detail::to_uint<unsigned>(format, 127);
      if (format != "*" && !(pt && accepted_pt[*pt])) return;
      if (auto fb = parse_rtcp_fb(value)) out.push_back(*fb);
    });
    return out;
  }

  // RFC 4568 §7.1.1: one crypto line, the offered tag and suite with our key.
  void add_crypto_line(media& a, const media_view& m, stream_result& s) {
    const auto c = choose_crypto(m, caps_.sdes_suites);
    if (!c) return;
    const std::string& key = keys_.key(sdes_keys::answer_slot(s.index), c->suite);
    a.add("crypto", std::to_string(c->tag) + ' ' + std::string(c->suite) + " inline:" + key);
    s.srtp_suite = std::string(c->suite);
    s.local_srtp_key = key;
    s.remote_srtp_key = std::string(c->inline_key());
  }

  media answer_data(const media_view& m, const detail::line_summary& line, const media_capability& cap,
                    const detail::transport_use& transport) const {
    media a;
    a.port = cap.port ? cap.port : 9;
    a.formats = {"webrtc-datachannel"};
    start_media(a, m, line, transport);
    a.add("sctp-port", std::to_string(cap.sctp_port));
    const auto remote_max = line.max_message_size_number();
    a.add("max-message-size", std::to_string(remote_max && *remote_max ? std::min(*remote_max, cap.max_message_size)
                                                                         : cap.max_message_size));
    return a;
  }

  // RFC 5763 §5 / RFC 4145 §4.1: answer actpass with our preferred role,
  // active with passive, passive with active.
  setup_role answer_setup(const detail::line_summary& line) const {
    auto r = line.setup ? parse_setup(*line.setup) : std::optional<setup_role>{};
    switch (r.value_or(setup_role::actpass)) {
      case setup_role::active: return setup_role::passive;
      case setup_role::passive: return setup_role::active;
      case setup_role::holdconn: return setup_role::holdconn;
      case setup_role::actpass: break;
    }
    return caps_.dtls ? caps_.dtls->answer_role : setup_role::active;
  }

  const capabilities& caps_;
  sdes_keys& keys_;
  std::span<const direction> our_last_offer_;
};

// Checks an answer to our offer (RFC 3264 §6, §7): the same m-lines in the
// same order and of the same types, a codec in common on every accepted RTP
// line, a direction the offer allows, a fingerprint for DTLS (RFC 8842 §5.1).
inline std::error_code check_answer(const session_view& offer, const session_view& answer) {
  if (offer.media.size() != answer.media.size()) return error::media_count_mismatch;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const auto& o = offer.media[i];
    const auto& a = answer.media[i];
    if (o.type != a.type) return error::media_type_mismatch;
    if (a.port == 0 || o.port == 0) continue;
    if (a.is_dtls() && !answer.find_in(a, "fingerprint")) return error::missing_fingerprint;
    if (!o.is_rtp()) continue;
    if (common_codecs(o, a, false).empty()) return error::no_common_codec;
    // RFC 3264 §6.1: the answer may only narrow the reversed offered direction.
    const direction od = stated_direction(offer, o);
    const direction ad = stated_direction(answer, a);
    if ((sends(ad) && !receives(od)) || (receives(ad) && !sends(od))) return error::bad_direction;
  }
  return {};
}

}  // namespace sigwire::sdp
