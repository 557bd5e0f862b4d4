// The pieces of offer/answer without the state machine: the codec table,
// the offer and answer builders, check_answer(), the SDES key store, and
// the agreement between the streams an answer builder states and those
// compute_streams() reads back from the two SDPs.
#include <sigwire/sdp/answer_builder.hpp>
#include <sigwire/sdp/codec_match.hpp>
#include <sigwire/sdp/negotiated.hpp>
#include <sigwire/sdp/offer_builder.hpp>
#include <sigwire/sdp/srtp.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

namespace sdp = sigwire::sdp;

namespace {

// Deterministic bytes 0, 1, 2, ...: the same keys every run.
sdp::random_source counting_source() {
  auto next = std::make_shared<unsigned>(0);
  return [next](std::span<std::byte> out) {
    for (auto& b : out) b = static_cast<std::byte>((*next)++ & 0xff);
  };
}

sdp::capabilities webrtc_caps(bool prefer_local_order = false) {
  sdp::capabilities c;
  c.address = "192.0.2.1";
  sdp::media_capability audio;
  audio.type = "audio";
  audio.codecs = {
      {.name = "opus", .clock_rate = 48000, .channels = 2, .payload_type = 111,
       .fmtp = "minptime=10;useinbandfec=1", .rtcp_fb = {"transport-cc"}},
      {.name = "PCMU", .clock_rate = 8000, .payload_type = 0},
      {.name = "telephone-event", .clock_rate = 8000, .payload_type = 101, .fmtp = "0-15"},
  };
  audio.extmaps = {"urn:ietf:params:rtp-hdrext:sdes:mid"};
  sdp::media_capability video;
  video.type = "video";
  video.codecs = {
      {.name = "VP8", .clock_rate = 90000, .payload_type = 96, .rtcp_fb = {"nack", "nack pli"}},
      {.name = "H264", .clock_rate = 90000, .payload_type = 102,
       .fmtp = "packetization-mode=1;profile-level-id=42e01f", .rtcp_fb = {"ccm fir"}},
      {.name = "rtx", .clock_rate = 90000},
  };
  video.extmaps = {"urn:ietf:params:rtp-hdrext:sdes:mid"};
  sdp::media_capability data;
  data.type = "application";
  data.data_channel = true;
  c.media = {audio, video, data};
  c.ice = sdp::ice_parameters{"abcd", "abcdefghijklmnopqrstuv", {"1 1 udp 1 192.0.2.1 9 typ host"}, true, false};
  c.dtls = sdp::dtls_parameters{"sha-256", "AB:CD", sdp::setup_role::active};
  c.sdes_suites = {"AES_CM_128_HMAC_SHA1_80"};
  c.prefer_local_order = prefer_local_order;
  return c;
}

// The value of the first a=name, "(none)" when absent.
std::string value_of(const sdp::attribute_list& l, std::string_view name) {
  const auto* a = l.find(name);
  return a ? a->value : "(none)";
}

std::vector<std::string> values_of(const sdp::attribute_list& l, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& a : l.attributes)
    if (a.name == name) out.push_back(a.value);
  return out;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE_MESSAGE(f, "cannot read " << p.string());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::filesystem::path source_root() {
  const char* root = std::getenv("SIGWIRE_SOURCE_ROOT");
  REQUIRE_MESSAGE(root, "SIGWIRE_SOURCE_ROOT is not set");
  return root;
}

// Offers to answer: the captured browser SDPs and both SDP fuzz corpora.
std::vector<std::string> offer_corpus() {
  std::vector<std::string> out;
  const auto root = source_root();
  for (const char* dir : {"tests/sdp/data", "fuzz/corpus/sdp_negotiator_fuzz", "fuzz/corpus/sdp_parse_fuzz"})
    for (const auto& e : std::filesystem::directory_iterator(root / dir))
      if (e.is_regular_file()) out.push_back(read_file(e.path()));
  return out;
}

const std::string chromium_style_offer =
    "v=0\r\n"
    "o=- 1 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=ice-options:trickle\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 110 0 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:peer\r\n"
    "a=ice-pwd:peerpasswordpeerpassword\r\n"
    "a=fingerprint:sha-256 12:34\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:9 urn:example:unknown\r\n"
    "a=sendrecv\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:110 opus/48000/2\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=fmtp:126 0-16\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:peer\r\n"
    "a=ice-pwd:peerpasswordpeerpassword\r\n"
    "a=fingerprint:sha-256 12:34\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:* ccm fir\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=fmtp:104 packetization-mode=0;profile-level-id=42e01f\r\n";

}  // namespace

TEST_CASE("codec_rules: one row per codec with rules, found case-insensitively; the rest are plain media") {
  CHECK(sdp::rule_for("h264").encoding == "H264");
  CHECK(sdp::rule_for("H264").answer_fmtp == sdp::answer_fmtp::echo_offer);
  CHECK((sdp::rule_for("vp9").configuration != nullptr));
  CHECK((sdp::rule_for("telephone-event").overlapping != nullptr));
  CHECK(sdp::rule_for("RTX").role == sdp::codec_role::retransmission);
  CHECK(sdp::rule_for("telephone-event").role == sdp::codec_role::dtmf);
  CHECK(sdp::rule_for("telephone-event").answer_fmtp == sdp::answer_fmtp::intersect_events);
  CHECK(sdp::rule_for("CN").role == sdp::codec_role::comfort_noise);
  CHECK(sdp::rule_for("red").role == sdp::codec_role::redundancy);
  CHECK(sdp::rule_for("ulpfec").role == sdp::codec_role::redundancy);
  const auto& opus = sdp::rule_for("opus");
  CHECK(&opus == &sdp::default_codec_rule);
  CHECK(opus.role == sdp::codec_role::media);
  CHECK((opus.configuration == nullptr));
  CHECK((opus.overlapping == nullptr));
  CHECK(opus.answer_fmtp == sdp::answer_fmtp::ours);

  // RFC 6184 §8.1 through the table: same mode and profile match, whatever the level.
  const sdp::format_desc a{102, "H264", 90000, 1, "packetization-mode=1;profile-level-id=42e01f"};
  const sdp::format_desc b{104, "h264", 90000, 1, "profile-level-id=42e029;packetization-mode=1"};
  const sdp::format_desc c{106, "H264", 90000, 1, "profile-level-id=42e01f"};  // mode 0
  const sdp::format_desc d{108, "H264", 90000, 1, "packetization-mode=1;profile-level-id=42001f"};  // Baseline, not Constrained
  CHECK(sdp::formats_match(a, b));
  CHECK_FALSE(sdp::formats_match(a, c));
  CHECK_FALSE(sdp::formats_match(a, d));
  // Malformed configurations match nothing, not even themselves.
  const sdp::format_desc bad_level{110, "H264", 90000, 1, "packetization-mode=1;profile-level-id=42e0"};
  const sdp::format_desc bad_mode{112, "H264", 90000, 1, "packetization-mode=x;profile-level-id=42e01f"};
  CHECK_FALSE(sdp::formats_match(bad_level, bad_level));
  CHECK_FALSE(sdp::formats_match(bad_mode, bad_mode));
  // A prepared format (its key read once) matches exactly as the pairwise form.
  for (const auto* x : {&a, &b, &c, &d, &bad_level})
    for (const auto* y : {&a, &b, &c, &d, &bad_level})
      CHECK(sdp::formats_match(sdp::prepared_format(*x), sdp::prepared_format(*y)) == sdp::formats_match(*x, *y));
  // VP9 profile-id (RFC 9628 §6): absent means 0.
  CHECK(sdp::formats_match({98, "VP9", 90000, 1, "profile-id=0"}, {100, "VP9", 90000, 1, ""}));
  CHECK_FALSE(sdp::formats_match({98, "VP9", 90000, 1, "profile-id=0"}, {100, "VP9", 90000, 1, "profile-id=2"}));
  // RFC 4733 §7.1.1: telephone-event formats match when their events overlap.
  CHECK(sdp::formats_match({101, "telephone-event", 8000, 1, "0-15"}, {96, "telephone-event", 8000, 1, "10-20"}));
  CHECK_FALSE(sdp::formats_match({101, "telephone-event", 8000, 1, "0-15"}, {96, "telephone-event", 8000, 1, "16"}));
  CHECK(sdp::rtx_apt({97, "rtx", 90000, 1, "apt=96"}) == 96u);
  CHECK_FALSE(sdp::rtx_apt({97, "rtx", 90000, 1, "apt=300"}));
}

TEST_CASE("offer_builder: a JSEP offer from capabilities alone, SDES keys from the key store") {
  auto caps = webrtc_caps();
  sdp::sdes_keys keys(counting_source());
  sdp::offer_builder builder(caps, keys);
  const sdp::session offer = builder.build();
  REQUIRE(offer.media.size() == 3);
  CHECK(value_of(offer, "group") == "BUNDLE 0 1 2");
  const auto& audio = offer.media[0];
  CHECK(audio.proto == "UDP/TLS/RTP/SAVPF");
  CHECK(audio.formats == std::vector<std::string>{"111", "0", "101"});
  CHECK(audio.attributes.front().name == "ice-ufrag");
  CHECK(value_of(audio, "setup") == "actpass");
  CHECK(value_of(audio, "mid") == "0");
  const auto& video = offer.media[1];
  // rtx after the 90 kHz codecs, apt naming each (RFC 4588 §8.6); the rtx
  // capability's own dynamic PT (97) stays unused.
  CHECK(video.formats == std::vector<std::string>{"96", "102", "98", "99"});
  CHECK(values_of(video, "fmtp") ==
        std::vector<std::string>{"102 packetization-mode=1;profile-level-id=42e01f", "98 apt=96", "99 apt=102"});
  CHECK(offer.media[2].proto == "UDP/DTLS/SCTP");

  // Without DTLS, SDES: RTP/SAVP with one crypto line per suite, the same key on a rebuild.
  caps.dtls.reset();
  caps.ice.reset();
  const auto first = builder.build_media(caps.media[0], "");
  const auto second = builder.build_media(caps.media[0], "");
  CHECK(first.proto == "RTP/SAVP");
  REQUIRE(first.find("crypto"));
  CHECK(value_of(first, "crypto") == value_of(second, "crypto"));
  CHECK(value_of(first, "crypto").starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"));
}

TEST_CASE("answer_builder: answers an offer and states the streams, no negotiator involved") {
  const auto caps = webrtc_caps();
  sdp::sdes_keys keys(counting_source());
  const auto offer = sdp::parse(chromium_style_offer);
  REQUIRE(offer);
  const sdp::built_answer built = sdp::answer_builder(caps, keys).build(offer);
  const sdp::session answer_model = built.model();
  const auto& answer = built;
  REQUIRE(answer_model.media.size() == 2);
  REQUIRE(answer.streams.size() == 2);
  CHECK(value_of(answer_model, "group") == "BUNDLE 0 1");

  const auto& audio = answer_model.media[0];
  CHECK(audio.formats == std::vector<std::string>{"111", "110", "0", "126"});
  CHECK(value_of(audio, "setup") == "active");  // our answer to actpass (RFC 5763 §5)
  CHECK(value_of(audio, "extmap") == "4 urn:ietf:params:rtp-hdrext:sdes:mid");  // the unknown one dropped
  CHECK(values_of(audio, "extmap").size() == 1);
  // opus: ours; telephone-event: the intersection of 0-16 and our 0-15.
  CHECK(values_of(audio, "fmtp") ==
        std::vector<std::string>{"111 minptime=10;useinbandfec=1", "110 minptime=10;useinbandfec=1", "126 0-15"});

  const auto& video = answer_model.media[1];
  // H.264 mode 0 (104) is not ours; rtx after the codecs, in the offer's order.
  CHECK(video.formats == std::vector<std::string>{"96", "102", "97", "103"});
  CHECK(video.direction() == sdp::direction::sendonly);  // the offer's recvonly reversed
  // goog-remb is not ours
  CHECK(values_of(video, "rtcp-fb") == std::vector<std::string>{"96 nack", "96 nack pli", "102 ccm fir"});

  const auto& s0 = answer.streams[0];
  CHECK(s0.active);
  CHECK(s0.mid == "0");
  CHECK(s0.bundled);
  CHECK(s0.bundle_transport_mid == "0");
  CHECK(s0.rtcp_mux);
  CHECK(s0.remote_rtcp_port == 9);
  CHECK(s0.remote_ice_ufrag == "peer");
  CHECK(s0.remote_fingerprint == "sha-256 12:34");
  CHECK(s0.local_setup == sdp::setup_role::active);
  REQUIRE(s0.codecs.size() == 4);
  // Two opus formats: each pairs with itself (RFC 3264 §6.1: the answer keeps the offer's PTs).
  CHECK(s0.codecs[0].local_pt == 111);
  CHECK(s0.codecs[0].remote_pt == 111);
  CHECK(s0.codecs[1].local_pt == 110);
  CHECK(s0.codecs[1].remote_pt == 110);
  CHECK(s0.codecs[1].remote_fmtp.empty());
  CHECK(s0.codecs[3].name == "telephone-event");
  CHECK(s0.codecs[3].local_fmtp == "0-15");
  CHECK(s0.codecs[3].remote_fmtp == "0-16");

  const auto& s1 = answer.streams[1];
  CHECK(s1.direction == sdp::direction::sendonly);
  REQUIRE(s1.codecs.size() == 4);
  CHECK(s1.codecs[0].name == "VP8");
  CHECK(s1.codecs[1].name == "H264");
  CHECK(s1.codecs[2].name == "rtx");
  CHECK(s1.codecs[2].local_pt == 97);
  CHECK(s1.codecs[2].local_fmtp == "apt=96");
  CHECK(s1.codecs[3].local_pt == 103);
}

TEST_CASE("answer_builder: our hold is kept when the peer re-offers (RFC 3264 §8.4); rejected lines keep their mid") {
  const auto caps = webrtc_caps();
  sdp::sdes_keys keys;
  const auto offer = sdp::parse(chromium_style_offer);
  REQUIRE(offer);
  const std::vector<sdp::direction> our_last_offer = {sdp::direction::sendonly, sdp::direction::sendrecv};
  const auto answer = sdp::answer_builder(caps, keys, our_last_offer).build(offer);
  CHECK(answer.model().media[0].direction() == sdp::direction::sendonly);
  CHECK(answer.streams[0].direction == sdp::direction::sendonly);

  auto audio_only = webrtc_caps();
  audio_only.media.resize(1);
  const auto partial = sdp::answer_builder(audio_only, keys).build(offer);
  const auto partial_model = partial.model();
  REQUIRE(partial_model.media.size() == 2);
  CHECK(partial_model.media[1].port == 0);
  CHECK(value_of(partial_model.media[1], "mid") == "1");
  CHECK_FALSE(partial.streams[1].active);
  CHECK(partial.streams[1].mid == "1");
  CHECK(value_of(partial_model, "group") == "BUNDLE 0");
}

TEST_CASE("check_answer: RFC 3264 §6 and §7 rules on an answer to our offer") {
  const std::string offer_text =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 0 8\r\na=sendonly\r\n";
  const auto offer = sdp::parse(offer_text);
  REQUIRE(offer);
  auto answer_with = [&](std::string media) {
    return "v=0\r\no=- 2 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n" + media;
  };
  const std::string good = answer_with("m=audio 5000 RTP/AVP 8\r\na=recvonly\r\n");
  const std::string no_codec = answer_with("m=audio 5000 RTP/AVP 3\r\na=recvonly\r\n");
  const std::string bad_direction = answer_with("m=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n");
  const std::string wrong_type = answer_with("m=video 5000 RTP/AVP 31\r\n");
  const std::string two_lines = answer_with("m=audio 5000 RTP/AVP 0\r\nm=audio 5002 RTP/AVP 0\r\n");
  const std::string rejected = answer_with("m=audio 0 RTP/AVP 0\r\n");
  CHECK_FALSE(sdp::check_answer(offer, sdp::parse(good)));
  CHECK_FALSE(sdp::check_answer(offer, sdp::parse(rejected)));
  CHECK(sdp::check_answer(offer, sdp::parse(no_codec)) == sdp::error::no_common_codec);
  CHECK(sdp::check_answer(offer, sdp::parse(bad_direction)) == sdp::error::bad_direction);
  CHECK(sdp::check_answer(offer, sdp::parse(wrong_type)) == sdp::error::media_type_mismatch);
  CHECK(sdp::check_answer(offer, sdp::parse(two_lines)) == sdp::error::media_count_mismatch);
}

TEST_CASE("sdes_keys: a slot keeps its key while its suite stays; a new suite draws a new key") {
  sdp::sdes_keys keys(counting_source());
  const std::string first = keys.key(0, "AES_CM_128_HMAC_SHA1_80");
  CHECK(first.size() == 40);  // base64 of 30 bytes
  CHECK(keys.key(0, "AES_CM_128_HMAC_SHA1_80") == first);
  const std::string other_slot = keys.key(1, "AES_CM_128_HMAC_SHA1_80");
  CHECK(other_slot != first);
  const std::string gcm = keys.key(0, "AEAD_AES_256_GCM");
  CHECK(gcm.size() == 60);  // base64 of 44 bytes
  CHECK(sdp::sdes_keys::offer_slot("2", 1) != sdp::sdes_keys::answer_slot(2));
  CHECK(sdp::srtp_key_salt_size("AES_256_CM_HMAC_SHA1_32") == 46);
  CHECK(sdp::srtp_key_salt_size("NULL_CIPHER") == 0);
}

// The answerer states its streams while building; compute_streams() reads
// them from the two SDPs (the offerer's way). Both must agree on every offer
// of the corpora, in both codec orders, with DTLS and with SDES.
TEST_CASE("answer_builder's streams equal compute_streams() on the answer it wrote, over the SDP corpora") {
  const auto offers = offer_corpus();
  REQUIRE(offers.size() >= 20);
  std::size_t answered = 0;
  for (int variant = 0; variant < 3; ++variant) {
    auto caps = webrtc_caps(variant == 1);
    if (variant == 2) caps.dtls.reset();  // SDES offers accepted, DTLS ones rejected
    for (const auto& text : offers) {
      const auto offer = sdp::parse(text);
      if (!offer || offer.media.empty()) continue;
      sdp::sdes_keys keys(counting_source());
      const auto built = sdp::answer_builder(caps, keys).build(offer);
      const std::string& answer_text = built.text;
      const auto answer = sdp::parse(answer_text);
      REQUIRE(answer);
      const auto read_back = sdp::compute_streams(answer, offer, false);
      REQUIRE(read_back.size() == built.streams.size());
      for (std::size_t i = 0; i < read_back.size(); ++i) {
        INFO("variant " << variant << ", m-line " << i << " of:\n" << text);
        CHECK(read_back[i] == built.streams[i]);
      }
      answered += built.streams.size();
    }
  }
  CHECK(answered >= 40);
}
