// sigwire/sip/transaction/timer_queue.hpp - the deadlines of every
// transaction timer, grouped by the millisecond they fall due.
//
// Timers are armed in bursts with the same few durations (T1, 64*T1, ...),
// so many share a deadline. Each distinct deadline gets one bucket, a vector
// of entries in the order they were armed; a min-heap orders the buckets by
// deadline, and an open-addressing hash table finds a deadline's bucket when
// a timer is armed (no allocation per deadline: at low rates every timer has
// a deadline of its own, and a node-based map cost an allocation and two
// cache misses for each).
//
//   arm:    append to the deadline's bucket          O(1), O(log buckets) for a new deadline
//   expire: walk the earliest bucket front to back  O(1) per entry, memory read in order
//
// A binary heap of entries (what this replaced) does O(log n) scattered
// reads per expiry: with a million pending transactions an expiry was 8x
// dearer than with ten thousand. Entries in a bucket are read in order, and
// the transactions they name were made at about the same time, so they sit
// near each other too; upcoming() lets the caller prefetch them.
//
// Cancelling is lazy: the caller's `stale(entry)` says whether an entry still
// counts (the transaction keeps a stamp per timer, bumped when the timer is
// re-armed or cancelled), and stale entries are skipped when they surface or
// dropped all at once by drop_stale().
#pragma once

#include <sigwire/sip/transaction/timers.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <bit>
#include <optional>
#include <vector>

namespace sigwire::sip::transaction {

// Deadline (ms) -> bucket index: linear probing in a power-of-two table kept
// at most half full; erase shifts the following entries back (no tombstones).
class deadline_index {
 public:
  static constexpr std::uint32_t none = UINT32_MAX;

  std::uint32_t find(std::int64_t at) const noexcept {
    if (slots_.empty()) return none;
    for (std::size_t i = home(at);; i = next(i)) {
      if (slots_[i].index == none) return none;
      if (slots_[i].at == at) return slots_[i].index;
    }
  }

  // `at` must not be present.
  void insert(std::int64_t at, std::uint32_t index) {
    if (2 * (used_ + 1) > slots_.size()) grow();
    place({at, index});
    ++used_;
  }

  void erase(std::int64_t at) noexcept {
    if (slots_.empty()) return;
    std::size_t hole = home(at);
    for (;; hole = next(hole)) {
      if (slots_[hole].index == none) return;  // not present
      if (slots_[hole].at == at) break;
    }
    // Backward-shift: move up each later entry of the run whose home does
    // not lie cyclically in (hole, i].
    for (std::size_t i = next(hole); slots_[i].index != none; i = next(i)) {
      const std::size_t h = home(slots_[i].at);
      const bool stays = hole < i ? (hole < h && h <= i) : (hole < h || h <= i);
      if (stays) continue;
      slots_[hole] = slots_[i];
      hole = i;
    }
    slots_[hole] = slot{};
    --used_;
    // A table an eighth full shrinks to a quarter full: a burst of deadlines
    // does not keep its memory once it has passed.
    if (slots_.size() > 64 && used_ * 8 < slots_.size()) rehash(std::bit_ceil(std::max<std::size_t>(16, used_ * 4)));
  }

  std::size_t size() const noexcept { return used_; }
  std::size_t slot_count() const noexcept { return slots_.size(); }  // capacity, for tests

 private:
  struct slot {
    std::int64_t at = 0;
    std::uint32_t index = none;
  };

  std::size_t home(std::int64_t at) const noexcept {
    // Fibonacci hashing: consecutive milliseconds spread over the table.
    return static_cast<std::size_t>((static_cast<std::uint64_t>(at) * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  std::size_t next(std::size_t i) const noexcept { return (i + 1) & (slots_.size() - 1); }

  void place(slot s) noexcept {
    std::size_t i = home(s.at);
    while (slots_[i].index != none) i = next(i);
    slots_[i] = s;
  }

  void grow() { rehash(std::max<std::size_t>(16, 2 * slots_.size())); }
  void rehash(std::size_t size) {  // size: a power of two, more than twice used_
    std::vector<slot> old(size);
    old.swap(slots_);
    shift_ = 64 - std::countr_zero(slots_.size());
    for (const slot& s : old)
      if (s.index != none) place(s);
  }

  std::vector<slot> slots_;
  std::size_t used_ = 0;
  int shift_ = 64;
};

class timer_queue {
 public:
  struct entry {
    std::uint32_t slot = 0;   // the transaction
    std::uint32_t stamp = 0;  // its timer's stamp when armed
    std::uint8_t which = 0;   // which of its timers
  };

  void push(instant at, entry e) {
    buckets_[bucket_for(at)].entries.push_back(e);
    ++size_;
  }

  // The earliest deadline that still has an entry for which stale() is false.
  template <class Stale>
  std::optional<instant> next_deadline(Stale&& stale) {
    while (!order_.empty()) {
      bucket& b = buckets_[order_.front().index];
      while (b.next < b.entries.size() && stale(b.entries[b.next])) consume(b);
      if (b.next < b.entries.size()) return b.at;
      retire_earliest();
    }
    return std::nullopt;
  }

  // Takes the next entry due at or before `now` for which stale() is false,
  // earliest deadline first, in the order armed within one deadline. An entry
  // pushed meanwhile for a deadline at or before `now` is taken too.
  template <class Stale>
  bool pop_due(instant now, entry& out, Stale&& stale) {
    while (!order_.empty()) {
      if (order_.front().at > now) return false;  // the heap holds the deadline: no bucket read
      bucket& b = buckets_[order_.front().index];
      while (b.next < b.entries.size()) {
        out = b.entries[b.next];
        consume(b);
        if (!stale(out)) return true;
      }
      retire_earliest();
    }
    return false;
  }

  // The entry `ahead` places after the next one in the earliest bucket, if
  // there is one (stale or not): what pop_due() will likely hand out soon, so
  // the caller can fetch its memory early.
  const entry* upcoming(std::size_t ahead) const noexcept {
    if (order_.empty()) return nullptr;
    const bucket& b = buckets_[order_.front().index];
    return b.next + ahead < b.entries.size() ? &b.entries[b.next + ahead] : nullptr;
  }

  // Drops every stale entry (and the buckets left empty).
  template <class Stale>
  void drop_stale(Stale&& stale) {
    size_ = 0;
    for (std::size_t i = 0; i < order_.size();) {
      bucket& b = buckets_[order_[i].index];
      auto& v = b.entries;
      v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(b.next));
      std::erase_if(v, [&](const entry& e) { return stale(e); });
      b.next = 0;
      size_ += v.size();
      if (!v.empty()) {
        ++i;
        continue;
      }
      free_bucket(order_[i].index);
      order_[i] = order_.back();
      order_.pop_back();
    }
    std::make_heap(order_.begin(), order_.end(), later);
  }

  // Entries held, stale ones included.
  std::size_t size() const noexcept { return size_; }

 private:
  struct bucket {
    instant at{0};
    std::vector<entry> entries;
    std::size_t next = 0;  // entries before it are taken
  };
  struct deadline {
    instant at;
    std::uint32_t index;  // into buckets_
  };
  static bool later(const deadline& a, const deadline& b) noexcept { return a.at > b.at; }
  static constexpr std::uint32_t none = UINT32_MAX;

  void consume(bucket& b) noexcept {
    ++b.next;
    --size_;
  }

  // The few deadlines armed last are remembered: a burst of transactions
  // arms the same two or three deadlines over and over.
  std::uint32_t bucket_for(instant at) {
    for (const recent_deadline& r : recent_)
      if (r.index != none && r.at == at) return r.index;
    std::uint32_t index = by_deadline_.find(at.count());
    if (index == none) {
      index = new_bucket(at);
      by_deadline_.insert(at.count(), index);
      order_.push_back({at, index});
      std::push_heap(order_.begin(), order_.end(), later);
    }
    recent_[recent_next_] = {at, index};
    recent_next_ = (recent_next_ + 1) % recent_.size();
    return index;
  }

  std::uint32_t new_bucket(instant at) {
    std::uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<std::uint32_t>(buckets_.size());
      buckets_.emplace_back();
    }
    buckets_[index].at = at;
    return index;
  }

  void retire_earliest() {
    const std::uint32_t index = order_.front().index;
    std::pop_heap(order_.begin(), order_.end(), later);
    order_.pop_back();
    free_bucket(index);
  }

  // A bucket kept for reuse keeps a modest capacity, not a burst's, and
  // only the first spare_with_storage spare buckets keep any: at low rates
  // every timer has a bucket of its own, and a pool of them all would hold
  // the peak's memory for good.
  static constexpr std::size_t spare_with_storage = 1024;
  void free_bucket(std::uint32_t index) {
    bucket& b = buckets_[index];
    by_deadline_.erase(b.at.count());
    for (auto& r : recent_)
      if (r.index == index) r.index = none;
    size_ -= b.entries.size() - b.next;
    b.next = 0;
    b.entries.clear();
    if (b.entries.capacity() > 4096 || free_.size() >= spare_with_storage) std::vector<entry>().swap(b.entries);
    free_.push_back(index);
  }

  std::vector<bucket> buckets_;
  std::vector<std::uint32_t> free_;  // buckets_ not in use
  std::vector<deadline> order_;      // min-heap of the buckets in use
  deadline_index by_deadline_;
  struct recent_deadline {
    instant at{0};
    std::uint32_t index = none;
  };
  std::array<recent_deadline, 4> recent_{};
  std::size_t recent_next_ = 0;
  std::size_t size_ = 0;
};

}  // namespace sigwire::sip::transaction
