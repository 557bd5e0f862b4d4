// The transaction layer (include/sigwire/sip/transaction/), measured the way
// PJSIP's pjsip/src/test/tsx_bench.c measures pjsip_tsx_create_uac/_uas:
// working sets of 10,000 transactions created from a prepared request (UAC)
// and from a received INVITE (UAS), reported as transactions per second.
// PJSIP 2.17-dev at maximum speed on this machine type: 62,000 UAC/s and
// 113,000 UAS/s (16 us and 8.9 us each), ~3.8 KB per transaction.
//
// Plus: a whole non-INVITE server transaction (received, answered,
// terminated by Timer J on the virtual clock), Timer E expiries with
// 1,000,000 pending (in one burst, and spread over the clock as a server
// meets them), the cost of on_timer() when nothing is due, creation
// with 1,000,000 already pending, and the heap held per pending transaction.
//
//   build/gcc/bench/sip_transaction_bench --benchmark_repetitions=4
#include <sigwire/sip/transaction/layer.hpp>

#include <benchmark/benchmark.h>

#include <malloc.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace sip = sigwire::sip;
namespace tx = sigwire::sip::transaction;
using namespace std::chrono_literals;

// The INVITE of RFC 3261 §24.2 (F1 of RFC 3665), branch left open.
std::string invite_with_branch(std::uint64_t n, std::string_view method = "INVITE") {
  const std::string b = std::to_string(n);
  std::string m;
  m.reserve(520);
  m.append(method).append(" sip:bob@biloxi.example.com SIP/2.0\r\n");
  m.append("Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9").append(b).append("\r\n");
  m.append("Max-Forwards: 70\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n");
  m.append("To: Bob <sip:bob@biloxi.example.com>\r\nCall-ID: 38482762982").append(b).append("@atlanta.example.com\r\n");
  m.append("CSeq: 1 ").append(method).append("\r\nContact: <sip:alice@client.atlanta.example.com;transport=udp>\r\n");
  m.append("Content-Type: application/sdp\r\nContent-Length: 0\r\n\r\n");
  return m;
}

tx::layer make_layer(std::size_t max = 2'000'000) {
  tx::layer_config c;
  c.max_transactions = max;
  return tx::layer(c, [n = std::uint64_t{0}]() mutable { return ++n; });
}

const tx::peer udp{1, false};
constexpr std::size_t working_set = 10'000;

std::vector<sip::message> parsed(std::size_t n, std::uint64_t first, std::string_view method = "INVITE") {
  std::vector<sip::message> v(n);
  for (std::size_t i = 0; i < n; ++i) (void)sip::message::parse(invite_with_branch(first + i, method), v[i]);
  return v;
}

// A layer kept across iterations, as a server keeps one: between timed
// batches the clock runs past every timer (untimed), so each batch starts
// from an empty table whose memory is warm.
struct warm_layer {
  tx::layer l = make_layer();
  std::vector<tx::event> events;
  std::int64_t clock = 0;
  tx::instant now() const { return tx::instant{clock}; }
  void drain() { l.take_events(events); }
  void end_all() {
    clock += 200'000;
    l.on_timer(now());
    drain();
  }
};

// pjsip_tsx_create_uac: from a prepared request (parsed, with its branch),
// the transaction is created and the request sent (a send event is made).
// PJSIP's figure has no parse in it either.
void BM_uac_create(benchmark::State& state) {
  warm_layer w;
  std::uint64_t serial = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto requests = parsed(working_set, serial += working_set);
    state.ResumeTiming();
    for (auto& m : requests) benchmark::DoNotOptimize(w.l.send_request(std::move(m), udp, w.now()));
    w.drain();
    state.PauseTiming();
    w.end_all();
    if (w.l.size() != 0) state.SkipWithError("transactions left");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * working_set));
}
BENCHMARK(BM_uac_create)->Unit(benchmark::kMillisecond);

// The same with the request's text built and parsed inside the timing.
void BM_uac_create_from_text(benchmark::State& state) {
  warm_layer w;
  const std::string prepared = invite_with_branch(0);
  const auto branch_at = prepared.find("z9hG4bK74bf9") + 12;
  std::uint64_t serial = 0;
  for (auto _ : state) {
    state.PauseTiming();
    state.ResumeTiming();
    for (std::size_t i = 0; i < working_set; ++i) {
      std::string bytes = prepared;
      bytes.insert(branch_at, std::to_string(++serial));
      sip::message m;
      (void)sip::message::parse(std::move(bytes), m);
      benchmark::DoNotOptimize(w.l.send_request(std::move(m), udp, w.now()));
    }
    w.drain();
    state.PauseTiming();
    w.end_all();
    if (w.l.size() != 0) state.SkipWithError("transactions left");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * working_set));
}
BENCHMARK(BM_uac_create_from_text)->Unit(benchmark::kMillisecond);

// pjsip_tsx_create_uas: a received, parsed INVITE becomes a server
// transaction and a request event for the TU (PJSIP's rdata is parsed too).
void BM_uas_create(benchmark::State& state) {
  warm_layer w;
  for (auto _ : state) {
    state.PauseTiming();
    auto requests = parsed(working_set, 0);
    state.ResumeTiming();
    for (auto& m : requests) benchmark::DoNotOptimize(w.l.receive(std::move(m), udp, w.now()));
    w.drain();
    state.PauseTiming();
    w.end_all();
    if (w.l.size() != 0) state.SkipWithError("transactions left");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * working_set));
}
BENCHMARK(BM_uas_create)->Unit(benchmark::kMillisecond);

// The same from the datagram's bytes (the parse inside the timing).
void BM_uas_create_from_bytes(benchmark::State& state) {
  warm_layer w;
  std::vector<std::string> datagrams;
  for (std::size_t i = 0; i < working_set; ++i) datagrams.push_back(invite_with_branch(i));
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> copies = datagrams;
    state.ResumeTiming();
    for (auto& d : copies) benchmark::DoNotOptimize(w.l.receive(std::move(d), udp, w.now()));
    w.drain();
    state.PauseTiming();
    w.end_all();
    if (w.l.size() != 0) state.SkipWithError("transactions left");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * working_set));
}
BENCHMARK(BM_uas_create_from_bytes)->Unit(benchmark::kMillisecond);

// One non-INVITE server transaction from start to end: the request is
// received, the TU answers 200, Timer J (64*T1 over UDP) ends it.
void BM_non_invite_server_whole(benchmark::State& state) {
  auto l = make_layer();
  const std::string ok =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9x\r\n"
      "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\nTo: Bob <sip:bob@biloxi.example.com>;tag=1\r\n"
      "Call-ID: 3848276298220188511@atlanta.example.com\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  std::vector<std::string> datagrams;
  for (std::size_t i = 0; i < working_set; ++i) datagrams.push_back(invite_with_branch(i, "OPTIONS"));
  std::int64_t clock = 0;
  std::vector<tx::event> events;  // drained into a reused vector, as a server does
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> copies = datagrams;
    state.ResumeTiming();
    const tx::instant now{clock};
    for (auto& d : copies) (void)l.receive(std::move(d), udp, now);
    l.take_events(events);
    for (auto& e : events)
      if (auto* r = std::get_if<tx::request_event>(&e)) (void)l.send_response(r->id, ok, now);
    clock += 64 * 500;
    l.on_timer(tx::instant{clock});  // Timer J
    l.take_events(events);
    benchmark::DoNotOptimize(events.data());
    if (l.size() != 0) state.SkipWithError("transactions left after Timer J");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * working_set));
}
BENCHMARK(BM_non_invite_server_whole)->Unit(benchmark::kMillisecond);

// A layer with `n` pending non-INVITE client transactions over UDP (Timer E
// due at 500 ms, F at 32 s), and the heap it took per transaction beyond
// the stored request.
struct pending_layer {
  tx::layer l = make_layer();
  double bytes_per_tsx = 0, request_bytes_per_tsx = 0;

  // The transactions start at 0 ms, or spread evenly over `spread`.
  // Heap in use, mmapped blocks included: the large tables (a million
  // records) live in blocks of their own, which uordblks alone leaves out.
  static std::size_t heap_in_use() {
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
  }

  explicit pending_layer(std::size_t n, std::chrono::milliseconds spread = 0ms) {
    const std::size_t before = heap_in_use();
    std::size_t request_bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sip::message m;
      (void)sip::message::parse(invite_with_branch(i, "OPTIONS"), m);
      request_bytes += m.bytes().size() + 1;
      (void)l.send_request(std::move(m), udp, spread * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(n));
    }
    (void)l.take_events();
    const std::size_t after = heap_in_use();
    request_bytes_per_tsx = static_cast<double>(request_bytes) / static_cast<double>(n);
    bytes_per_tsx = static_cast<double>(after - before) / static_cast<double>(n) - request_bytes_per_tsx;
  }
};

// on_timer() with `n` pending and nothing due.
void BM_on_timer_nothing_due(benchmark::State& state) {
  pending_layer p(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    p.l.on_timer(100ms);
    benchmark::DoNotOptimize(p.l.next_deadline());
  }
  state.counters["heap_B_per_tsx_beyond_request"] = p.bytes_per_tsx;
  state.counters["request_B_per_tsx"] = p.request_bytes_per_tsx;
}
BENCHMARK(BM_on_timer_nothing_due)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kNanosecond);

// Timer E fires for every pending transaction at once (a burst: all were
// started at 0 ms): each expiry re-sends the request (a send event with its
// bytes) and re-arms E. The first two rounds (500 ms, 1.5 s) are untimed, so
// the timer queue, the table and both drained event vectors (swapped back
// and forth) have the capacity they keep; each timed iteration is the next
// round (3.5 s, 7.5 s, 11.5 s). The first round's own cost, which grows the
// vectors from nothing (page faults included), is reported as
// first_round_ns_per_expiry. With 1,000,000 pending a round writes 160 MB
// of events: this one measures memory bandwidth as much as the layer.
void BM_timer_e_expiries(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  pending_layer p(n);
  std::vector<tx::event> events;
  const auto first_started = std::chrono::steady_clock::now();
  p.l.on_timer(500ms);
  p.l.take_events(events);
  const std::chrono::duration<double, std::nano> first_round = std::chrono::steady_clock::now() - first_started;
  p.l.on_timer(1500ms);
  p.l.take_events(events);
  std::chrono::milliseconds next = 1500ms, interval = 2000ms;
  for (auto _ : state) {
    next += interval;
    interval = std::min<std::chrono::milliseconds>(2 * interval, 4000ms);
    p.l.on_timer(next);
    p.l.take_events(events);
    if (events.size() != n) state.SkipWithError("not one retransmission per transaction");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["first_round_ns_per_expiry"] = first_round.count() / static_cast<double>(n);
}
BENCHMARK(BM_timer_e_expiries)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(3);

// Timer E expiries as a server meets them: transactions started over 4 s
// (so in the T2 phase their deadlines cover the clock evenly), the clock
// advanced in steps that each fire about 250 expiries (100 ms steps with
// 10,000 pending, 1 ms with 1,000,000: the same batch at both sizes), the
// events drained after each step. One iteration is one 4 s cycle of T2, in
// which every transaction fires once; timing starts at 11.5 s, when every
// transaction is in the T2 phase, and ends before Timer F (32 s).
void BM_timer_e_expiries_spread(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  pending_layer p(n, 4000ms);
  const std::chrono::milliseconds step{std::max<std::int64_t>(1, 1'000'000 / static_cast<std::int64_t>(n))};
  std::vector<tx::event> events;
  std::chrono::milliseconds now = 0ms;
  std::size_t expiries = 0;
  const auto advance_to = [&](std::chrono::milliseconds until) {
    while (now < until) {
      now += step;
      p.l.on_timer(now);
      p.l.take_events(events);
      expiries += events.size();
    }
  };
  advance_to(11'500ms);
  expiries = 0;
  for (auto _ : state) advance_to(now + 4000ms);
  if (expiries != state.iterations() * n) state.SkipWithError("not one retransmission per transaction per T2 cycle");
  state.SetItemsProcessed(static_cast<std::int64_t>(expiries));
}
BENCHMARK(BM_timer_e_expiries_spread)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(4);

// Creating 10,000 more UAC transactions with `n` already pending: the cost
// per operation should not depend on the table's size.
void BM_uac_create_with_pending(benchmark::State& state) {
  pending_layer p(static_cast<std::size_t>(state.range(0)));
  const std::string prepared = invite_with_branch(0, "OPTIONS");
  const auto branch_at = prepared.find("z9hG4bK74bf9") + 12;
  std::uint64_t serial = 10'000'000;
  std::vector<tx::event> events;  // drained into a reused vector, as a server does
  for (auto _ : state) {
    for (std::size_t i = 0; i < working_set; ++i) {
      std::string bytes = prepared;
      bytes.insert(branch_at, std::to_string(++serial));
      sip::message m;
      (void)sip::message::parse(std::move(bytes), m);
      const auto r = p.l.send_request(std::move(m), udp, 0ms);
      (void)p.l.transport_error(r.id, 0ms);  // end it again: the table stays at n
    }
    p.l.take_events(events);
    benchmark::DoNotOptimize(events.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * working_set));
}
BENCHMARK(BM_uac_create_with_pending)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
