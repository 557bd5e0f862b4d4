// sigwire/sdp/capabilities.hpp - what the local side of an offer/answer
// exchange can do: codecs per media type, ICE credentials and candidates,
// the DTLS fingerprint, SDES suites; and where its random bytes come from.
// The offer and answer builders (offer_builder.hpp, answer_builder.hpp) read
// these; the negotiator (negotiator.hpp) shares one set between many calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <sigwire/sdp/attributes.hpp>

namespace sigwire::sdp {

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

  // ICE and DTLS both configured: offers take the WebRTC (JSEP) shape.
  bool webrtc() const noexcept { return dtls && ice; }
};

// Where a negotiator's random bytes come from: the o= session id (RFC 8866
// §5.2: unique, need not be secret) and SDES master keys and salts (RFC 4568
// §6.1: secret, so the source must be cryptographically secure whenever
// sdes_suites is set). Empty: SDES keys from OpenSSL's RAND_bytes
// (core::random_bytes), session ids from core::unique_u64() (seeded from
// RAND_bytes once per thread; a RAND_bytes call per negotiator was a fifth
// of answering a G.711 offer).
// Tests pin it to get the same SDP every run.
using random_source = std::function<void(std::span<std::byte> out)>;

}  // namespace sigwire::sdp
