// sigwire/core/slots.hpp - the free list behind the stateful tables
// (transactions, calls, transport flows): a slot index is reused after it is
// released, so a table never grows beyond its peak; records stay in one
// vector. Generations, which make a stale handle harmless, live in the records.
#pragma once

#include <cstdint>
#include <vector>

namespace sigwire::core {

// A free slot of `records` (appending a default record when none is free).
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

}  // namespace sigwire::core
