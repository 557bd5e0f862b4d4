// core_bench: UTF-8 validation next to memcpy of the same buffer, in one run.
//
//   build/bench/core_bench --benchmark_counters_tabular=true
//
// Sizes 125 B (a small WebSocket text frame), 16 KiB, 1 MiB; texts: pure
// ASCII, and "mixed" with about 30% of characters multi-byte (2, 3 and 4
// bytes). Every benchmark sets bytes processed, so Google Benchmark prints
// bytes_per_second; the ratio to memcpy is the number that matters.
#include <sigwire/core/utf8.hpp>
#include <sigwire/core/base64.hpp>
#include <sigwire/core/digest.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#ifdef SIGWIRE_HAVE_BEAST
#include <boost/beast/websocket/detail/utf8_checker.hpp>
#endif
#ifdef SIGWIRE_HAVE_SIMDJSON
#include <simdjson.h>
#endif

namespace {

using namespace sigwire::core;

std::string make_text(std::size_t n, bool mixed) {
  std::mt19937 rng(7);
  std::string s;
  s.reserve(n + 4);
  // "mixed": ~30% of characters multi-byte, spread over 2-, 3- and 4-byte forms.
  static const char* const multi[] = {"\xC3\xA9", "\xD0\xB6", "\xE2\x82\xAC", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80"};
  while (s.size() < n) {
    if (mixed && rng() % 10 < 3) {
      const char* m = multi[rng() % 5];
      if (s.size() + std::strlen(m) > n) break;
      s += m;
    } else {
      s.push_back(static_cast<char>('a' + rng() % 26));
    }
  }
  while (s.size() < n) s.push_back('.');
  return s;
}

// memcpy's bytes/s per buffer size, measured first in the same run, so every
// validator can print its throughput as a fraction of the physical limit.
std::map<std::int64_t, double> memcpy_rate;

// Times the benchmark loop itself; Google Benchmark's own timer is not
// readable from inside the function.
struct loop_timer {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

void set_bytes(benchmark::State& state, std::size_t n, const loop_timer& timer, bool is_memcpy = false) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
  const double rate = static_cast<double>(state.iterations()) * static_cast<double>(n) / timer.seconds();
  if (is_memcpy) {
    memcpy_rate[state.range(0)] = rate;
  } else if (auto it = memcpy_rate.find(state.range(0)); it != memcpy_rate.end()) {
    state.counters["x_memcpy"] = rate / it->second;
  }
}

void BM_memcpy(benchmark::State& state) {
  const std::string src = make_text(static_cast<std::size_t>(state.range(0)), false);
  std::vector<char> dst(src.size());
  loop_timer timer;
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, src.size(), timer, true);
}

template <bool Mixed>
void BM_utf8_sigwire(benchmark::State& state) {
  const std::string text = make_text(static_cast<std::size_t>(state.range(0)), Mixed);
  if (!utf8::is_valid(text)) state.SkipWithError("bench text is not valid UTF-8");
  loop_timer timer;
  for (auto _ : state) {
    benchmark::DoNotOptimize(text.data());
    bool ok = utf8::is_valid(text);
    benchmark::DoNotOptimize(ok);
  }
  set_bytes(state, text.size(), timer);
  state.SetLabel(std::string(to_string(detected_simd())));
}

template <bool Mixed>
void BM_utf8_sigwire_incremental(benchmark::State& state) {
  const std::string text = make_text(static_cast<std::size_t>(state.range(0)), Mixed);
  loop_timer timer;
  for (auto _ : state) {
    utf8::validator v;
    auto r = v.feed(text);
    benchmark::DoNotOptimize(r);
  }
  set_bytes(state, text.size(), timer);
}

template <bool Mixed>
void BM_utf8_scalar_reference(benchmark::State& state) {
  const std::string text = make_text(static_cast<std::size_t>(state.range(0)), Mixed);
  loop_timer timer;
  for (auto _ : state) {
    benchmark::DoNotOptimize(text.data());
    bool ok = utf8::is_valid(text, simd_level::scalar);
    benchmark::DoNotOptimize(ok);
  }
  set_bytes(state, text.size(), timer);
}

#ifdef SIGWIRE_HAVE_BEAST
template <bool Mixed>
void BM_utf8_beast(benchmark::State& state) {
  const std::string text = make_text(static_cast<std::size_t>(state.range(0)), Mixed);
  loop_timer timer;
  for (auto _ : state) {
    boost::beast::websocket::detail::utf8_checker c;
    bool ok = c.write(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()) && c.finish();
    benchmark::DoNotOptimize(ok);
  }
  set_bytes(state, text.size(), timer);
}
#endif

#ifdef SIGWIRE_HAVE_SIMDJSON
template <bool Mixed>
void BM_utf8_simdjson(benchmark::State& state) {
  const std::string text = make_text(static_cast<std::size_t>(state.range(0)), Mixed);
  loop_timer timer;
  for (auto _ : state) {
    benchmark::DoNotOptimize(text.data());
    bool ok = simdjson::validate_utf8(text.data(), text.size());
    benchmark::DoNotOptimize(ok);
  }
  set_bytes(state, text.size(), timer);
}
#endif

void sizes(benchmark::internal::Benchmark* b) { b->Arg(125)->Arg(16 << 10)->Arg(1 << 20); }

BENCHMARK(BM_memcpy)->Apply(sizes);
BENCHMARK(BM_utf8_sigwire<false>)->Name("BM_utf8_sigwire/ascii")->Apply(sizes);
BENCHMARK(BM_utf8_sigwire<true>)->Name("BM_utf8_sigwire/mixed")->Apply(sizes);
BENCHMARK(BM_utf8_sigwire_incremental<false>)->Name("BM_utf8_sigwire_incremental/ascii")->Apply(sizes);
BENCHMARK(BM_utf8_sigwire_incremental<true>)->Name("BM_utf8_sigwire_incremental/mixed")->Apply(sizes);
BENCHMARK(BM_utf8_scalar_reference<false>)->Name("BM_utf8_scalar_reference/ascii")->Apply(sizes);
BENCHMARK(BM_utf8_scalar_reference<true>)->Name("BM_utf8_scalar_reference/mixed")->Apply(sizes);
#ifdef SIGWIRE_HAVE_BEAST
BENCHMARK(BM_utf8_beast<false>)->Name("BM_utf8_beast/ascii")->Apply(sizes);
BENCHMARK(BM_utf8_beast<true>)->Name("BM_utf8_beast/mixed")->Apply(sizes);
#endif
#ifdef SIGWIRE_HAVE_SIMDJSON
BENCHMARK(BM_utf8_simdjson<false>)->Name("BM_utf8_simdjson/ascii")->Apply(sizes);
BENCHMARK(BM_utf8_simdjson<true>)->Name("BM_utf8_simdjson/mixed")->Apply(sizes);
#endif

// Each kernel on its own at 16 KiB (the dispatched one is one of these).
void BM_utf8_kernel(benchmark::State& state, simd_level level, bool mixed) {
  const std::string text = make_text(16 << 10, mixed);
  if (!cpu_supports(level)) {
    state.SkipWithError("CPU lacks this instruction set");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(text.data());
    bool ok = utf8::is_valid(text, level);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK_CAPTURE(BM_utf8_kernel, sse2_ascii, simd_level::sse2, false);
BENCHMARK_CAPTURE(BM_utf8_kernel, sse2_mixed, simd_level::sse2, true);
BENCHMARK_CAPTURE(BM_utf8_kernel, avx2_ascii, simd_level::avx2, false);
BENCHMARK_CAPTURE(BM_utf8_kernel, avx2_mixed, simd_level::avx2, true);
BENCHMARK_CAPTURE(BM_utf8_kernel, avx512_ascii, simd_level::avx512, false);
BENCHMARK_CAPTURE(BM_utf8_kernel, avx512_mixed, simd_level::avx512, true);

void BM_sha1_accept_key(benchmark::State& state) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  for (auto _ : state) {
    auto d = sha1(key);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_sha1_accept_key);

void BM_base64_encode_16(benchmark::State& state) {
  const std::array<std::byte, 20> in{};
  char out[32];
  for (auto _ : state) {
    benchmark::DoNotOptimize(base64::encode(in, out));
  }
}
BENCHMARK(BM_base64_encode_16);

}  // namespace

BENCHMARK_MAIN();
