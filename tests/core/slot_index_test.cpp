#include <sigwire/core/slot_index.hpp>

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

using sigwire::core::slot_index;

namespace {

// Records keyed by a string, hashed into few bits so probe runs collide and wrap.
struct table {
  std::vector<std::string> keys;  // slot -> key ("" = free)
  slot_index index;
  static std::uint32_t hash(const std::string& k) { return static_cast<std::uint32_t>(std::hash<std::string>{}(k) % 7); }
  std::uint32_t find(const std::string& k) const {
    return index.find(hash(k), [&](std::uint32_t s) { return keys[s] == k; });
  }
};

}  // namespace

TEST_CASE("slot_index: insert, find, erase, absent keys") {
  table t;
  t.keys = {"a", "b", "c"};
  for (std::uint32_t s = 0; s < 3; ++s) t.index.insert(s, table::hash(t.keys[s]));
  CHECK(t.index.size() == 3);
  CHECK(t.find("a") == 0);
  CHECK(t.find("c") == 2);
  CHECK(t.find("z") == slot_index::none);
  t.index.erase(1, table::hash("b"));
  CHECK(t.find("b") == slot_index::none);
  CHECK(t.find("a") == 0);
  CHECK(t.find("c") == 2);
  t.index.erase(1, table::hash("b"));  // absent: nothing happens
  CHECK(t.index.size() == 2);
  slot_index empty;
  CHECK(empty.find(3, [](std::uint32_t) { return true; }) == slot_index::none);
  empty.erase(0, 3);
  CHECK(empty.size() == 0);
}

TEST_CASE("slot_index: random inserts and erases agree with a map (colliding hashes, backward shift)") {
  std::mt19937 rng(12345);
  table t;
  std::map<std::string, std::uint32_t> model;
  std::vector<std::uint32_t> free_slots;
  for (int step = 0; step < 20000; ++step) {
    const std::string key = std::to_string(rng() % 300) + "k";
    const auto it = model.find(key);
    if (it == model.end()) {
      std::uint32_t slot;
      if (!free_slots.empty()) {
        slot = free_slots.back();
        free_slots.pop_back();
      } else {
        slot = static_cast<std::uint32_t>(t.keys.size());
        t.keys.emplace_back();
      }
      t.keys[slot] = key;
      t.index.insert(slot, table::hash(key));
      model[key] = slot;
    } else {
      t.index.erase(it->second, table::hash(key));
      t.keys[it->second].clear();
      free_slots.push_back(it->second);
      model.erase(it);
    }
    if (step % 97 == 0) {
      REQUIRE(t.index.size() == model.size());
      for (int k = 0; k < 300; ++k) {
        const std::string probe = std::to_string(k) + "k";
        const auto m = model.find(probe);
        CHECK(t.find(probe) == (m == model.end() ? slot_index::none : m->second));
      }
    }
  }
}
