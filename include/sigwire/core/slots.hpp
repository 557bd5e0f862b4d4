// sigwire/core/slots.hpp - the storage behind the stateful tables
// (transactions, calls, transport flows): records under slot numbers, a
// free list so a released slot is reused, so a table never grows beyond its
// peak. Generations, which make a stale handle harmless, live in the records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace sigwire::core {

// A free slot of `records` (appending a default record when none is free).
// For small tables (transport flows); see slot_table for large ones.
template <class Record>
std::uint32_t take_slot(std::vector<Record>& records, std::vector<std::uint32_t>& free_slots) {
  if (!free_slots.empty()) {
    const std::uint32_t slot = free_slots.back();
    free_slots.pop_back();
    return slot;
  }
  records.emplace_back();
  return static_cast<std::uint32_t>(records.size() - 1);
}

// Records in chunks of 2^ChunkBits, allocated as the table grows. Unlike one
// vector, a record never moves (a reference stays valid while the table
// grows), growing never copies the records there are (a vector of a million
// transactions moved 136 MB at once), and the memory follows the peak to
// within one chunk (a vector that doubles holds up to twice its peak: with
// 10,000 calls, 342 bytes per call of empty call slots).
template <class Record, unsigned ChunkBits>
class slot_table {
 public:
  static constexpr std::uint32_t chunk_size = std::uint32_t{1} << ChunkBits;

  Record& operator[](std::uint32_t slot) noexcept { return chunks_[slot >> ChunkBits][slot & (chunk_size - 1)]; }
  const Record& operator[](std::uint32_t slot) const noexcept {
    return chunks_[slot >> ChunkBits][slot & (chunk_size - 1)];
  }
  // Slots handed out so far, in use or free: every slot below it is valid.
  std::uint32_t size() const noexcept { return size_; }
  std::size_t free_slots() const noexcept { return free_.size(); }

  // A free slot (the last released first: its record is the likeliest in
  // cache), else the next never-used one, a default-constructed record.
  std::uint32_t take() {
    if (!free_.empty()) {
      const std::uint32_t slot = free_.back();
      free_.pop_back();
      return slot;
    }
    if ((size_ >> ChunkBits) == chunks_.size()) chunks_.push_back(std::make_unique<Record[]>(chunk_size));
    return size_++;
  }
  // `slot` is free again; its record stays as the caller left it.
  void release(std::uint32_t slot) { free_.push_back(slot); }

 private:
  std::vector<std::unique_ptr<Record[]>> chunks_;
  std::uint32_t size_ = 0;
  std::vector<std::uint32_t> free_;
};

}  // namespace sigwire::core
