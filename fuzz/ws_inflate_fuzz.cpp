// libFuzzer: permessage-deflate inflation of arbitrary data with a limit.
// The first byte: bits 0-2 window bits (8-15), bit 3 no context takeover,
// bits 4-7 how many pieces the input is split into (several messages).
#include <sigwire/ws/deflate.hpp>

#include <cstdint>
#include <cstdlib>

using namespace sigwire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t bits = data[0];
  constexpr std::size_t limit = 1 << 16;
  ws::inflater inf(8 + (bits & 7), (bits & 8) != 0, true);
  const std::size_t messages = 1 + (bits >> 4);
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  const std::size_t per = in.size() / messages + 1;
  std::string out;
  while (!in.empty()) {
    const auto piece = in.subspan(0, std::min(per, in.size()));
    in = in.subspan(piece.size());
    out.clear();
    auto ec = inf.feed(piece, out, limit);
    if (!ec) ec = inf.finish(out, limit);
    if (out.size() > limit + 1) std::abort();
    if (ec) return 0;
  }
  // Round trip: what we compress must inflate back.
  ws::deflater def(9 + (bits & 7) % 7, 8, 6, (bits & 8) != 0, true);
  ws::inflater back(15, false, true);
  std::string z, again;
  if (def.compress(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), z)) std::abort();
  if (back.feed(std::as_bytes(std::span(z.data(), z.size())), again, size + 1)) std::abort();
  if (back.finish(again, size + 1)) std::abort();
  if (again != std::string_view(reinterpret_cast<const char*>(data), size)) std::abort();
  return 0;
}
