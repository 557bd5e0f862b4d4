#include <sigwire/sdp/negotiator.hpp>

#include <doctest/doctest.h>

#include <array>
#include <deque>
#include <span>
#include <string>

namespace sdp = sigwire::sdp;
using st = sdp::negotiator::state;

namespace {

sdp::codec_capability codec(std::string name, std::uint32_t clock, int pt = -1, std::string fmtp = {},
                            std::uint32_t channels = 1) {
  sdp::codec_capability c;
  c.name = std::move(name);
  c.clock_rate = clock;
  c.payload_type = pt;
  c.fmtp = std::move(fmtp);
  c.channels = channels;
  return c;
}

// A plain SIP phone: PCMU, PCMA, G729, telephone-event; H261 + MPV video.
sdp::capabilities phone_caps() {
  sdp::capabilities caps;
  caps.username = "bob";
  caps.address = "192.0.2.20";
  sdp::media_capability audio;
  audio.type = "audio";
  audio.port = 49174;
  audio.codecs = {codec("PCMU", 8000, 0), codec("PCMA", 8000, 8), codec("G729", 8000, 18),
                  codec("telephone-event", 8000, 101, "0-15")};
  sdp::media_capability video;
  video.type = "video";
  video.port = 49170;
  video.codecs = {codec("MPV", 90000, 32)};
  caps.media = {audio, video};
  return caps;
}

std::string alice_offer() {
  // RFC 3264 §10.1
  return "v=0\r\n"
         "o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\n"
         "s=\r\n"
         "c=IN IP4 host.atlanta.example.com\r\n"
         "t=0 0\r\n"
         "m=audio 49170 RTP/AVP 0 8 97\r\n"
         "a=rtpmap:0 PCMU/8000\r\n"
         "a=rtpmap:8 PCMA/8000\r\n"
         "a=rtpmap:97 iLBC/8000\r\n"
         "m=video 51372 RTP/AVP 31 32\r\n"
         "a=rtpmap:31 H261/90000\r\n"
         "a=rtpmap:32 MPV/90000\r\n";
}

// Views borrow their text: keep every parsed text alive for the whole run.
sdp::session_view parsed(std::string text) {
  static std::deque<std::string> texts;
  const std::string& s = texts.emplace_back(std::move(text));
  auto v = sdp::parse(s);
  REQUIRE_MESSAGE(v, v.error().message() << " line " << v.error_line() << "\n" << s);
  return v;
}

// Answers `offer` with a fresh negotiator; returns it in DONE.
std::string answer_with(sdp::negotiator& neg, const std::string& offer) {
  REQUIRE(!neg.create_with_remote_offer(offer));
  REQUIRE(!neg.create_answer());
  std::string answer = neg.local_sdp();
  REQUIRE(!neg.negotiate());
  return answer;
}

}  // namespace

TEST_CASE("rfc3264_10_1_audio_and_video_answer") {
  sdp::negotiator bob(phone_caps());
  const std::string answer = answer_with(bob, alice_offer());
  const std::string offer_text = alice_offer();
  auto a = parsed(answer);
  REQUIRE(a.media.size() == 2);
  CHECK(a.media[0].type == "audio");
  CHECK(a.media[0].port == 49174);
  // offer order kept: PCMU then PCMA; iLBC not supported
  REQUIRE(a.media[0].formats.size() == 2);
  CHECK(a.media[0].formats[0] == "0");
  CHECK(a.media[0].formats[1] == "8");
  CHECK(a.media[1].port == 49170);
  REQUIRE(a.media[1].formats.size() == 1);
  CHECK(a.media[1].formats[0] == "32");
  CHECK(a.media[1].rtpmap_for(32)->encoding == "MPV");
  CHECK(a.origin.username == "bob");

  const auto& s = bob.streams();
  REQUIRE(s.size() == 2);
  CHECK(s[0].active);
  CHECK(s[0].remote_address == "host.atlanta.example.com");
  CHECK(s[0].remote_port == 49170);
  CHECK(s[0].remote_rtcp_port == 49171);
  CHECK(s[0].direction == sdp::direction::sendrecv);
  REQUIRE(s[0].codecs.size() == 2);
  CHECK(s[0].codecs[0].name == "PCMU");
  CHECK(s[1].codecs[0].name == "MPV");
  CHECK(s[1].codecs[0].remote_pt == 32);
  CHECK(bob.current_state() == st::done);
}

TEST_CASE("rfc3264_10_1_offerer_side_and_reoffer_that_removes_video") {
  // Alice's side: our offer, Bob's RFC answer.
  sdp::negotiator alice(phone_caps());
  auto offer = sdp::session::from(parsed(alice_offer()));
  REQUIRE(!alice.create_with_local_offer(offer));
  CHECK(alice.current_state() == st::local_offer);
  const std::string bob_answer =
      "v=0\r\n"
      "o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com\r\n"
      "s=\r\n"
      "c=IN IP4 host.biloxi.example.com\r\n"
      "t=0 0\r\n"
      "m=audio 49174 RTP/AVP 0\r\n"
      "a=rtpmap:0 PCMU/8000\r\n"
      "m=video 49170 RTP/AVP 32\r\n"
      "a=rtpmap:32 MPV/90000\r\n";
  REQUIRE(!alice.set_remote_answer(bob_answer));
  CHECK(alice.current_state() == st::wait_nego);
  REQUIRE(!alice.negotiate());
  REQUIRE(alice.streams().size() == 2);
  CHECK(alice.streams()[0].codecs.size() == 1);
  CHECK(alice.streams()[0].remote_address == "host.biloxi.example.com");
  CHECK(alice.streams()[1].codecs[0].local_pt == 32);
  const std::string v1 = alice.active_local()->origin.session_version;

  // Re-offer: video removed with port 0 (§8.2); the m-line stays.
  auto re = *alice.active_local();
  sdp::disable(re.media[1]);
  REQUIRE(!alice.modify_local_offer(re));
  CHECK(std::stoull(alice.local()->origin.session_version) == std::stoull(v1) + 1);
  const std::string bob_answer2 =
      "v=0\r\n"
      "o=bob 2808844564 2808844565 IN IP4 host.biloxi.example.com\r\n"
      "s=\r\n"
      "c=IN IP4 host.biloxi.example.com\r\n"
      "t=0 0\r\n"
      "m=audio 49174 RTP/AVP 0\r\n"
      "a=rtpmap:0 PCMU/8000\r\n"
      "m=video 0 RTP/AVP 32\r\n"
      "a=rtpmap:32 MPV/90000\r\n";
  REQUIRE(!alice.set_remote_answer(bob_answer2));
  REQUIRE(!alice.negotiate());
  CHECK(alice.streams()[0].active);
  CHECK_FALSE(alice.streams()[1].active);
}

namespace {

sdp::capabilities webrtc_caps(bool with_video = true) {
  sdp::capabilities caps;
  caps.address = "203.0.113.7";
  sdp::media_capability audio;
  audio.type = "audio";
  audio.codecs = {codec("opus", 48000, 111, "minptime=10;useinbandfec=1", 2), codec("PCMU", 8000, 0),
                  codec("telephone-event", 48000, 110, "0-15")};
  audio.extmaps = {"urn:ietf:params:rtp-hdrext:sdes:mid"};
  sdp::media_capability video;
  video.type = "video";
  video.codecs = {codec("VP8", 90000, 96), codec("H264", 90000, 102, "packetization-mode=1;profile-level-id=42e01f"),
                  codec("rtx", 90000, -1)};
  video.codecs[0].rtcp_fb = {"nack", "nack pli"};
  sdp::media_capability data;
  data.type = "application";
  data.data_channel = true;
  data.max_message_size = 65536;
  caps.media = {audio};
  if (with_video) caps.media.push_back(video);
  caps.media.push_back(data);
  caps.ice = sdp::ice_parameters{"ufrag123", "passwordpasswordpassword", {"1 1 udp 2122260223 203.0.113.7 40000 typ host"},
                                 true, true};
  caps.dtls = sdp::dtls_parameters{"sha-256", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
                                   sdp::setup_role::active};
  return caps;
}

std::string webrtc_offer(std::string setup = "actpass") {
  std::string s =
      "v=0\r\n"
      "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
      "s=-\r\n"
      "t=0 0\r\n"
      "a=group:BUNDLE 0 1 2\r\n"
      "a=extmap-allow-mixed\r\n";
  const char* transport =
      "c=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:EsAw\r\n"
      "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y\r\n"
      "a=ice-options:trickle\r\n"
      "a=fingerprint:sha-256 DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09:DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF\r\n";
  s += "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 126\r\n";
  s += transport;
  s += "a=setup:" + setup + "\r\na=mid:0\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\na=rtcp-mux\r\n"
       "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1;stereo=1\r\na=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:126 telephone-event/8000\r\n";
  s += "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\n";
  s += transport;
  s += "a=setup:" + setup + "\r\na=mid:1\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\na=rtcp-mux\r\n"
       "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 goog-remb\r\n"
       "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
       "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
       "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n";
  s += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
  s += transport;
  s += "a=setup:" + setup + "\r\na=mid:2\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";
  return s;
}

}  // namespace

TEST_CASE("rfc3264_10_2_one_of_n_codec_selection_inactive_then_sendrecv") {
  // Offer lists three codecs and is inactive; the answer lists the ones we
  // support and is inactive too (§6.1).
  const std::string offer =
      "v=0\r\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\ns=\r\n"
      "c=IN IP4 host.atlanta.example.com\r\nt=0 0\r\n"
      "m=audio 62986 RTP/AVP 0 4 18\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:4 G723/8000\r\na=rtpmap:18 G729/8000\r\n"
      "a=inactive\r\n";
  sdp::negotiator bob(phone_caps());
  auto a = parsed(answer_with(bob, offer));
  REQUIRE(a.media.size() == 1);
  CHECK(a.media[0].formats == std::vector<std::string_view>{"0", "18"});
  CHECK(a.media[0].direction() == sdp::direction::inactive);
  CHECK(bob.streams()[0].direction == sdp::direction::inactive);

  // Alice picks one codec and activates the stream.
  std::string offer2 = offer;
  offer2.replace(offer2.find("2890844526 IN"), 10, "2890844527");
  offer2.replace(offer2.find("RTP/AVP 0 4 18"), 14, "RTP/AVP 18");
  offer2.replace(offer2.find("a=inactive"), 10, "a=sendrecv");
  REQUIRE(!bob.set_remote_offer(offer2));
  REQUIRE(!bob.create_answer());
  REQUIRE(!bob.negotiate());
  REQUIRE(bob.streams()[0].codecs.size() == 1);
  CHECK(bob.streams()[0].codecs[0].name == "G729");
  CHECK(bob.streams()[0].direction == sdp::direction::sendrecv);
  CHECK(bob.active_local()->origin.session_version == "2");
}

TEST_CASE("rfc4317_2_1_answerer_rejects_video") {
  auto caps = phone_caps();
  caps.media.pop_back();  // audio only
  sdp::negotiator bob(caps);
  auto a = parsed(answer_with(bob, alice_offer()));
  REQUIRE(a.media.size() == 2);
  CHECK(a.media[0].port != 0);
  CHECK(a.media[1].type == "video");
  CHECK(a.media[1].port == 0);
  CHECK_FALSE(a.media[1].formats.empty());
  CHECK_FALSE(bob.streams()[1].active);
}

TEST_CASE("rfc4317_2_3_answerer_rejects_audio_accepts_video") {
  auto caps = phone_caps();
  caps.media.erase(caps.media.begin());  // video only
  sdp::negotiator bob(caps);
  auto a = parsed(answer_with(bob, alice_offer()));
  CHECK(a.media[0].port == 0);
  CHECK(a.media[1].port == 49170);
}

TEST_CASE("rfc4317_2_4_two_audio_streams_one_capability") {
  const std::string offer =
      "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
      "m=audio 49172 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
  sdp::negotiator bob(phone_caps());
  auto a = parsed(answer_with(bob, offer));
  REQUIRE(a.media.size() == 2);
  CHECK(a.media[0].formats[0] == "0");
  CHECK(a.media[1].formats[0] == "8");
  CHECK(bob.streams()[1].remote_port == 49172);
}

TEST_CASE("rfc3264_6_codec_mismatch_rejects_every_stream") {
  const std::string offer =
      "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 49170 RTP/AVP 97 101\r\na=rtpmap:97 iLBC/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
      "m=video 49172 RTP/AVP 31\r\n";
  sdp::negotiator bob(phone_caps());
  auto a = parsed(answer_with(bob, offer));
  REQUIRE(a.media.size() == 2);
  // telephone-event alone is no media codec: the audio stream is rejected.
  CHECK(a.media[0].port == 0);
  CHECK(a.media[1].port == 0);
  CHECK_FALSE(bob.streams()[0].active);
  CHECK_FALSE(bob.streams()[1].active);
}

TEST_CASE("rfc3264_6_1_dynamic_payload_types_are_kept_and_remapped") {
  // Answerer keeps the offerer's dynamic PT even though it prefers 111.
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 5000 RTP/AVP 100 101\r\na=rtpmap:100 OPUS/48000/2\r\na=rtpmap:101 telephone-event/48000\r\n"
      "a=fmtp:101 0-16\r\n";
  sdp::negotiator bob(webrtc_caps());
  auto a = parsed(answer_with(bob, offer));
  CHECK(a.media[0].formats == std::vector<std::string_view>{"100", "101"});
  CHECK(a.media[0].rtpmap_for(100)->encoding == "OPUS");
  CHECK(a.media[0].fmtp_for("101")->params == "0-15");  // events intersected (RFC 4733 §7.1.1)
  CHECK(a.media[0].fmtp_for("100")->params == "minptime=10;useinbandfec=1");
  CHECK_FALSE(a.media[0].has("fingerprint"));  // plain RTP/AVP: no DTLS, no ICE offered
  CHECK_FALSE(a.media[0].has("ice-ufrag"));

  // Offerer side: our opus is 111, the answer says 96.
  sdp::negotiator alice(webrtc_caps());
  REQUIRE(!alice.create_offer());
  auto ours = parsed(alice.local_sdp());
  std::string answer = alice.local_sdp();
  auto replace_all = [&](std::string from, std::string to) {
    for (auto p = answer.find(from); p != std::string::npos; p = answer.find(from, p + to.size()))
      answer.replace(p, from.size(), to);
  };
  replace_all(" 111 ", " 96 ");
  replace_all(":111 ", ":96 ");
  replace_all("a=setup:actpass", "a=setup:active");
  REQUIRE(!alice.set_remote_answer(answer));
  REQUIRE(!alice.negotiate());
  const auto& c = alice.streams()[0].codecs;
  REQUIRE_FALSE(c.empty());
  CHECK(c[0].name == "opus");
  CHECK(c[0].local_pt == 111);
  CHECK(c[0].remote_pt == 96);
}

TEST_CASE("rfc6184_8_h264_matching_uses_packetization_mode_and_profile") {
  auto offer_with = [](std::string fmtp) {
    return "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
           "m=video 5000 RTP/AVP 120\r\na=rtpmap:120 H264/90000\r\na=fmtp:120 " + fmtp + "\r\n";
  };
  struct tc {
    const char* fmtp;
    bool accepted;
  };
  const tc cases[] = {
      {"packetization-mode=1;profile-level-id=42e01f", true},
      {"packetization-mode=1;profile-level-id=42e034", true},   // other level: fine
      {"packetization-mode=1;profile-level-id=42c01f", true},   // constrained baseline, set0 too
      {"packetization-mode=0;profile-level-id=42e01f", false},  // mode differs
      {"profile-level-id=42e01f", false},                       // mode defaults to 0
      {"packetization-mode=1;profile-level-id=42001f", false},  // baseline, not constrained
      {"packetization-mode=1;profile-level-id=4d001f", false},  // main
      {"packetization-mode=1;profile-level-id=zz001f", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.fmtp);
    sdp::negotiator bob(webrtc_caps());
    auto a = parsed(answer_with(bob, offer_with(c.fmtp)));
    CHECK((a.media[0].port != 0) == c.accepted);
    if (c.accepted) CHECK(a.media[0].fmtp_for("120")->params == c.fmtp);
  }
}

TEST_CASE("vp9_profile_id_and_opus_channels_must_match") {
  sdp::format_desc vp9a{98, "VP9", 90000, 1, "profile-id=0"}, vp9b{100, "vp9", 90000, 1, ""},
      vp9c{101, "VP9", 90000, 1, "profile-id=2"};
  CHECK(sdp::formats_match(vp9a, vp9b));
  CHECK_FALSE(sdp::formats_match(vp9a, vp9c));
  sdp::format_desc opus2{111, "opus", 48000, 2, ""}, opus1{111, "opus", 48000, 1, ""};
  CHECK_FALSE(sdp::formats_match(opus2, opus1));
  sdp::format_desc te{101, "telephone-event", 8000, 1, "16"}, te2{101, "telephone-event", 8000, 1, "0-15"};
  CHECK_FALSE(sdp::formats_match(te, te2));
}

TEST_CASE("rfc3264_8_4_hold_and_resume_both_ways") {
  sdp::negotiator alice(phone_caps()), bob(phone_caps());
  // Initial exchange between two negotiators, in memory.
  REQUIRE(!alice.create_offer());
  REQUIRE(!bob.create_with_remote_offer(alice.local_sdp()));
  REQUIRE(!bob.create_answer());
  REQUIRE(!bob.negotiate());
  REQUIRE(!alice.set_remote_answer(bob.local_sdp()));
  REQUIRE(!alice.negotiate());
  REQUIRE(alice.streams().size() == 2);
  CHECK(alice.streams()[0].direction == sdp::direction::sendrecv);
  CHECK(alice.streams()[0].codecs[0].local_pt == bob.streams()[0].codecs[0].remote_pt);
  const auto bob_v1 = bob.active_local()->origin.session_version;

  auto exchange = [&](sdp::direction alice_dir) {
    auto re = *alice.active_local();
    for (auto& m : re.media) m.set_direction(alice_dir);
    REQUIRE(!alice.modify_local_offer(re));
    REQUIRE(!bob.set_remote_offer(alice.local_sdp()));
    REQUIRE(!bob.create_answer());
    REQUIRE(!bob.negotiate());
    REQUIRE(!alice.set_remote_answer(bob.local_sdp()));
    REQUIRE(!alice.negotiate());
  };
  // Alice holds: sendonly -> Bob answers recvonly.
  exchange(sdp::direction::sendonly);
  CHECK(bob.active_local()->media[0].direction() == sdp::direction::recvonly);
  CHECK(alice.streams()[0].direction == sdp::direction::sendonly);
  CHECK(bob.streams()[0].direction == sdp::direction::recvonly);
  CHECK(bob.active_local()->origin.session_version != bob_v1);
  // Inactive -> inactive.
  exchange(sdp::direction::inactive);
  CHECK(bob.active_local()->media[0].direction() == sdp::direction::inactive);
  CHECK(alice.streams()[0].direction == sdp::direction::inactive);
  // Alice offers recvonly -> Bob sendonly.
  exchange(sdp::direction::recvonly);
  CHECK(bob.streams()[0].direction == sdp::direction::sendonly);
  // Resume.
  exchange(sdp::direction::sendrecv);
  CHECK(alice.streams()[0].direction == sdp::direction::sendrecv);
  CHECK(bob.streams()[0].direction == sdp::direction::sendrecv);

  // A capability that only receives answers a sendrecv offer with recvonly.
  auto caps = phone_caps();
  caps.media[0].direction = sdp::direction::recvonly;
  sdp::negotiator listener(caps);
  auto a = parsed(answer_with(listener, alice_offer()));
  CHECK(a.media[0].direction() == sdp::direction::recvonly);
}

TEST_CASE("rfc3264_8_4_both_hold: a stream each side holds is inactive, and stays held until its holder resumes") {
  sdp::negotiator alice(phone_caps()), bob(phone_caps());
  REQUIRE(!alice.create_offer());
  REQUIRE(!bob.create_with_remote_offer(alice.local_sdp()));
  REQUIRE(!bob.create_answer());
  REQUIRE(!bob.negotiate());
  REQUIRE(!alice.set_remote_answer(bob.local_sdp()));
  REQUIRE(!alice.negotiate());
  // One re-offer/answer round, `from` offering with every stream set to `dir`.
  auto offer_from = [](sdp::negotiator& from, sdp::negotiator& to, sdp::direction dir) {
    auto re = *from.active_local();
    for (auto& m : re.media) m.set_direction(dir);
    REQUIRE(!from.modify_local_offer(re));
    REQUIRE(!to.set_remote_offer(from.local_sdp()));
    REQUIRE(!to.create_answer());
    REQUIRE(!to.negotiate());
    REQUIRE(!from.set_remote_answer(to.local_sdp()));
    REQUIRE(!from.negotiate());
  };
  offer_from(alice, bob, sdp::direction::sendonly);  // Alice holds
  CHECK(bob.active_local()->media[0].direction() == sdp::direction::recvonly);
  // Bob holds too, offering sendonly (RFC 6337 §5.3): Alice still holds, so
  // her answer is inactive, not recvonly.
  offer_from(bob, alice, sdp::direction::sendonly);
  CHECK(alice.active_local()->media[0].direction() == sdp::direction::inactive);
  CHECK(alice.streams()[0].direction == sdp::direction::inactive);
  CHECK(bob.streams()[0].direction == sdp::direction::inactive);
  // Bob resumes: Alice still holds, so the stream is sendonly from her side.
  offer_from(bob, alice, sdp::direction::sendrecv);
  CHECK(alice.active_local()->media[0].direction() == sdp::direction::sendonly);
  CHECK(bob.streams()[0].direction == sdp::direction::recvonly);
  // A re-offer that changes nothing (a session refresh) keeps her hold too.
  offer_from(bob, alice, sdp::direction::sendrecv);
  CHECK(alice.streams()[0].direction == sdp::direction::sendonly);
  // Alice resumes with an offer of her own: both ways again, and Bob's next
  // re-offer is answered sendrecv.
  offer_from(alice, bob, sdp::direction::sendrecv);
  CHECK(alice.streams()[0].direction == sdp::direction::sendrecv);
  offer_from(bob, alice, sdp::direction::sendrecv);
  CHECK(alice.active_local()->media[0].direction() == sdp::direction::sendrecv);
  CHECK(bob.streams()[0].direction == sdp::direction::sendrecv);
  // A hold whose offer was answered with an error does not count: Alice
  // offers inactive, the answer is refused, and she answers Bob's offer as before.
  auto re = *alice.active_local();
  for (auto& m : re.media) m.set_direction(sdp::direction::inactive);
  REQUIRE(!alice.modify_local_offer(re));
  REQUIRE(!alice.cancel_offer());
  offer_from(bob, alice, sdp::direction::sendrecv);
  CHECK(alice.streams()[0].direction == sdp::direction::sendrecv);
}

TEST_CASE("rfc3264_8_old_style_hold_with_c_0_0_0_0") {
  std::string offer = alice_offer();
  offer.replace(offer.find("c=IN IP4 host.atlanta.example.com"), 33, "c=IN IP4 0.0.0.0");
  sdp::negotiator bob(phone_caps());
  answer_with(bob, offer);
  CHECK(bob.streams()[0].direction == sdp::direction::recvonly);
}

TEST_CASE("rfc3264_8_origin_version_increments_only_on_change") {
  sdp::negotiator bob(phone_caps());
  answer_with(bob, alice_offer());
  const auto id = bob.active_local()->origin.session_id;
  CHECK(bob.active_local()->origin.session_version == "1");
  // Same offer again (e.g. a session refresh): same answer, same version.
  REQUIRE(!bob.set_remote_offer(alice_offer()));
  REQUIRE(!bob.create_answer());
  REQUIRE(!bob.negotiate());
  CHECK(bob.active_local()->origin.session_version == "1");
  CHECK(bob.active_local()->origin.session_id == id);
  // send_local_offer() re-offers unchanged: same version.
  REQUIRE(!bob.send_local_offer());
  CHECK(bob.local()->origin.session_version == "1");
  REQUIRE(!bob.cancel_offer());
  CHECK(bob.current_state() == st::done);
  // A changed re-offer bumps it by one; cancelling keeps the old one active.
  auto re = *bob.active_local();
  re.media[0].set_direction(sdp::direction::sendonly);
  REQUIRE(!bob.modify_local_offer(re));
  CHECK(bob.local()->origin.session_version == "2");
  REQUIRE(!bob.cancel_offer());
  CHECK(bob.local()->origin.session_version == "1");
}

// A done negotiator keeps both descriptions as text only (memory per call):
// active_local() and active_remote() are built from those texts, and give
// back exactly what was sent and received.
TEST_CASE("negotiator_results_rebuilt_from_the_kept_texts") {
  sdp::negotiator bob(phone_caps());
  CHECK(!bob.active_local().has_value());
  CHECK(!bob.active_remote().has_value());
  CHECK(bob.active_remote_sdp().empty());
  const std::string answer = answer_with(bob, alice_offer());
  REQUIRE(bob.active_local().has_value());
  CHECK(bob.active_local()->to_string() == answer);
  CHECK(bob.local_sdp() == answer);
  CHECK(bob.active_remote_sdp() == alice_offer());
  const auto remote = bob.active_remote();
  REQUIRE((remote && *remote));
  CHECK(remote->origin.username == "alice");
  REQUIRE(remote->media.size() == 2);
  CHECK(remote->media[1].port == 51372);
  // A copy (a fork's negotiator) shares the texts and goes its own way.
  sdp::negotiator fork = bob;
  auto held = *fork.active_local();
  held.media[0].set_direction(sdp::direction::sendonly);
  REQUIRE(!fork.modify_local_offer(held));
  CHECK(bob.current_state() == st::done);
  CHECK(bob.local_sdp() == answer);
  CHECK(fork.local_sdp() != answer);
  CHECK(fork.active_remote_sdp() == alice_offer());
}

TEST_CASE("rfc3264_8_streams_added_removed_and_slots_reused") {
  sdp::negotiator bob(phone_caps());
  answer_with(bob, alice_offer());
  // Add a third stream (§8.1 appends), remove video (§8.2 port 0).
  std::string offer2 = alice_offer();
  offer2.replace(offer2.find("m=video 51372"), 13, "m=video 0");
  offer2 += "m=audio 49180 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
  offer2.replace(offer2.find("2890844526 IN"), 10, "2890844527");
  REQUIRE(!bob.set_remote_offer(offer2));
  REQUIRE(!bob.create_answer());
  REQUIRE(!bob.negotiate());
  auto a = parsed(bob.local_sdp());
  REQUIRE(a.media.size() == 3);
  CHECK(a.media[1].port == 0);
  CHECK(a.media[2].port != 0);
  CHECK(bob.streams()[2].remote_port == 49180);
  CHECK(bob.active_local()->origin.session_version == "2");

  // Reuse the disabled slot for a new audio stream (§8.3).
  std::string offer3 = offer2;
  offer3.replace(offer3.find("m=video 0 RTP/AVP 31 32"), 23, "m=audio 49190 RTP/AVP 0");
  REQUIRE(!bob.set_remote_offer(offer3));
  REQUIRE(!bob.create_answer());
  REQUIRE(!bob.negotiate());
  CHECK(bob.streams()[1].type == "audio");
  CHECK(bob.streams()[1].active);
  CHECK(bob.streams()[1].remote_port == 49190);

  // Our own re-offer may not drop m-lines.
  auto shorter = *bob.active_local();
  shorter.media.pop_back();
  CHECK(bob.modify_local_offer(shorter) == sdp::error::media_count_mismatch);
  // Adding one from the capabilities works.
  auto longer = *bob.active_local();
  longer.media.push_back(bob.build_media(bob.local_capabilities().media[1], ""));
  REQUIRE(!bob.modify_local_offer(longer));
  CHECK(parsed(bob.local_sdp()).media.size() == 4);
}

TEST_CASE("pjmedia_sdp_neg_calls_out_of_order_are_errors") {
  sdp::negotiator n(phone_caps());
  CHECK(n.current_state() == st::null);
  CHECK(n.negotiate() == sdp::error::invalid_state);
  CHECK(n.set_remote_answer(alice_offer()) == sdp::error::invalid_state);
  CHECK(n.create_answer() == sdp::error::invalid_state);
  CHECK(n.cancel_offer() == sdp::error::invalid_state);
  CHECK(n.send_local_offer() == sdp::error::invalid_state);
  CHECK(n.set_remote_offer(alice_offer()) == sdp::error::invalid_state);
  CHECK(!n.local().has_value());
  REQUIRE(!n.create_offer());
  CHECK(n.create_offer() == sdp::error::invalid_state);
  CHECK(n.create_with_remote_offer(alice_offer()) == sdp::error::invalid_state);
  CHECK(n.negotiate() == sdp::error::invalid_state);
  REQUIRE(!n.cancel_offer());
  CHECK(n.current_state() == st::null);  // nothing was ever negotiated

  // Bad remote input is an error and changes nothing.
  CHECK(n.create_with_remote_offer("v=0\r\nbogus") == sdp::error::bad_line_syntax);
  CHECK(n.current_state() == st::null);
  sdp::capabilities empty;
  sdp::negotiator none(empty);
  CHECK(none.create_offer() == sdp::error::no_media);
}

TEST_CASE("rfc3264_6_bad_answers_are_rejected_and_roll_back") {
  sdp::negotiator alice(phone_caps());
  auto offer = sdp::session::from(parsed(alice_offer()));
  REQUIRE(!alice.create_with_local_offer(offer));
  // One m-line too few.
  const std::string short_answer =
      "v=0\r\no=bob 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  REQUIRE(!alice.set_remote_answer(short_answer));
  CHECK(alice.negotiate() == sdp::error::media_count_mismatch);
  CHECK(alice.current_state() == st::null);
  // A codec we never offered.
  REQUIRE(!alice.create_with_local_offer(offer));
  const std::string foreign =
      "v=0\r\no=bob 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\nm=video 0 RTP/AVP 31\r\n";
  REQUIRE(!alice.set_remote_answer(foreign));
  CHECK(alice.negotiate() == sdp::error::no_common_codec);
  // Wrong media type.
  REQUIRE(!alice.create_with_local_offer(offer));
  const std::string swapped =
      "v=0\r\no=bob 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=video 4000 RTP/AVP 0\r\nm=audio 0 RTP/AVP 31\r\n";
  REQUIRE(!alice.set_remote_answer(swapped));
  CHECK(alice.negotiate() == sdp::error::media_type_mismatch);
  CHECK(alice.current_state() == st::null);
}

TEST_CASE("rfc9143_bundle_rfc5763_setup_rfc8841_sctp_in_webrtc_answers") {
  sdp::negotiator n(webrtc_caps(false));  // no video: m=1 is rejected
  auto a = parsed(answer_with(n, webrtc_offer()));
  REQUIRE(a.media.size() == 3);
  auto bundle = a.bundle_group();
  REQUIRE(bundle);
  CHECK(bundle->tags == std::vector<std::string_view>{"0", "2"});
  CHECK(a.extmap_allow_mixed());
  CHECK(a.ice_trickle());
  CHECK(a.media[1].port == 0);
  CHECK(a.media[1].mid() == std::string_view("1"));
  for (std::size_t i : {0u, 2u}) {
    const auto& m = a.media[i];
    CHECK(m.setup() == sdp::setup_role::active);
    REQUIRE(m.fingerprint());
    CHECK(m.fingerprint()->hash_function == "sha-256");
    CHECK(m.ice_ufrag() == std::string_view("ufrag123"));
    CHECK(m.ice_pwd() == std::string_view("passwordpasswordpassword"));
    CHECK(m.candidates().size() == 1);
    CHECK(m.end_of_candidates());
  }
  CHECK(a.media[0].rtcp_mux());
  CHECK(a.media[0].extmaps().size() == 1);
  CHECK(a.media[0].extmaps()[0].id == 4);  // the offerer's id is kept
  CHECK(a.media[2].sctp_port() == 5000u);
  CHECK(a.media[2].max_message_size() == 65536u);
  CHECK(a.media[2].formats[0] == "webrtc-datachannel");

  const auto& s = n.streams();
  CHECK(s[0].bundled);
  CHECK(s[0].rtcp_mux);
  CHECK(s[0].bundle_transport_mid == "0");
  CHECK(s[0].remote_ice_ufrag == "EsAw");
  CHECK(s[0].local_setup == sdp::setup_role::active);
  CHECK(s[0].codecs.size() == 2);  // opus, PCMU (telephone-event/8000 is not ours)
  CHECK(s[2].remote_sctp_port == 5000);
  CHECK_FALSE(s[1].active);

  // Offer active -> we are passive; offer passive -> active.
  sdp::negotiator p(webrtc_caps());
  auto pa = parsed(answer_with(p, webrtc_offer("active")));
  CHECK(pa.media[0].setup() == sdp::setup_role::passive);
  sdp::negotiator q(webrtc_caps());
  auto qa = parsed(answer_with(q, webrtc_offer("passive")));
  CHECK(qa.media[0].setup() == sdp::setup_role::active);
  // Video with rtx: rtx follows its accepted codec, with the offered apt.
  CHECK(pa.media[1].formats == std::vector<std::string_view>{"96", "102", "97", "103"});
  CHECK(pa.media[1].fmtp_for("97")->params == "apt=96");
  CHECK(pa.media[1].rtcp_fbs().size() == 2);  // nack, nack pli; goog-remb not in our caps
  CHECK(p.streams()[1].codecs.size() == 4);

  // No fingerprint offered on a DTLS proto: rejected (RFC 8842).
  std::string nofp = webrtc_offer();
  for (auto pos = nofp.find("a=fingerprint"); pos != std::string::npos; pos = nofp.find("a=fingerprint"))
    nofp.erase(pos, nofp.find("\r\n", pos) + 2 - pos);
  sdp::negotiator r(webrtc_caps());
  auto ra = parsed(answer_with(r, nofp));
  for (const auto& m : ra.media) CHECK(m.port == 0);
}

TEST_CASE("negotiator_pair_in_memory_webrtc_both_roles") {
  sdp::negotiator a(webrtc_caps()), b(webrtc_caps());
  REQUIRE(!a.create_offer());
  auto offer = parsed(a.local_sdp());
  CHECK(offer.bundle_group()->tags.size() == 3);
  CHECK(offer.media[0].setup() == sdp::setup_role::actpass);
  REQUIRE(!b.create_with_remote_offer(a.local_sdp()));
  REQUIRE(!b.create_answer());
  REQUIRE(!b.negotiate());
  REQUIRE(!a.set_remote_answer(b.local_sdp()));
  REQUIRE(!a.negotiate());
  REQUIRE(a.streams().size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(a.streams()[i].active);
    CHECK(a.streams()[i].bundled);
    CHECK(a.streams()[i].mid == b.streams()[i].mid);
  }
  CHECK(a.streams()[0].local_setup == sdp::setup_role::actpass);
  CHECK(b.streams()[0].local_setup == sdp::setup_role::active);
  CHECK(a.streams()[1].codecs.size() == b.streams()[1].codecs.size());
  CHECK(a.was_offerer());
  CHECK_FALSE(b.was_offerer());
}

TEST_CASE("rfc3264_6_1_answer_direction_and_rfc8842_fingerprint_are_checked") {
  sdp::negotiator alice(phone_caps());
  auto offer = sdp::session::from(parsed(alice_offer()));
  offer.media[0].set_direction(sdp::direction::sendonly);
  REQUIRE(!alice.create_with_local_offer(offer));
  // We only send; an answer that also sends to us contradicts the offer.
  const std::string answer =
      "v=0\r\no=bob 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n"
      "m=video 0 RTP/AVP 31\r\n";
  REQUIRE(!alice.set_remote_answer(answer));
  CHECK(alice.negotiate() == sdp::error::bad_direction);
  REQUIRE(!alice.create_with_local_offer(offer));
  std::string ok = answer;
  ok.replace(ok.find("a=sendrecv"), 10, "a=recvonly");
  REQUIRE(!alice.set_remote_answer(ok));
  REQUIRE(!alice.negotiate());
  CHECK(alice.streams()[0].direction == sdp::direction::sendonly);

  // A DTLS answer without a fingerprint is refused.
  sdp::negotiator w(webrtc_caps());
  REQUIRE(!w.create_offer());
  std::string ans = w.local_sdp();
  for (auto pos = ans.find("a=fingerprint"); pos != std::string::npos; pos = ans.find("a=fingerprint"))
    ans.erase(pos, ans.find("\r\n", pos) + 2 - pos);
  REQUIRE(!w.set_remote_answer(ans));
  CHECK(w.negotiate() == sdp::error::missing_fingerprint);
}

TEST_CASE("rfc4568_sdes_crypto_answer_offer_and_key_stability") {
  auto caps = phone_caps();
  caps.sdes_suites = {"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"};
  const std::string offer =
      "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 49170 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
      "a=crypto:1 AEAD_AES_256_GCM inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
      "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32\r\n"
      "m=audio 49172 RTP/SAVP 0\r\na=crypto:1 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm\r\n";
  sdp::negotiator bob(caps);
  auto a = parsed(answer_with(bob, offer));
  REQUIRE(a.media.size() == 2);
  // RFC 4568 §7.1.1: exactly one crypto line, the chosen offer tag and suite.
  auto c = a.media[0].cryptos();
  REQUIRE(c.size() == 1);
  CHECK(c[0].tag == 2);
  CHECK(c[0].suite == "AES_CM_128_HMAC_SHA1_32");
  CHECK(c[0].inline_key().size() == 40);  // base64 of 30 bytes
  CHECK(a.media[1].port == 0);            // no suite in common
  const auto& s = bob.streams()[0];
  CHECK(s.srtp_suite == "AES_CM_128_HMAC_SHA1_32");
  CHECK(s.remote_srtp_key == "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj");
  CHECK(s.local_srtp_key == c[0].inline_key());
  // Same offer again: same key, same o= version.
  const std::string key = s.local_srtp_key;
  REQUIRE(!bob.set_remote_offer(offer));
  REQUIRE(!bob.create_answer());
  REQUIRE(!bob.negotiate());
  CHECK(bob.streams()[0].local_srtp_key == key);
  CHECK(bob.active_local()->origin.session_version == "1");

  // Plain negotiators without SDES reject RTP/SAVP.
  sdp::negotiator plain(phone_caps());
  auto p = parsed(answer_with(plain, offer));
  CHECK(p.media[0].port == 0);

  // Offering SDES: two negotiators agree on suite and swap keys.
  auto caps2 = phone_caps();
  caps2.sdes_suites = {"AES_CM_128_HMAC_SHA1_80"};
  caps2.media.pop_back();
  sdp::negotiator x(caps2), y(caps2);
  REQUIRE(!x.create_offer());
  CHECK(parsed(x.local_sdp()).media[0].proto == "RTP/SAVP");
  REQUIRE(!y.create_with_remote_offer(x.local_sdp()));
  REQUIRE(!y.create_answer());
  REQUIRE(!y.negotiate());
  REQUIRE(!x.set_remote_answer(y.local_sdp()));
  REQUIRE(!x.negotiate());
  CHECK(x.streams()[0].srtp_suite == "AES_CM_128_HMAC_SHA1_80");
  CHECK_FALSE(x.streams()[0].local_srtp_key.empty());
  CHECK(x.streams()[0].local_srtp_key == y.streams()[0].remote_srtp_key);
  CHECK(x.streams()[0].remote_srtp_key == y.streams()[0].local_srtp_key);
  CHECK(x.streams()[0].local_srtp_key != x.streams()[0].remote_srtp_key);
}

TEST_CASE("an injected random source pins the session id and the SDES keys; the default draws new ones") {
  auto caps = phone_caps();
  caps.sdes_suites = {"AES_CM_128_HMAC_SHA1_80"};
  caps.media.pop_back();
  std::size_t drawn = 0;
  auto counting = [&drawn](std::span<std::byte> out) {  // 0x01 0x02 0x03 ... across calls
    for (std::byte& b : out) b = std::byte(++drawn & 0xff);
  };
  auto offer_of = [&](sdp::random_source random) {
    sdp::negotiator n(caps, {}, std::move(random));
    REQUIRE(!n.create_offer());
    return n.local_sdp();
  };
  drawn = 0;
  const std::string first = offer_of(counting);
  drawn = 0;
  const std::string second = offer_of(counting);
  CHECK(first == second);
  const auto o = parsed(first);
  // Session id from bytes 01 02 03 04 (big-endian, 31 bits, odd).
  CHECK(o.origin.session_id == std::to_string(0x01020304u | 1u));
  // The key and salt of AES_CM_128_HMAC_SHA1_80 (30 bytes) are bytes 05 .. 22.
  std::array<std::byte, 30> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = std::byte(5 + i);
  const auto c = o.media[0].cryptos();
  REQUIRE(c.size() == 1);
  CHECK(c[0].inline_key() == sigwire::core::base64::encode(key));
  CHECK(drawn == 4 + 30);
  // Without a source: a new session id (core::unique_u64, odd, below 2^31)
  // and a new key (RAND_bytes) each time.
  const auto a = parsed(offer_of({})), b = parsed(offer_of({}));
  CHECK(a.origin.session_id != b.origin.session_id);
  for (const auto* s : {&a, &b}) {
    const auto id = std::stoull(std::string(s->origin.session_id));
    CHECK(id % 2 == 1);
    CHECK(id < (1ull << 31));
  }
  CHECK(a.media[0].cryptos()[0].inline_key() != b.media[0].cryptos()[0].inline_key());
}
