// SIP message parsing: sigwire beside oSIP2, sofia-sip and re on the same
// corpus of typical messages, in the same binary.
//
//   ninja -C build bench/sip_bench && build/bench/sip_bench --benchmark_min_time=1
//
// Counters: items_per_second = messages/s, bytes_per_second = MB/s,
// allocs/msg = operator new calls per message (sigwire paths must be 0).
//
// What each one decodes eagerly (for a fair reading of the numbers):
// - sigwire index:   start line, header index (name/value views), body by Content-Length.
// - sigwire parse:   index + Request-URI + top Via, From, To, Call-ID, CSeq (incl. method
//                    match), Max-Forwards, Content-Length validated and decoded.
// - sigwire routing: parse + every Contact decoded (the routing set: Via, From, To,
//                    Call-ID, CSeq, Contact, Content-Length).
// - sigwire all:     parse + every header with a known grammar decoded (validate_all).
// - oSIP2:           osip_message_parse: every known header decoded into malloc'ed
//                    structures (all Via, From, To, Contact, Route, CSeq, auth...).
// - sofia-sip:       msg_make with the default SIP class: every known header decoded.
// - re:              sip_msg_decode: first Via, To, From, CSeq, Content-Type decoded;
//                    Call-ID, Max-Forwards, Expires, Content-Length cached as views;
//                    all headers indexed in a hash table.
#include <benchmark/benchmark.h>
#include <sigwire/sip.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

// The peers are C libraries whose global names collide (sofia and re both
// declare `struct sip`, sofia defines a `sip_request` macro): each is
// included inside its own namespace, after the system headers they use.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wvolatile"
#pragma GCC diagnostic ignored "-Wdeprecated-volatile"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wzero-length-array"
#pragma GCC diagnostic ignored "-Wgnu-zero-variadic-macro-arguments"
#ifdef SIGWIRE_HAVE_LIBRE
namespace peer_re {
extern "C" {
#include <re.h>
}
#undef true   // re_types.h defines these for C; C++ has the keywords
#undef false
#undef bool
inline bool parse(const char* data, std::size_t size) {
  struct mbuf* mb = mbuf_alloc(size);
  mbuf_write_mem(mb, reinterpret_cast<const uint8_t*>(data), size);
  mbuf_set_pos(mb, 0);
  struct sip_msg* msg = nullptr;
  const bool ok = sip_msg_decode(&msg, mb) == 0;
  mem_deref(msg);
  mem_deref(mb);
  return ok;
}
}  // namespace peer_re
#endif
#ifdef SIGWIRE_HAVE_OSIP
namespace peer_osip {
extern "C" {
#include <osipparser2/osip_parser.h>
}
inline bool parse(const char* data, std::size_t size) {
  static const int init = parser_init();
  (void)init;
  osip_message_t* msg = nullptr;
  osip_message_init(&msg);
  const bool ok = osip_message_parse(msg, data, size) == 0;
  osip_message_free(msg);
  return ok;
}
}  // namespace peer_osip
#endif
#ifdef SIGWIRE_HAVE_SOFIA
namespace peer_sofia {
extern "C" {
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
}
inline bool parse(const char* data, std::size_t size) {
  msg_t* msg = msg_make(sip_default_mclass(), 0, data, static_cast<ssize_t>(size));
  const bool ok = msg != nullptr && sip_object(msg) != nullptr && sip_object(msg)->sip_call_id != nullptr;
  if (msg) msg_destroy(msg);
  return ok;
}
}  // namespace peer_sofia
#endif
#pragma GCC diagnostic pop

// --- allocation counter ------------------------------------------------------
static std::atomic<std::size_t> g_allocs{0};
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
[[gnu::noinline]] void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace sip = sigwire::sip;

namespace {

std::string crlf(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  return out;
}

std::string with_body(std::string head, const std::string& body) {
  const std::string b = crlf(body);
  return crlf(head) + "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
}

const std::string small_sdp = R"(v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.101
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49172 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
)";

std::string webrtc_sdp() {
  std::string s = R"(v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS stream
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1 1 udp 2122260223 192.0.2.10 54321 typ host generation 0
a=candidate:2 1 udp 1686052607 198.51.100.7 54321 typ srflx raddr 192.0.2.10 rport 54321 generation 0
a=ice-ufrag:EsAw
a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
a=ice-options:trickle
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=sendrecv
a=msid:stream audio0
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:1001 cname:4TOk42mSjXCkVIa6
m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 102
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:EsAw
a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F
a=setup:actpass
a=mid:1
a=sendrecv
a=rtcp-mux
a=rtcp-rsize
)";
  for (int pt = 96; pt <= 102; ++pt) {
    s += "a=rtpmap:" + std::to_string(pt) + " VP8/90000\n";
    s += "a=rtcp-fb:" + std::to_string(pt) + " goog-remb\n";
    s += "a=rtcp-fb:" + std::to_string(pt) + " transport-cc\n";
    s += "a=rtcp-fb:" + std::to_string(pt) + " nack\n";
  }
  return s;
}

const std::string dialog = R"(From: "Alice" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: <sip:bob@biloxi.example.com>;tag=8321234356
Call-ID: 3848276298220188511@atlanta.example.com
)";

std::vector<std::string> make_corpus() {
  std::vector<std::string> c;
  // INVITE with a WebRTC SDP over WS (RFC 7118)
  c.push_back(with_body(R"(INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks;rport
Max-Forwards: 70
From: "Alice" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws;ob>
Allow: INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE, OPTIONS, REFER, INFO, NOTIFY
Supported: path, gruu, outbound, ice, replaces
User-Agent: JsSIP 3.10.0
Content-Type: application/sdp
)", webrtc_sdp()));
  // INVITE with a small SDP over UDP
  c.push_back(with_body(R"(INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK74bf9;rport
Max-Forwards: 70
)" + dialog.substr(0, dialog.find("To:")) + R"(To: <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:alice@192.0.2.101:5060>
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS
Content-Type: application/sdp
)", small_sdp));
  const std::string resp_vias = R"(Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK74bf9;rport=5060;received=192.0.2.101
)";
  c.push_back(with_body("SIP/2.0 100 Trying\n" + resp_vias + dialog.substr(0, dialog.find(";tag=8321")) +
                            "\nCall-ID: 3848276298220188511@atlanta.example.com\nCSeq: 1 INVITE\n",
                        ""));
  c.push_back(with_body("SIP/2.0 180 Ringing\n" + resp_vias + dialog +
                            "CSeq: 1 INVITE\nContact: <sip:bob@192.0.2.201:5060>\n",
                        ""));
  c.push_back(with_body("SIP/2.0 200 OK\n" + resp_vias + dialog +
                            "CSeq: 1 INVITE\nContact: <sip:bob@192.0.2.201:5060>\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\n"
                            "Supported: replaces, timer\nContent-Type: application/sdp\n",
                        small_sdp));
  c.push_back(with_body("ACK sip:bob@192.0.2.201:5060 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK74bd5;rport\n"
                        "Max-Forwards: 70\n" + dialog + "CSeq: 1 ACK\n",
                        ""));
  c.push_back(with_body("BYE sip:alice@192.0.2.101:5060 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.201:5060;branch=z9hG4bKnashds7\n"
                        "Max-Forwards: 70\nFrom: <sip:bob@biloxi.example.com>;tag=8321234356\n"
                        "To: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\n"
                        "Call-ID: 3848276298220188511@atlanta.example.com\nCSeq: 1 BYE\n",
                        ""));
  c.push_back(with_body("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.201:5060;branch=z9hG4bKnashds7;received=192.0.2.201\n"
                        "From: <sip:bob@biloxi.example.com>;tag=8321234356\n"
                        "To: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\n"
                        "Call-ID: 3848276298220188511@atlanta.example.com\nCSeq: 1 BYE\n",
                        ""));
  c.push_back(with_body(R"(REGISTER sip:registrar.biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.201:5060;branch=z9hG4bKnashd92;rport
Max-Forwards: 70
From: Bob <sip:bob@biloxi.example.com>;tag=ja743ks76zlflH
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com
CSeq: 2 REGISTER
Contact: <sip:bob@192.0.2.201:5060>;expires=3600
Authorization: Digest username="bob", realm="biloxi.example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", uri="sip:registrar.biloxi.example.com", response="dfe56131d1958046689d83306477ecc0", algorithm=MD5
Expires: 3600
)", ""));
  c.push_back(with_body(R"(SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 192.0.2.201:5060;branch=z9hG4bKnashds7;received=192.0.2.201;rport=5060
From: Bob <sip:bob@biloxi.example.com>;tag=a73kszlfl
To: Bob <sip:bob@biloxi.example.com>;tag=1410948204
Call-ID: 1j9FpLxk3uxtm8tn@biloxi.example.com
CSeq: 1 REGISTER
WWW-Authenticate: Digest realm="biloxi.example.com", qop="auth", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5
)", ""));
  // The mix of a call: weight provisional/final responses and in-dialog requests.
  std::vector<std::string> mixed;
  const int weights[] = {2, 2, 3, 3, 3, 3, 2, 2, 3, 3};
  for (std::size_t i = 0; i < c.size(); ++i)
    for (int k = 0; k < weights[i]; ++k) mixed.push_back(c[i]);
  return mixed;  // 26 messages
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = make_corpus();
  return c;
}

std::size_t corpus_bytes() {
  std::size_t n = 0;
  for (const auto& m : corpus()) n += m.size();
  return n;
}

template <class F>
void run(benchmark::State& state, F&& parse_one) {
  const auto& c = corpus();
  std::size_t failures = 0;
  const std::size_t before = g_allocs.load();
  for (auto _ : state)
    for (const auto& m : c) failures += parse_one(m) ? 0 : 1;
  const std::size_t allocs = g_allocs.load() - before;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus_bytes()));
  state.counters["allocs/msg"] = static_cast<double>(allocs) / static_cast<double>(state.iterations() * c.size());
  if (failures) state.SkipWithError("a corpus message failed to parse");
}

sip::message_view g_view;  // reused: the parse path allocates nothing

void sigwire_index(benchmark::State& state) {
  run(state, [](const std::string& m) -> bool {
    const bool ok = sip::index(m, g_view).complete();
    benchmark::DoNotOptimize(g_view.headers().data());
    return ok;
  });
}
void sigwire_parse(benchmark::State& state) {
  run(state, [](const std::string& m) -> bool {
    const bool ok = sip::parse(m, g_view).complete();
    benchmark::DoNotOptimize(g_view.call_id().data());
    return ok;
  });
}
void sigwire_routing(benchmark::State& state) {
  run(state, [](const std::string& m) -> bool {
    if (!sip::parse(m, g_view).complete()) return false;
    std::size_t hosts = 0;
    const auto r = sip::for_each_contact(g_view, [&](const sip::name_addr& c) { hosts += c.address.host.size(); });
    benchmark::DoNotOptimize(hosts);
    return static_cast<bool>(r);
  });
}
void sigwire_all(benchmark::State& state) {
  run(state, [](const std::string& m) -> bool {
    if (!sip::parse(m, g_view).complete()) return false;
    return static_cast<bool>(sip::validate_all(g_view));
  });
}
BENCHMARK(sigwire_index);
BENCHMARK(sigwire_parse);
BENCHMARK(sigwire_routing);
BENCHMARK(sigwire_all);

#ifdef SIGWIRE_HAVE_OSIP
void osip2_parse(benchmark::State& state) {
  run(state, [](const std::string& m) -> bool { return peer_osip::parse(m.data(), m.size()); });
}
BENCHMARK(osip2_parse);
#endif
#ifdef SIGWIRE_HAVE_SOFIA
void sofia_parse(benchmark::State& state) {
  run(state, [](const std::string& m) -> bool { return peer_sofia::parse(m.data(), m.size()); });
}
BENCHMARK(sofia_parse);
#endif
#ifdef SIGWIRE_HAVE_LIBRE
void re_parse(benchmark::State& state) {
  run(state, [](const std::string& m) -> bool { return peer_re::parse(m.data(), m.size()); });
}
BENCHMARK(re_parse);
#endif

// Building a 200 OK from an INVITE (RFC 3261 §8.2.6) into a reused buffer.
void build_200_from_invite(benchmark::State& state) {
  const std::string& invite = corpus()[2];  // small-SDP INVITE
  sip::message_view req;
  if (!sip::parse(invite, req).complete()) {
    state.SkipWithError("INVITE does not parse");
    return;
  }
  std::array<char, 4096> buf{};
  const std::size_t before = g_allocs.load();
  for (auto _ : state) {
    sip::builder b(buf, small_sdp);
    sip::response_from_request(b, req, 200, "OK", "8321234356");
    b.header(sip::header_id::contact, "<sip:bob@192.0.2.201:5060>");
    b.header(sip::header_id::content_type, "application/sdp");
    auto out = b.finish();
    benchmark::DoNotOptimize(out.value.data());
  }
  state.counters["allocs/op"] =
      static_cast<double>(g_allocs.load() - before) / static_cast<double>(state.iterations());
}
BENCHMARK(build_200_from_invite);

}  // namespace

BENCHMARK_MAIN();
