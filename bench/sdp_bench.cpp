// SDP benchmarks: parse, write and negotiate a Chromium audio+video offer
// (captured from Chromium 156 by tests/sdp/chromium_interop.mjs) and a small
// G.711 offer; sofia-sip's SDP parser/printer on the same inputs when
// installed (libsofia-sip-ua-dev, SIGWIRE_HAVE_SOFIA).
//
//   ./build/bench/sdp_bench --benchmark_min_time=1
#include <sigwire/sdp/negotiator.hpp>
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/view.hpp>

#include <benchmark/benchmark.h>

#include <string>

#ifdef SIGWIRE_HAVE_SOFIA
#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>
#endif

namespace sdp = sigwire::sdp;

namespace {

const std::string chromium_av = R"sdp(v=0
o=- 1697693613415447078 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:5sWS
a=ice-pwd:CgCKuE2tVYxQPWm04iiouESD
a=ice-options:trickle
a=fingerprint:sha-256 61:2F:4A:B5:66:36:5B:F7:57:A9:D4:84:5B:A3:50:EB:12:2B:2F:65:57:F4:1B:54:17:C4:8E:04:7C:29:E8:55
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:- cd1c167e-4f88-46f9-b76d-42d0e8521b14
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:2796455779 cname:CYmim1PLsVLox/JA
a=ssrc:2796455779 msid:- cd1c167e-4f88-46f9-b76d-42d0e8521b14
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 101 118 119 120
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:5sWS
a=ice-pwd:CgCKuE2tVYxQPWm04iiouESD
a=ice-options:trickle
a=fingerprint:sha-256 61:2F:4A:B5:66:36:5B:F7:57:A9:D4:84:5B:A3:50:EB:12:2B:2F:65:57:F4:1B:54:17:C4:8E:04:7C:29:E8:55
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendrecv
a=msid:- 59830942-b950-4d43-b103-f54f54cae216
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 transport-cc
a=rtcp-fb:102 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:104 H264/90000
a=rtcp-fb:104 goog-remb
a=rtcp-fb:104 transport-cc
a=rtcp-fb:104 ccm fir
a=rtcp-fb:104 nack
a=rtcp-fb:104 nack pli
a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
a=rtpmap:107 rtx/90000
a=fmtp:107 apt=104
a=rtpmap:108 H264/90000
a=rtcp-fb:108 goog-remb
a=rtcp-fb:108 transport-cc
a=rtcp-fb:108 ccm fir
a=rtcp-fb:108 nack
a=rtcp-fb:108 nack pli
a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:109 rtx/90000
a=fmtp:109 apt=108
a=rtpmap:114 H264/90000
a=rtcp-fb:114 goog-remb
a=rtcp-fb:114 transport-cc
a=rtcp-fb:114 ccm fir
a=rtcp-fb:114 nack
a=rtcp-fb:114 nack pli
a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
a=rtpmap:115 rtx/90000
a=fmtp:115 apt=114
a=rtpmap:116 H264/90000
a=rtcp-fb:116 goog-remb
a=rtcp-fb:116 transport-cc
a=rtcp-fb:116 ccm fir
a=rtcp-fb:116 nack
a=rtcp-fb:116 nack pli
a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
a=rtpmap:117 rtx/90000
a=fmtp:117 apt=116
a=rtpmap:39 H264/90000
a=rtcp-fb:39 goog-remb
a=rtcp-fb:39 transport-cc
a=rtcp-fb:39 ccm fir
a=rtcp-fb:39 nack
a=rtcp-fb:39 nack pli
a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
a=rtpmap:40 rtx/90000
a=fmtp:40 apt=39
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 transport-cc
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:100 VP9/90000
a=rtcp-fb:100 goog-remb
a=rtcp-fb:100 transport-cc
a=rtcp-fb:100 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=fmtp:100 profile-id=2
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:118 red/90000
a=rtpmap:119 rtx/90000
a=fmtp:119 apt=118
a=rtpmap:120 ulpfec/90000
a=ssrc-group:FID 67968531 1344733448
a=ssrc:67968531 cname:CYmim1PLsVLox/JA
a=ssrc:67968531 msid:- 59830942-b950-4d43-b103-f54f54cae216
a=ssrc:1344733448 cname:CYmim1PLsVLox/JA
a=ssrc:1344733448 msid:- 59830942-b950-4d43-b103-f54f54cae216
)sdp";

const std::string g711 = R"sdp(v=0
o=user1 53655765 2353687637 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 6000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
)sdp";

const std::string& input(int which) { return which == 0 ? chromium_av : g711; }
const char* label(int which) { return which == 0 ? "chromium_av" : "g711"; }

void sigwire_parse(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  state.SetLabel(label(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    auto s = sdp::parse(text);
    benchmark::DoNotOptimize(s.media.data());
    if (!s) state.SkipWithError("parse failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(sigwire_parse)->Arg(0)->Arg(1);

void sigwire_parse_no_attribute_checks(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  state.SetLabel(label(static_cast<int>(state.range(0))));
  sdp::parse_options opts;
  opts.check_attributes = false;
  for (auto _ : state) {
    auto s = sdp::parse(text, opts);
    benchmark::DoNotOptimize(s.media.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(sigwire_parse_no_attribute_checks)->Arg(0)->Arg(1);

void sigwire_parse_write(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  state.SetLabel(label(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    auto s = sdp::parse(text);
    std::string out = sdp::write(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(sigwire_parse_write)->Arg(0)->Arg(1);

void sigwire_write_model(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  state.SetLabel(label(static_cast<int>(state.range(0))));
  const auto model = sdp::session::from(sdp::parse(text));
  std::string out;
  for (auto _ : state) {
    out.clear();
    model.write_to(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(sigwire_write_model)->Arg(0)->Arg(1);

sdp::capabilities bench_caps() {
  sdp::capabilities c;
  c.address = "192.0.2.1";
  sdp::media_capability audio;
  audio.type = "audio";
  audio.codecs = {{"opus", 48000, 2, 111, "minptime=10;useinbandfec=1", {"transport-cc"}},
                  {"PCMU", 8000, 1, 0, {}, {}},
                  {"PCMA", 8000, 1, 8, {}, {}},
                  {"telephone-event", 8000, 1, 101, "0-15", {}}};
  sdp::media_capability video;
  video.type = "video";
  video.codecs = {{"VP8", 90000, 1, 96, {}, {"nack", "nack pli"}},
                  {"H264", 90000, 1, 102, "packetization-mode=1;profile-level-id=42e01f", {}},
                  {"rtx", 90000, 1, -1, {}, {}}};
  c.media = {audio, video};
  c.ice = sdp::ice_parameters{"abcd", "abcdefghijklmnopqrstuv", {}, true, false};
  c.dtls = sdp::dtls_parameters{"sha-256", "AB:CD:EF", sdp::setup_role::active};
  return c;
}

void sigwire_negotiate_answer(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  state.SetLabel(label(static_cast<int>(state.range(0))));
  // One capability set shared by every call's negotiator, as a server holds
  // it (negotiator's shared_ptr constructor): never copied per call.
  const auto caps = std::make_shared<const sdp::capabilities>(bench_caps());
  for (auto _ : state) {
    sdp::negotiator n(caps);
    if (n.create_with_remote_offer(text) || n.create_answer() || n.negotiate()) state.SkipWithError("negotiation failed");
    benchmark::DoNotOptimize(n.streams().data());
  }
}
BENCHMARK(sigwire_negotiate_answer)->Arg(0)->Arg(1);

#ifdef SIGWIRE_HAVE_SOFIA
void sofia_parse(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  state.SetLabel(label(static_cast<int>(state.range(0))));
  su_home_t* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
  for (auto _ : state) {
    sdp_parser_t* p = sdp_parse(home, text.data(), static_cast<isize_t>(text.size()), 0);
    sdp_session_t* s = sdp_session(p);
    benchmark::DoNotOptimize(s);
    if (!s) state.SkipWithError(sdp_parsing_error(p));
    sdp_parser_free(p);
  }
  su_home_unref(home);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(sofia_parse)->Arg(0)->Arg(1);

void sofia_parse_print(benchmark::State& state) {
  const std::string& text = input(static_cast<int>(state.range(0)));
  state.SetLabel(label(static_cast<int>(state.range(0))));
  su_home_t* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
  for (auto _ : state) {
    sdp_parser_t* p = sdp_parse(home, text.data(), static_cast<isize_t>(text.size()), 0);
    sdp_printer_t* pr = sdp_print(home, sdp_session(p), nullptr, 0, 0);
    benchmark::DoNotOptimize(sdp_message(pr));
    sdp_printer_free(pr);
    sdp_parser_free(p);
  }
  su_home_unref(home);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(sofia_parse_print)->Arg(0)->Arg(1);
#endif

}  // namespace

BENCHMARK_MAIN();
