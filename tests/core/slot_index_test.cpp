#include <sigwire/core/hash.hpp>
#include <sigwire/core/slot_index.hpp>

#include <doctest/doctest.h>

#include <algorithm>
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

TEST_CASE("hash_text: keyed, every byte and the length count, and keys spread over buckets") {
  using sigwire::core::hash_text;
  CHECK(hash_text("z9hG4bK776asdhds", 1) == hash_text("z9hG4bK776asdhds", 1));
  CHECK(hash_text("z9hG4bK776asdhds", 1) != hash_text("z9hG4bK776asdhds", 2));
  CHECK(hash_text("a", 1) != hash_text(std::string_view("a\0", 2), 1));  // the length, not only the bytes
  CHECK(hash_text("", 1) != hash_text("", 2));
  CHECK(hash_text("abcdefgh", 1) != hash_text("abcdefgi", 1));        // the last byte of a full word
  CHECK(hash_text("abcdefghi", 1) != hash_text("abcdefghj", 1));      // a tail byte
  CHECK(sigwire::core::hash_seed() == sigwire::core::hash_seed());   // one seed per process
  CHECK(hash_text("x") == hash_text("x", sigwire::core::hash_seed()));

  // 65,536 Call-ID-like keys that differ in one counter into 4,096 buckets
  // by the low 12 bits (what slot_index uses): about 16 each; a weak hash
  // of such keys piles them into few buckets.
  std::vector<int> buckets(4096);
  for (int i = 0; i < 65536; ++i) {
    const std::string key = "a84b4c76e66710-" + std::to_string(i) + "@pc33.atlanta.com";
    ++buckets[hash_text(key, 42) & 4095];
  }
  CHECK(*std::max_element(buckets.begin(), buckets.end()) < 40);
  CHECK(std::count(buckets.begin(), buckets.end(), 0) < 10);
}
