// sigwire/sip/transaction/core.hpp - the transaction record, the table and
// the timers that the four machines and the layer share.
//
// Transactions live in a slot table (chunks that never move, free list, generation per slot) found
// through open-addressing indexes of slots (transaction key, merge key). All
// deadlines sit in one timer_queue (timer_queue.hpp) with lazy deletion:
// each transaction has two timer slots (retransmit: A/E/G and the 100 Trying
// timers; timeout: B/D/F/H/I/J/K/L/M), each with a stamp; arming or
// cancelling bumps the stamp, so a queued entry whose stamp is old is
// skipped when it surfaces (or dropped when stale entries pile up).
#pragma once

#include <sigwire/core/hash.hpp>
#include <sigwire/core/slot_index.hpp>
#include <sigwire/core/slots.hpp>
#include <sigwire/sip/owned_message.hpp>
#include <sigwire/sip/transaction/event.hpp>
#include <sigwire/sip/transaction/timer_queue.hpp>
#include <sigwire/sip/transaction/timers.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sigwire::sip::transaction {

enum class timer_slot : std::uint8_t { retransmit = 0, timeout = 1 };

struct record {
  transaction::role role = role::client_non_invite;
  transaction::state state = state::terminated;
  bool live = false;
  bool provisional_seen = false;  // client: a 1xx arrived (§9.1); server: the TU sent one
  std::uint32_t generation = 0;
  std::uint32_t slot = 0;               // its own slot in the table (records never move)
  int last_status = 0;
  peer remote{};
  duration interval{0};                 // current A/E/G interval
  std::array<std::uint32_t, 2> timer_stamp{};
  shared_bytes request;                 // client: the request's bytes, re-sent as they are
  shared_bytes resend;                  // server: last response sent; client INVITE: the ACK (§17.1.1.3)
  // One buffer, one allocation: the transaction key, then the merge key
  // (§8.2.2.2; servers only, may be empty), then on a server the request's
  // bytes (kept for its 100 Trying).
  std::string keys;
  std::uint32_t key_size = 0, merge_key_size = 0;
  std::size_t key_hash = 0, merge_hash = 0;

  std::string_view key() const noexcept { return std::string_view(keys).substr(0, key_size); }
  std::string_view merge_key() const noexcept { return std::string_view(keys).substr(key_size, merge_key_size); }
  std::string_view request_bytes() const noexcept {
    return request ? std::string_view(*request) : std::string_view(keys).substr(key_size + merge_key_size);
  }
};

// Transactions in chunks of 256 records (34 KB): see sigwire::core::slot_table.
using record_table = sigwire::core::slot_table<record, 8>;

// A key and its hash, computed once per message.
struct hashed_key {
  std::string_view text;
  std::size_t hash = 0;
};
inline hashed_key hashed(std::string_view key) noexcept { return {key, static_cast<std::size_t>(sigwire::core::hash_text(key))}; }

// The records' index under one of their keys (sigwire::core::slot_index:
// 8 bytes per entry, the key stays in its record, Key, with its hash in Hash).
template <std::string_view (record::*Key)() const noexcept, std::size_t record::*Hash>
class slot_index {
 public:
  static constexpr std::uint32_t none = sigwire::core::slot_index::none;
  static std::size_t hash(std::string_view k) noexcept { return hashed(k).hash; }

  std::uint32_t find(const record_table& records, std::string_view key, std::size_t h) const noexcept {
    return index_.find(bits(h), [&](std::uint32_t slot) { return (records[slot].*Key)() == key; });
  }
  void insert(const record_table& records, std::uint32_t slot) { index_.insert(slot, bits(records[slot].*Hash)); }
  void erase(const record_table& records, std::uint32_t slot) noexcept {
    index_.erase(slot, bits(records[slot].*Hash));
  }

 private:
  static std::uint32_t bits(std::size_t h) noexcept { return static_cast<std::uint32_t>(h); }
  sigwire::core::slot_index index_;
};

class core {
 public:
  explicit core(timer_config timers = {}, std::size_t max_transactions = 1'000'000)
      : config_(timers), max_transactions_(max_transactions) {}

  // --- for the machines ---------------------------------------------------
  instant now() const noexcept { return now_; }
  timer_values values(const record& r) const noexcept { return {config_, r.remote.reliable}; }
  tsx_id id_of(const record& r) const noexcept {
    return {r.slot, r.generation};
  }
  // Events are built in place in the output (no variant moved: cheaper, and
  // it spares GCC 12 a false -Wmaybe-uninitialized).
  void send(const record& r, shared_bytes bytes) {
    out_.emplace_back(std::in_place_type<send_event>, send_event{id_of(r), r.remote, std::move(bytes)});
  }
  template <class E>
  void emit(E&& e) {
    out_.emplace_back(std::in_place_type<std::decay_t<E>>, std::forward<E>(e));
  }

  void arm(record& r, timer_slot s, duration after) {
    drop_stale_timers_if_many();
    const auto which = static_cast<std::size_t>(s);
    const std::uint32_t stamp = ++r.timer_stamp[which];
    timers_.push(now_ + after, {id_of(r).slot, stamp, static_cast<std::uint8_t>(which)});
  }
  void disarm(record& r, timer_slot s) noexcept { ++r.timer_stamp[static_cast<std::size_t>(s)]; }

  void change(record& r, state to, cause c) {
    const state from = r.state;
    r.state = to;
    out_.emplace_back(std::in_place_type<state_event>, state_event{id_of(r), r.role, from, to, c});
  }
  // Terminated: reported, unlinked from the tables, slot freed.
  void terminate(record& r, cause c) {
    change(r, state::terminated, c);
    release(r);
  }

  // Parses the stored request again for the rare paths that need its
  // fields (the ACK of a non-2xx, a CANCEL, an automatic 100) and calls
  // f(const message_view&); records keep bytes only, so a pending
  // transaction costs its bytes, not a parsed view. False if it does not parse.
  template <class F>
  static bool with_request(const record& r, F&& f) {
    parse_options opt;
    opt.transport = r.remote.reliable ? transport_kind::stream : transport_kind::datagram;
    sip::message m;  // with an arena for requests beyond the inline headers
    const std::string_view bytes = r.request_bytes();
    if (bytes.empty() || sip::message::parse(std::string(bytes), m, opt)) return false;
    f(m.view());
    return true;
  }

  // --- table --------------------------------------------------------------
  std::size_t size() const noexcept { return live_; }
  std::size_t max_transactions() const noexcept { return max_transactions_; }
  bool full() const noexcept { return live_ >= max_transactions_; }
  const timer_config& timers() const noexcept { return config_; }

  record* find(tsx_id id) noexcept {
    if (id.slot >= records_.size()) return nullptr;
    record& r = records_[id.slot];
    return r.live && r.generation == id.generation ? &r : nullptr;
  }
  record* find_key(hashed_key key) noexcept {
    if (key.text.empty()) return nullptr;
    const std::uint32_t slot = by_key_.find(records_, key.text, key.hash);
    return slot == key_index::none ? nullptr : &records_[slot];
  }
  record* find_key(std::string_view key) noexcept { return find_key(hashed(key)); }
  record* find_merge(hashed_key key) noexcept {
    if (key.text.empty()) return nullptr;
    const std::uint32_t slot = by_merge_.find(records_, key.text, key.hash);
    return slot == merge_index::none ? nullptr : &records_[slot];
  }

  // A fresh record in state null, linked under the key that starts `keys`
  // (its first key_size bytes, hashed as key_hash); nullptr if the table is
  // full. What follows the key in `keys` is laid out by link_merge and
  // request_bytes().
  record* create(role ro, peer remote, std::string keys, std::size_t key_size, std::size_t key_hash) {
    if (full()) return nullptr;
    const std::uint32_t slot = records_.take();
    record& r = records_[slot];
    r.slot = slot;
    r.role = ro;
    r.state = state::null;
    r.live = true;
    r.provisional_seen = false;
    r.last_status = 0;
    r.remote = remote;
    r.interval = duration{0};
    r.keys = std::move(keys);
    r.key_size = static_cast<std::uint32_t>(key_size);
    r.merge_key_size = 0;
    r.key_hash = key_hash;
    by_key_.insert(records_, slot);
    ++live_;
    return &r;
  }
  // Links `r` under its merge key: the `size` bytes after its key in
  // r.keys, hashed as `hash` (none when size is 0).
  void link_merge(record& r, std::size_t size, std::size_t hash) {
    if (size == 0) return;
    r.merge_key_size = static_cast<std::uint32_t>(size);
    r.merge_hash = hash;
    by_merge_.insert(records_, r.slot);
  }

  // --- timers -------------------------------------------------------------
  struct due_timer {
    std::uint32_t slot;
    timer_slot which;
  };
  // Pops the next due, still valid timer at or before `now`.
  //
  // With a million transactions pending, the record of a timer that fires
  // and the bytes it re-sends are cold (a cache miss each): fetched one by
  // one they made an expiry 7x dearer than with 10,000 pending. They are
  // fetched a few expiries ahead, so the misses overlap: the record first
  // (the address of its bytes is in it), its bytes later. (This stays in
  // the body: GCC finds a void function that only prefetches "pure" and
  // drops the call.)
  bool pop_due(instant now, due_timer& due) {
    timer_queue::entry e;
    if (!timers_.pop_due(now, e, stale())) return false;
    if (const timer_queue::entry* later = timers_.upcoming(prefetch_record_ahead)) {
      // Every cache line the record touches: 136 bytes straddle up to four.
      const char* r = reinterpret_cast<const char*>(&records_[later->slot]);
      for (std::size_t line = 0; line < sizeof(record) + 63; line += 64) __builtin_prefetch(r + line);
    }
    if (const timer_queue::entry* soon = timers_.upcoming(prefetch_bytes_ahead)) {
      const record& r = records_[soon->slot];
      // make_shared puts the count beside the string object: one line for both.
      if (r.request) __builtin_prefetch(r.request.get());
      if (r.resend) __builtin_prefetch(r.resend.get());
    }
    due = {e.slot, static_cast<timer_slot>(e.which)};
    return true;
  }
  static constexpr std::size_t prefetch_record_ahead = 16, prefetch_bytes_ahead = 8;
  std::optional<instant> next_deadline() { return timers_.next_deadline(stale()); }
  // Timer entries held, stale ones included.
  std::size_t timer_entries() const noexcept { return timers_.size(); }
  record& at(std::uint32_t slot) noexcept { return records_[slot]; }
  std::uint32_t slot_count() const noexcept { return records_.size(); }

  // --- output -------------------------------------------------------------
  std::vector<event>& events() noexcept { return out_; }

 protected:
  void set_now(instant now) noexcept { now_ = std::max(now_, now); }

 private:
  // An entry is stale once its transaction ended or re-armed or cancelled that timer.
  struct stale_entry {
    const core* self;
    bool operator()(const timer_queue::entry& e) const noexcept {
      const record& r = self->records_[e.slot];
      return !r.live || r.timer_stamp[e.which] != e.stamp;
    }
  };
  stale_entry stale() const noexcept { return {this}; }
  // Disarmed and re-armed timers leave stale entries that wait for their
  // deadline to surface. When they outnumber the valid ones (at most two per
  // live transaction) well beyond that, they are dropped at once, so the
  // queue follows the live transactions and not the rate of transactions
  // ended early (amortised O(1) per arm).
  void drop_stale_timers_if_many() {
    if (timers_.size() >= 4 * live_ + 4096) timers_.drop_stale(stale());
  }
  void release(record& r) {
    by_key_.erase(records_, r.slot);
    if (r.merge_key_size != 0) by_merge_.erase(records_, r.slot);
    disarm(r, timer_slot::retransmit);  // stamps outlive the slot's reuse: old entries stay stale
    disarm(r, timer_slot::timeout);
    r.live = false;
    ++r.generation;
    r.request.reset();
    r.resend.reset();
    std::string().swap(r.keys);
    r.key_size = r.merge_key_size = 0;
    records_.release(r.slot);
    --live_;
  }

  timer_config config_;
  std::size_t max_transactions_;
  instant now_{0};
  record_table records_;
  using key_index = slot_index<&record::key, &record::key_hash>;
  using merge_index = slot_index<&record::merge_key, &record::merge_hash>;
  key_index by_key_;      // §17.1.3 / §17.2.3 keys
  merge_index by_merge_;  // §8.2.2.2 merge keys (requests without a To tag)
  timer_queue timers_;
  std::vector<event> out_;
  std::size_t live_ = 0;
};

}  // namespace sigwire::sip::transaction
