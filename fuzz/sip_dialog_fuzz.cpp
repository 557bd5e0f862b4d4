// Two session layers, A and B, wired back to back on a virtual clock (as in
// tests/sip/dialog_script.hpp), driven by the input as a sequence of
// operations: the users' actions on either side (make_call, some through a
// preloaded route as to an outbound proxy, some with header lines of their
// own, allowed or not, answer with
// 180/183/200/486/603, hangup, re-INVITE hold/resume/no offer, UPDATE
// hold/resume, INFO), the network's (deliver, drop, duplicate the next
// message in flight, deliver a mutated copy of it) and the clock's (jumps
// and steps of 0..40 s). Checked: no crash (ASan/UBSan), and once the input
// is consumed, both users hang up every call they know of, every message is
// delivered and the clock runs on (up to 10 minutes: past the 180 s limits
// of an unanswered INVITE): then no call is left in either layer
// (calls() == 0), both transaction layers are empty and no deadline is left;
// and once the layers are destroyed, the heap in use is back where it was
// before they were made (but for the parsed views a thread keeps).
//
// Input: byte 0 is the configuration (bits 0-1 media: none, both, A only,
// B only; bit 2 reliable transport; bit 3 no 100rel; bits 4-5 session
// timers: 1800 s, none, 90 s, 90 s against a Min-SE of 120 s), then
// operations; see `step`. Seeds in corpus/sip_dialog_fuzz encode call flows
// (happy path, CANCEL, lost ACK, busy, re-INVITE, glare, late offer, a
// mutated INVITE ...). With SIP_DIALOG_FUZZ_TRACE=1 each operation is
// printed as it runs; =2 adds every delivered message.
#include <sigwire/sdp/presets.hpp>
#include <sigwire/sip/dialog/session_layer.hpp>

#include <openssl/rand.h>
#include <sanitizer/allocator_interface.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace sip = sigwire::sip;
namespace dlg = sigwire::sip::dialog;
namespace tx = sigwire::sip::transaction;
namespace sdp = sigwire::sdp;

constexpr std::size_t max_steps = 2048;
constexpr std::size_t max_in_flight = 256;
constexpr std::size_t max_calls_made = 8;
constexpr std::int64_t finish_ms = 10 * 60 * 1000;  // the clock runs on this long after the input

bool tracing() {
  static const bool on = std::getenv("SIP_DIALOG_FUZZ_TRACE") != nullptr;
  return on;
}
bool tracing_bytes() {  // SIP_DIALOG_FUZZ_TRACE=2: every delivered message in full
  static const bool on = tracing() && std::getenv("SIP_DIALOG_FUZZ_TRACE")[0] == '2';
  return on;
}
#define TRACE(...)                                    \
  do {                                                \
    if (tracing()) std::fprintf(stderr, __VA_ARGS__); \
  } while (0)

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "sip_dialog_fuzz: %s\n", what);
  std::abort();
}

// sdp::negotiator draws its o= session id (and SDES keys) from
// core::random_u32(), i.e. OpenSSL's RAND_bytes, not from the layer's
// injected random source: message lengths, hence where a mutation lands,
// would change from run to run. A RAND method seeded again for each input
// keeps every input reproducible (the layers' own sources are seeded too).
std::uint64_t rand_state = 1;
int rand_bytes(unsigned char* out, int n) {
  for (int i = 0; i < n; ++i) {
    rand_state = rand_state * 6364136223846793005ULL + 1442695040888963407ULL;
    out[i] = static_cast<unsigned char>(rand_state >> 56);
  }
  return 1;
}
int rand_status() { return 1; }
void install_deterministic_rand() {
  static const RAND_METHOD method{nullptr, rand_bytes, nullptr, nullptr, rand_bytes, rand_status};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // the one hook OpenSSL 3 still has for this
  static const bool installed = RAND_set_rand_method(&method) == 1;
#pragma GCC diagnostic pop
  if (!installed) fail("RAND_set_rand_method failed");
  rand_state = 1;
}

struct input {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t byte() {
    if (!n) return 0;
    --n;
    return *p++;
  }
};

sdp::capabilities audio_capabilities() {  // tests/sip/dialog_script.hpp's
  return sdp::presets::plain_audio("192.0.2.10", 49170, {sdp::presets::pcmu(), sdp::presets::telephone_event()});
}

std::string first_line(std::string_view bytes) {
  return std::string(bytes.substr(0, std::min(bytes.find('\r'), std::size_t{60})));
}

struct ua {
  std::unique_ptr<dlg::session_layer> layer;
  std::vector<dlg::call_id> calls;  // every call this side has had: made, or incoming
  const char* name;
};

struct flight {
  int to;  // 0: A, 1: B
  std::string bytes;
};

class harness {
 public:
  explicit harness(std::uint8_t config) : reliable_((config & 4) != 0) {
    const int media = config & 3;
    const int timers = (config >> 4) & 3;
    for (int i = 0; i < 2; ++i) {
      dlg::session_config cfg;
      const std::string host = i == 0 ? "192.0.2.1" : "192.0.2.2";
      cfg.via = std::string("SIP/2.0/") + (reliable_ ? "TCP " : "UDP ") + host + ":5060";
      cfg.contact = std::string(i == 0 ? "sip:alice@" : "sip:bob@") + host + ":5060";
      if (media == 1 || media == 2 + i) cfg.media = audio_capabilities();
      cfg.use_100rel = (config & 8) == 0;
      // RFC 4028: 1800 s (the default), none asked, 90 s (refreshes within
      // the run), or A asks 90 s and B's Min-SE is 120 s (422 and a retry).
      if (timers == 1) cfg.session_expires = 0;
      if (timers == 2) cfg.session_expires = 90;
      if (timers == 3) {
        cfg.session_expires = i == 0 ? 90 : 1800;
        cfg.min_se = i == 0 ? 90 : 120;
      }
      std::uint64_t seed = i == 0 ? 1000 : 2000;
      ua_[i].layer = std::make_unique<dlg::session_layer>(
          cfg, [seed]() mutable { return seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; });
      ua_[i].name = i == 0 ? "A" : "B";
    }
    TRACE("config media=%s transport=%s 100rel=%s session_expires=%s\n",
          media == 0 ? "no" : media == 1 ? "yes" : media == 2 ? "A" : "B", reliable_ ? "tcp" : "udp",
          (config & 8) ? "no" : "yes",
          timers == 0   ? "1800"
          : timers == 1 ? "0"
          : timers == 2 ? "90"
                        : "90/min_se=120");
  }

  void step(input& in) {
    const std::uint8_t op = in.byte();
    switch (op % 12) {
      case 0: {  // a user makes a call
        const std::uint8_t b = in.byte();
        ua& u = ua_[b & 1];
        if (made_ >= max_calls_made) break;
        ++made_;
        const bool late = (b & 2) != 0;
        const bool proxied = (b & 4) != 0;  // with a preloaded route (an outbound proxy: the other UA plays it)
        static const std::string proxy_route[] = {"<sip:proxy.example.com;lr>"};
        // Header lines of the caller's own, some of them refused (the layer's own, an injected line).
        static const dlg::header_line extra[][1] = {{{"X-Account", "42"}}, {{"CSeq", "9 INVITE"}}, {{"X-A", "1\r\nVia: x"}},
                                                    {{"Subject", ""}}};
        const std::span<const dlg::header_line> headers = (b & 8) ? std::span<const dlg::header_line>(extra[(b >> 4) % 4])
                                                                  : std::span<const dlg::header_line>{};
        const auto r = u.layer->make_call(&u == &ua_[0] ? "sip:bob@192.0.2.2:5060" : "sip:alice@192.0.2.1:5060",
                                          &u == &ua_[0] ? "<sip:alice@example.com>" : "<sip:bob@example.com>",
                                          peer_of(other(u)), now(), late,
                                          {.route = proxied ? std::span<const std::string>(proxy_route) : std::span<const std::string>{},
                                           .headers = headers});
        TRACE("%lld %s call%s%s -> %s\n", ll(clock_), u.name, late ? " late" : "", proxied ? " proxied" : "", r ? "ok" : "failed");
        if (r) u.calls.push_back(r.call);
        break;
      }
      case 1: {  // a user answers
        static constexpr int statuses[] = {180, 183, 200, 486, 603};
        dlg::call_id id;
        ua* u = pick(in, id);
        const int status = statuses[in.byte() % 5];
        if (!u) break;
        const auto e = u->layer->answer(id, status, now());
        TRACE("%lld %s answer#%u %d -> %s\n", ll(clock_), u->name, id.slot, status, std::string(dlg::text(e)).c_str());
        break;
      }
      case 2: {  // a user hangs up
        dlg::call_id id;
        ua* u = pick(in, id);
        if (!u) break;
        // Odd slots hang up as a forked call's losing branch (RFC 3326 Reason on the CANCEL);
        // no input byte is read for it, so the corpus keeps its meaning.
        const auto cause = id.slot & 1 ? dlg::hangup_cause::completed_elsewhere : dlg::hangup_cause::normal;
        const auto e = u->layer->hangup(id, now(), cause);
        TRACE("%lld %s hangup#%u -> %s\n", ll(clock_), u->name, id.slot, std::string(dlg::text(e)).c_str());
        break;
      }
      case 3: {  // a re-INVITE (hold, resume, without an offer) or an UPDATE (hold, resume)
        dlg::call_id id;
        ua* u = pick(in, id);
        const int how = in.byte() % 5;
        if (!u) break;
        std::optional<sdp::direction> d;
        if (how == 0 || how == 3) d = sdp::direction::sendonly;
        if (how == 1 || how == 4) d = sdp::direction::sendrecv;
        const auto e = how < 3 ? u->layer->reinvite(id, now(), d, how != 2) : u->layer->update(id, now(), d);
        static constexpr const char* names[] = {"reinvite hold", "reinvite resume", "reinvite nooffer", "update hold",
                                                "update resume"};
        TRACE("%lld %s %s#%u -> %s\n", ll(clock_), u->name, names[how], id.slot, std::string(dlg::text(e)).c_str());
        break;
      }
      case 4: {  // INFO in the call
        dlg::call_id id;
        ua* u = pick(in, id);
        if (!u) break;
        const auto e = u->layer->send_request(id, sip::method::info, "application/dtmf-relay", "Signal=5\r\n", now());
        TRACE("%lld %s info#%u -> %s\n", ll(clock_), u->name, id.slot, std::string(dlg::text(e)).c_str());
        break;
      }
      case 5: deliver_front(); break;
      case 6:  // the network loses the next message
        if (!in_flight_.empty()) {
          TRACE("%lld drop %s->%s %s\n", ll(clock_), ua_[1 - in_flight_.front().to].name,
                ua_[in_flight_.front().to].name, first_line(in_flight_.front().bytes).c_str());
          in_flight_.pop_front();
        }
        break;
      case 7:  // the network duplicates the next message (the copy arrives last)
        if (!in_flight_.empty() && in_flight_.size() < max_in_flight) {
          TRACE("%lld duplicate %s\n", ll(clock_), first_line(in_flight_.front().bytes).c_str());
          in_flight_.push_back(in_flight_.front());
        }
        break;
      case 8: deliver_mutated(in); break;
      case 9: {  // the clock jumps 0..40 s; one on_timer() (a late event loop)
        const std::int64_t ms = static_cast<std::int64_t>(in.byte() % 201) * 200;
        clock_ += ms;
        TRACE("%lld jump +%lld\n", ll(clock_), ll(ms));
        for (ua& u : ua_) u.layer->on_timer(now());
        break;
      }
      case 10: {  // the clock runs 0..40 s through every deadline on the way
        const std::int64_t ms = static_cast<std::int64_t>(in.byte() % 201) * 200;
        TRACE("%lld advance +%lld\n", ll(clock_), ll(ms));
        advance_to(clock_ + ms);
        break;
      }
      default:  // everything in flight arrives
        TRACE("%lld deliver all\n", ll(clock_));
        deliver_all();
        break;
    }
    collect();
  }

  // The users hang up every call; the network delivers everything; the clock runs on.
  void finish() {
    TRACE("%lld finish\n", ll(clock_));
    static const std::int64_t finish = std::getenv("SIP_DIALOG_FUZZ_FINISH_S")  // for triage: a longer run
                                           ? std::atoll(std::getenv("SIP_DIALOG_FUZZ_FINISH_S")) * 1000
                                           : finish_ms;
    const std::int64_t end = clock_ + finish;
    std::vector<std::pair<dlg::call_id, dlg::call_state>> hung_up[2];
    for (int round = 0;; ++round) {
      if (round > 100'000) fail("finish: no end after 100,000 rounds");
      deliver_all();
      bool any = false;
      for (int i = 0; i < 2; ++i) {  // each call once per state it is in
        ua& u = ua_[i];
        for (const dlg::call_id id : u.calls) {
          const dlg::call_state s = u.layer->state_of(id);
          if (s == dlg::call_state::disconnected) continue;
          auto it = std::find_if(hung_up[i].begin(), hung_up[i].end(), [&](const auto& h) { return h.first == id; });
          if (it != hung_up[i].end() && it->second == s) continue;
          if (it == hung_up[i].end()) it = hung_up[i].insert(hung_up[i].end(), {id, s});
          it->second = s;
          const auto e = u.layer->hangup(id, now());
          TRACE("%lld finish: %s hangup#%u in %s -> %s\n", ll(clock_), u.name, id.slot,
                std::string(dlg::text(s)).c_str(), std::string(dlg::text(e)).c_str());
          any = true;
        }
      }
      if (any) {
        collect();
        continue;
      }
      std::optional<std::int64_t> next;
      for (ua& u : ua_)
        if (const auto d = u.layer->next_deadline()) next = std::min(next.value_or(d->count()), d->count());
      if (!next || clock_ >= end) break;
      clock_ = std::min(std::max(clock_, *next), end);
      for (ua& u : ua_) u.layer->on_timer(now());
      collect();
    }
    bool ok = true;
    for (ua& u : ua_) {
      if (u.layer->calls() != 0 || u.layer->transactions().size() != 0 || u.layer->next_deadline()) ok = false;
    }
    if (ok) return;
    for (ua& u : ua_) {
      const auto d = u.layer->next_deadline();
      std::fprintf(stderr, "%s: calls %zu, transactions %zu, next deadline %lld at %lld ms\n", u.name,
                   u.layer->calls(), u.layer->transactions().size(), d ? ll(d->count()) : -1LL, ll(clock_));
      for (const dlg::call_id id : u.calls)
        if (u.layer->state_of(id) != dlg::call_state::disconnected)
          std::fprintf(stderr, "  call#%u %s last status %d\n", id.slot,
                       std::string(dlg::text(u.layer->state_of(id))).c_str(), u.layer->last_status(id));
    }
    fail("after the finish time (10 minutes) a call or a transaction is left");
  }

 private:
  static long long ll(std::int64_t v) { return static_cast<long long>(v); }
  tx::instant now() const { return tx::instant{clock_}; }
  ua& other(const ua& u) { return &u == &ua_[0] ? ua_[1] : ua_[0]; }
  tx::peer peer_of(const ua& u) const { return {&u == &ua_[0] ? 1u : 2u, reliable_}; }

  // A side and one of its calls (any it ever had: stale handles included).
  ua* pick(input& in, dlg::call_id& id) {
    const std::uint8_t b = in.byte();
    ua& u = ua_[b & 1];
    if (u.calls.empty()) return nullptr;
    id = u.calls[static_cast<std::size_t>(b >> 1) % u.calls.size()];
    return &u;
  }

  void receive(int to, std::string bytes) {
    if (tracing_bytes()) std::fprintf(stderr, "%s\n", bytes.c_str());
    ua& u = ua_[to];
    (void)u.layer->receive(std::move(bytes), peer_of(other(u)), now());
  }

  void deliver_front() {
    if (in_flight_.empty()) return;
    flight f = std::move(in_flight_.front());
    in_flight_.pop_front();
    TRACE("%lld deliver %s->%s %s\n", ll(clock_), ua_[1 - f.to].name, ua_[f.to].name, first_line(f.bytes).c_str());
    receive(f.to, std::move(f.bytes));
  }

  // A copy of the next message, with 1..4 edits (flip, insert, erase,
  // overwrite with a digit), goes to its destination; the original stays in flight.
  void deliver_mutated(input& in) {
    if (in_flight_.empty()) return;
    const flight& f = in_flight_.front();
    std::string bytes = f.bytes;
    const int edits = 1 + in.byte() % 4;
    for (int i = 0; i < edits; ++i) {
      const std::uint8_t kind = in.byte();
      const std::size_t at = bytes.empty() ? 0 : (static_cast<std::size_t>(in.byte()) << 8 | in.byte()) % bytes.size();
      const char v = static_cast<char>(in.byte());
      switch (kind % 4) {
        case 0: if (!bytes.empty()) bytes[at] = static_cast<char>(bytes[at] ^ v); break;
        case 1: bytes.insert(at, 1, v); break;
        case 2: if (!bytes.empty()) bytes.erase(at, 1 + static_cast<std::uint8_t>(v) % 8); break;
        default: if (!bytes.empty()) bytes[at] = static_cast<char>('0' + static_cast<std::uint8_t>(v) % 10); break;
      }
    }
    TRACE("%lld deliver mutated %s->%s %s\n", ll(clock_), ua_[1 - f.to].name, ua_[f.to].name,
          first_line(bytes).c_str());
    receive(f.to, std::move(bytes));
  }

  void deliver_all() {
    for (std::size_t n = 0; !in_flight_.empty(); ++n) {
      if (n > 100'000) fail("the two UAs never went quiet");
      deliver_front();
      collect();
    }
  }

  // Like the script runner's advance: on_timer() at each deadline up to
  // `end`; what is sent on the way stays in flight.
  void advance_to(std::int64_t end) {
    for (int guard = 0;; ++guard) {
      if (guard > 100'000) fail("advance: no progress");
      std::int64_t next = end;
      for (ua& u : ua_)
        if (const auto d = u.layer->next_deadline()) next = std::min(next, std::max(d->count(), clock_));
      clock_ = next;
      for (ua& u : ua_) u.layer->on_timer(now());
      collect();
      if (clock_ >= end) {
        bool due = false;
        for (ua& u : ua_)
          if (const auto d = u.layer->next_deadline()) due = due || d->count() <= clock_;
        if (!due) return;
      }
    }
  }

  // What the layers output: messages into flight, new calls remembered,
  // requests outside a call answered (the user's duty: 481 to a BYE, 200 to OPTIONS, MESSAGE ...).
  void collect() {
    for (bool again = true; again;) {
      again = false;
      for (int i = 0; i < 2; ++i) {
        ua& u = ua_[i];
        u.layer->take_events(events_);
        for (auto& e : events_) {
          if (auto* s = std::get_if<tx::send_event>(&e)) {
            if (s->bytes().empty()) fail("an empty message sent");
            if (in_flight_.size() < max_in_flight) in_flight_.push_back({1 - i, std::string(s->bytes())});
          } else if (auto* c = std::get_if<dlg::incoming_call_event>(&e)) {
            if (c->invite == nullptr || !c->call.valid()) fail("incoming call without INVITE or handle");
            u.calls.push_back(c->call);
            TRACE("%lld %s incoming#%u\n", ll(clock_), u.name, c->call.slot);
          } else if (auto* st = std::get_if<dlg::call_state_event>(&e)) {
            if (st->from == st->to || st->from == dlg::call_state::disconnected || st->to == dlg::call_state::null)
              fail("impossible call state change");
            TRACE("%lld %s state#%u %s -> %s %d\n", ll(clock_), u.name, st->call.slot,
                  std::string(dlg::text(st->from)).c_str(), std::string(dlg::text(st->to)).c_str(), st->last_status);
          } else if (auto* r = std::get_if<dlg::request_event>(&e)) {
            answers_.push_back({i, r->tsx, std::move(r->request)});
          }
        }
        events_.clear();
        for (auto& a : answers_) {  // RFC 3261 §15.1.2: 481 to a BYE for no dialog
          const int status = a.request.method() == sip::method::bye ? 481 : 200;
          (void)ua_[a.side].layer->respond(a.tsx, a.request, status, now());
          again = true;
        }
        answers_.clear();
      }
    }
  }

  struct answer {
    int side;
    tx::tsx_id tsx;
    sip::message request;
  };

  bool reliable_;
  ua ua_[2];
  std::int64_t clock_ = 0;
  std::size_t made_ = 0;
  std::deque<flight> in_flight_;
  std::vector<dlg::session_event> events_;
  std::vector<answer> answers_;
};

}  // namespace

// What may stay allocated after the layers are gone: the parsed views a
// thread keeps for its next messages (sip::message, owned_message.hpp).
constexpr std::size_t kept_views_allowance =
    sip::detail::spare_views::max_kept * (sizeof(sip::message_view) + 64) + 4096;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  install_deterministic_rand();
  const std::size_t heap_at_start = __sanitizer_get_current_allocated_bytes();
  {
    input in{data, size};
    harness h(in.byte());
    for (std::size_t steps = 0; !in.empty() && steps < max_steps; ++steps) h.step(in);
    h.finish();
  }
  // Memory returns to the start: nothing the run allocated outlives the
  // layers, reachable or not (LeakSanitizer sees only the unreachable).
  const std::size_t heap_at_end = __sanitizer_get_current_allocated_bytes();
  if (heap_at_end > heap_at_start + kept_views_allowance) {
    std::fprintf(stderr, "heap in use: %zu bytes at the start, %zu at the end\n", heap_at_start, heap_at_end);
    fail("memory did not return to the start");
  }
  return 0;
}
