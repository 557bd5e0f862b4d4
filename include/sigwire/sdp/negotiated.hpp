// sigwire/sdp/negotiated.hpp - what an offer/answer exchange agreed, per
// m-line: codecs with both sides' payload types, addresses and ports, the
// direction from our side, rtcp-mux, BUNDLE, ICE, DTLS and SDES parameters.
// This is what a media engine is configured from.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sigwire/core/ascii.hpp>
#include <sigwire/sdp/codec_match.hpp>
#include <sigwire/sdp/view.hpp>

namespace sigwire::sdp {

struct negotiated_codec {
  std::string name;
  std::uint32_t clock_rate = 0;
  std::uint32_t channels = 1;
  unsigned local_pt = 0;   // PT in our SDP: what we receive
  unsigned remote_pt = 0;  // PT in the peer's SDP: what we send with
  std::string local_fmtp, remote_fmtp;

  bool operator==(const negotiated_codec&) const = default;
};

struct stream_result {
  std::size_t index = 0;     // m-line index
  std::string type;          // audio / video / application
  std::string proto;
  std::string mid;
  bool active = false;       // both ports non-zero
  sdp::direction direction = sdp::direction::inactive;  // from our side: sendonly = we send
  std::vector<negotiated_codec> codecs;                 // in the answer's order, first = preferred
  std::string remote_address;
  std::uint16_t remote_port = 0;
  std::uint16_t remote_rtcp_port = 0;  // == remote_port when rtcp-mux
  bool rtcp_mux = false;
  bool bundled = false;                // in both sides' BUNDLE group
  std::string bundle_transport_mid;    // mid whose transport carries this stream
  std::string remote_ice_ufrag, remote_ice_pwd;
  std::string remote_fingerprint;      // "<hash> <value>"
  std::optional<setup_role> local_setup;
  std::uint16_t remote_sctp_port = 0;
  std::uint64_t remote_max_message_size = 0;
  std::string srtp_suite;        // SDES (RFC 4568) suite, empty when not SDES
  std::string local_srtp_key;    // inline key||salt (base64) we encrypt with
  std::string remote_srtp_key;   // inline key||salt (base64) the peer encrypts with

  bool operator==(const stream_result&) const = default;
};

// The direction an m-line states, else its session's, else sendrecv.
inline direction stated_direction(const session_view& s, const media_view& m) noexcept {
  if (auto d = m.direction()) return *d;
  if (auto d = s.direction()) return *d;
  return direction::sendrecv;
}

namespace detail {

// rtx formats of one side by the payload type their apt names (the last one
// when several name the same PT).
inline std::array<const format_desc*, 128> rtx_by_apt(const std::vector<format_desc>& formats) {
  std::array<const format_desc*, 128> table{};
  for (const auto& f : formats)
    if (rule_for(f.encoding).role == codec_role::retransmission)
      if (auto apt = rtx_apt(f)) table[*apt] = &f;
  return table;
}

}  // namespace detail

// Pairs (ours, theirs) of the same codec, in the answer's order: the outer
// loop walks the answer (`local_is_answer` says which side that is); each of
// its formats pairs with the other side's format of the same payload type
// when that one matches (RFC 3264 §6.1: an answer keeps the offer's PTs; it
// matters when an offer lists one codec twice), else with the first that
// matches. rtx formats pair when the codecs their apt names paired (RFC 4588
// §8.6).
inline std::vector<negotiated_codec> pair_codecs(const std::vector<format_desc>& local,
                                                 const std::vector<format_desc>& remote, bool local_is_answer) {
  std::vector<negotiated_codec> out;
  const auto& outer = local_is_answer ? local : remote;
  const auto& inner = local_is_answer ? remote : local;
  auto same = [](const format_desc& rf, const format_desc& lf) {
    if (!core::ascii::iequals(rf.encoding, lf.encoding)) return false;
    return (rf.payload_type < 96 && lf.payload_type == rf.payload_type) || formats_match(rf, lf);
  };
  for (const auto& of : outer) {
    if (rule_for(of.encoding).role == codec_role::retransmission) continue;  // paired below, through apt
    const format_desc* partner = nullptr;
    for (const auto& nf : inner) {
      const bool match = local_is_answer ? same(nf, of) : same(of, nf);
      if (!match) continue;
      if (!partner) partner = &nf;
      if (nf.payload_type == of.payload_type) {
        partner = &nf;
        break;
      }
    }
    if (!partner) continue;
    const auto& rf = local_is_answer ? *partner : of;
    const auto& lf = local_is_answer ? of : *partner;
    out.push_back({std::string(rf.encoding), rf.clock_rate, rf.channels, lf.payload_type, rf.payload_type,
                   std::string(lf.fmtp), std::string(rf.fmtp)});
  }
  const std::size_t paired = out.size();
  if (paired == 0) return out;
  const auto local_rtx = detail::rtx_by_apt(local), remote_rtx = detail::rtx_by_apt(remote);
  for (std::size_t i = 0; i < paired; ++i) {
    const format_desc* lr = local_rtx[out[i].local_pt];
    const format_desc* rr = remote_rtx[out[i].remote_pt];
    if (lr && rr)
      out.push_back({"rtx", rr->clock_rate, 1, lr->payload_type, rr->payload_type, std::string(lr->fmtp),
                     std::string(rr->fmtp)});
  }
  out.shrink_to_fit();  // kept for the call's life (negotiator::streams()): no spare capacity
  return out;
}

inline std::vector<negotiated_codec> common_codecs(const media_view& local, const media_view& remote,
                                                   bool local_is_answer) {
  return pair_codecs(describe_formats(local), describe_formats(remote), local_is_answer);
}

namespace detail {

// The single-valued attributes of one m-line that offer/answer reads, found
// in one pass over its attributes (a WebRTC video m-line has over a
// hundred: a search per name was a tenth of answering an offer). Each has
// the meaning of its media_view / session_view accessor: the first
// occurrence (rtcp: the first that parses); ICE, fingerprint, setup and the
// direction fall back to the session level (find_in(), stated_direction()).
struct line_summary {
  std::optional<std::string_view> mid, ice_ufrag, ice_pwd, fingerprint, setup, sctp_port, max_message_size;
  std::optional<rtcp_attr> rtcp;
  sdp::direction direction = sdp::direction::sendrecv;
  bool rtcp_mux = false, rtcp_rsize = false, ice_trickle = false;

  line_summary(const session_view& s, const media_view& m) {
    std::optional<sdp::direction> line_direction;
    for (const auto& a : m.attributes) take(a, line_direction);
    if (!ice_ufrag) ice_ufrag = s.find("ice-ufrag");
    if (!ice_pwd) ice_pwd = s.find("ice-pwd");
    if (!fingerprint) fingerprint = s.find("fingerprint");
    if (!setup) setup = s.find("setup");
    if (line_direction) direction = *line_direction;
    else if (auto d = s.direction()) direction = *d;
  }

  std::optional<std::uint16_t> sctp_port_number() const noexcept {
    return sctp_port ? detail::to_uint<std::uint16_t>(*sctp_port) : std::nullopt;
  }
  std::optional<std::uint64_t> max_message_size_number() const noexcept {
    return max_message_size ? detail::to_uint<std::uint64_t>(*max_message_size) : std::nullopt;
  }

 private:
  static void first(std::optional<std::string_view>& slot, std::string_view value) noexcept {
    if (!slot) slot = value;
  }
  void take(const attribute_view& a, std::optional<sdp::direction>& line_direction) {
    using k = attribute_kind;
    switch (a.resolved_kind()) {
      case k::mid: first(mid, a.value); break;
      case k::rtcp: if (!rtcp) rtcp = parse_rtcp(a.value); break;
      case k::setup: first(setup, a.value); break;
      case k::ice_pwd: first(ice_pwd, a.value); break;
      case k::ice_ufrag: first(ice_ufrag, a.value); break;
      case k::sctp_port: first(sctp_port, a.value); break;
      case k::fingerprint: first(fingerprint, a.value); break;
      case k::max_message_size: first(max_message_size, a.value); break;
      case k::rtcp_mux: rtcp_mux = true; break;
      case k::rtcp_rsize: rtcp_rsize = true; break;
      case k::sendrecv: case k::sendonly: case k::recvonly: case k::inactive:
        if (auto d = a.direction_flag()) line_direction = d;  // the last one counts
        break;
      case k::ice_options:
        ice_trickle = ice_trickle || detail::ice_options_contain(a.value, "trickle");
        break;
      default: break;
    }
  }
};

// RFC 3264 §8.4: c=0.0.0.0 is the old way to put a stream on hold -- unless
// ICE is in use, where JSEP answers carry 0.0.0.0 (RFC 8839 §4.2.2).
inline bool held_by_zero_address(const stream_result& s, const line_summary& remote) {
  return s.remote_address == "0.0.0.0" && !remote.ice_ufrag;
}

// The direction of an RTP stream from our side, given what each SDP states.
inline direction agreed_direction(direction ours, direction theirs, bool held) noexcept {
  return make_direction(sends(ours) && receives(theirs) && !held, receives(ours) && sends(theirs));
}

// The fields of `s` that come from the peer's m-line alone; s.rtcp_mux is set.
inline void take_remote_side(stream_result& s, const session_view& remote, const media_view& r,
                             const line_summary& rs) {
  const auto rc = remote.connection_for(r);
  s.remote_address = rc ? std::string(rc->address) : std::string{};
  s.remote_port = r.port;
  if (rs.rtcp) s.remote_rtcp_port = rs.rtcp->port;
  else s.remote_rtcp_port = s.rtcp_mux ? r.port : static_cast<std::uint16_t>(r.port + 1);
  s.remote_ice_ufrag = std::string(rs.ice_ufrag.value_or(""));
  s.remote_ice_pwd = std::string(rs.ice_pwd.value_or(""));
  s.remote_fingerprint = std::string(rs.fingerprint.value_or(""));
  if (auto p = rs.sctp_port_number()) s.remote_sctp_port = *p;
  if (auto mm = rs.max_message_size_number()) s.remote_max_message_size = *mm;
}

}  // namespace detail

// The streams of a completed exchange, read from both SDPs (used when we
// offered; the answer builder states them directly when we answer, and a
// test checks that both ways agree).
inline std::vector<stream_result> compute_streams(const session_view& local, const session_view& remote,
                                                  bool we_offered) {
  std::vector<stream_result> out;
  const auto lb = local.bundle_group(), rb = remote.bundle_group();
  const auto& answer_bundle = we_offered ? rb : lb;
  for (std::size_t i = 0; i < local.media.size() && i < remote.media.size(); ++i) {
    const auto& l = local.media[i];
    const auto& r = remote.media[i];
    const detail::line_summary ls(local, l), rs(remote, r);
    stream_result s;
    s.index = i;
    s.type = std::string(l.type);
    s.proto = std::string(r.proto);
    s.mid = std::string(ls.mid.value_or(rs.mid.value_or("")));
    s.active = l.port != 0 && r.port != 0;
    if (!s.active) {
      out.push_back(std::move(s));
      continue;
    }
    if (l.is_rtp()) s.codecs = common_codecs(l, r, !we_offered);
    s.rtcp_mux = ls.rtcp_mux && rs.rtcp_mux;
    detail::take_remote_side(s, remote, r, rs);
    s.direction = l.is_rtp() ? detail::agreed_direction(ls.direction, rs.direction, detail::held_by_zero_address(s, rs))
                             : direction::sendrecv;
    if (!s.mid.empty() && lb && rb && lb->contains(s.mid) && rb->contains(s.mid)) {
      s.bundled = true;
      if (answer_bundle && !answer_bundle->tags.empty()) s.bundle_transport_mid = std::string(answer_bundle->tags.front());
    }
    if (ls.setup) s.local_setup = parse_setup(*ls.setup);
    // SDES: the answer holds one crypto line; its tag names the offer's line.
    const auto& answer_m = we_offered ? r : l;
    const auto& offer_m = we_offered ? l : r;
    if (auto ac = answer_m.cryptos(); !ac.empty())
      for (const auto& oc : offer_m.cryptos())
        if (oc.tag == ac[0].tag && oc.suite == ac[0].suite) {
          s.srtp_suite = std::string(oc.suite);
          s.local_srtp_key = std::string((we_offered ? oc : ac[0]).inline_key());
          s.remote_srtp_key = std::string((we_offered ? ac[0] : oc).inline_key());
        }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sigwire::sdp
