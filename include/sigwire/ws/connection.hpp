// sigwire/ws/connection.hpp - the WebSocket connection as a sans-IO state
// machine (RFC 6455 §5-§8, RFC 7692 §6), for either role.
//
//   ws::connection c(ws::role::server, {.deflate = accepted.deflate});
//   while (!in.empty()) {                  // bytes read from the transport
//     auto r = c.feed(in);                 // consumes up to one event's worth
//     in = in.subspan(r.consumed);
//     switch (r.ev.type) { case ws::event_type::text: ... r.ev.data ... }
//   }
//   c.send_text("hello");                  // frames appended to c.output()
//   write(c.output()); c.consume_output(n);
//   if (c.transport_should_close()) ...   // after the close handshake or a failure
//
// Events: text, binary (whole messages, reassembled), ping, pong (a pong is
// queued automatically unless disabled), close (the peer's code and reason;
// our echo is queued automatically), error (a protocol violation or a limit:
// a Close frame with close_code_for(ec) is queued, no further input is read).
// Views in an event stay valid until the next feed() or send call.
//
// Close handshake (§7): the state goes open -> closing (one side sent Close)
// -> closed (both sent). A server then closes the TCP connection; a client
// waits for the server to do it (§7.1.1), within the close timeout.
//
// Time is an input, as everywhere in sigwire's cores: the connection never
// reads a clock. The caller tells it the time with advance_clock(now) when
// bytes arrive and before close(), arms one timer at next_deadline(), and
// calls on_timer(now) when it fires (early or late calls are harmless):
//
//   c.advance_clock(now); c.feed(bytes);    // silence is counted from here
//   if (auto at = c.next_deadline()) arm(*at);
//   on expiry: switch (c.on_timer(now)) { case ping_sent: write output;
//                                         case timed_out: close the transport; }
//
//   keep-alive:  listening --idle of silence--> ping sent --idle more, silence--> timed out
//                    ^------------- any byte from the peer ------'
//   closing:     our Close queued (close(), echo, failure) --close timeout--> timed out
//
// An idle deadline that moves later as bytes arrive needs no re-arming: the
// early expiry finds nothing due and the timer is armed at the new deadline.
//
//   receive state per frame:  header --(complete)--> payload --(remaining == 0)--> header
//   message state:            idle --text/binary !fin--> in_message --cont fin--> idle
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <sigwire/core/random.hpp>
#include <sigwire/core/utf8.hpp>
#include <sigwire/ws/close_code.hpp>
#include <sigwire/ws/deflate.hpp>
#include <sigwire/ws/error.hpp>
#include <sigwire/ws/frame.hpp>
#include <sigwire/ws/mask.hpp>

namespace sigwire::ws {

enum class role { client, server };

// Every count the peer controls is bounded. The defaults let the whole
// Autobahn|Testsuite pass: 9.1.6/9.2.6 send 16 MiB in one frame, 9.3.1
// sends 4 MiB as 65,536 fragments of 64 bytes.
struct limits {
  std::uint64_t max_frame_payload = 32u << 20;  // bytes in one frame
  std::uint64_t max_message_size = 32u << 20;   // bytes of a reassembled (inflated) message
  std::size_t max_fragments = 1u << 18;         // frames per message
};

// A point on the caller's clock, since any epoch it likes, and a span of it.
using instant = std::chrono::nanoseconds;
using duration = std::chrono::nanoseconds;

struct timeouts {
  // Keep-alive: after this long without a byte from the peer a ping goes
  // out; after as long again without one the connection times out. Zero:
  // no keep-alive.
  duration idle = std::chrono::seconds(30);
  // From our Close frame (sent, echoed, or queued after a failure) until the
  // transport should be gone. Zero: wait forever.
  duration close = std::chrono::seconds(5);
};

// What on_timer() did.
enum class timer_outcome {
  none,       // nothing was due (the deadline moved): arm at next_deadline()
  ping_sent,  // a keep-alive ping is in the output: write it
  timed_out,  // unanswered keep-alive or close handshake: close the transport (close code 1006)
};

struct connection_options {
  ws::limits limits;
  ws::timeouts timeouts;
  bool auto_pong = true;                   // answer each ping with a pong
  std::optional<deflate_params> deflate;   // from the handshake; unset: no compression
  deflate_options deflate_settings;        // memory budget: mem_level, level, keep_idle_codec
};

enum class event_type { none, text, binary, ping, pong, close, error };

struct event {
  event_type type = event_type::none;
  std::string_view data;   // message / ping / pong payload, or the close reason
  std::uint16_t code = 0;  // close: the peer's code (1005 when the frame had none)
  std::error_code ec;      // error: what went wrong

  explicit operator bool() const noexcept { return type != event_type::none; }
};

struct feed_result {
  std::size_t consumed = 0;
  event ev;
};

enum class connection_state { open, closing, closed };

// A payload handed over by move (send_text/send_binary(std::string&&)):
// it goes on the wire just before output byte `at`, without being copied.
struct attached_payload {
  std::size_t at = 0;
  std::string bytes;
};

namespace detail {
// Calls f(std::string_view) for each piece of `bytes` with `attached`
// spliced in (sorted by `at`), in wire order.
template <class F>
void for_each_output_piece(std::string_view bytes, const std::vector<attached_payload>& attached, F&& f) {
  std::size_t pos = 0;
  for (const auto& a : attached) {
    if (a.at > pos) f(bytes.substr(pos, a.at - pos));
    if (!a.bytes.empty()) f(std::string_view(a.bytes));
    pos = a.at;
  }
  if (pos < bytes.size()) f(bytes.substr(pos));
}
}  // namespace detail

// All pending output moved out of a connection by take_output(): frame
// bytes with the attached payloads between them. An I/O adapter writes the
// pieces with one gathered write (sendmsg/writev), so a large payload the
// caller gave up is never copied into the output buffer.
class output_batch {
 public:
  std::size_t size() const noexcept { return bytes_.size() + attached_bytes_; }
  bool empty() const noexcept { return size() == 0; }
  // One piece, or at most max_pieces() with attached payloads.
  bool contiguous() const noexcept { return attached_.empty(); }
  std::size_t max_pieces() const noexcept { return 2 * attached_.size() + 1; }
  template <class F>
  void for_each_piece(F&& f) const { detail::for_each_output_piece(bytes_, attached_, std::forward<F>(f)); }
  // Drops the content; keeps the byte buffer's capacity for the next batch.
  void clear() noexcept {
    bytes_.clear();
    attached_.clear();
    attached_bytes_ = 0;
  }
  // Drops the content and gives its memory back: for a connection that has
  // nothing more to send (an idle one should hold no output buffer).
  void release() noexcept {
    std::string().swap(bytes_);
    std::vector<attached_payload>().swap(attached_);
    attached_bytes_ = 0;
  }

 private:
  friend class connection;
  std::string bytes_;
  std::vector<attached_payload> attached_;
  std::size_t attached_bytes_ = 0;
};

class connection {
 public:
  // `now`: when the connection opened, on the clock later passed to
  // advance_clock() and on_timer(); keep-alive counts silence from there.
  explicit connection(ws::role r, connection_options opt = {}, instant now = {})
      : role_(r), opt_(std::move(opt)), now_(now), heard_at_(now) {
    if (opt_.deflate) {
      const auto& d = *opt_.deflate;
      const auto& s = opt_.deflate_settings;
      const bool server = role_ == role::server;
      const int send_bits = std::max(9, server ? d.server_max_window_bits : d.client_max_window_bits);
      const bool send_reset = server ? d.server_no_context_takeover : d.client_no_context_takeover;
      const int recv_bits = server ? d.client_max_window_bits : d.server_max_window_bits;
      const bool recv_reset = server ? d.client_no_context_takeover : d.server_no_context_takeover;
      deflater_.emplace(send_bits, s.mem_level, s.level, send_reset, s.keep_idle_codec);
      inflater_.emplace(recv_bits, recv_reset, s.keep_idle_codec);
    }
  }

  ws::role role() const noexcept { return role_; }
  connection_state state() const noexcept {
    if (failed_ || timed_out_ || (close_sent_ && close_received_)) return connection_state::closed;
    return close_sent_ || close_received_ ? connection_state::closing : connection_state::open;
  }
  bool deflate_enabled() const noexcept { return opt_.deflate.has_value(); }
  const connection_options& options() const noexcept { return opt_; }

  // True once the transport should be shut down (after output is flushed):
  // the close handshake completed or the connection failed.
  bool transport_should_close() const noexcept { return state() == connection_state::closed; }
  // Both Close frames went (§7.1.2-7.1.4) and no failure cut the exchange short.
  bool close_handshake_complete() const noexcept { return close_sent_ && close_received_ && !failed_; }
  bool close_sent() const noexcept { return close_sent_; }
  bool close_received() const noexcept { return close_received_; }
  // The keep-alive or the close handshake timed out (see on_timer()).
  bool timed_out() const noexcept { return timed_out_; }

  // --- time -----------------------------------------------------------------
  // The caller's clock reads `now` (never going back: an earlier reading is
  // ignored). Input fed from here on counts as heard at `now`; a Close
  // queued from here on times out at now + timeouts.close.
  void advance_clock(instant now) noexcept { now_ = std::max(now_, now); }

  // When on_timer() has something to do next; none while no timer is needed.
  std::optional<instant> next_deadline() const noexcept {
    if (timed_out_) return std::nullopt;
    if (close_sent_) {
      if (opt_.timeouts.close <= duration::zero()) return std::nullopt;
      return close_deadline_;
    }
    if (opt_.timeouts.idle <= duration::zero() || failed_) return std::nullopt;
    return heard_at_ + opt_.timeouts.idle;
  }

  // The timer armed at next_deadline() fired.
  timer_outcome on_timer(instant now) {
    advance_clock(now);
    const auto due = next_deadline();
    if (!due || now_ < *due) return timer_outcome::none;
    if (!close_sent_ && !ping_outstanding_) {  // keep-alive: one ping, then one more period to answer
      ping_outstanding_ = true;
      heard_at_ = now_;
      (void)ping();
      return timer_outcome::ping_sent;
    }
    timed_out_ = true;
    return timer_outcome::timed_out;
  }

  // --- receiving --------------------------------------------------------
  // Consumes bytes until one event is ready or `in` is used up. After a
  // Close frame or a failure all further input is consumed and ignored.
  feed_result feed(std::span<const std::byte> in) {
    window_ = 0;  // a payload window handed out earlier is void now
    heard_from_peer();
    std::size_t used = 0;
    while (used < in.size()) {
      if (failed_ || timed_out_ || close_received_) return {in.size(), {}};
      if (reading_header_) {
        used += read_header(in.subspan(used));
        if (failed_) return {used, take_pending()};
        if (reading_header_) continue;  // header still incomplete: input is used up
        if (auto ev = begin_frame(); ev || failed_) return {used, ev};
        if (remaining_ == 0) {
          if (!frame_ends_with_event()) continue;
          return {used, end_frame()};  // built in place: no event copy
        }
        continue;
      }
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - used));
      if (auto ev = on_payload(in.subspan(used, take))) return {used + take, ev};
      used += take;
      remaining_ -= take;
      if (remaining_ == 0) {
        if (!frame_ends_with_event()) continue;
        return {used, end_frame()};
      }
    }
    return {used, {}};
  }
  feed_result feed(std::string_view in) { return feed(std::as_bytes(std::span(in.data(), in.size()))); }

  // Zero-copy receive, for adapters: while the payload of an uncompressed
  // data frame is arriving, its next bytes (at most `max`) may be written
  // straight into the message buffer at payload_window(), and then handed
  // over with commit_payload(n), which unmasks them in place and gives the
  // result feed() would have given for the same bytes. Empty when that does
  // not apply (a header is next, a control frame, a compressed message, or
  // the connection is closing): use feed(). The window stays valid until
  // the next feed(), payload_window() or take_message() (sending leaves it
  // alone, so an adapter may send while a read into it is pending);
  // commit_payload() takes at most its size (and nothing after
  // feed() was called in between).
  std::span<std::byte> payload_window(std::size_t max) {
    window_ = 0;
    if (reading_header_ || failed_ || timed_out_ || close_received_ || remaining_ == 0 || is_control(hdr_.opcode) || compressed_)
      return {};
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, max));
    reserve_raw(n);
    window_ = n;
    return {reinterpret_cast<std::byte*>(raw_.data() + raw_len_), n};
  }
  feed_result commit_payload(std::size_t n) {
    n = std::min(n, std::exchange(window_, 0));
    heard_from_peer();
    const std::size_t before = raw_len_;
    unmask(reinterpret_cast<std::byte*>(raw_.data() + before), n);
    remaining_ -= n;
    if (auto ev = raw_added(before, n)) return {n, ev};
    if (remaining_ != 0 || !frame_ends_with_event()) return {n, {}};
    return {n, end_frame()};
  }

  // Right after feed() returned a text or binary event: moves that message
  // into `dst` without copying it (the buffers are swapped, and dst's old
  // storage is reused for the next message). The event's view is then gone.
  void take_message(std::string& dst) {
    if (compressed_) {
      dst.swap(msg_);
      return;  // msg_ is cleared when the next message starts
    }
    dst.swap(raw_);
    dst.resize(raw_len_);
    raw_len_ = 0;
  }

  // --- sending ----------------------------------------------------------
  std::error_code send_text(std::string_view text) { return send_message(opcode::text, as_bytes(text)); }
  std::error_code send_binary(std::span<const std::byte> data) { return send_message(opcode::binary, data); }
  std::error_code send_binary(std::string_view data) { return send_message(opcode::binary, as_bytes(data)); }
  std::error_code send_text(const char* text) { return send_text(std::string_view(text)); }
  std::error_code send_binary(const char* data) { return send_binary(std::string_view(data)); }
  // The same, taking the payload over: from min_attached_payload bytes up
  // (and unless it is compressed) it is not copied into the output but
  // attached to it, masked in place for the client role. A server echoing
  // 64 KiB messages saves one copy of every message this way.
  std::error_code send_text(std::string&& text) { return send_owned(opcode::text, std::move(text)); }
  std::error_code send_binary(std::string&& data) { return send_owned(opcode::binary, std::move(data)); }
  static constexpr std::size_t min_attached_payload = 16u << 10;

  // One fragment of a message sent in pieces (never compressed): the first
  // call names text or binary, later ones are continuations; fin ends it.
  std::error_code send_fragment(opcode first_opcode, std::span<const std::byte> data, bool fin) {
    if (sending_ended()) return make_error_code(error::closed);
    const opcode op = sending_fragments_ ? opcode::continuation : first_opcode;
    write_frame(op, data, fin, false);
    sending_fragments_ = !fin;
    return {};
  }

  std::error_code ping(std::string_view payload = {}) { return send_control(opcode::ping, as_bytes(payload)); }
  std::error_code pong(std::string_view payload = {}) { return send_control(opcode::pong, as_bytes(payload)); }

  // Starts (or answers) the close handshake. code 0 sends an empty Close.
  std::error_code close(std::uint16_t code = 1000, std::string_view reason = {}) {
    if (sending_ended()) return make_error_code(error::closed);
    if ((code != 0 && !is_valid_on_wire(code)) || (code == 0 && !reason.empty())) return make_error_code(error::bad_close_code);
    if (reason.size() > max_control_payload - 2 || !core::utf8::is_valid(reason)) return make_error_code(error::bad_close_reason);
    queue_close(code, reason);
    return {};
  }

  // --- output -------------------------------------------------------------
  std::size_t buffered_amount() const noexcept { return out_.size() - out_pos_ + attached_bytes_; }
  // All pending output as one view (attached payloads are copied into place
  // first; take_output(output_batch&) avoids that copy).
  std::string_view output() {
    splice_attached();
    return std::string_view(out_).substr(out_pos_);
  }
  void consume_output(std::size_t n) {
    splice_attached();
    out_pos_ += std::min(n, buffered_amount());
    if (out_pos_ == out_.size()) { out_.clear(); out_pos_ = 0; }
  }

  // Moves all pending output into `dst` (whose old content is dropped),
  // keeping both buffers' capacity: double buffering for an I/O adapter.
  void take_output(std::string& dst) {
    splice_attached();
    drop_consumed_output();
    dst.clear();
    out_.swap(dst);
  }
  // The same without copying attached payloads: write dst's pieces in order.
  void take_output(output_batch& dst) {
    dst.clear();
    drop_consumed_output();
    out_.swap(dst.bytes_);
    attached_.swap(dst.attached_);
    dst.attached_bytes_ = std::exchange(attached_bytes_, 0);
  }

  // Bytes held for the message being received (the reassembly buffer).
  std::size_t receive_buffer_bytes() const noexcept { return raw_.size(); }

  // zlib memory currently held (both directions).
  std::size_t deflate_memory() const noexcept {
    return (deflater_ ? deflater_->memory_in_use() : 0) + (inflater_ ? inflater_->memory_in_use() : 0);
  }

 private:
  static std::span<const std::byte> as_bytes(std::string_view s) noexcept {
    return std::as_bytes(std::span(s.data(), s.size()));
  }

  // --- receive internals ----------------------------------------------------
  // The per-frame helpers are always inlined into feed(): an event returned
  // through memory and then copied with wider loads stalls on store
  // forwarding (it was a third of the receive path's time).
  std::size_t read_header(std::span<const std::byte> in) {
    const std::uint8_t rsv_allowed = deflater_ ? 0x4 : 0;
    if (hdr_len_ == 0) {  // fast path: decode straight from the input
      const auto r = decode_header(in, hdr_, rsv_allowed);
      if (r.complete()) { reading_header_ = false; return r.size; }
      if (r.failed()) { fail(static_cast<error>(r.ec.value())); return 0; }
    }
    const std::size_t copy = std::min(in.size(), max_header_size - hdr_len_);
    std::memcpy(hdr_buf_.data() + hdr_len_, in.data(), copy);
    const std::size_t before = hdr_len_;
    const auto r = decode_header(std::span<const std::byte>(hdr_buf_.data(), hdr_len_ + copy), hdr_, rsv_allowed);
    if (r.failed()) { fail(static_cast<error>(r.ec.value())); return copy; }
    if (r.need_more()) { hdr_len_ += copy; return copy; }
    hdr_len_ = 0;
    reading_header_ = false;
    return r.size - before;
  }

  [[gnu::always_inline]] event begin_frame() {
    remaining_ = hdr_.payload_length;
    mask_offset_ = 0;
    if (role_ == role::server && !hdr_.masked) return fail(error::unmasked_frame);
    if (role_ == role::client && hdr_.masked) return fail(error::masked_frame);
    if (is_control(hdr_.opcode)) {
      if (hdr_.rsv1) return fail(error::rsv1_on_control);
      ctrl_len_ = 0;
      return {};
    }
    if (hdr_.opcode == opcode::continuation) {
      if (!in_message_) return fail(error::unexpected_continuation);
      if (hdr_.rsv1) return fail(error::rsv1_on_continuation);
    } else {
      if (in_message_) return fail(error::expected_continuation);
      in_message_ = true;
      msg_opcode_ = hdr_.opcode;
      compressed_ = hdr_.rsv1;
      fragments_ = 0;
      msg_.clear();
      raw_len_ = 0;
      utf8_.reset();
    }
    if (++fragments_ > opt_.limits.max_fragments) return fail(error::too_many_fragments);
    if (hdr_.payload_length > opt_.limits.max_frame_payload) return fail(error::frame_too_big);
    if (!compressed_ && raw_len_ + hdr_.payload_length > opt_.limits.max_message_size)
      return fail(error::message_too_big);
    return {};
  }

  void unmask(std::byte* p, std::size_t n) {
    if (hdr_.masked) mask(p, n, hdr_.key, mask_offset_);
    mask_offset_ += n;
  }

  [[gnu::always_inline]] event on_payload(std::span<const std::byte> chunk) {
    if (is_control(hdr_.opcode)) {
      std::memcpy(ctrl_buf_.data() + ctrl_len_, chunk.data(), chunk.size());
      unmask(ctrl_buf_.data() + ctrl_len_, chunk.size());
      ctrl_len_ += chunk.size();
      return {};
    }
    if (compressed_) {
      const std::size_t before = msg_.size();
      zbuf_.assign(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      unmask(reinterpret_cast<std::byte*>(zbuf_.data()), zbuf_.size());
      if (auto ec = inflater_->feed(std::as_bytes(std::span(zbuf_.data(), zbuf_.size())), msg_,
                                    opt_.limits.max_message_size))
        return fail(static_cast<error>(ec.value()));
      return check_text(std::string_view(msg_).substr(before));
    }
    // Uncompressed: unmask while copying into the reassembly buffer, which
    // only grows (its logical length is raw_len_), so steady state neither
    // allocates nor clears memory.
    const std::size_t before = raw_len_;
    reserve_raw(chunk.size());
    auto* dst = reinterpret_cast<std::byte*>(raw_.data() + before);
    if (hdr_.masked) mask_copy(dst, chunk.data(), chunk.size(), hdr_.key, mask_offset_);
    else std::memcpy(dst, chunk.data(), chunk.size());
    mask_offset_ += chunk.size();
    return raw_added(before, chunk.size());
  }

  // Room for `more` payload bytes behind raw_len_. The frame announces its
  // length, so room for more of it is made at once: up to four times what
  // came (at least 4 KiB), or as much again as the message holds already,
  // and never past the frame's end. A message arriving in large reads gets
  // its exact size in one allocation (no doubling past it, no zero-filled
  // slack: page faults and heap trimming per message otherwise), while a
  // peer that announces much and sends little gets little ahead of it.
  void reserve_raw(std::size_t more) {
    if (raw_.size() >= raw_len_ + more) return;
    const std::uint64_t step = std::max<std::uint64_t>({4 * std::uint64_t{more}, raw_len_, 4096});
    const auto ahead = static_cast<std::size_t>(std::max<std::uint64_t>(more, std::min(remaining_, step)));
    raw_.resize(std::max(raw_len_ + ahead, raw_.size()));
  }

  // After n unmasked payload bytes were placed in raw_ at `before`.
  [[gnu::always_inline]] event raw_added(std::size_t before, std::size_t n) {
    raw_len_ += n;
    const std::string_view added(raw_.data() + before, n);
    // Fast path: a whole single-frame text message in one piece is checked
    // in one call (still before the event: nothing is delivered unchecked).
    if (msg_opcode_ == opcode::text && hdr_.fin && before == 0 && n == hdr_.payload_length &&
        hdr_.opcode != opcode::continuation) {
      if (!core::utf8::is_valid(added)) return fail(error::invalid_utf8);
      whole_text_checked_ = true;
      return {};
    }
    return check_text(added);
  }

  // Fail fast (§8.1): validate what just arrived of a text message.
  [[gnu::always_inline]] event check_text(std::string_view added) {
    whole_text_checked_ = false;
    if (msg_opcode_ != opcode::text || added.empty()) return {};
    if (utf8_.feed(added).status == core::utf8::status::invalid) return fail(error::invalid_utf8);
    return {};
  }
  std::string_view message() const noexcept {
    return compressed_ ? std::string_view(msg_) : std::string_view(raw_.data(), raw_len_);
  }

  // A frame that ends with no event (a non-final data fragment) is handled
  // here, so end_frame() is called only when it yields one, and its event
  // is built straight into feed()'s result.
  bool frame_ends_with_event() noexcept {
    if (is_control(hdr_.opcode) || hdr_.fin) return true;
    reading_header_ = true;
    return false;
  }

  [[gnu::always_inline]] event end_frame() {
    reading_header_ = true;
    if (is_control(hdr_.opcode)) return on_control();
    if (!hdr_.fin) return {};
    in_message_ = false;
    if (compressed_) {
      const std::size_t before = msg_.size();
      if (auto ec = inflater_->finish(msg_, opt_.limits.max_message_size)) return fail(static_cast<error>(ec.value()));
      if (auto ev = check_text(std::string_view(msg_).substr(before))) return ev;
    }
    if (msg_opcode_ == opcode::text && !whole_text_checked_ && utf8_.finish().status != core::utf8::status::complete)
      return fail(error::invalid_utf8);
    whole_text_checked_ = false;
    return {msg_opcode_ == opcode::text ? event_type::text : event_type::binary, message(), 0, {}};
  }

  event on_control() {
    const std::string_view payload(reinterpret_cast<const char*>(ctrl_buf_.data()), ctrl_len_);
    switch (hdr_.opcode) {
      case opcode::ping:
        if (opt_.auto_pong && !close_sent_) write_frame(opcode::pong, as_bytes(payload), true, false);
        return {event_type::ping, payload, 0, {}};
      case opcode::pong: return {event_type::pong, payload, 0, {}};
      default: break;
    }
    // Close (§5.5.1): empty, or a 2-byte code plus a UTF-8 reason.
    if (payload.size() == 1) return fail(error::bad_close_payload);
    std::uint16_t code = static_cast<std::uint16_t>(close_code::no_status);
    std::string_view reason;
    if (payload.size() >= 2) {
      code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]));
      if (!is_valid_on_wire(code)) return fail(error::bad_close_code);
      reason = payload.substr(2);
      if (!core::utf8::is_valid(reason)) return fail(error::bad_close_reason);
    }
    close_received_ = true;
    if (!close_sent_) queue_close(payload.empty() ? 0 : code, {});  // §5.5.1: echo the code
    return {event_type::close, reason, code, {}};
  }

  // The event for the first violation; later calls keep the first error.
  event fail(error e) {
    if (!failed_) {
      failed_ = true;
      pending_error_ = make_error_code(e);
      if (!close_sent_) {
        const std::string_view reason = error_message(e);
        queue_close(static_cast<std::uint16_t>(close_code_for(e)), reason.substr(0, max_control_payload - 2));
      }
      if (inflater_) inflater_->abandon();
    }
    return take_pending();
  }
  event take_pending() { return {event_type::error, {}, static_cast<std::uint16_t>(close_code_for(static_cast<error>(pending_error_.value()))), pending_error_}; }

  // --- send internals --------------------------------------------------------
  // Whether a new whole message may be sent now.
  std::error_code message_send_check() const {
    if (sending_ended()) return make_error_code(error::closed);
    if (sending_fragments_) return make_error_code(error::expected_continuation);
    return {};
  }

  std::error_code send_message(opcode op, std::span<const std::byte> data) {
    if (auto ec = message_send_check()) return ec;
    if (deflater_ && data.size() >= opt_.deflate_settings.min_compress_size) {
      zout_.clear();
      if (auto ec = deflater_->compress(data, zout_)) return ec;
      write_frame(op, std::as_bytes(std::span(zout_.data(), zout_.size())), true, true);
      return {};
    }
    write_frame(op, data, true, false);
    return {};
  }

  std::error_code send_control(opcode op, std::span<const std::byte> payload) {
    if (sending_ended()) return make_error_code(error::closed);
    if (payload.size() > max_control_payload) return make_error_code(error::control_too_large);
    write_frame(op, payload, true, false);
    return {};
  }

  void queue_close(std::uint16_t code, std::string_view reason) {
    std::array<std::byte, max_control_payload> p{};
    std::size_t n = 0;
    if (code != 0) {
      p[0] = static_cast<std::byte>(code >> 8);
      p[1] = static_cast<std::byte>(code & 0xFF);
      reason.copy(reinterpret_cast<char*>(p.data() + 2), std::min(reason.size(), p.size() - 2));
      n = 2 + std::min(reason.size(), p.size() - 2);
    }
    write_frame(opcode::close, std::span<const std::byte>(p.data(), n), true, false);
    close_sent_ = true;
    close_deadline_ = now_ + opt_.timeouts.close;
  }

  // Nothing more may be sent: our Close went, or the connection failed or timed out.
  bool sending_ended() const noexcept { return close_sent_ || failed_ || timed_out_; }

  void heard_from_peer() noexcept {
    heard_at_ = now_;
    ping_outstanding_ = false;
  }

  std::error_code send_owned(opcode op, std::string&& data) {
    const bool compress = deflater_ && data.size() >= opt_.deflate_settings.min_compress_size;
    if (data.size() < min_attached_payload || compress) return send_message(op, as_bytes(data));
    if (auto ec = message_send_check()) return ec;
    const auto key = write_header(op, data.size(), true, false);
    if (key) mask(reinterpret_cast<std::byte*>(data.data()), data.size(), *key);
    attached_bytes_ += data.size();
    attached_.push_back({out_.size(), std::move(data)});
    return {};
  }

  void write_frame(opcode op, std::span<const std::byte> payload, bool fin, bool rsv1) {
    // Appended, not resized: resize() would zero every byte before the copy
    // overwrites it (a measurable share of an echo server's CPU at 1 KiB).
    out_.reserve(out_.size() + max_header_size + payload.size());
    const auto key = write_header(op, payload.size(), fin, rsv1);
    const std::size_t payload_at = out_.size();
    out_.append(reinterpret_cast<const char*>(payload.data()), payload.size());
    if (key) mask(reinterpret_cast<std::byte*>(out_.data() + payload_at), payload.size(), *key);
  }

  // Appends a frame header; returns the masking key the payload needs.
  std::optional<mask_key> write_header(opcode op, std::uint64_t payload_size, bool fin, bool rsv1) {
    frame_header h;
    h.fin = fin;
    h.rsv1 = rsv1;
    h.opcode = op;
    h.payload_length = payload_size;
    h.masked = role_ == role::client;  // §5.3: clients mask every frame, servers none
    if (h.masked) h.key = next_mask_key();
    std::array<std::byte, max_header_size> header;
    const std::size_t hn = encode_header(h, header.data());
    out_.append(reinterpret_cast<const char*>(header.data()), hn);
    if (!h.masked) return std::nullopt;
    return h.key;
  }

  // Copies attached payloads into out_ where they belong (for output()).
  void splice_attached() {
    if (attached_.empty()) return;
    std::string flat;
    flat.reserve(out_.size() + attached_bytes_);
    detail::for_each_output_piece(out_, attached_, [&](std::string_view piece) { flat.append(piece); });
    out_.swap(flat);
    attached_.clear();
    attached_bytes_ = 0;
  }
  void drop_consumed_output() {
    if (out_pos_ == 0) return;
    out_.erase(0, out_pos_);
    for (auto& a : attached_) a.at -= out_pos_;
    out_pos_ = 0;
  }

  // §10.3: unpredictable masking keys; drawn from OpenSSL 64 keys at a time.
  mask_key next_mask_key() {
    if (key_pos_ == key_pool_.size()) {
      core::random_bytes(key_pool_);
      key_pos_ = 0;
    }
    mask_key k;
    std::memcpy(k.data(), key_pool_.data() + key_pos_, 4);
    key_pos_ += 4;
    return k;
  }

  ws::role role_;
  connection_options opt_;
  std::optional<deflater> deflater_;
  std::optional<inflater> inflater_;

  // receive state
  bool reading_header_ = true;
  std::array<std::byte, max_header_size> hdr_buf_{};
  std::size_t hdr_len_ = 0;
  frame_header hdr_;
  std::uint64_t remaining_ = 0;
  std::size_t mask_offset_ = 0;
  std::array<std::byte, max_control_payload> ctrl_buf_{};
  std::size_t ctrl_len_ = 0;
  bool in_message_ = false, compressed_ = false;
  opcode msg_opcode_ = opcode::text;
  std::size_t fragments_ = 0;
  std::string msg_, zbuf_;  // inflated message; compressed chunk
  std::string raw_;          // uncompressed reassembly buffer (grows only)
  std::size_t raw_len_ = 0;
  bool whole_text_checked_ = false;
  core::utf8::validator utf8_;

  // close / failure
  bool close_sent_ = false, close_received_ = false, failed_ = false;
  std::error_code pending_error_;

  // time: the latest clock reading, when the peer was last heard (or the
  // keep-alive ping went), and when a queued Close times out
  instant now_{}, heard_at_{}, close_deadline_{};
  bool ping_outstanding_ = false, timed_out_ = false;

  // send state
  bool sending_fragments_ = false;
  std::size_t window_ = 0;  // size of the open payload_window(), 0 when none
  std::string out_, zout_;
  std::size_t out_pos_ = 0;
  std::vector<attached_payload> attached_;  // payloads taken over, positioned in out_
  std::size_t attached_bytes_ = 0;
  std::array<std::byte, 256> key_pool_{};
  std::size_t key_pos_ = key_pool_.size();
};

}  // namespace sigwire::ws
