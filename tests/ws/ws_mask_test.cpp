#include <sigwire/ws/mask.hpp>

#include <doctest/doctest.h>

#include <random>
#include <vector>

using namespace sigwire;

TEST_CASE("rfc6455_5_3_mask_is_its_own_inverse_and_matches_the_reference") {
  std::vector<std::byte> data(1000), ref;
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7);
  ref = data;
  const ws::mask_key key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
  ws::mask(data.data(), data.size(), key);
  ws::mask_reference(ref.data(), ref.size(), key);
  CHECK(data == ref);
  ws::mask(data.data(), data.size(), key);
  for (std::size_t i = 0; i < data.size(); ++i) REQUIRE(data[i] == static_cast<std::byte>(i * 7));
}

TEST_CASE("every_simd_kernel_equals_scalar_on_random_sizes_offsets_keys") {
  std::mt19937_64 rng(12345);
  const core::simd_level levels[] = {core::simd_level::scalar, core::simd_level::sse2, core::simd_level::avx2,
                                     core::simd_level::avx512};
  for (int iter = 0; iter < 3000; ++iter) {
    const std::size_t size = iter < 600 ? static_cast<std::size_t>(iter) : rng() % 5000;
    const std::size_t start = rng() % 64;  // unaligned starts
    const std::size_t offset = rng() % 16; // payload position (key phase)
    ws::mask_key key;
    for (auto& k : key) k = static_cast<std::byte>(rng());
    std::vector<std::byte> base(size + start + 64);
    for (auto& b : base) b = static_cast<std::byte>(rng());
    auto ref = base;
    ws::mask_reference(ref.data() + start, size, key, offset);
    for (auto level : levels) {
      if (!core::cpu_supports(level)) continue;
      auto got = base;
      ws::mask(level, got.data() + start, size, key, offset);
      INFO("level " << core::to_string(level) << " size " << size << " start " << start << " offset " << offset);
      REQUIRE(got == ref);  // also proves no byte outside [start, start+size) changed
    }
    std::vector<std::byte> copied(base.size(), std::byte{0x55});
    ws::mask_copy(copied.data() + start, base.data() + start, size, key, offset);
    REQUIRE(std::equal(copied.begin() + static_cast<long>(start), copied.begin() + static_cast<long>(start + size),
                       ref.begin() + static_cast<long>(start)));
    REQUIRE(copied[start + size] == std::byte{0x55});  // nothing written past the end
    auto dispatched = base;
    ws::mask(dispatched.data() + start, size, key, offset);
    REQUIRE(dispatched == ref);
  }
}

TEST_CASE("masking_in_pieces_equals_masking_at_once") {
  std::mt19937 rng(7);
  std::vector<std::byte> whole(4099);
  for (auto& b : whole) b = static_cast<std::byte>(rng());
  auto pieces = whole;
  const ws::mask_key key{std::byte{9}, std::byte{8}, std::byte{7}, std::byte{6}};
  ws::mask_reference(whole.data(), whole.size(), key);
  std::size_t pos = 0;
  while (pos < pieces.size()) {
    const std::size_t n = std::min<std::size_t>(rng() % 300, pieces.size() - pos);
    ws::mask(pieces.data() + pos, n, key, pos);
    pos += n;
  }
  CHECK(pieces == whole);
}
