// sdp_answer - the SDP negotiator in one file.
//
//   sdp_answer < offer.sdp                 print our answer to an offer
//   sdp_answer --offer                     print our offer
//   sdp_answer --offer-file O --answer-file A
//                                          negotiate our offer O with the remote
//                                          answer A and print the result per stream
//
// Capabilities: Opus, G.722, PCMU, PCMA, telephone-event; VP8, VP9, H.264;
// a WebRTC data channel. ICE credentials are generated, the DTLS fingerprint
// is well-formed (random: no DTLS runs here). Errors go to stderr, exit 1.
#include <sigwire/sdp/negotiator.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

namespace sdp = sigwire::sdp;

static sdp::capabilities default_capabilities() {
  sdp::capabilities caps;
  caps.address = "127.0.0.1";
  const std::vector<std::string> video_fb = {"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"};
  sdp::media_capability audio;
  audio.type = "audio";
  audio.codecs = {
      {.name = "opus", .clock_rate = 48000, .channels = 2, .payload_type = 111,
       .fmtp = "minptime=10;useinbandfec=1", .rtcp_fb = {"transport-cc"}},
      {.name = "G722", .clock_rate = 8000, .payload_type = 9},
      {.name = "PCMU", .clock_rate = 8000, .payload_type = 0},
      {.name = "PCMA", .clock_rate = 8000, .payload_type = 8},
      {.name = "telephone-event", .clock_rate = 48000, .payload_type = 110, .fmtp = "0-15"},
      {.name = "telephone-event", .clock_rate = 8000, .payload_type = 126, .fmtp = "0-15"},
  };
  audio.extmaps = {"urn:ietf:params:rtp-hdrext:ssrc-audio-level", "urn:ietf:params:rtp-hdrext:sdes:mid"};
  sdp::media_capability video;
  video.type = "video";
  video.codecs = {
      {.name = "VP8", .clock_rate = 90000, .payload_type = 96, .rtcp_fb = video_fb},
      {.name = "VP9", .clock_rate = 90000, .payload_type = 98, .fmtp = "profile-id=0", .rtcp_fb = video_fb},
      {.name = "H264", .clock_rate = 90000, .payload_type = 102,
       .fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", .rtcp_fb = video_fb},
      {.name = "rtx", .clock_rate = 90000},
  };
  video.extmaps = {"urn:ietf:params:rtp-hdrext:sdes:mid"};
  sdp::media_capability data;
  data.type = "application";
  data.data_channel = true;
  caps.media = {audio, video, data};

  // ICE (RFC 8839 §5.4) and DTLS (RFC 8122): fresh credentials per run.
  caps.ice = sdp::ice_parameters{sigwire::core::random_token(8), sigwire::core::random_token(24),
                                 {"1 1 udp 2122260223 127.0.0.1 50000 typ host"}, true, false};
  std::string fp;
  auto bytes = sigwire::core::random_array<32>();
  for (auto b : bytes) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%02X", static_cast<unsigned>(b));
    fp += (fp.empty() ? "" : ":") + std::string(hex);
  }
  caps.dtls = sdp::dtls_parameters{"sha-256", fp, sdp::setup_role::active};
  return caps;
}

static bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), {});
  return true;
}

static int fail(const std::string& what, std::error_code ec = {}) {
  std::cerr << "sdp_answer: " << what << (ec ? ": " + ec.message() : "") << '\n';
  return 1;
}

static void print_streams(const sdp::negotiator& neg) {
  for (const auto& s : neg.streams()) {
    std::cout << "stream " << s.index << ' ' << s.type << " mid=" << (s.mid.empty() ? "-" : s.mid) << ' ';
    if (!s.active) {
      std::cout << "rejected\n";
      continue;
    }
    std::cout << sdp::to_string(s.direction) << " remote " << s.remote_address << ':' << s.remote_port
              << (s.rtcp_mux ? " rtcp-mux" : "") << (s.bundled ? " bundle=" + s.bundle_transport_mid : "") << '\n';
    for (const auto& c : s.codecs)
      std::cout << "  codec " << c.name << '/' << c.clock_rate << (c.channels > 1 ? "/" + std::to_string(c.channels) : "")
                << " pt local " << c.local_pt << " remote " << c.remote_pt << '\n';
    if (s.remote_sctp_port) std::cout << "  sctp-port " << s.remote_sctp_port << '\n';
  }
}

int main(int argc, char** argv) {
  bool offer = false;
  std::string offer_file, answer_file;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--offer") offer = true;
    else if (arg == "--offer-file" && i + 1 < argc) offer_file = argv[++i];
    else if (arg == "--answer-file" && i + 1 < argc) answer_file = argv[++i];
    else return fail("usage: sdp_answer [--offer] [--offer-file O --answer-file A] < offer.sdp");
  }
  sdp::negotiator neg(default_capabilities());

  if (!offer_file.empty() || !answer_file.empty()) {
    std::string o, a;
    if (offer_file.empty() || answer_file.empty()) return fail("--offer-file and --answer-file go together");
    if (!read_file(offer_file, o)) return fail("cannot read " + offer_file);
    if (!read_file(answer_file, a)) return fail("cannot read " + answer_file);
    auto ov = sdp::parse(o);
    if (!ov) return fail("offer line " + std::to_string(ov.error_line()), ov.error());
    if (auto ec = neg.create_with_local_offer(sdp::session::from(ov))) return fail("offer", ec);
    if (auto ec = neg.set_remote_answer(a)) return fail("answer", ec);
    if (auto ec = neg.negotiate()) return fail("negotiation", ec);
    print_streams(neg);
    return 0;
  }
  if (offer) {
    if (auto ec = neg.create_offer()) return fail("offer", ec);
    std::cout << neg.local_sdp();
    return 0;
  }
  std::stringstream in;
  in << std::cin.rdbuf();
  const std::string text = in.str();
  if (auto ec = neg.create_with_remote_offer(text)) {
    auto v = sdp::parse(text);
    return fail(v ? "offer" : "offer line " + std::to_string(v.error_line()), ec);
  }
  if (auto ec = neg.create_answer()) return fail("answer", ec);
  if (auto ec = neg.negotiate()) return fail("negotiation", ec);
  std::cout << neg.local_sdp();
  return 0;
}
