// sigwire/sdp/negotiator.hpp - RFC 3264 offer/answer, the way PJSIP's
// pjmedia_sdp_neg does it, as a sans-IO C++ object.
//
// States and transitions (pjmedia_sdp_neg's, same names):
//
//                                          modify_local_offer()
//      create_with_local_offer() +-------------+  send_local_offer()
//      create_offer()            |             |<------------------------+
//     +------------------------->| LOCAL_OFFER |                         |
//     |                          |             |--- cancel_offer() ---+  |
//     |                          +-------------+                      |  |
//     |                                 |                             |  |
//     |            set_remote_answer()  |                             v  |
//  +------+                      +-------------+   negotiate()      +------+
//  | NULL |                      |  WAIT_NEGO  |------------------->| DONE |
//  +------+                      +-------------+   (ok or failed)   +------+
//     |                                 ^                             |
//     |                create_answer()  |                             |
//     |                          +--------------+                     |
//     +------------------------->| REMOTE_OFFER |<--------------------+
//      create_with_remote_offer()+--------------+  set_remote_offer()
//
// cancel_offer() returns to DONE, or to NULL when nothing was ever
// negotiated. negotiate() that fails (the answer breaks RFC 3264) returns the
// error and goes back to DONE keeping the previous active descriptions (or to
// NULL when there were none). Any other call out of this order returns
// sdp::error::invalid_state and changes nothing.
//
// The local side is described by sdp::capabilities (codecs per media type,
// ICE credentials and candidates, DTLS fingerprint). Answers are built from
// it per RFC 3264 §6; WebRTC offers get mid, BUNDLE, rtcp-mux, ICE and DTLS
// (RFC 8829 JSEP §5.3 shape) so that browsers accept them.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sigwire/core/base64.hpp>
#include <sigwire/core/random.hpp>
#include <sigwire/sdp/codec_match.hpp>
#include <sigwire/sdp/error.hpp>
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/view.hpp>

namespace sigwire::sdp {

// --- local capabilities -------------------------------------------------------

struct codec_capability {
  std::string name;                  // "opus", "PCMU", "H264", "telephone-event", "rtx" ...
  std::uint32_t clock_rate = 8000;
  std::uint32_t channels = 1;
  int payload_type = -1;             // static PT, or preferred dynamic PT in our offers (-1: any)
  std::string fmtp{};                // parameters we receive with ("minptime=10;useinbandfec=1")
  std::vector<std::string> rtcp_fb{};  // "nack", "nack pli", "ccm fir", "transport-cc" ...
};

struct media_capability {
  std::string type = "audio";        // m= media: audio, video, application
  std::vector<codec_capability> codecs;
  sdp::direction direction = sdp::direction::sendrecv;
  std::uint16_t port = 9;            // RTP port (9 = discard, ICE in use: RFC 8839 §4.2.2)
  bool data_channel = false;         // SCTP over DTLS (RFC 8841), type "application"
  std::uint16_t sctp_port = 5000;
  std::uint64_t max_message_size = 262144;
  std::vector<std::string> extmaps;  // RTP header extension URIs we support (RFC 8285)
  std::string msid;                  // "stream-id track-id" for a=msid when we send (RFC 8830)
};

struct ice_parameters {
  std::string ufrag;                    // RFC 8839 §5.4: 4..256 ice-chars
  std::string pwd;                      // 22..256 ice-chars
  std::vector<std::string> candidates;  // a=candidate values, same for every m-line
  bool trickle = true;                  // a=ice-options:trickle (RFC 8840)
  bool end_of_candidates = false;       // gathering done: a=end-of-candidates
};

struct dtls_parameters {
  std::string hash_function = "sha-256";
  std::string fingerprint;                      // "AB:CD:..." of our certificate
  setup_role answer_role = setup_role::active;  // our answer to "actpass" (RFC 5763 §5)
};

struct capabilities {
  std::string username = "-";
  std::string address = "0.0.0.0";  // c= and o= address
  std::string session_name = "-";
  std::vector<media_capability> media;
  bool rtcp_mux = true;             // accept / offer a=rtcp-mux (RFC 5761)
  bool bundle = true;               // accept / offer BUNDLE (RFC 9143)
  bool prefer_local_order = false;  // answer codec order: offerer's (default) or ours
  std::optional<ice_parameters> ice;
  std::optional<dtls_parameters> dtls;  // enables UDP/TLS/RTP/SAVPF and UDP/DTLS/SCTP
  // SDES-SRTP (RFC 4568): accept RTP/SAVP(F) offers carrying a=crypto with
  // one of these suites (and, without dtls, offer RTP/SAVP). Keys are random,
  // one per m-line, kept across re-negotiations while the suite is unchanged.
  std::vector<std::string> sdes_suites;  // e.g. {"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"}
};

// --- negotiated result ------------------------------------------------------------

struct negotiated_codec {
  std::string name;
  std::uint32_t clock_rate = 0;
  std::uint32_t channels = 1;
  unsigned local_pt = 0;   // PT in our SDP: what we receive
  unsigned remote_pt = 0;  // PT in the peer's SDP: what we send with
  std::string local_fmtp, remote_fmtp;
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
};

// key||salt length of the SRTP suites of RFC 4568 §6.2, RFC 6188, RFC 7714.
constexpr std::size_t srtp_key_salt_size(std::string_view suite) noexcept {
  if (suite == "AES_CM_128_HMAC_SHA1_80" || suite == "AES_CM_128_HMAC_SHA1_32") return 30;
  if (suite == "AES_256_CM_HMAC_SHA1_80" || suite == "AES_256_CM_HMAC_SHA1_32") return 46;
  if (suite == "AEAD_AES_128_GCM") return 28;
  if (suite == "AEAD_AES_256_GCM") return 44;
  return 0;
}

// --- helpers ---------------------------------------------------------------------

// The payload type an a=rtpmap or a=fmtp value starts with, if any.
inline std::optional<unsigned> leading_payload_type(std::string_view value) noexcept {
  return detail::to_uint<unsigned>(value.substr(0, value.find(' ')), 127);
}

// Formats of an m-line with their rtpmap (or the static table) and fmtp.
// One pass indexes the rtpmap and fmtp lines by payload type (a WebRTC video
// m-line has some 40 formats and 150 attributes: a search per format was
// quadratic); a line the index cannot use falls back to the search, so the
// result is rtpmap_for()'s and fmtp_for()'s exactly.
inline std::vector<format_desc> describe_formats(const media_view& m) {
  std::array<std::uint16_t, 128> rtpmap_at{}, fmtp_at{};  // 1 + attribute index; 0: none
  for (std::size_t i = 0; i < m.attributes.size() && i < 0xffff; ++i) {
    const attribute_view& a = m.attributes[i];
    const bool is_rtpmap = a.name == "rtpmap";
    if (!is_rtpmap && a.name != "fmtp") continue;
    auto& table = is_rtpmap ? rtpmap_at : fmtp_at;
    if (auto pt = leading_payload_type(a.value); pt && !table[*pt]) table[*pt] = static_cast<std::uint16_t>(i + 1);
  }
  std::vector<format_desc> out;
  out.reserve(m.formats.size());
  for (auto f : m.formats) {
    auto pt = detail::to_uint<unsigned>(f, 127);
    if (!pt) continue;
    std::optional<rtpmap> r;
    if (rtpmap_at[*pt]) r = parse_rtpmap(m.attributes[rtpmap_at[*pt] - 1].value);
    if (rtpmap_at[*pt] && !r) r = m.rtpmap_for(*pt);  // the first one is malformed: a later one may serve
    format_desc d;
    if (r) {
      d = {*pt, r->encoding, r->clock_rate, r->channels(), {}};
    } else if (auto st = static_format(*pt)) {
      d = *st;
    } else {
      continue;  // dynamic PT without rtpmap: unusable (RFC 8866 §6.6)
    }
    std::optional<fmtp> p;
    if (fmtp_at[*pt]) p = parse_fmtp(m.attributes[fmtp_at[*pt] - 1].value);
    if (fmtp_at[*pt] && (!p || p->format != f)) p = m.fmtp_for(f);  // "096" or malformed: search as before
    if (p) d.fmtp = p->params;
    out.push_back(d);
  }
  return out;
}

// Sets port 0 (RFC 3264 §8.2 removal / §6 rejection).
inline void disable(media& m) { m.port = 0; }

// Where a negotiator's random bytes come from: the o= session id (RFC 8866
// §5.2: unique, need not be secret) and SDES master keys and salts (RFC 4568
// §6.1: secret, so the source must be cryptographically secure whenever
// sdes_suites is set). Empty: SDES keys from OpenSSL's RAND_bytes
// (core::random_bytes), session ids from core::unique_u64() (seeded from
// RAND_bytes once per thread; a RAND_bytes call per negotiator was a fifth
// of answering a G.711 offer).
// Tests pin it to get the same SDP every run.
using random_source = std::function<void(std::span<std::byte> out)>;

class negotiator {
 public:
  enum class state { null, local_offer, remote_offer, wait_nego, done };

  explicit negotiator(capabilities caps, parse_options opts = {}, random_source random = {})
      : negotiator(std::make_shared<const capabilities>(std::move(caps)), opts, std::move(random)) {}
  // Capabilities shared by many negotiators (one per call): never copied,
  // and never changed while a negotiator holds them. `caps` must not be null.
  explicit negotiator(std::shared_ptr<const capabilities> caps, parse_options opts = {}, random_source random = {})
      : caps_(std::move(caps)),
        opts_(opts),
        random_(std::move(random)),
        session_id_(new_session_id()) {}

  state current_state() const noexcept { return state_; }
  const capabilities& local_capabilities() const noexcept { return *caps_; }

  // --- NULL -> LOCAL_OFFER ----------------------------------------------------------
  std::error_code create_offer() {
    if (state_ != state::null) return error::invalid_state;
    auto offer = build_offer();
    if (offer.media.empty()) return error::no_media;
    return create_with_local_offer(std::move(offer));
  }
  std::error_code create_with_local_offer(session offer) {
    if (state_ != state::null) return error::invalid_state;
    set_pending_local(std::move(offer));
    remote_is_offer_ = false;
    state_ = state::local_offer;
    return {};
  }

  // --- DONE -> LOCAL_OFFER (re-INVITE / UPDATE) ------------------------------------
  // `offer` is usually a copy of active_local() with edits: a changed
  // direction (hold), streams added, removed (port 0) or slots reused (§8).
  std::error_code modify_local_offer(session offer) {
    if (state_ != state::done) return error::invalid_state;
    // RFC 3264 §8: m-lines are never removed from a re-offer, only disabled.
    if (offer.media.size() < active_local_->session.media.size()) return error::media_count_mismatch;
    set_pending_local(std::move(offer));
    remote_is_offer_ = false;
    state_ = state::local_offer;
    return {};
  }
  // Re-offers the active local description unchanged (same o= version).
  std::error_code send_local_offer() {
    if (state_ != state::done) return error::invalid_state;
    set_pending_local(active_local_->session);
    remote_is_offer_ = false;
    state_ = state::local_offer;
    return {};
  }

  // --- LOCAL_OFFER -> WAIT_NEGO / DONE ------------------------------------------------
  std::error_code set_remote_answer(std::string_view answer) {
    if (state_ != state::local_offer) return error::invalid_state;
    auto parsed = parsed_sdp::make(answer, opts_);
    if (!parsed->view) return parsed->view.error();
    pending_remote_ = std::move(parsed);
    state_ = state::wait_nego;
    return {};
  }
  std::error_code cancel_offer() {
    if (state_ != state::local_offer) return error::invalid_state;
    pending_local_.reset();
    state_ = active_local_ ? state::done : state::null;
    if (active_local_) version_ = active_version_;
    return {};
  }

  // --- NULL / DONE -> REMOTE_OFFER -> WAIT_NEGO ---------------------------------------
  std::error_code create_with_remote_offer(std::string_view offer) {
    if (state_ != state::null) return error::invalid_state;
    return take_remote_offer(offer);
  }
  std::error_code set_remote_offer(std::string_view offer) {
    if (state_ != state::done) return error::invalid_state;
    return take_remote_offer(offer);
  }
  std::error_code create_answer() {
    if (state_ != state::remote_offer) return error::invalid_state;
    set_pending_local(build_answer(pending_remote_->view));
    state_ = state::wait_nego;
    return {};
  }

  // --- WAIT_NEGO -> DONE -----------------------------------------------------------------
  std::error_code negotiate() {
    if (state_ != state::wait_nego) return error::invalid_state;
    const bool we_offered = !remote_is_offer_;
    std::error_code ec;
    // Our description is parsed only here, for the comparison with the
    // peer's: a negotiator keeps its own SDP as text and session, not views.
    // Built by session::to_string(): its attribute syntax needs no checking,
    // and the limits set for the peer's input are not for it.
    parse_options own{};
    own.check_attributes = false;
    const session_view local_view = parse(pending_local_->text, own);
    if (we_offered) ec = check_answer(local_view, pending_remote_->view);
    if (ec) {
      pending_local_.reset();
      pending_remote_.reset();
      if (active_local_) version_ = active_version_;
      state_ = active_local_ ? state::done : state::null;
      return ec;
    }
    active_local_ = std::move(pending_local_);
    active_remote_ = std::move(pending_remote_);
    active_version_ = version_;
    if (we_offered) remember_offered_directions(local_view);
    streams_ = compute_streams(local_view, active_remote_->view, we_offered);
    state_ = state::done;
    return {};
  }

  // --- results -------------------------------------------------------------------------
  // The local SDP to send now (pending offer/answer), else the active one.
  const session* local() const noexcept {
    if (pending_local_) return &pending_local_->session;
    return active_local_ ? &active_local_->session : nullptr;
  }
  std::string local_sdp() const {
    if (pending_local_) return pending_local_->text;
    return active_local_ ? active_local_->text : std::string{};
  }
  const session* active_local() const noexcept { return active_local_ ? &active_local_->session : nullptr; }
  const session_view* active_remote() const noexcept { return active_remote_ ? &active_remote_->view : nullptr; }
  const std::vector<stream_result>& streams() const noexcept { return streams_; }
  bool was_offerer() const noexcept { return !remote_is_offer_; }

  // An m-line for capability `cap` (for adding a stream in a re-offer).
  // Not const: an SDES m-line gets a new key.
  media build_media(const media_capability& cap, std::string_view mid) {
    media m = cap.data_channel ? data_media(cap) : rtp_media(cap);
    if (!mid.empty()) m.attributes.insert(m.attributes.begin(), {"mid", std::string(mid), true});
    if (!cap.data_channel) add_rtp_tail(m, cap, cap.direction);
    if (!cap.data_channel && m.proto == "RTP/SAVP") {
      unsigned tag = 0;
      for (const auto& suite : caps_->sdes_suites) {
        if (!srtp_key_salt_size(suite)) continue;
        ++tag;
        const std::string key = srtp_key(offer_key_slot(mid, tag), suite);
        m.add("crypto", std::to_string(tag) + ' ' + suite + " inline:" + key);
      }
    }
    add_transport(m, setup_role::actpass, caps_->ice.has_value(), caps_->dtls.has_value());
    return m;
  }

 private:
  // The peer's SDP kept as text plus its views (a shared buffer, so moving
  // or copying the negotiator never invalidates the views).
  struct parsed_sdp {
    std::string text;
    session_view view;
    static std::shared_ptr<const parsed_sdp> make(std::string_view t, const parse_options& opts) {
      auto p = std::make_shared<parsed_sdp>();
      p->text.assign(t);
      p->view = parse(p->text, opts);
      return p;
    }
  };
  // Ours, as built and as sent; negotiate() parses the text when it needs
  // views (keeping them would double what a call holds; the 2 KB view of a
  // 200-byte SDP is most of it).
  struct own_sdp {
    sdp::session session;
    std::string text;
    static std::shared_ptr<const own_sdp> make(sdp::session s) {
      auto p = std::make_shared<own_sdp>();
      p->session = std::move(s);
      p->text = p->session.to_string();
      return p;
    }
  };

  std::error_code take_remote_offer(std::string_view offer) {
    auto parsed = parsed_sdp::make(offer, opts_);
    if (!parsed->view) return parsed->view.error();
    if (parsed->view.media.empty()) return error::no_media;
    pending_remote_ = std::move(parsed);
    remote_is_offer_ = true;
    state_ = state::remote_offer;
    return {};
  }

  // o= handling (RFC 3264 §8): same session id forever; the version goes up
  // by one only when the description differs from the active one.
  void set_pending_local(session s) {
    s.origin.session_id = session_id_;
    s.origin.username = caps_->username.empty() ? "-" : caps_->username;
    if (s.origin.address == "0.0.0.0" || s.origin.address.empty()) {
      s.origin.address = caps_->address;
      s.origin.addrtype = addrtype_of(caps_->address);
    }
    if (active_local_) {
      const bool changed = body(s) != body(active_local_->session);
      version_ = changed ? active_version_ + 1 : active_version_;
    } else {
      version_ = 1;
    }
    s.origin.session_version = std::to_string(version_);
    pending_local_ = own_sdp::make(std::move(s));
  }
  static std::string body(session s) {
    s.origin.session_version = "0";
    return s.to_string();
  }

  // --- building -------------------------------------------------------------------------
  session base_session() const {
    session s;
    s.name = caps_->session_name;
    s.origin.address = caps_->address;
    s.origin.addrtype = addrtype_of(caps_->address);
    return s;
  }
  bool webrtc() const noexcept { return caps_->dtls && caps_->ice; }

  session build_offer() {
    session s = base_session();
    std::string bundle = "BUNDLE";
    std::size_t index = 0;
    for (const auto& cap : caps_->media) {
      const std::string mid = std::to_string(index++);
      s.media.push_back(build_media(cap, webrtc() ? mid : std::string_view{}));
      bundle += ' ' + mid;
    }
    add_session_attributes(s, webrtc() && caps_->bundle ? bundle : std::string{}, false);
    return s;
  }

  void add_session_attributes(session& s, const std::string& bundle, bool mixed) const {
    if (!bundle.empty()) s.add("group", bundle);
    if (caps_->ice && caps_->ice->trickle) s.add("ice-options", "trickle");
    if (mixed) s.add_flag("extmap-allow-mixed");
  }

  media rtp_media(const media_capability& cap) const {
    media m;
    m.type = cap.type;
    m.port = cap.port;
    m.proto = caps_->dtls ? "UDP/TLS/RTP/SAVPF" : caps_->sdes_suites.empty() ? "RTP/AVP" : "RTP/SAVP";
    m.connections.push_back({"IN", addrtype_of(caps_->address), caps_->address});
    std::vector<bool> used(128, false);
    for (const auto& c : cap.codecs)
      if (c.payload_type >= 0 && c.payload_type < 128) used[static_cast<std::size_t>(c.payload_type)] = true;
    unsigned next = 96;
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
    for (const auto& [pt, c] : pts) {
      if (core::ascii::iequals(c->name, "rtx")) continue;
      m.formats.push_back(std::to_string(pt));
      add_codec_lines(m, pt, *c, c->fmtp);
    }
    // rtx follows each video codec (RFC 4588 §8.6: apt = the associated PT).
    auto rtx = std::find_if(cap.codecs.begin(), cap.codecs.end(),
                            [](const codec_capability& c) { return core::ascii::iequals(c.name, "rtx"); });
    if (rtx == cap.codecs.end()) return m;
    for (const auto& [pt, c] : pts) {
      if (core::ascii::iequals(c->name, "rtx") || c->clock_rate != rtx->clock_rate) continue;
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
    m.connections.push_back({"IN", addrtype_of(caps_->address), caps_->address});
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
    if (caps_->rtcp_mux) head.push_back({"rtcp-mux", {}, false});
    m.attributes.insert(at, head.begin(), head.end());
  }

  // One id per URI across the whole offer: BUNDLEd m-lines share one RTP
  // session, so an id must mean the same extension everywhere (RFC 9143 §9.2).
  unsigned extmap_id(std::string_view uri) const {
    std::vector<std::string_view> seen;
    for (const auto& cap : caps_->media)
      for (const auto& u : cap.extmaps)
        if (std::find(seen.begin(), seen.end(), u) == seen.end()) {
          if (u == uri) return static_cast<unsigned>(seen.size() + 1);
          seen.push_back(u);
        }
    return static_cast<unsigned>(seen.size() + 1);
  }

  void add_transport(media& m, setup_role role, bool ice, bool dtls) const {
    ice = ice && caps_->ice;
    dtls = dtls && caps_->dtls;
    std::vector<attribute> head;
    if (ice) {
      head.push_back({"ice-ufrag", caps_->ice->ufrag, true});
      head.push_back({"ice-pwd", caps_->ice->pwd, true});
    }
    if (dtls) {
      head.push_back({"fingerprint", caps_->dtls->hash_function + ' ' + caps_->dtls->fingerprint, true});
      head.push_back({"setup", std::string(to_string(role)), true});
    }
    auto mid = std::find_if(m.attributes.begin(), m.attributes.end(),
                            [](const attribute& a) { return a.name == "mid"; });
    m.attributes.insert(mid == m.attributes.end() ? m.attributes.begin() : mid, head.begin(), head.end());
    if (ice) {
      for (const auto& c : caps_->ice->candidates) m.add("candidate", c);
      if (caps_->ice->end_of_candidates) m.add_flag("end-of-candidates");
    }
  }

  // --- answering (RFC 3264 §6) -------------------------------------------------------
  static bool is_plain_rtp(std::string_view proto) noexcept { return proto == "RTP/AVP" || proto == "RTP/AVPF"; }
  static bool is_dtls_rtp(std::string_view proto) noexcept {
    return proto == "UDP/TLS/RTP/SAVPF" || proto == "UDP/TLS/RTP/SAVP" || proto == "TCP/TLS/RTP/SAVPF" ||
           proto == "TCP/DTLS/RTP/SAVPF";
  }
  static bool is_sdes_rtp(std::string_view proto) noexcept { return proto == "RTP/SAVP" || proto == "RTP/SAVPF"; }

  // RFC 4568 §7.1.1: the answerer picks one offered crypto line it supports.
  std::optional<sdp::crypto> chosen_crypto(const media_view& m) const {
    for (const auto& c : m.cryptos())
      if (srtp_key_salt_size(c.suite) && !c.inline_key().empty() &&
          std::find(caps_->sdes_suites.begin(), caps_->sdes_suites.end(), c.suite) != caps_->sdes_suites.end())
        return c;
    return std::nullopt;
  }

  std::string srtp_key(std::size_t index, std::string_view suite) {
    auto& slot = sdes_keys_[index];
    if (slot.first != suite) {
      std::vector<std::byte> key(srtp_key_salt_size(suite));
      if (random_) random_(key);
      else core::random_bytes(key);
      slot = {std::string(suite), core::base64::encode(key)};
    }
    return slot.second;
  }

  static bool is_dtls_sctp(std::string_view proto) noexcept {
    return proto == "UDP/DTLS/SCTP" || proto == "TCP/DTLS/SCTP" || proto == "DTLS/SCTP";
  }

  const media_capability* capability_for(const session_view& offer, const media_view& m) const {
    const bool has_fp = offer.find_in(m, "fingerprint").has_value();
    for (const auto& cap : caps_->media) {
      if (cap.type != m.type) continue;
      if (cap.data_channel) {
        if (is_dtls_sctp(m.proto) && caps_->dtls && has_fp && m.formats.size() == 1 &&
            m.formats[0] == "webrtc-datachannel")
          return &cap;
        continue;
      }
      if (is_plain_rtp(m.proto) || (is_dtls_rtp(m.proto) && caps_->dtls && has_fp)) return &cap;
      if (is_sdes_rtp(m.proto) && chosen_crypto(m)) return &cap;
    }
    return nullptr;
  }

  media rejected(const media_view& m) const {
    media r;
    r.type = std::string(m.type);
    r.port = 0;
    r.proto = std::string(m.proto);
    r.formats.assign(m.formats.begin(), m.formats.end());
    if (r.formats.empty()) r.formats.push_back("0");
    r.connections.push_back({"IN", addrtype_of(caps_->address), caps_->address});
    if (auto mid = m.mid()) r.add("mid", std::string(*mid));
    return r;
  }

  struct accepted_format {
    format_desc offered;
    const codec_capability* cap;
  };

  std::vector<accepted_format> match_codecs(const media_view& m, const media_capability& cap) const {
    std::vector<accepted_format> out;
    const auto offered = describe_formats(m);
    auto take = [&](const format_desc& o, const codec_capability& c) {
      for (const auto& a : out)
        if (a.offered.payload_type == o.payload_type) return;
      out.push_back({o, &c});
    };
    auto matches = [](const format_desc& o, const codec_capability& c) {
      if (core::ascii::iequals(c.name, "rtx")) return false;
      return formats_match(o, format_desc{0, c.name, c.clock_rate, c.channels, c.fmtp});
    };
    if (caps_->prefer_local_order) {
      for (const auto& c : cap.codecs)
        for (const auto& o : offered)
          if (matches(o, c)) take(o, c);
    } else {
      for (const auto& o : offered)
        for (const auto& c : cap.codecs)
          if (matches(o, c)) {
            take(o, c);
            break;
          }
    }
    // Only comfort noise / DTMF / FEC in common is not a usable stream.
    const bool media_codec = std::any_of(out.begin(), out.end(), [](const accepted_format& a) {
      return !core::ascii::iequals(a.offered.encoding, "telephone-event") &&
             !core::ascii::iequals(a.offered.encoding, "CN") && !core::ascii::iequals(a.offered.encoding, "red") &&
             !core::ascii::iequals(a.offered.encoding, "ulpfec");
    });
    if (!media_codec) return {};
    // RFC 4588: accept rtx whose apt is an accepted PT, when we do rtx.
    const auto rtx_cap = std::find_if(cap.codecs.begin(), cap.codecs.end(),
                                      [](const codec_capability& c) { return core::ascii::iequals(c.name, "rtx"); });
    if (rtx_cap != cap.codecs.end()) {
      for (const auto& o : offered) {
        if (!core::ascii::iequals(o.encoding, "rtx") || o.clock_rate != rtx_cap->clock_rate) continue;
        auto apt = detail::fmtp_param(o.fmtp, "apt");
        auto apt_pt = apt ? detail::to_uint<unsigned>(*apt, 127) : std::nullopt;
        if (!apt_pt) continue;
        for (const auto& a : out)
          if (a.offered.payload_type == *apt_pt && !core::ascii::iequals(a.offered.encoding, "rtx")) {
            out.push_back({o, &*rtx_cap});
            break;
          }
      }
    }
    return out;
  }

  // fmtp of our answer for one accepted format: the stream-describing
  // parameters echo the offer (H.264 profile, VP9 profile, rtx apt), DTMF
  // events are intersected (RFC 4733 §7.1.1), others say what we receive.
  static std::string answer_fmtp(const accepted_format& a) {
    const auto& n = a.offered.encoding;
    if (core::ascii::iequals(n, "H264") || core::ascii::iequals(n, "VP9") || core::ascii::iequals(n, "rtx"))
      return std::string(a.offered.fmtp);
    if (core::ascii::iequals(n, "telephone-event"))
      return detail::format_events(detail::dtmf_events(a.offered.fmtp) & detail::dtmf_events(a.cap->fmtp));
    return a.cap->fmtp;
  }

  // RFC 3264 §8.4: a stream we put on hold (our last accepted offer said
  // sendonly or inactive) stays held when the peer re-offers: their hold of
  // a stream we hold makes it inactive, not recvonly. A new offer of ours
  // (resume) lifts it; streams we never offered are not limited.
  void remember_offered_directions(const session_view& ours) {
    offered_directions_.clear();
    for (const auto& m : ours.media) offered_directions_.push_back(offered_direction(ours, m));
  }
  direction offered_by_us(std::size_t index) const noexcept {
    return index < offered_directions_.size() ? offered_directions_[index] : direction::sendrecv;
  }
  static direction narrower(direction a, direction b) noexcept {
    return make_direction(sends(a) && sends(b), receives(a) && receives(b));
  }

  static direction offered_direction(const session_view& offer, const media_view& m) noexcept {
    if (auto d = m.direction()) return *d;
    if (auto d = offer.direction()) return *d;
    return direction::sendrecv;
  }

  // Key slots for our offers sit after the answer slots (one per suite).
  static std::size_t offer_key_slot(std::string_view mid, unsigned tag) {
    auto n = detail::to_uint<std::size_t>(mid);
    return 1024 + (n ? *n : 0) * 8 + tag;
  }

  media answer_rtp(const session_view& offer, const media_view& m, const media_capability& cap,
                   const std::vector<accepted_format>& accepted, std::size_t index) {
    media a;
    a.type = std::string(m.type);
    a.port = cap.port ? cap.port : 9;
    a.proto = std::string(m.proto);
    a.connections.push_back({"IN", addrtype_of(caps_->address), caps_->address});
    if (auto mid = m.mid()) a.add("mid", std::string(*mid));
    // RFC 3264 §6.1: sendonly -> recvonly, recvonly -> sendonly, inactive ->
    // inactive, each limited by what we can do.
    const direction od = offered_direction(offer, m);
    const direction can = narrower(cap.direction, offered_by_us(index));
    const direction d = make_direction(receives(od) && sends(can), sends(od) && receives(can));
    const auto offered_ext = m.extmaps();
    for (const auto& e : offered_ext)
      if (std::find(cap.extmaps.begin(), cap.extmaps.end(), e.uri) != cap.extmaps.end())
        a.add("extmap", std::to_string(e.id) + ' ' + std::string(e.uri));
    a.add_flag(std::string(to_string(d)));
    if (sends(d) && !cap.msid.empty()) a.add("msid", cap.msid);
    if (caps_->rtcp_mux && m.rtcp_mux()) a.add_flag("rtcp-mux");
    if (is_sdes_rtp(m.proto))
      if (auto c = chosen_crypto(m))
        a.add("crypto", std::to_string(c->tag) + ' ' + std::string(c->suite) + " inline:" + srtp_key(index, c->suite));
    if (m.rtcp_rsize() && caps_->rtcp_mux) a.add_flag("rtcp-rsize");
    const auto offered_fb = m.rtcp_fbs();
    for (const auto& f : accepted) {
      const unsigned pt = f.offered.payload_type;  // keep the offerer's PT (§6.1)
      a.formats.push_back(std::to_string(pt));
      std::string map = std::to_string(pt) + ' ' + std::string(f.offered.encoding) + '/' +
                        std::to_string(f.offered.clock_rate);
      if (f.offered.channels > 1) map += '/' + std::to_string(f.offered.channels);
      a.add("rtpmap", std::move(map));
      for (const auto& fb : offered_fb) {
        if (fb.format != "*" && fb.format != std::to_string(pt)) continue;
        std::string spec = std::string(fb.type) + (fb.param.empty() ? "" : " " + std::string(fb.param));
        if (std::find(f.cap->rtcp_fb.begin(), f.cap->rtcp_fb.end(), spec) != f.cap->rtcp_fb.end())
          a.add("rtcp-fb", std::to_string(pt) + ' ' + spec);
      }
      const std::string fm = answer_fmtp(f);
      if (!fm.empty()) a.add("fmtp", std::to_string(pt) + ' ' + fm);
    }
    return a;
  }

  media answer_data(const media_view& m, const media_capability& cap) const {
    media a;
    a.type = std::string(m.type);
    a.port = cap.port ? cap.port : 9;
    a.proto = std::string(m.proto);
    a.formats = {"webrtc-datachannel"};
    a.connections.push_back({"IN", addrtype_of(caps_->address), caps_->address});
    if (auto mid = m.mid()) a.add("mid", std::string(*mid));
    a.add("sctp-port", std::to_string(cap.sctp_port));
    const auto remote_max = m.max_message_size();
    a.add("max-message-size", std::to_string(remote_max && *remote_max ? std::min(*remote_max, cap.max_message_size)
                                                                         : cap.max_message_size));
    return a;
  }

  // RFC 5763 §5 / RFC 4145 §4.1: answer actpass with our preferred role,
  // active with passive, passive with active.
  setup_role answer_setup(const session_view& offer, const media_view& m) const {
    auto v = offer.find_in(m, "setup");
    auto r = v ? parse_setup(*v) : std::optional<setup_role>{};
    switch (r.value_or(setup_role::actpass)) {
      case setup_role::active: return setup_role::passive;
      case setup_role::passive: return setup_role::active;
      case setup_role::holdconn: return setup_role::holdconn;
      case setup_role::actpass: break;
    }
    return caps_->dtls ? caps_->dtls->answer_role : setup_role::active;
  }

  session build_answer(const session_view& offer) {
    session s = base_session();
    const auto offered_bundle = offer.bundle_group();
    std::string bundle = "BUNDLE";
    bool any_bundled = false;
    for (std::size_t index = 0; index < offer.media.size(); ++index) {
      const auto& m = offer.media[index];
      const media_capability* cap = m.port == 0 ? nullptr : capability_for(offer, m);
      std::vector<accepted_format> accepted;
      if (cap && !cap->data_channel) accepted = match_codecs(m, *cap);
      if (!cap || (!cap->data_channel && accepted.empty())) {
        s.media.push_back(rejected(m));
        continue;
      }
      media a = cap->data_channel ? answer_data(m, *cap) : answer_rtp(offer, m, *cap, accepted, index);
      add_transport(a, answer_setup(offer, m), offer.find_in(m, "ice-ufrag").has_value(),
                    is_dtls_rtp(m.proto) || is_dtls_sctp(m.proto));
      // RFC 9143 §7.3: the answer's BUNDLE group holds the accepted offered tags.
      if (auto mid = m.mid(); mid && offered_bundle && caps_->bundle && offered_bundle->contains(*mid)) {
        bundle += ' ' + std::string(*mid);
        any_bundled = true;
      }
      s.media.push_back(std::move(a));
    }
    add_session_attributes(s, any_bundled ? bundle : std::string{}, offer.extmap_allow_mixed());
    bool trickle = offer.ice_trickle();
    for (const auto& m : offer.media) trickle = trickle || m.ice_trickle();
    if (!trickle) s.remove("ice-options");
    return s;
  }

  // --- checking an answer to our offer (RFC 3264 §6, §7) --------------------------------
  static std::error_code check_answer(const session_view& offer, const session_view& answer) {
    if (offer.media.size() != answer.media.size()) return error::media_count_mismatch;
    for (std::size_t i = 0; i < offer.media.size(); ++i) {
      const auto& o = offer.media[i];
      const auto& a = answer.media[i];
      if (o.type != a.type) return error::media_type_mismatch;
      if (a.port == 0 || o.port == 0) continue;
      // RFC 8842 §5.1: a DTLS m-line needs a fingerprint, here or at session level.
      if (a.is_dtls() && !answer.find_in(a, "fingerprint")) return error::missing_fingerprint;
      if (!o.is_rtp()) continue;
      if (common_codecs(o, a, false).empty()) return error::no_common_codec;
      // RFC 3264 §6.1: the answer may only narrow the reversed offered direction.
      const direction od = offered_direction(offer, o);
      const direction ad = offered_direction(answer, a);
      if ((sends(ad) && !receives(od)) || (receives(ad) && !sends(od))) return error::bad_direction;
    }
    return {};
  }

  // Pairs (ours, theirs) of the same codec, in `theirs` order for answers.
  // `local_is_answer` picks whose order the result follows (the answer's).
  static std::vector<negotiated_codec> common_codecs(const media_view& local, const media_view& remote,
                                                     bool local_is_answer) {
    std::vector<negotiated_codec> out;
    const auto l = describe_formats(local);
    const auto r = describe_formats(remote);
    const auto& outer = local_is_answer ? l : r;
    const auto& inner = local_is_answer ? r : l;
    for (const auto& of : outer) {
      for (const auto& nf : inner) {
        const auto& rf = local_is_answer ? nf : of;
        const auto& lf = local_is_answer ? of : nf;
        if (core::ascii::iequals(rf.encoding, "rtx")) continue;  // paired below, through apt
        const bool same = (rf.payload_type < 96 && lf.payload_type == rf.payload_type &&
                           core::ascii::iequals(rf.encoding, lf.encoding)) ||
                          formats_match(rf, lf);
        if (!same) continue;
        out.push_back({std::string(rf.encoding), rf.clock_rate, rf.channels, lf.payload_type, rf.payload_type,
                       std::string(lf.fmtp), std::string(rf.fmtp)});
        break;
      }
    }
    // RFC 4588 §8.6: rtx formats pair up when their apt codecs paired up.
    auto apt_of = [](const format_desc& f) {
      auto a = detail::fmtp_param(f.fmtp, "apt");
      return a ? detail::to_uint<unsigned>(*a, 127) : std::nullopt;
    };
    const std::size_t paired = out.size();
    for (std::size_t i = 0; i < paired; ++i) {
      const auto& c = out[i];
      const format_desc* lr = nullptr;
      const format_desc* rr = nullptr;
      for (const auto& f : l)
        if (core::ascii::iequals(f.encoding, "rtx") && apt_of(f) == c.local_pt) lr = &f;
      for (const auto& f : r)
        if (core::ascii::iequals(f.encoding, "rtx") && apt_of(f) == c.remote_pt) rr = &f;
      if (lr && rr)
        out.push_back({"rtx", rr->clock_rate, 1, lr->payload_type, rr->payload_type, std::string(lr->fmtp),
                       std::string(rr->fmtp)});
    }
    return out;
  }

  static std::vector<stream_result> compute_streams(const session_view& local, const session_view& remote,
                                                    bool we_offered) {
    std::vector<stream_result> out;
    const auto lb = local.bundle_group(), rb = remote.bundle_group();
    const auto& answer_bundle = we_offered ? rb : lb;
    for (std::size_t i = 0; i < local.media.size() && i < remote.media.size(); ++i) {
      const auto& l = local.media[i];
      const auto& r = remote.media[i];
      stream_result s;
      s.index = i;
      s.type = std::string(l.type);
      s.proto = std::string(r.proto);
      s.mid = std::string(l.mid().value_or(r.mid().value_or("")));
      s.active = l.port != 0 && r.port != 0;
      if (!s.active) {
        out.push_back(std::move(s));
        continue;
      }
      if (l.is_rtp()) s.codecs = common_codecs(l, r, !we_offered);
      const auto rc = remote.connection_for(r);
      s.remote_address = rc ? std::string(rc->address) : std::string{};
      s.remote_port = r.port;
      const direction ld = l.direction().value_or(local.direction().value_or(direction::sendrecv));
      const direction rd = r.direction().value_or(remote.direction().value_or(direction::sendrecv));
      // RFC 3264 §8.4: c=0.0.0.0 is the old way to put a stream on hold --
      // unless ICE is in use, where JSEP answers carry 0.0.0.0 (RFC 8839 §4.2.2).
      const bool ice = remote.find_in(r, "ice-ufrag").has_value();
      const bool held = s.remote_address == "0.0.0.0" && !ice;
      s.direction = l.is_rtp() ? make_direction(sends(ld) && receives(rd) && !held, receives(ld) && sends(rd))
                               : direction::sendrecv;
      s.rtcp_mux = l.rtcp_mux() && r.rtcp_mux();
      if (auto rt = r.rtcp()) s.remote_rtcp_port = rt->port;
      else s.remote_rtcp_port = s.rtcp_mux ? r.port : static_cast<std::uint16_t>(r.port + 1);
      if (!s.mid.empty() && lb && rb && lb->contains(s.mid) && rb->contains(s.mid)) {
        s.bundled = true;
        if (answer_bundle && !answer_bundle->tags.empty()) s.bundle_transport_mid = std::string(answer_bundle->tags.front());
      }
      s.remote_ice_ufrag = std::string(remote.find_in(r, "ice-ufrag").value_or(""));
      s.remote_ice_pwd = std::string(remote.find_in(r, "ice-pwd").value_or(""));
      s.remote_fingerprint = std::string(remote.find_in(r, "fingerprint").value_or(""));
      if (auto v = local.find_in(l, "setup")) s.local_setup = parse_setup(*v);
      if (auto p = r.sctp_port()) s.remote_sctp_port = *p;
      if (auto mm = r.max_message_size()) s.remote_max_message_size = *mm;
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

  // 31 random bits, odd so never 0: fits every parser's integer (some read it as signed).
  std::string new_session_id() {
    std::uint32_t v = 0;
    if (random_) {
      std::array<std::byte, 4> b{};
      random_(b);
      for (std::byte x : b) v = v << 8 | std::to_integer<std::uint32_t>(x);
    } else {
      v = static_cast<std::uint32_t>(core::unique_u64());
    }
    return std::to_string((v & 0x7fffffffu) | 1u);
  }

  std::shared_ptr<const capabilities> caps_;
  parse_options opts_;
  random_source random_;  // empty: see random_source
  state state_ = state::null;
  std::string session_id_;
  std::uint64_t version_ = 0, active_version_ = 0;
  bool remote_is_offer_ = false;
  std::shared_ptr<const own_sdp> pending_local_, active_local_;  // shared by copies (a fork's negotiator)
  std::shared_ptr<const parsed_sdp> pending_remote_, active_remote_;
  std::vector<stream_result> streams_;
  std::vector<direction> offered_directions_;  // per m-line, of our last offer that was answered
  std::map<std::size_t, std::pair<std::string, std::string>> sdes_keys_;  // slot -> suite, base64 key||salt
};

constexpr std::string_view to_string(negotiator::state s) noexcept {
  switch (s) {
    case negotiator::state::null: return "NULL";
    case negotiator::state::local_offer: return "LOCAL_OFFER";
    case negotiator::state::remote_offer: return "REMOTE_OFFER";
    case negotiator::state::wait_nego: return "WAIT_NEGO";
    case negotiator::state::done: return "DONE";
  }
  return "?";
}

}  // namespace sigwire::sdp
