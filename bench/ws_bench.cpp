// WebSocket layer benchmarks, peers side by side where installed (Beast,
// websocketpp). Run: build/bench/ws_bench --benchmark_min_time=0.2
#include <sigwire/ws.hpp>

#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#ifdef SIGWIRE_HAVE_BEAST
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/detail/mask.hpp>
#include <boost/beast/websocket/detail/utf8_checker.hpp>
#endif
#ifdef SIGWIRE_HAVE_WEBSOCKETPP
#include <websocketpp/frame.hpp>
#endif

using namespace sigwire;

namespace {

const ws::mask_key key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};

std::vector<std::byte> random_buffer(std::size_t n) {
  std::vector<std::byte> v(n);
  std::mt19937 rng(1);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

void size_args(benchmark::internal::Benchmark* b) {
  for (long n : {16L, 125L, 1024L, 16384L, 1L << 20}) b->Arg(n);
}

// --- masking --------------------------------------------------------------------
void BM_mask_sigwire(benchmark::State& st) {
  auto buf = random_buffer(static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) {
    ws::mask(buf.data(), buf.size(), key);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * buf.size()));
  st.SetLabel(std::string(core::to_string(core::detected_simd())));
}
BENCHMARK(BM_mask_sigwire)->Apply(size_args);

void BM_mask_scalar_reference(benchmark::State& st) {
  auto buf = random_buffer(static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) {
    ws::mask_reference(buf.data(), buf.size(), key);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * buf.size()));
}
BENCHMARK(BM_mask_scalar_reference)->Apply(size_args);

void BM_memcpy(benchmark::State& st) {
  auto src = random_buffer(static_cast<std::size_t>(st.range(0)));
  auto dst = src;
  for (auto _ : st) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * src.size()));
}
BENCHMARK(BM_memcpy)->Apply(size_args);

#ifdef SIGWIRE_HAVE_BEAST
void BM_mask_beast(benchmark::State& st) {
  auto buf = random_buffer(static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) {
    boost::beast::websocket::detail::prepared_key k;
    boost::beast::websocket::detail::prepare_key(k, 0x3d21fa37u);
    boost::beast::websocket::detail::mask_inplace(boost::asio::mutable_buffer(buf.data(), buf.size()), k);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * buf.size()));
}
BENCHMARK(BM_mask_beast)->Apply(size_args);
#endif

#ifdef SIGWIRE_HAVE_WEBSOCKETPP
void BM_mask_websocketpp_word(benchmark::State& st) {
  auto buf = random_buffer(static_cast<std::size_t>(st.range(0)));
  websocketpp::frame::masking_key_type k;
  k.i = 0x3d21fa37u;
  for (auto _ : st) {
    websocketpp::frame::word_mask_exact(reinterpret_cast<std::uint8_t*>(buf.data()), buf.size(), k);
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * buf.size()));
}
BENCHMARK(BM_mask_websocketpp_word)->Apply(size_args);
#endif

// --- UTF-8 -----------------------------------------------------------------------
std::string text_16k(bool multibyte) {
  std::string s;
  std::mt19937 rng(5);
  const char* multi[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xd0\x96"};
  while (s.size() < 16384) {
    if (multibyte && rng() % 10 < 3) s += multi[rng() % 4];
    else s += static_cast<char>('a' + rng() % 26);
  }
  while (!core::utf8::is_valid(s)) s.pop_back();
  return s;
}

void BM_utf8_sigwire(benchmark::State& st) {
  const auto s = text_16k(st.range(0) != 0);
  for (auto _ : st) {
    core::utf8::validator v;
    benchmark::DoNotOptimize(v.feed(s));
    benchmark::DoNotOptimize(v.finish());
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * s.size()));
  st.SetLabel(st.range(0) ? "30% multi-byte" : "ASCII");
}
BENCHMARK(BM_utf8_sigwire)->Arg(0)->Arg(1);

#ifdef SIGWIRE_HAVE_BEAST
void BM_utf8_beast(benchmark::State& st) {
  const auto s = text_16k(st.range(0) != 0);
  for (auto _ : st) {
    boost::beast::websocket::detail::utf8_checker c;
    benchmark::DoNotOptimize(c.write(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    benchmark::DoNotOptimize(c.finish());
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * s.size()));
  st.SetLabel(st.range(0) ? "30% multi-byte" : "ASCII");
}
BENCHMARK(BM_utf8_beast)->Arg(0)->Arg(1);
#endif

// --- handshake ---------------------------------------------------------------------
void BM_accept_key(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="));
}
BENCHMARK(BM_accept_key);

const std::string browser_request =
    "GET /ws HTTP/1.1\r\nHost: sip.example.com\r\nConnection: Upgrade\r\nPragma: no-cache\r\n"
    "Cache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0\r\n"
    "Upgrade: websocket\r\nOrigin: https://phone.example.com\r\nSec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nSec-WebSocket-Protocol: sip\r\n\r\n";

void BM_handshake_parse_and_respond(benchmark::State& st) {
  ws::server_options opt;
  opt.subprotocols = {"sip"};
  opt.deflate.enabled = true;
  http::request_head req;
  for (auto _ : st) {
    (void)http::parse_request(browser_request, req);
    auto r = ws::server_accept(req, opt);
    benchmark::DoNotOptimize(r.response.data());
  }
}
BENCHMARK(BM_handshake_parse_and_respond);

// --- frame headers ---------------------------------------------------------------------
void BM_frame_header_decode(benchmark::State& st) {
  ws::frame_header h;
  h.masked = true;
  h.payload_length = static_cast<std::uint64_t>(st.range(0));
  std::byte buf[ws::max_header_size];
  const std::size_t n = ws::encode_header(h, buf);
  for (auto _ : st) {
    ws::frame_header out;
    benchmark::DoNotOptimize(ws::decode_header(std::span<const std::byte>(buf, n), out));
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_frame_header_decode)->Arg(125)->Arg(1000)->Arg(100000);

void BM_frame_header_encode(benchmark::State& st) {
  ws::frame_header h;
  h.masked = true;
  h.payload_length = static_cast<std::uint64_t>(st.range(0));
  std::byte buf[ws::max_header_size];
  for (auto _ : st) {
    benchmark::DoNotOptimize(ws::encode_header(h, buf));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_frame_header_encode)->Arg(125)->Arg(1000)->Arg(100000);

// --- full receive path: decode, unmask, UTF-8, event -----------------------------------
constexpr int frames_per_buffer = 1000;

std::string masked_text_frames(std::size_t payload) {
  ws::connection client(ws::role::client);
  std::string text(payload, 'a');
  for (std::size_t i = 0; i < payload; i += 7) text[i] = 'Z';
  for (int i = 0; i < frames_per_buffer; ++i) (void)client.send_text(text);
  return std::string(client.output());
}

void BM_receive_path_sigwire(benchmark::State& st) {
  const std::string wire = masked_text_frames(static_cast<std::size_t>(st.range(0)));
  ws::connection server(ws::role::server);
  for (auto _ : st) {
    std::string_view in = wire;
    int events = 0;
    while (!in.empty()) {
      auto r = server.feed(in);
      in.remove_prefix(r.consumed);
      events += r.ev.type == ws::event_type::text;
      benchmark::DoNotOptimize(r.ev.data.data());
    }
    if (events != frames_per_buffer) st.SkipWithError("lost frames");
  }
  st.SetItemsProcessed(st.iterations() * frames_per_buffer);
  st.counters["ns_per_frame"] = benchmark::Counter(static_cast<double>(st.iterations() * frames_per_buffer),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert,
                                                   benchmark::Counter::kIs1000);
}
BENCHMARK(BM_receive_path_sigwire)->Arg(16)->Arg(125)->Arg(1024);

#ifdef SIGWIRE_HAVE_BEAST
void BM_receive_path_beast(benchmark::State& st) {
  namespace beast = boost::beast;
  const std::string wire = masked_text_frames(static_cast<std::size_t>(st.range(0)));
  const std::string upgrade =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  boost::asio::io_context ioc;
  beast::flat_buffer buffer;
  for (auto _ : st) {
    st.PauseTiming();
    beast::test::stream ts(ioc), remote(ioc);
    ts.connect(remote);  // somewhere for the 101 to go
    ts.append(upgrade + wire);
    beast::websocket::stream<beast::test::stream&> ws(ts);
    ws.accept();
    st.ResumeTiming();
    for (int i = 0; i < frames_per_buffer; ++i) {
      buffer.clear();
      ws.read(buffer);
      benchmark::DoNotOptimize(buffer.data().data());
    }
  }
  st.SetItemsProcessed(st.iterations() * frames_per_buffer);
  st.counters["ns_per_frame"] = benchmark::Counter(static_cast<double>(st.iterations() * frames_per_buffer),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert,
                                                   benchmark::Counter::kIs1000);
}
BENCHMARK(BM_receive_path_beast)->Arg(16)->Arg(125)->Arg(1024);
#endif

// --- permessage-deflate of a ~1 KB SIP message ---------------------------------------------
const std::string sip_message =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks;rport\r\n"
    "Max-Forwards: 70\r\nTo: <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=9snljd8f\r\n"
    "Call-ID: 3848276298220188511@atlanta.example.com\r\nCSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws;ob>\r\n"
    "Supported: outbound, path, gruu, timer, replaces\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, UPDATE, MESSAGE, OPTIONS, REFER, INFO, NOTIFY\r\n"
    "User-Agent: sigwire-bench/0.1\r\nContent-Type: application/sdp\r\nContent-Length: 320\r\n\r\n"
    "v=0\r\no=alice 2890844526 2890844526 IN IP4 atlanta.example.com\r\ns=-\r\n"
    "c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 UDP/TLS/RTP/SAVPF 111 0 8 101\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\na=rtcp-mux\r\n"
    "a=ice-ufrag:F7gI\r\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\na=setup:actpass\r\n";

void BM_deflate_sip(benchmark::State& st) {
  const bool takeover = st.range(0) != 0;
  ws::deflater d(15, 8, 6, !takeover, true);
  std::string out;
  std::size_t last = 0;
  for (auto _ : st) {
    out.clear();
    (void)d.compress(std::as_bytes(std::span(sip_message.data(), sip_message.size())), out);
    last = out.size();
  }
  st.counters["in_bytes"] = static_cast<double>(sip_message.size());
  st.counters["out_bytes"] = static_cast<double>(last);
  st.counters["ratio_pct"] = 100.0 * static_cast<double>(last) / static_cast<double>(sip_message.size());
  st.SetLabel(takeover ? "context takeover" : "no context takeover");
}
BENCHMARK(BM_deflate_sip)->Arg(1)->Arg(0);

void BM_inflate_sip(benchmark::State& st) {
  const bool takeover = st.range(0) != 0;
  ws::deflater d(15, 8, 6, !takeover, true);
  ws::inflater i(15, !takeover, true);
  std::string z, out;
  for (auto _ : st) {
    st.PauseTiming();
    z.clear();
    (void)d.compress(std::as_bytes(std::span(sip_message.data(), sip_message.size())), z);
    out.clear();
    st.ResumeTiming();
    (void)i.feed(std::as_bytes(std::span(z.data(), z.size())), out, 1 << 20);
    (void)i.finish(out, 1 << 20);
    benchmark::DoNotOptimize(out.data());
  }
  st.SetLabel(takeover ? "context takeover" : "no context takeover");
}
BENCHMARK(BM_inflate_sip)->Arg(1)->Arg(0);

}  // namespace

BENCHMARK_MAIN();
