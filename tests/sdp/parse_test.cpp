#include <sigwire/sdp/view.hpp>
#include <sigwire/sdp/session.hpp>

#include <doctest/doctest.h>

#include <string>

namespace sdp = sigwire::sdp;

namespace {
const char* const rfc3264_offer =
    "v=0\r\n"
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

std::string lf_only(std::string s) {
  std::string out;
  for (char c : s)
    if (c != '\r') out += c;
  return out;
}
}  // namespace

TEST_CASE("rfc8866_5_parses_every_line_type_in_order") {
  const std::string text =
      "v=0\r\n"
      "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n"
      "s=Call to John Smith\r\n"
      "i=SDP Offer #1\r\n"
      "u=http://www.jdoe.example.com/home.html\r\n"
      "e=Jane Doe <jane@jdoe.example.com>\r\n"
      "p=+1 617 555-6011\r\n"
      "c=IN IP4 198.51.100.1\r\n"
      "b=AS:2000\r\n"
      "b=CT:3000\r\n"
      "t=0 0\r\n"
      "r=7d 1h 0 25h\r\n"
      "t=3034423619 3042462419\r\n"
      "z=2882844526 -1h 2898848070 0\r\n"
      "k=prompt\r\n"
      "a=recvonly\r\n"
      "m=audio 49170 RTP/AVP 0\r\n"
      "i=voice\r\n"
      "c=IN IP4 198.51.100.2\r\n"
      "c=IN IP4 198.51.100.3\r\n"
      "b=AS:64\r\n"
      "k=prompt\r\n"
      "a=ptime:20\r\n"
      "m=video 51372/2 RTP/AVP 99 100\r\n"
      "a=rtpmap:99 h263-1998/90000\r\n";
  auto s = sdp::parse(text);
  REQUIRE(s);
  CHECK(s.origin.username == "jdoe");
  CHECK(s.origin.session_version == "3724394405");
  CHECK(s.name == "Call to John Smith");
  CHECK(s.info == "SDP Offer #1");
  CHECK(s.emails.size() == 1);
  CHECK(s.phones.size() == 1);
  REQUIRE(s.connection);
  CHECK(s.connection->address == "198.51.100.1");
  REQUIRE(s.bandwidths.size() == 2);
  CHECK(s.bandwidths[1].type == "CT");
  CHECK(s.bandwidths[1].value == 3000);
  REQUIRE(s.times.size() == 2);
  CHECK(s.times[0].repeats.size() == 1);
  CHECK(s.zone == "2882844526 -1h 2898848070 0");
  CHECK(s.key == "prompt");
  CHECK(s.direction() == sdp::direction::recvonly);
  REQUIRE(s.media.size() == 2);
  CHECK(s.media[0].connections.size() == 2);
  CHECK(s.media[0].title == "voice");
  CHECK(s.media[0].ptime() == 20u);
  CHECK(s.media[1].port == 51372);
  CHECK(s.media[1].port_count == 2);
  CHECK(s.media[1].formats.size() == 2);
  CHECK(s.media[1].line == 24);
  CHECK(sdp::write(s) == text);
}

TEST_CASE("rfc8866_5_accepts_lf_line_ends_and_writes_crlf") {
  auto lf = lf_only(rfc3264_offer);
  auto s = sdp::parse(lf);
  REQUIRE(s);
  CHECK(s.media.size() == 2);
  CHECK(sdp::write(s) == rfc3264_offer);
  // Without a final line end, too.
  lf.pop_back();
  CHECK(sdp::parse(lf));
}

TEST_CASE("rfc8866_5_line_order_is_enforced_with_line_numbers") {
  struct bad {
    const char* text;
    sdp::error error;
    unsigned line;
  };
  const bad cases[] = {
      {"o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", sdp::error::missing_version, 1},
      {"v=0\r\ns=x\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n", sdp::error::line_out_of_order, 3},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nc=IN IP4 h\r\n", sdp::error::line_out_of_order, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\ns=y\r\nt=0 0\r\n", sdp::error::duplicate_line, 4},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nr=1 2\r\nt=0 0\r\n", sdp::error::line_out_of_order, 4},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\na=x\r\nc=IN IP4 h\r\n",
       sdp::error::line_out_of_order, 8},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\nu=x\r\n", sdp::error::line_out_of_order, 6},
      {"v=1\r\n", sdp::error::bad_version, 1},
      {"v=0\r\no=- 1 IN IP4 h\r\n", sdp::error::bad_origin, 2},
      {"v=0\r\no=- x 1 IN IP4 h\r\n", sdp::error::bad_origin, 2},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nc=IN IP4\r\n", sdp::error::bad_connection, 4},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nb=AS\r\n", sdp::error::bad_bandwidth, 4},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0\r\n", sdp::error::bad_timing, 4},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\n", sdp::error::missing_timing, 3},
      {"v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n", sdp::error::missing_session_name, 3},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n", sdp::error::bad_media, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nm=audio 7 RTP/AVP\r\n", sdp::error::bad_media, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nm=audio 7  RTP/AVP 0\r\n", sdp::error::bad_media, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nm=audio 7 RTP/AVP 0\r\nm=audio 7 RTP/AVP 0\r\n",
       sdp::error::missing_connection, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nx=1\r\n", sdp::error::unknown_line_type, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\nA=1\r\n", sdp::error::bad_line_syntax, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\na=x\ry\r\n", sdp::error::bad_character, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\n\r\ns=x\r\nt=0 0\r\n", sdp::error::bad_line_syntax, 3},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\na=rtpmap:96 opus\r\n", sdp::error::bad_attribute, 5},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\na=:x\r\n", sdp::error::bad_attribute, 5},
      {"", sdp::error::empty_input, 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    std::string_view text(c.text);
    auto s = sdp::parse(text);
    CHECK_FALSE(s);
    CHECK(s.error() == c.error);
    CHECK(s.error_line() == c.line);
  }
}

TEST_CASE("rfc8866_5_nul_inside_a_line_is_rejected") {
  const std::string text("v=0\r\no=- 1 1 IN IP4 h\r\ns=x\r\nt=0 0\r\na=x\0y\r\n", 41);
  auto s = sdp::parse(text);
  CHECK(s.error() == sdp::error::bad_character);
  CHECK(s.error_line() == 5);
}

TEST_CASE("limits_are_errors_not_caps") {
  std::string text = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
  for (int i = 0; i < 300; ++i) text += "a=x-attr" + std::to_string(i) + ":" + std::to_string(i) + "\r\n";
  auto ok = sdp::parse(text);
  REQUIRE(ok);
  CHECK(ok.media[0].attributes.size() == 300);
  CHECK(sdp::write(ok) == text);

  sdp::parse_options tight;
  tight.limits.max_attributes = 100;
  auto s = sdp::parse(text, tight);
  CHECK(s.error() == sdp::error::too_many_attributes);
  CHECK(s.error_line() == 107);

  tight = {};
  tight.limits.max_bytes = 64;
  CHECK(sdp::parse(text, tight).error() == sdp::error::message_too_large);
  tight = {};
  tight.limits.max_line_bytes = 10;
  CHECK(sdp::parse(text, tight).error() == sdp::error::line_too_long);
  tight = {};
  tight.limits.max_media = 0;
  CHECK(sdp::parse(text, tight).error() == sdp::error::too_many_media);
}

TEST_CASE("rfc8866_6_unknown_attributes_are_kept_verbatim") {
  const std::string text =
      "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\na=X-weird:  spaces  kept \r\na=flag\r\na=empty:\r\n"
      "m=audio 9 RTP/AVP 0\r\nc=IN IP6 ::1\r\na=foo:bar baz\r\n";
  auto s = sdp::parse(text);
  REQUIRE(s);
  CHECK(s.find("X-weird") == std::string_view("  spaces  kept "));
  CHECK(s.attributes[1].has_value == false);
  CHECK(s.attributes[2].has_value == true);
  CHECK(sdp::write(s) == text);
}

TEST_CASE("rfc8840_9_trickle_fragment") {
  const std::string frag =
      "a=ice-pwd:asd88fgpdd777uzjYhagZg\r\n"
      "a=ice-ufrag:8hhY\r\n"
      "m=audio 9 RTP/AVP 0\r\n"
      "a=mid:1\r\n"
      "a=candidate:1 1 UDP 1658497328 198.51.100.33 5000 typ host\r\n"
      "a=candidate:2 1 UDP 1658497328 198.51.100.33 5001 typ host\r\n"
      "a=end-of-candidates\r\n";
  auto f = sdp::parse_fragment(frag);
  REQUIRE(f);
  CHECK(f.ice_ufrag() == std::string_view("8hhY"));
  REQUIRE(f.media.size() == 1);
  CHECK(f.media[0].mid() == std::string_view("1"));
  CHECK(f.media[0].candidates().size() == 2);
  CHECK(f.media[0].end_of_candidates());
  CHECK_FALSE(sdp::parse(frag));
}

TEST_CASE("rfc8840_9_fragment_round_trip_has_no_session_lines") {
  const std::string frag =
      "a=ice-ufrag:8hhY\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\n"
      "m=audio 9 RTP/AVP 0\r\na=mid:1\r\na=candidate:1 1 UDP 1658497328 198.51.100.33 5000 typ host\r\n";
  auto f = sdp::parse_fragment(frag);
  REQUIRE(f);
  CHECK(f.fragment);
  CHECK(sdp::write(f) == frag);
  const std::string with_v = "v=0\r\n" + frag;
  CHECK(sdp::parse_fragment(with_v).error() == sdp::error::line_out_of_order);
}
