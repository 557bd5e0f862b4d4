#include <sigwire/core/slots.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

using sigwire::core::slot_table;

TEST_CASE("slot_table: slots are numbered in order, records never move while the table grows") {
  slot_table<std::string, 2> t;  // chunks of 4
  CHECK(t.size() == 0);
  std::vector<std::string*> addresses;
  for (std::uint32_t n = 0; n < 37; ++n) {
    const std::uint32_t slot = t.take();
    CHECK(slot == n);
    CHECK(t[slot].empty());  // a never-used slot is a default record
    t[slot] = "record " + std::to_string(slot);
    addresses.push_back(&t[slot]);
  }
  CHECK(t.size() == 37);
  for (std::uint32_t s = 0; s < 37; ++s) {
    CHECK(&t[s] == addresses[s]);
    CHECK(t[s] == "record " + std::to_string(s));
  }
  const auto& ct = t;
  CHECK(&ct[36] == addresses[36]);
}

TEST_CASE("slot_table: a released slot is reused, the last released first, before the table grows") {
  slot_table<int, 3> t;
  for (int n = 0; n < 10; ++n) t[t.take()] = n;
  t.release(3);
  t.release(7);
  CHECK(t.free_slots() == 2);
  CHECK(t.take() == 7);
  CHECK(t[7] == 7);  // the record stays as its last user left it
  CHECK(t.take() == 3);
  CHECK(t.free_slots() == 0);
  CHECK(t.take() == 10);
  CHECK(t.size() == 11);
}

TEST_CASE("slot_table: taken slots are distinct under random take and release") {
  slot_table<int, 4> t;
  std::set<std::uint32_t> in_use;
  std::uint32_t state = 12345;
  for (int op = 0; op < 20'000; ++op) {
    state = state * 1103515245u + 12345u;
    if ((state >> 16) % 3 != 0 || in_use.empty()) {
      const std::uint32_t s = t.take();
      REQUIRE(in_use.insert(s).second);
      REQUIRE(s < t.size());
    } else {
      auto it = in_use.begin();
      std::advance(it, static_cast<long>((state >> 8) % in_use.size()));
      t.release(*it);
      in_use.erase(it);
    }
  }
  CHECK(t.size() == in_use.size() + t.free_slots());  // never grows while a slot is free
}
