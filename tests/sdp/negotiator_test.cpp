#include <sigwire/sdp/negotiator.hpp>

#include <doctest/doctest.h>

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

sdp::session_view parsed(const std::string& s) {
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
