// libFuzzer: the frame decoder and connection state machine on arbitrary
// bytes. The first byte picks: bit 0 role (server/client), bit 1 deflate,
// bits 2-3 deflate no-context-takeover, bits 4-6 the feed chunk size, bit 7
// whether to echo messages. Memory must stay within the limits. The same
// bytes then go to a second connection through the zero-copy path
// (payload_window / commit_payload whenever a window is open), which must
// report exactly the same events. Echoed messages are also sent through a
// server-role pair, once copied and once by move (attached from 16 KiB up):
// the bytes on the wire must be the same.
#include <sigwire/ws/connection.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

using namespace sigwire;

namespace {
using seen = std::tuple<ws::event_type, std::string, std::uint16_t, std::error_code>;
void record(std::vector<seen>& out, const ws::event& ev) {
  if (ev) out.emplace_back(ev.type, std::string(ev.data), ev.code, ev.ec);
}
std::vector<seen> zero_copy_events(const ws::connection_options& o, ws::role role, std::string_view in,
                                   std::size_t chunk) {
  ws::connection c(role, o);
  std::vector<seen> events;
  while (!in.empty()) {  // the same pieces as the feed() loop: inflate sees the same input steps
    std::string_view piece = in.substr(0, chunk);
    in.remove_prefix(piece.size());
    while (!piece.empty()) {
      ws::feed_result r;
      if (const auto w = c.payload_window(piece.size()); !w.empty()) {
        std::memcpy(w.data(), piece.data(), w.size());
        r = c.commit_payload(w.size());
        if (r.consumed != w.size()) std::abort();
      } else {
        r = c.feed(piece);
      }
      if (r.consumed == 0 && !r.ev) std::abort();
      piece.remove_prefix(r.consumed);
      record(events, r.ev);
    }
  }
  return events;
}
// Sending by view and by move must put the same bytes on the wire.
void check_owned_send_matches_copy(ws::connection& copied, ws::connection& moved, std::string_view msg) {
  (void)copied.send_binary(msg);
  (void)moved.send_binary(std::string(msg));
  ws::output_batch batch;
  moved.take_output(batch);
  std::string wire;
  batch.for_each_piece([&](std::string_view piece) { wire.append(piece); });
  if (wire != copied.output()) std::abort();
  copied.consume_output(copied.buffered_amount());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t bits = data[0];
  ws::connection_options o;
  o.limits.max_frame_payload = 1 << 16;
  o.limits.max_message_size = 1 << 17;
  o.limits.max_fragments = 1024;
  if (bits & 2) o.deflate = ws::deflate_params{(bits & 4) != 0, (bits & 8) != 0, 15, 15};
  ws::connection c((bits & 1) ? ws::role::client : ws::role::server, o);
  ws::connection copied(ws::role::server, o), moved(ws::role::server, o);
  const std::size_t chunk = std::size_t{1} << ((bits >> 4) & 7) * 2;  // 1, 4, 16 ... 16384
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string_view all = in;
  std::vector<seen> events;
  std::size_t guard = 0;
  while (!in.empty()) {
    std::string_view piece = in.substr(0, chunk);
    in.remove_prefix(piece.size());
    while (!piece.empty()) {
      const auto r = c.feed(piece);
      if (r.consumed > piece.size()) std::abort();
      if (r.consumed == 0 && !r.ev) std::abort();  // no progress without an event: a hang
      piece.remove_prefix(r.consumed);
      record(events, r.ev);
      if (r.ev.type == ws::event_type::text || r.ev.type == ws::event_type::binary) {
        if (r.ev.data.size() > o.limits.max_message_size) std::abort();
        if (r.ev.type == ws::event_type::text && !core::utf8::is_valid(r.ev.data)) std::abort();
        if (bits & 0x80) {
          (void)c.send_binary(r.ev.data);
          check_owned_send_matches_copy(copied, moved, r.ev.data);
        }
      }
      if (r.ev.type == ws::event_type::error && !r.ev.ec) std::abort();
      if (++guard > 10 * size + 100) std::abort();
    }
    c.consume_output(c.buffered_amount());
  }
  if (zero_copy_events(o, (bits & 1) ? ws::role::client : ws::role::server, all, chunk) != events) std::abort();
  return 0;
}
