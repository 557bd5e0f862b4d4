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
// The answer is written straight as text, as it is sent: every decision
// about an m-line is taken before its first line is written. The builder
// also states what was agreed (stream_result per m-line): the answerer knows
// it without reading its own answer back.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
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
  std::string text;                    // the answer, CRLF line ends
  std::vector<stream_result> streams;  // one per offered m-line

  // The answer as a model, to inspect or edit (parsed back from the text).
  session model() const { return own_session(text); }
};

class answer_builder {
 public:
  // `keys`: where the SDES key of an answered m-line is kept (slot = its
  // index). `our_last_offer`: per m-line, the direction our last answered
  // offer stated (RFC 3264 §8.4: a stream we hold stays held when the peer
  // re-offers); empty when we never offered.
  answer_builder(const capabilities& caps, sdes_keys& keys, std::span<const direction> our_last_offer = {})
      : caps_(caps), keys_(keys), our_last_offer_(our_last_offer) {}

  // `o`: the o= line's values; its address and address type come from the
  // capabilities when it has none (0.0.0.0 or empty).
  built_answer build(const session_view& offer, const origin& o = {}) {
    built_answer out;
    out.streams.reserve(offer.media.size());
    std::string media_text;  // the m-sections, written before the session part that depends on them
    media_text.reserve(512 * offer.media.size());
    detail::line_writer media_lines(media_text);
    const auto offered_bundle = offer.bundle_tags();
    std::string bundle = "BUNDLE";
    std::string_view transport_mid;  // RFC 9143 §7.3: the first accepted tag of the answer's group
    bool trickle = offer.ice_trickle();
    for (std::size_t index = 0; index < offer.media.size(); ++index) {
      const auto& m = offer.media[index];
      const detail::line_summary line(offer, m);
      trickle = trickle || line.ice_trickle;
      stream_result& s = out.streams.emplace_back();
      s.index = index;
      s.type = std::string(m.type);
      s.proto = std::string(m.proto);
      s.mid = std::string(line.mid.value_or(""));
      if (!answer_media(offer, m, line, s, media_lines)) {
        write_rejected(media_lines, m, line);
        continue;
      }
      // RFC 9143 §7.3: the answer's BUNDLE group holds the accepted offered tags.
      if (!s.mid.empty() && offered_bundle && caps_.bundle && offered_bundle->contains(s.mid)) {
        bundle.append(1, ' ').append(s.mid);
        if (transport_mid.empty()) transport_mid = *line.mid;
        s.bundled = true;
      }
    }
    for (auto& s : out.streams)
      if (s.bundled) s.bundle_transport_mid = std::string(transport_mid);
    out.text.reserve(200 + media_text.size());
    write_session_part(out.text, o);
    detail::line_writer session_lines(out.text);
    detail::add_session_attributes(session_lines, caps_, transport_mid.empty() ? std::string_view{} : bundle,
                                   trickle, offer.extmap_allow_mixed());
    out.text += media_text;
    return out;
  }

 private:
  // An offered format we accept, with the capability it matched.
  struct accepted_format {
    format_desc offered;
    const codec_capability* cap;
    const codec_rule* rule;  // the offered encoding's
    std::string fmtp;        // what our answer's a=fmtp says
  };
  // One of our codecs, prepared for matching against every offered format.
  struct our_codec {
    const codec_capability* cap;
    prepared_format format;
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

  // v=, o=, s=, t= (RFC 8866 §5).
  void write_session_part(std::string& out, const origin& o) const {
    out += "v=0\r\n";
    if (o.address.empty() || o.address == "0.0.0.0") {
      origin ours = o;
      ours.address = caps_.address;
      ours.addrtype = addrtype_of(caps_.address);
      detail::write_origin(out, ours);
    } else {
      detail::write_origin(out, o);
    }
    detail::write_line(out, 's', caps_.session_name);
    out += "t=0 0\r\n";
  }

  // Writes the answer's m-section for an offered m-line we accept and fills
  // the stream `s`; false (nothing written) when we reject it.
  bool answer_media(const session_view& offer, const media_view& m, const detail::line_summary& line,
                    stream_result& s, detail::line_writer& w) {
    const media_capability* cap = m.port == 0 ? nullptr : capability_for(m, line);
    if (!cap) return false;
    const detail::transport_use transport{answer_setup(line), line.ice_ufrag.has_value(),
                                          is_dtls_rtp(m.proto) || is_dtls_sctp(m.proto)};
    if (cap->data_channel) {
      write_data(w, m, line, *cap, transport);
      detail::take_remote_side(s, offer, m, line);
      s.direction = direction::sendrecv;
    } else {
      auto accepted = match_codecs(m, *cap);
      if (accepted.empty()) return false;
      const direction ours = answer_direction(*cap, line, s.index);
      s.rtcp_mux = caps_.rtcp_mux && line.rtcp_mux;
      write_rtp(w, m, line, *cap, transport, accepted, ours, s);
      s.codecs = agreed_codecs(std::move(accepted));
      detail::take_remote_side(s, offer, m, line);
      s.direction = detail::agreed_direction(ours, line.direction, detail::held_by_zero_address(s, line));
    }
    detail::add_candidates(w, caps_, transport);
    if (transport.dtls && caps_.dtls) s.local_setup = transport.role;
    s.active = true;
    return true;
  }

  // An answer's m-section starts with the m= and c= lines, the transport
  // attributes (before the mid, JSEP's order), then the mid. `formats`
  // writes the m= line's formats.
  template <class Formats>
  void start_media(detail::line_writer& w, const media_view& m, const detail::line_summary& line,
                   std::uint16_t port, const detail::transport_use& transport, Formats&& formats) const {
    w.media_line(m.type, port, m.proto);
    formats();
    w.end_line();
    w.connection(caps_.address);
    detail::add_transport_head(w, caps_, transport);
    if (line.mid) w.add("mid", *line.mid);
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

  // RFC 3264 §6: a rejected stream has port 0 and the offered formats.
  void write_rejected(detail::line_writer& w, const media_view& m, const detail::line_summary& line) const {
    w.media_line(m.type, 0, m.proto);
    for (auto f : m.formats) w.format(f);
    if (m.formats.empty()) w.format('0');
    w.end_line();
    w.connection(caps_.address);
    if (line.mid) w.add("mid", *line.mid);
  }

  static bool is_rtx(const codec_rule& rule) noexcept { return rule.role == codec_role::retransmission; }

  // The offered formats we accept, each with the capability it matched.
  std::vector<accepted_format> match_codecs(const media_view& m, const media_capability& cap) const {
    // Codecs we can receive by themselves; rtx is added below, through apt.
    std::vector<our_codec> codecs;
    codecs.reserve(cap.codecs.size());
    const codec_capability* rtx_cap = nullptr;
    for (const auto& c : cap.codecs) {
      prepared_format f(format_desc{0, c.name, c.clock_rate, c.channels, c.fmtp});
      if (!is_rtx(*f.rule)) codecs.push_back({&c, f});
      else if (!rtx_cap) rtx_cap = &c;
    }
    // Only the offered formats one of our codecs could take are described
    // in full (their fmtp found): a WebRTC offer lists many we do not have.
    // The name the rtx row of the codec table gives: compared once per
    // offered format instead of walking the table for each.
    const std::string_view rtx_name = rtx_cap ? rule_for(rtx_cap->name).encoding : std::string_view{};
    auto offered_rtx = [&](const format_desc& o) {
      return rtx_cap && o.clock_rate == rtx_cap->clock_rate && core::ascii::iequals(o.encoding, rtx_name);
    };
    const auto offered = describe_formats(m, [&](const format_desc& o) {
      if (offered_rtx(o)) return true;
      return std::any_of(codecs.begin(), codecs.end(), [&](const our_codec& c) { return c.format.same_codec(o); });
    });
    std::vector<accepted_format> out;
    out.reserve(offered.size());
    // The offered format being matched, prepared (its configuration read)
    // once, when a codec of ours first has its name.
    struct candidate {
      const format_desc& offered;
      prepared_format prepared{};
      bool ready = false;
    };
    auto take_if_match = [&](candidate& o, const our_codec& c) {
      if (!c.format.same_codec(o.offered)) return false;
      if (!o.ready) {
        o.prepared = prepared_format(o.offered);
        o.ready = true;
      }
      if (!formats_match(o.prepared, c.format)) return false;
      const unsigned pt = o.offered.payload_type;
      const bool taken =
          std::any_of(out.begin(), out.end(), [&](const accepted_format& a) { return a.offered.payload_type == pt; });
      if (!taken) out.push_back({o.offered, c.cap, o.prepared.rule, answer_fmtp_for(*o.prepared.rule, o.offered, *c.cap)});
      return true;
    };
    if (caps_.prefer_local_order) {
      for (const auto& c : codecs)
        for (const auto& offered_format : offered) {
          candidate o{offered_format};
          take_if_match(o, c);
        }
    } else {
      for (const auto& offered_format : offered) {
        candidate o{offered_format};
        for (const auto& c : codecs)
          if (take_if_match(o, c)) break;
      }
    }
    const bool usable = std::any_of(out.begin(), out.end(),
                                    [](const accepted_format& a) { return a.rule->role == codec_role::media; });
    if (!usable) return {};
    // RFC 4588: accept rtx whose apt is an accepted PT, when we do rtx.
    if (!rtx_cap) return out;
    const codec_rule& rtx_rule = rule_for(rtx_cap->name);
    const std::size_t media_formats = out.size();
    for (const auto& o : offered) {
      if (!offered_rtx(o)) continue;
      const auto apt = rtx_apt(o);
      if (!apt) continue;
      for (std::size_t i = 0; i < media_formats; ++i)
        if (out[i].offered.payload_type == *apt) {
          out.push_back({o, rtx_cap, &rtx_rule, answer_fmtp_for(rtx_rule, o, *rtx_cap)});
          break;
        }
    }
    return out;
  }

  static std::string answer_fmtp_for(const codec_rule& rule, const format_desc& offered, const codec_capability& cap) {
    switch (rule.answer_fmtp) {
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
      if (!is_rtx(*f.rule)) {
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

  // RFC 3264 §6.1: sendonly -> recvonly, recvonly -> sendonly, inactive ->
  // inactive, each limited by what we can do.
  direction answer_direction(const media_capability& cap, const detail::line_summary& line, std::size_t index) const {
    const direction can = make_direction(sends(cap.direction) && sends(our_last_offer(index)),
                                         receives(cap.direction) && receives(our_last_offer(index)));
    return make_direction(receives(line.direction) && sends(can), sends(line.direction) && receives(can));
  }

  static bool spec_is(std::string_view ours, const rtcp_fb& fb) noexcept {
    if (fb.param.empty()) return ours == fb.type;
    return ours.size() == fb.type.size() + 1 + fb.param.size() && ours.starts_with(fb.type) &&
           ours[fb.type.size()] == ' ' && ours.ends_with(fb.param);
  }

  // `d`: the direction our answer states; s.rtcp_mux is set.
  void write_rtp(detail::line_writer& w, const media_view& m, const detail::line_summary& line,
                 const media_capability& cap, const detail::transport_use& transport,
                 const std::vector<accepted_format>& accepted, direction d, stream_result& s) {
    start_media(w, m, line, cap.port ? cap.port : 9, transport, [&] {
      for (const auto& f : accepted) w.format(f.offered.payload_type);  // the offerer's PTs (§6.1)
    });
    add_extmaps(w, m, cap);
    w.add_flag(to_string(d));
    if (sends(d) && !cap.msid.empty()) w.add("msid", cap.msid);
    if (s.rtcp_mux) w.add_flag("rtcp-mux");
    if (is_sdes_rtp(m.proto)) add_crypto_line(w, m, s);
    if (line.rtcp_rsize && caps_.rtcp_mux) w.add_flag("rtcp-rsize");
    const auto offered_fb = feedback_for(m, accepted);
    for (const auto& f : accepted) {
      const unsigned pt = f.offered.payload_type;
      if (f.offered.channels > 1) w.add("rtpmap", pt, ' ', f.offered.encoding, '/', f.offered.clock_rate, '/', f.offered.channels);
      else w.add("rtpmap", pt, ' ', f.offered.encoding, '/', f.offered.clock_rate);
      for (const auto& fb : offered_fb) {
        if (fb.pt != pt && fb.pt != any_format) continue;
        for (const auto& ours : f.cap->rtcp_fb)
          if (spec_is(ours, fb.line)) {
            w.add("rtcp-fb", pt, ' ', ours);
            break;
          }
      }
      if (!f.fmtp.empty()) w.add("fmtp", pt, ' ', f.fmtp);
    }
  }

  // The offered header extensions we support, with the offerer's ids (RFC
  // 8285 §7). Only lines naming one of our URIs are parsed.
  static void add_extmaps(detail::line_writer& w, const media_view& m, const media_capability& cap) {
    if (cap.extmaps.empty()) return;
    for (const auto& a : m.attributes) {
      if (!a.is(attribute_kind::extmap)) continue;
      const bool ours = std::any_of(cap.extmaps.begin(), cap.extmaps.end(),
                                    [&](const std::string& uri) { return a.value.find(uri) != std::string_view::npos; });
      if (!ours) continue;
      if (auto e = parse_extmap(a.value);
          e && std::find(cap.extmaps.begin(), cap.extmaps.end(), e->uri) != cap.extmaps.end())
        w.add("extmap", e->id, ' ', e->uri);
    }
  }

  static constexpr unsigned any_format = 128;  // a=rtcp-fb:* (RFC 4585 §4.2)
  struct offered_feedback {
    unsigned pt;  // or any_format
    rtcp_fb line;
  };

  // The offered a=rtcp-fb lines for "*" or an accepted format, in offered
  // order (a WebRTC video m-line has a hundred, most for formats we reject).
  static std::vector<offered_feedback> feedback_for(const media_view& m, const std::vector<accepted_format>& accepted) {
    std::vector<offered_feedback> out;
    const bool wanted = std::any_of(accepted.begin(), accepted.end(),
                                    [](const accepted_format& f) { return !f.cap->rtcp_fb.empty(); });
    if (!wanted) return out;
    std::array<bool, 128> accepted_pt{};
    for (const auto& f : accepted) accepted_pt[f.offered.payload_type] = true;
    out.reserve(64);  // one allocation for a WebRTC line's feedback (it has a few dozen lines)
    for (const auto& a : m.attributes) {
      if (!a.is(attribute_kind::rtcp_fb)) continue;
      const bool any = a.value.starts_with("* ");
      const auto pt = any ? std::optional<unsigned>(any_format) : a.leading_payload_type();
      if (!pt || (!any && !accepted_pt[*pt])) continue;
      if (auto fb = parse_rtcp_fb(a.value)) out.push_back({*pt, *fb});
    }
    return out;
  }

  // RFC 4568 §7.1.1: one crypto line, the offered tag and suite with our key.
  void add_crypto_line(detail::line_writer& w, const media_view& m, stream_result& s) {
    const auto c = choose_crypto(m, caps_.sdes_suites);
    if (!c) return;
    const std::string& key = keys_.key(sdes_keys::answer_slot(s.index), c->suite);
    w.add("crypto", c->tag, ' ', c->suite, " inline:", key);
    s.srtp_suite = std::string(c->suite);
    s.local_srtp_key = key;
    s.remote_srtp_key = std::string(c->inline_key());
  }

  void write_data(detail::line_writer& w, const media_view& m, const detail::line_summary& line,
                  const media_capability& cap, const detail::transport_use& transport) const {
    start_media(w, m, line, cap.port ? cap.port : 9, transport, [&] { w.format("webrtc-datachannel"); });
    w.add("sctp-port", cap.sctp_port);
    const auto remote_max = line.max_message_size_number();
    w.add("max-message-size", remote_max && *remote_max ? std::min(*remote_max, cap.max_message_size)
                                                         : cap.max_message_size);
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
