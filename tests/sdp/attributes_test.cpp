#include <sigwire/sdp/negotiator.hpp>
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/view.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <utility>

namespace sdp = sigwire::sdp;

namespace {
std::string data_file(const std::string& name) {
  const char* root = std::getenv("SIGWIRE_SOURCE_ROOT");
  std::ifstream in(std::string(root ? root : ".") + "/tests/sdp/data/" + name, std::ios::binary);
  REQUIRE_MESSAGE(in, "missing test data " << name);
  return {std::istreambuf_iterator<char>(in), {}};
}
const char* const chromium_files[] = {"chromium_offer_audio.sdp", "chromium_offer_audio_video.sdp",
                                      "chromium_offer_audio_video_datachannel.sdp", "chromium_answer.sdp",
                                      "sigwire_offer.sdp", "sigwire_answer_audio_video_datachannel.sdp"};
}  // namespace

TEST_CASE("rfc8866_6_6_rtpmap_and_6_15_fmtp") {
  auto r = sdp::parse_rtpmap("111 opus/48000/2");
  REQUIRE(r);
  CHECK(r->payload_type == 111);
  CHECK(r->encoding == "opus");
  CHECK(r->clock_rate == 48000);
  CHECK(r->channels() == 2);
  CHECK(sdp::parse_rtpmap("0 PCMU/8000")->channels() == 1);
  CHECK_FALSE(sdp::parse_rtpmap("128 x/8000"));
  CHECK_FALSE(sdp::parse_rtpmap("96 opus"));
  CHECK_FALSE(sdp::parse_rtpmap("96 opus/0"));
  CHECK_FALSE(sdp::parse_rtpmap("96 /8000"));
  CHECK_FALSE(sdp::parse_rtpmap("96 opus/48000/"));
  auto f = sdp::parse_fmtp("102 level-asymmetry-allowed=1; packetization-mode=1;profile-level-id=42e01f;flag");
  REQUIRE(f);
  CHECK(f->format == "102");
  CHECK(f->param("PACKETIZATION-MODE") == std::string_view("1"));
  CHECK(f->param("profile-level-id") == std::string_view("42e01f"));
  CHECK(f->param("flag") == std::string_view(""));
  CHECK_FALSE(f->param("missing"));
}

TEST_CASE("rfc4585_rtcp_fb_rfc3605_rtcp_and_ptime") {
  auto fb = sdp::parse_rtcp_fb("96 nack pli");
  REQUIRE(fb);
  CHECK(fb->type == "nack");
  CHECK(fb->param == "pli");
  CHECK(sdp::parse_rtcp_fb("* ccm fir"));
  CHECK_FALSE(sdp::parse_rtcp_fb("x nack"));
  auto rt = sdp::parse_rtcp("53020 IN IP4 126.16.64.4");
  REQUIRE(rt);
  CHECK(rt->port == 53020);
  CHECK(rt->address == "126.16.64.4");
  CHECK(sdp::parse_rtcp("9")->address.empty());
  CHECK_FALSE(sdp::parse_rtcp("9 IN IP4"));
  CHECK_FALSE(sdp::parse_rtcp("70000"));
}

TEST_CASE("rfc8839_5_1_candidate_grammar") {
  auto c = sdp::parse_candidate(
      "842163049 1 udp 1677729535 198.51.100.9 61665 typ srflx raddr 10.0.0.2 rport 61665 generation 0 "
      "network-cost 999");
  REQUIRE(c);
  CHECK(c->foundation == "842163049");
  CHECK(c->component == 1);
  CHECK(c->transport == "udp");
  CHECK(c->priority == 1677729535u);
  CHECK(c->address == "198.51.100.9");
  CHECK(c->port == 61665);
  CHECK(c->type == "srflx");
  CHECK(c->rel_address == "10.0.0.2");
  CHECK(c->rel_port == 61665);
  REQUIRE(c->extensions.size() == 2);
  CHECK(c->extensions[1].first == "network-cost");
  auto t = sdp::parse_candidate("1 1 TCP 2105458943 2001:db8::1 9 typ host tcptype active");
  REQUIRE(t);
  CHECK(t->extensions[0].second == "active");
  CHECK(sdp::parse_candidate("abc 1 udp 1 3f1e-1.local 5000 typ host"));  // mDNS name
  CHECK_FALSE(sdp::parse_candidate("1 1 udp 1 1.2.3.4 5000 host"));       // no "typ"
  CHECK_FALSE(sdp::parse_candidate("1 0 udp 1 1.2.3.4 5000 typ host"));   // component 0
  CHECK_FALSE(sdp::parse_candidate("1 1 udp 1 1.2.3.4 5000 typ host raddr"));
  CHECK_FALSE(sdp::parse_candidate("1 1 udp 1 1.2.3.4 99999 typ host"));
  CHECK_FALSE(sdp::parse_candidate("f_o 1 udp 1 1.2.3.4 5 typ host"));
  CHECK(sdp::is_ice_chars("8hhY", 4, 256));
  CHECK_FALSE(sdp::is_ice_chars("8hh", 4, 256));
  CHECK_FALSE(sdp::is_ice_chars("8hh-Y", 4, 256));
}

TEST_CASE("rfc8122_fingerprint_rfc4145_setup_rfc4568_crypto") {
  auto f = sdp::parse_fingerprint("sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  REQUIRE(f);
  CHECK(f->hash_function == "sha-256");
  CHECK_FALSE(sdp::parse_fingerprint("sha-256 4A:AD:"));
  CHECK_FALSE(sdp::parse_fingerprint("sha-256 4AAD"));
  CHECK_FALSE(sdp::parse_fingerprint("sha-256 4G:AD"));
  CHECK(sdp::parse_setup("actpass") == sdp::setup_role::actpass);
  CHECK_FALSE(sdp::parse_setup("both"));
  auto c = sdp::parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32 KDR=1");
  REQUIRE(c);
  CHECK(c->tag == 1);
  CHECK(c->suite == "AES_CM_128_HMAC_SHA1_80");
  CHECK(c->inline_key() == "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
  CHECK(c->session_params == "KDR=1");
  CHECK_FALSE(sdp::parse_crypto("1 AES_CM_128_HMAC_SHA1_80 key:abc"));
  CHECK_FALSE(sdp::parse_crypto("x AES inline:abc"));
}

TEST_CASE("rfc5576_ssrc_rfc8830_msid_rfc8285_extmap_rfc8851_rid_rfc8853_simulcast") {
  auto s = sdp::parse_ssrc("2972151991 msid:stream track");
  REQUIRE(s);
  CHECK(s->id == 2972151991u);
  CHECK(s->attribute == "msid");
  CHECK(s->value == "stream track");
  CHECK(sdp::parse_ssrc("1 cname:x")->value == "x");
  CHECK_FALSE(sdp::parse_ssrc("4294967296 cname:x"));
  auto g = sdp::parse_ssrc_group("FID 1 2");
  REQUIRE(g);
  CHECK(g->ssrcs == std::vector<std::uint32_t>{1, 2});
  CHECK_FALSE(sdp::parse_ssrc_group("FID 1 x"));
  auto m = sdp::parse_msid("- 8f37c76f");
  REQUIRE(m);
  CHECK(m->id == "-");
  CHECK(m->appdata == "8f37c76f");
  auto e = sdp::parse_extmap("3/sendonly urn:ietf:params:rtp-hdrext:sdes:mid");
  REQUIRE(e);
  CHECK(e->id == 3);
  CHECK(e->direction == "sendonly");
  CHECK(e->uri == "urn:ietf:params:rtp-hdrext:sdes:mid");
  CHECK_FALSE(sdp::parse_extmap("0 urn:x"));
  CHECK_FALSE(sdp::parse_extmap("1/sideways urn:x"));
  auto r = sdp::parse_rid("hi send pt=96;max-width=1280");
  REQUIRE(r);
  CHECK(r->direction == "send");
  CHECK(r->params == "pt=96;max-width=1280");
  CHECK_FALSE(sdp::parse_rid("hi both"));
  auto sim = sdp::parse_simulcast("send hi;mid;~lo recv r0");
  REQUIRE(sim);
  CHECK(sim->send == "hi;mid;~lo");
  CHECK(sim->recv == "r0");
  CHECK_FALSE(sdp::parse_simulcast("send"));
  auto grp = sdp::parse_group("BUNDLE 0 1 2");
  REQUIRE(grp);
  CHECK(grp->contains("2"));
  CHECK_FALSE(grp->contains("3"));
}

TEST_CASE("attribute kinds: the parser classifies once, and accessors agree with hand-built and unchecked views") {
  using k = sdp::attribute_kind;
  // Every kind's name classifies back to it; near misses and case variants do not.
  const std::pair<std::string_view, k> names[] = {
      {"mid", k::mid}, {"rid", k::rid}, {"fmtp", k::fmtp}, {"rtcp", k::rtcp}, {"msid", k::msid}, {"ssrc", k::ssrc},
      {"ptime", k::ptime}, {"group", k::group}, {"setup", k::setup}, {"rtpmap", k::rtpmap}, {"extmap", k::extmap},
      {"crypto", k::crypto}, {"rtcp-fb", k::rtcp_fb}, {"ice-pwd", k::ice_pwd}, {"maxptime", k::maxptime},
      {"rtcp-mux", k::rtcp_mux}, {"sendrecv", k::sendrecv}, {"sendonly", k::sendonly}, {"recvonly", k::recvonly},
      {"inactive", k::inactive}, {"ice-ufrag", k::ice_ufrag}, {"candidate", k::candidate},
      {"simulcast", k::simulcast}, {"sctp-port", k::sctp_port}, {"ssrc-group", k::ssrc_group},
      {"rtcp-rsize", k::rtcp_rsize}, {"fingerprint", k::fingerprint}, {"ice-options", k::ice_options},
      {"max-message-size", k::max_message_size}, {"extmap-allow-mixed", k::extmap_allow_mixed}};
  for (const auto& entry : names) {
    const std::string_view name = entry.first;  // not a structured binding: clang 14 cannot capture those in CHECK
    const k kind = entry.second;
    CHECK_MESSAGE(sdp::classify_attribute(name) == kind, name);
    std::string upper(name);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK_MESSAGE(sdp::classify_attribute(upper) == k::other, upper);
  }
  CHECK(sdp::classify_attribute("rtpmaps") == k::other);
  CHECK(sdp::classify_attribute("x-custom") == k::other);
  CHECK(sdp::classify_attribute("") == k::other);
  CHECK_FALSE(sdp::attribute_value_ok("", "x", true));
  CHECK(sdp::attribute_value_ok("x-custom", "anything at all", true));
  CHECK_FALSE(sdp::attribute_value_ok("rtpmap", "96 opus", true));
  CHECK_FALSE(sdp::attribute_value_ok("mid", "", true));

  const std::string text = data_file("chromium_offer_audio_video.sdp");
  const auto checked = sdp::parse(text);
  REQUIRE(checked);
  sdp::parse_options unchecked_opts;
  unchecked_opts.check_attributes = false;
  const auto unchecked = sdp::parse(text, unchecked_opts);
  REQUIRE(unchecked);
  REQUIRE(checked.media.size() == unchecked.media.size());
  for (std::size_t i = 0; i < checked.media.size(); ++i) {
    const auto& c = checked.media[i];
    const auto& u = unchecked.media[i];
    REQUIRE(c.attributes.size() == u.attributes.size());
    for (std::size_t j = 0; j < c.attributes.size(); ++j) {
      CHECK(c.attributes[j].kind == sdp::classify_attribute(c.attributes[j].name));
      CHECK(u.attributes[j].kind == k::unclassified);
      CHECK(u.attributes[j].resolved_kind() == c.attributes[j].kind);
    }
    // Accessors give the same answers whichever way the views were made.
    for (std::string_view name : {"rtpmap", "fmtp", "rtcp-fb", "mid", "ssrc", "extmap", "x-google-flag", "setup"}) {
      CHECK(c.count(name) == u.count(name));
      CHECK(c.find(name) == u.find(name));
    }
    CHECK(c.direction() == u.direction());
    CHECK(c.rtpmaps().size() == u.rtpmaps().size());
    CHECK(sdp::describe_formats(c).size() == sdp::describe_formats(u).size());
  }
  // A view built by hand (kind unclassified) is found by name.
  sdp::attribute_set hand;
  hand.attributes.push_back({"rtpmap", "96 VP8/90000", true});
  hand.attributes.push_back({"sendonly", {}, false});
  CHECK(hand.find("rtpmap") == std::optional<std::string_view>("96 VP8/90000"));
  CHECK(hand.rtpmap_for(96)->encoding == "VP8");
  CHECK(hand.direction() == sdp::direction::sendonly);
}

TEST_CASE("accessors_on_a_webrtc_media_section") {
  const std::string text =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=group:LS 0\r\n"
      "a=ice-lite\r\na=extmap-allow-mixed\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n"
      "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:EsAw\r\na=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
      "a=ice-options:trickle renomination\r\n"
      "a=fingerprint:sha-256 DA:39:A3:EE\r\na=setup:actpass\r\na=mid:0\r\n"
      "a=extmap:1 urn:ietf:params:rtp-hdrext:toffset\r\na=sendonly\r\na=msid:s t\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
      "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
      "a=ssrc-group:FID 1 2\r\na=ssrc:1 cname:c\r\na=ssrc:2 cname:c\r\n"
      "a=rid:hi send\r\na=rid:lo send\r\na=simulcast:send hi;lo\r\n"
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
      "a=candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host\r\na=end-of-candidates\r\n"
      "a=ptime:20\r\na=maxptime:120\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
      "a=sctp-port:5000\r\na=max-message-size:262144\r\n";
  auto s = sdp::parse(text);
  REQUIRE(s);
  CHECK(s.groups().size() == 2);
  CHECK(s.bundle_group()->tags.size() == 1);
  CHECK(s.ice_lite());
  CHECK(s.extmap_allow_mixed());
  const auto& m = s.media[0];
  CHECK(m.is_rtp());
  CHECK(m.is_dtls());
  CHECK(m.rtcp()->port == 9);
  CHECK(m.ice_ufrag() == std::string_view("EsAw"));
  CHECK(m.ice_options().size() == 2);
  CHECK(m.ice_trickle());
  CHECK(m.fingerprints().size() == 1);
  CHECK(m.setup() == sdp::setup_role::actpass);
  CHECK(m.mid() == std::string_view("0"));
  CHECK(m.extmaps().size() == 1);
  CHECK(m.direction() == sdp::direction::sendonly);
  CHECK(m.msids().size() == 1);
  CHECK(m.rtcp_mux());
  CHECK(m.rtcp_rsize());
  CHECK(m.rtpmaps().size() == 2);
  CHECK(m.rtpmap_for(97)->encoding == "rtx");
  CHECK_FALSE(m.rtpmap_for(98));
  CHECK(m.fmtps().size() == 1);
  CHECK(m.rtcp_fbs().size() == 1);
  CHECK(m.ssrc_groups()[0].semantics == "FID");
  CHECK(m.ssrcs().size() == 2);
  CHECK(m.rids().size() == 2);
  CHECK(m.simulcast()->send == "hi;lo");
  CHECK(m.cryptos().size() == 1);
  CHECK(m.candidates().size() == 1);
  CHECK(m.end_of_candidates());
  CHECK(m.ptime() == 20u);
  CHECK(m.maxptime() == 120u);
  CHECK(m.count("rid") == 2);
  CHECK(m.values("ssrc").size() == 2);
  CHECK(s.media[1].is_sctp());
  CHECK(s.media[1].sctp_port() == 5000u);
  CHECK(s.media[1].max_message_size() == 262144u);
  CHECK(s.find_in(s.media[1], "ice-lite"));
  CHECK(sdp::write(s) == text);
}

TEST_CASE("chromium_sdps_parse_and_round_trip") {
  for (const char* name : chromium_files) {
    CAPTURE(name);
    const std::string text = data_file(name);
    auto s = sdp::parse(text);
    REQUIRE_MESSAGE(s, s.error().message() << " line " << s.error_line());
    CHECK_FALSE(s.media.empty());
    // Browsers write CRLF: write(parse(x)) is byte-identical.
    CHECK(sdp::write(s) == text);
    for (const auto& m : s.media) {
      CHECK(m.mid());
      CHECK(m.ice_ufrag());
      CHECK(m.fingerprint());
      if (m.is_rtp()) CHECK_FALSE(m.rtpmaps().empty());
    }
  }
  // The audio+video offer: opus, H.264 variants, rtx pairs, ssrc lines.
  const std::string av = data_file("chromium_offer_audio_video.sdp");
  auto s = sdp::parse(av);
  REQUIRE(s.media.size() == 2);
  CHECK(s.media[0].rtpmap_for(111)->encoding == "opus");
  CHECK(s.media[0].ice_trickle());
  CHECK(s.bundle_group()->tags.size() == 2);
  std::size_t h264 = 0;
  for (const auto& r : s.media[1].rtpmaps()) h264 += r.encoding == "H264";
  CHECK(h264 >= 2);
  CHECK_FALSE(s.media[1].ssrcs().empty());
}

TEST_CASE("media_section_with_300_attributes_round_trips_and_negotiates") {
  // Browsers send 280+ attributes in one m= section: no fixed caps.
  std::string text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP";
  std::string attrs;
  for (int pt = 96; pt < 128; ++pt) {
    text += ' ' + std::to_string(pt);
    const bool vp8 = pt == 127;
    attrs += "a=rtpmap:" + std::to_string(pt) + (vp8 ? " VP8/90000\r\n" : " X-codec" + std::to_string(pt) + "/90000\r\n");
    for (const char* fb : {"nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"})
      attrs += "a=rtcp-fb:" + std::to_string(pt) + ' ' + fb + "\r\n";
    attrs += "a=fmtp:" + std::to_string(pt) + " x=" + std::to_string(pt) + "\r\n";
    attrs += "a=ssrc:" + std::to_string(pt * 1000) + " cname:abc\r\n";
    attrs += "a=x-unknown-" + std::to_string(pt) + ":kept verbatim\r\n";
  }
  text += "\r\n" + attrs;
  auto s = sdp::parse(text);
  REQUIRE(s);
  CHECK(s.media[0].attributes.size() == 32 * 9);
  CHECK(sdp::write(s) == text);
  sdp::capabilities caps;
  sdp::media_capability video;
  video.type = "video";
  video.codecs.push_back({"VP8", 90000, 1, 96, {}, {"nack", "nack pli"}});
  caps.media = {video};
  sdp::negotiator n(caps);
  REQUIRE(!n.create_with_remote_offer(text));
  REQUIRE(!n.create_answer());
  REQUIRE(!n.negotiate());
  REQUIRE(n.streams()[0].codecs.size() == 1);
  CHECK(n.streams()[0].codecs[0].remote_pt == 127);
  CHECK(n.local()->media[0].formats == std::vector<std::string>{"127"});
}

TEST_CASE("session_built_from_scratch") {
  sdp::session s;
  s.origin.username = "alice";
  s.origin.session_id = "42";
  s.connection = sdp::connection{"IN", "IP6", "2001:db8::1"};
  auto& m = s.media.emplace_back();
  m.type = "audio";
  m.port = 4000;
  m.formats = {"0", "101"};
  m.add("rtpmap", "0 PCMU/8000").add("rtpmap", "101 telephone-event/8000").add("fmtp", "101 0-15");
  m.set_direction(sdp::direction::sendonly);
  m.set_direction(sdp::direction::inactive);
  const std::string text = s.to_string();
  CHECK(text ==
        "v=0\r\no=alice 42 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-15\r\na=inactive\r\n");
  auto v = sdp::parse(text);
  REQUIRE(v);
  CHECK(v.media[0].direction() == sdp::direction::inactive);
  CHECK(s.media[0].remove("fmtp") == 1);
}

TEST_CASE("hostile_inputs_never_crash_every_prefix_and_mutation") {
  const std::string base = data_file("chromium_offer_audio_video_datachannel.sdp");
  // Every prefix: an error or a valid result, never a crash or an over-read
  // (each prefix is copied into its own exact-size buffer for ASan).
  for (std::size_t n = 0; n <= base.size(); n += 7) {
    const std::string prefix = base.substr(0, n);
    auto s = sdp::parse(prefix);
    if (s) (void)sdp::write(s);
  }
  std::mt19937 rng(1234);
  const char alphabet[] = "=: /\r\n\t\0aovmc0123456789x";
  for (int i = 0; i < 3000; ++i) {
    std::string t = base;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e)
      t[rng() % t.size()] = alphabet[rng() % (sizeof alphabet - 1)];
    auto s = sdp::parse(t);
    if (!s) {
      CHECK(s.error_line() >= 1);
      continue;
    }
    const std::string w = sdp::write(s);
    auto again = sdp::parse(w);
    CHECK(again);
    CHECK(sdp::write(again) == w);
  }
  // Numeric overflow and absurd counts.
  const std::string many_m = [] {
    std::string t = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\n";
    for (int i = 0; i < 300; ++i) t += "m=audio 9 RTP/AVP 0\r\n";
    return t;
  }();
  CHECK(sdp::parse(many_m).error() == sdp::error::too_many_media);
  const std::string big_bw = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nb=AS:99999999999999999999999\r\nt=0 0\r\n";
  CHECK(sdp::parse(big_bw).error() == sdp::error::bad_bandwidth);
  const std::string no_lines = "\r\n\r\n";
  CHECK_FALSE(sdp::parse(no_lines));
}

TEST_CASE("rfc3264_6_answers_to_captured_chromium_offers_lf_or_crlf") {
  sdp::capabilities caps;
  caps.address = "192.0.2.1";
  sdp::media_capability audio;
  audio.type = "audio";
  audio.codecs = {{"opus", 48000, 2, 111, "minptime=10;useinbandfec=1", {"transport-cc"}}, {"PCMU", 8000, 1, 0, {}, {}}};
  sdp::media_capability video;
  video.type = "video";
  video.codecs = {{"VP8", 90000, 1, 96, {}, {"nack", "nack pli"}},
                  {"H264", 90000, 1, 102, "packetization-mode=1;profile-level-id=42e01f", {}},
                  {"rtx", 90000, 1, -1, {}, {}}};
  sdp::media_capability data;
  data.type = "application";
  data.data_channel = true;
  caps.media = {audio, video, data};
  caps.ice = sdp::ice_parameters{"abcd", "abcdefghijklmnopqrstuv", {}, true, false};
  caps.dtls = sdp::dtls_parameters{"sha-256", "AB:CD:EF", sdp::setup_role::active};
  for (const char* name : {"chromium_offer_audio.sdp", "chromium_offer_audio_video.sdp",
                           "chromium_offer_audio_video_datachannel.sdp"}) {
    for (bool lf : {false, true}) {
      CAPTURE(name);
      CAPTURE(lf);
      std::string offer = data_file(name);
      if (lf) std::erase(offer, '\r');
      sdp::negotiator n(caps);
      REQUIRE(!n.create_with_remote_offer(offer));
      REQUIRE(!n.create_answer());
      REQUIRE(!n.negotiate());
      const std::string answer = n.local_sdp();
      auto o = sdp::parse(offer);
      auto a = sdp::parse(answer);
      REQUIRE(a);
      REQUIRE(a.media.size() == o.media.size());
      CHECK(a.bundle_group()->tags.size() == o.media.size());
      for (std::size_t i = 0; i < o.media.size(); ++i) {
        CHECK(a.media[i].type == o.media[i].type);
        CHECK(a.media[i].proto == o.media[i].proto);
        CHECK(a.media[i].mid() == o.media[i].mid());
        CHECK(a.media[i].port != 0);
        CHECK(a.media[i].setup() == sdp::setup_role::active);
        for (auto f : a.media[i].formats) {
          CHECK(std::find(o.media[i].formats.begin(), o.media[i].formats.end(), f) != o.media[i].formats.end());
        }
        CHECK(n.streams()[i].bundled);
        CHECK(n.streams()[i].rtcp_mux == o.media[i].rtcp_mux());
      }
      CHECK(n.streams()[0].codecs[0].name == "opus");
    }
  }
}

TEST_CASE("rfc9143_bundle_tags_and_rfc8840_trickle_read_in_place_agree_with_the_parsed_forms") {
  // The answerer reads these without building vectors; each case must give
  // what bundle_group() and ice_options() say.
  struct sample {
    const char* session_attributes;
    bool has_bundle;
    const char* in_bundle;
    const char* not_in_bundle;
  };
  const sample samples[] = {
      {"a=group:BUNDLE 0 1 data\r\n", true, "data", "2"},
      {"a=group:LS 0 1\r\na=group:BUNDLE 1\r\n", true, "1", "0"},
      {"a=group:BUNDLE\r\n", true, nullptr, "0"},           // a group may be empty
      {"a=group:LS 0\r\n", false, nullptr, nullptr},         // no BUNDLE group
      {"a=group:BUNDLE 0  1\r\na=group:BUNDLE 2\r\n", true, "2", "0"},  // the first one is malformed
  };
  for (const auto& c : samples) {
    CAPTURE(c.session_attributes);
    const std::string text = std::string("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n") + c.session_attributes +
                             "m=audio 9 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n";
    for (bool checked : {true, false}) {
      sdp::parse_options opts;
      opts.check_attributes = checked;
      const auto s = sdp::parse(text, opts);
      if (checked && std::string_view(c.session_attributes).find("  ") != std::string_view::npos) {
        CHECK_FALSE(s);  // the checking parser refuses the malformed line outright
        continue;
      }
      REQUIRE(s);
      const auto parsed = s.bundle_group();
      const auto tags = s.bundle_tags();
      REQUIRE(parsed.has_value() == c.has_bundle);
      REQUIRE(tags.has_value() == c.has_bundle);
      if (!c.has_bundle) continue;
      for (auto tag : parsed->tags) CHECK(tags->contains(tag));
      if (c.in_bundle) CHECK(tags->contains(c.in_bundle));
      CHECK_FALSE(tags->contains(c.not_in_bundle));
      CHECK_FALSE(tags->contains(""));
    }
  }

  const std::pair<const char*, bool> ice_options[] = {
      {"trickle", true},         {"renomination trickle", true}, {"trickled", false},
      {"ice2", false},           {"trickle  ice2", false},       // malformed: parse_ice_options refuses it
      {"", false},               {"trickle\x01", false},
  };
  for (const auto& entry : ice_options) {
    const std::string_view value = entry.first;
    const bool trickle = entry.second;
    CAPTURE(value);
    const auto parsed = sdp::parse_ice_options(value);
    const bool by_vector = parsed && std::find(parsed->begin(), parsed->end(), "trickle") != parsed->end();
    CHECK(by_vector == trickle);
    CHECK(sdp::detail::ice_options_contain(value, "trickle") == trickle);
  }
}

TEST_CASE("leading_payload_type agrees with its definition on every short value") {
  // Definition: the text before the first space, as a decimal number up to
  // 127 (RFC 8866 §6.6, §6.15; RFC 4585 §4.2). The fast path reads one to
  // three digits; every string of up to five characters over this alphabet
  // exercises both paths (leading zeros, 128, "*", a leading space).
  const std::string_view alphabet = "0123789 *a";
  std::string value;
  std::size_t compared = 0;
  auto check = [&] {
    const std::string_view field = std::string_view(value).substr(0, value.find(' '));
    const auto expected = sdp::detail::to_uint<unsigned>(field, 127);
    sdp::attribute_view a;
    a.name = "rtpmap";
    a.value = value;
    a.has_value = true;
    if (a.leading_payload_type() != expected) FAIL("value \"" << value << "\"");
    ++compared;
  };
  std::function<void(std::size_t)> grow = [&](std::size_t left) {
    check();
    if (left == 0) return;
    for (char c : alphabet) {
      value.push_back(c);
      grow(left - 1);
      value.pop_back();
    }
  };
  grow(5);
  CHECK(compared == 111111);  // 1 + 10 + 10^2 + ... + 10^5 strings
}
