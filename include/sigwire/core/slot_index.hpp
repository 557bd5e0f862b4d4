// sigwire/core/slot_index.hpp - find a record's slot by a key the record
// itself holds (a transaction key, a dialog's Call-ID and tag).
//
// Open addressing with linear probing, kept at most half full; an entry is
// 8 bytes, the slot and 32 bits of the key's hash, not a hash-map node and a
// second copy of the key. The hash bits spare a probe, a rehash or a
// deletion from reading records it does not want: with a million records
// each record read is a cache miss. Whether a slot's record holds the key
// is the caller's to say (`matches`), so the index never stores keys.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sigwire::core {

class slot_index {
 public:
  static constexpr std::uint32_t none = UINT32_MAX;

  // The slot whose hash bits are `hash_bits` and for which matches(slot) holds; none if none.
  template <class Matches>
  std::uint32_t find(std::uint32_t hash_bits, Matches&& matches) const noexcept {
    if (table_.empty()) return none;
    for (std::size_t i = home(hash_bits);; i = next(i)) {
      const entry e = table_[i];
      if (e.slot == none) return none;
      if (e.hash_bits == hash_bits && matches(e.slot)) return e.slot;
    }
  }

  void insert(std::uint32_t slot, std::uint32_t hash_bits) {
    if (2 * (used_ + 1) > table_.size()) {
      std::vector<entry> old(std::max<std::size_t>(16, 2 * table_.size()));
      old.swap(table_);
      for (const entry e : old)
        if (e.slot != none) place(e);
    }
    place({slot, hash_bits});
    ++used_;
  }

  // Removes `slot`, inserted with `hash_bits`; does nothing if it is absent.
  // Backward-shift deletion: entries behind the hole that probed past it move up.
  void erase(std::uint32_t slot, std::uint32_t hash_bits) noexcept {
    if (table_.empty()) return;
    std::size_t i = home(hash_bits);
    for (;; i = next(i)) {
      if (table_[i].slot == none) return;
      if (table_[i].slot == slot) break;
    }
    for (std::size_t j = next(i); table_[j].slot != none; j = next(j)) {
      const std::size_t h = home(table_[j].hash_bits);
      // table_[j] may fill the hole at i unless its home lies cyclically in (i, j].
      const bool home_after_hole = i <= j ? (h > i && h <= j) : (h > i || h <= j);
      if (home_after_hole) continue;
      table_[i] = table_[j];
      i = j;
    }
    table_[i] = entry{};
    --used_;
  }

  std::size_t size() const noexcept { return used_; }

 private:
  struct entry {
    std::uint32_t slot = none;
    std::uint32_t hash_bits = 0;
  };
  // Tables hold at most 2^31 entries (slots are 32-bit), so 32 hash bits place them.
  std::size_t home(std::uint32_t bits) const noexcept { return bits & mask(); }
  std::size_t next(std::size_t i) const noexcept { return (i + 1) & mask(); }
  std::size_t mask() const noexcept { return table_.size() - 1; }
  void place(entry e) noexcept {
    std::size_t i = home(e.hash_bits);
    while (table_[i].slot != none) i = next(i);
    table_[i] = e;
  }

  std::vector<entry> table_;
  std::size_t used_ = 0;
};

}  // namespace sigwire::core
