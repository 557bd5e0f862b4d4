// sigwire/ws/asio/stream.hpp - the WebSocket connection over an Asio stream:
// asio::ip::tcp::socket or asio::ssl::stream<asio::ip::tcp::socket>.
//
//   ws::stream<asio::ip::tcp::socket> s(std::move(socket));
//   co_await s.async_accept(server_opts, asio::use_awaitable);     // server
//   co_await s.async_handshake(client_opts, asio::use_awaitable);  // client (TLS first if wss)
//   std::string msg;
//   auto type = co_await s.async_read(msg, asio::use_awaitable);   // whole messages
//   s.send_text("hi");                // never "one write at a time": queued, returns a status
//   co_await s.async_write_text("hi", asio::use_awaitable);        // completes once written
//   co_await s.async_close(1000, "bye", asio::use_awaitable);
//
// Threading: a stream is single-owner. From another thread, post to its
// executor: asio::post(s.get_executor(), [&] { s.send_text(msg); }).
//
// Send queue: send_* frame the message into the connection's output at once
// and start (or join) the single in-flight write; they return queued, or
// dropped when buffered bytes would pass options.high_watermark (or the
// stream is closing). When the buffer drains below low_watermark after
// having been above high_watermark, the on_drain handler runs.
//
// Timers: one steady_timer serves the handshake timeout, then the
// connection's deadlines (ws::connection::next_deadline(): keep-alive and
// close timeout, options.connection.timeouts). It is re-armed when it fires
// or when a deadline moves earlier (a Close was queued), never per message.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <sigwire/http/head.hpp>
#include <sigwire/ws/asio/detail/close_notify.hpp>
#include <sigwire/ws/asio/detail/direct_io.hpp>
#include <sigwire/ws/asio/detail/read_buffer.hpp>
#include <sigwire/ws/asio/detail/waiter.hpp>
#include <sigwire/ws/connection.hpp>
#include <sigwire/ws/handshake.hpp>

namespace sigwire::ws {

enum class send_status { queued, dropped };
enum class message_type { text, binary };

struct stream_options {
  // limits, auto pong, keep-alive and close timeouts (connection.timeouts);
  // deflate settings (budget)
  connection_options connection;
  std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
  std::size_t high_watermark = 16u << 20;  // buffered bytes above which sends are dropped
  std::size_t low_watermark = 1u << 20;    // on_drain fires when the buffer falls below
  // Reads go into a buffer of read_buffer_size lent by a per-thread pool;
  // it doubles, up to max_read_buffer_size, each time a read fills it (bulk
  // traffic: fewer, larger reads and writes). Over plain TCP an idle stream
  // gives it back and waits for readability without one (docs/ws.md,
  // "Memory per connection"); TLS streams and Asio's io_uring backend keep
  // theirs while a read is pending.
  std::size_t read_buffer_size = 64u << 10;
  std::size_t max_read_buffer_size = 256u << 10;
  // false: keep the read buffer and leave a read pending while idle (the
  // behaviour before the pool): ~64 KiB more per idle connection, and on
  // Asio's epoll reactor a few hundredths of a system call less per echo
  // under load, since a pending read is not re-armed with epoll_ctl.
  bool release_idle_read_buffer = true;
  bool tls_verify = true;  // wss client: verify the certificate and host name (opt out for tests)
};


template <class NextLayer>
class stream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;
  static constexpr bool is_tls = detail::is_ssl_stream<NextLayer>::value;
  static constexpr bool is_plain_tcp = detail::is_tcp_socket<NextLayer>::value;
  // Direct non-blocking recv/sendmsg beside Asio's operations: plain TCP
  // only, where detail/direct_io.hpp's switch allows (not on Asio's io_uring
  // backend, which submits reads and writes without a system call of their own).
  static constexpr bool direct_io = detail::direct_io_available && is_plain_tcp;

  template <class... Args>
  explicit stream(stream_options opt, Args&&... args)
      : next_(std::forward<Args>(args)...), opt_(std::move(opt)), timer_(next_.get_executor()) {}
  template <class Arg>
  explicit stream(Arg&& arg) : stream(stream_options{}, std::forward<Arg>(arg)) {}

  ~stream() {
    *alive_ = false;
    if (turn_destroyed_) *turn_destroyed_ = true;  // a read completion below us on the stack
  }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  auto& lowest_layer() noexcept { return next_.lowest_layer(); }
  stream_options& options() noexcept { return opt_; }

  bool is_open() const noexcept { return conn_ && conn_->state() == connection_state::open && !transport_closed_; }
  std::string_view subprotocol() const noexcept { return subprotocol_; }
  const std::optional<deflate_params>& deflate() const noexcept { return deflate_; }
  std::uint16_t close_code() const noexcept { return close_code_; }
  std::string_view close_reason() const noexcept { return close_reason_; }
  std::size_t buffered_amount() const noexcept { return (conn_ ? conn_->buffered_amount() : 0) + inflight_.size(); }
  void on_drain(std::function<void()> f) { on_drain_ = std::move(f); }
  // Bytes of receive buffer the stream holds now. Over plain TCP it is 0
  // whenever everything received was parsed: an idle connection holds none
  // (docs/ws.md, "Memory per connection").
  std::size_t read_buffer_bytes() const noexcept { return rbuf_.size(); }

  // Closes the transport at once, without the close handshake (close code
  // 1006): pending operations complete with errors and the stream's timer
  // stops, so nothing of it keeps the io_context running.
  void abort() { close_transport(); }

  // --- server --------------------------------------------------------------
  // Reads the HTTP request head only (TLS handshake first for wss), so a
  // server can answer plain HTTP (e.g. a test page) before upgrading.
  template <class Token>
  auto async_read_request(Token&& token) {
    return asio::async_compose<Token, void(std::error_code)>(head_op{this, true}, token, next_);
  }
  // Valid from async_read_request's completion on (after async_accept too).
  const http::request_head& request() const noexcept { return request_; }

  // Validates the request (reading it first if needed) and answers 101 or
  // the precise error status.
  template <class Token>
  auto async_accept(server_options opt, Token&& token) {
    server_opts_ = std::move(opt);
    return asio::async_compose<Token, void(std::error_code)>(accept_op{this}, token, next_);
  }

  // --- client --------------------------------------------------------------
  template <class Token>
  auto async_handshake(client_options opt, Token&& token) {
    client_hs_.emplace(std::move(opt));
    return asio::async_compose<Token, void(std::error_code)>(head_op{this, false}, token, next_);
  }

  // --- messages ------------------------------------------------------------
  // Reads the next whole message into `out`. Pings are answered and pongs
  // consumed on the way. Ends with error::closed after the close handshake.
  //
  // Over plain TCP the operation tracks work on the socket's io_context
  // through its plain executor type when the type-erased one holds it:
  // tracking through any_io_executor cost about 0.15 µs per message in the
  // echo load test. (TLS streams keep the stream's own executor: their
  // per-message cost is dominated by the TLS records.)
  template <class Token>
  auto async_read(std::string& out, Token&& token) {
    using signature = void(std::error_code, message_type);
    if constexpr (is_plain_tcp) {
      const auto ex = next_.get_executor();  // target() points into it: keep it alive
      if (const auto* io = ex.template target<asio::io_context::executor_type>())
        return asio::async_compose<Token, signature>(read_op{this, &out, read_op::start, 0, {}}, token, *io);
    }
    return asio::async_compose<Token, signature>(read_op{this, &out, read_op::start, 0, {}}, token, next_);
  }

  send_status send_text(std::string_view s) { return enqueue([&] { return conn_->send_text(s); }, s.size()); }
  send_status send_binary(std::string_view s) { return enqueue([&] { return conn_->send_binary(s); }, s.size()); }
  send_status send_text(const char* s) { return send_text(std::string_view(s)); }
  send_status send_binary(const char* s) { return send_binary(std::string_view(s)); }
  // Taking the message over: a large one is written from the string itself
  // (gathered with its frame header), not copied. An echo server does
  // s.send_binary(std::move(msg)) before reading the next message into msg.
  send_status send_text(std::string&& s) { return send_owned(message_type::text, std::move(s)); }
  send_status send_binary(std::string&& s) { return send_owned(message_type::binary, std::move(s)); }
  send_status ping(std::string_view s = {}) { return enqueue([&] { return conn_->ping(s); }, 0); }

  // Queue the message and complete once its bytes were written (or failed).
  template <class Token>
  auto async_write_text(std::string_view s, Token&& token) { return async_write(message_type::text, s, std::forward<Token>(token)); }
  template <class Token>
  auto async_write_binary(std::string_view s, Token&& token) { return async_write(message_type::binary, s, std::forward<Token>(token)); }
  // The same, taking the message over (no copy from 16 KiB up, as send_*).
  template <class Token>
  auto async_write_text(std::string&& s, Token&& token) { return async_write(message_type::text, std::move(s), std::forward<Token>(token)); }
  template <class Token>
  auto async_write_binary(std::string&& s, Token&& token) { return async_write(message_type::binary, std::move(s), std::forward<Token>(token)); }
  template <class Token>
  auto async_write_text(const char* s, Token&& token) { return async_write(message_type::text, std::string_view(s), std::forward<Token>(token)); }
  template <class Token>
  auto async_write_binary(const char* s, Token&& token) { return async_write(message_type::binary, std::string_view(s), std::forward<Token>(token)); }

  // Starts the close handshake and completes when it is over and the
  // transport is closed (or the close timeout passed).
  template <class Token>
  auto async_close(std::uint16_t code, std::string_view reason, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, code, reason = std::string(reason)](auto handler) {
          using H = std::decay_t<decltype(handler)>;
          if (transport_closed_ || !conn_) {
            detail::waiter_impl<H, executor_type>(std::move(handler), get_executor()).complete({});
            return;
          }
          close_waiters_.push_back(std::make_unique<detail::waiter_impl<H, executor_type>>(std::move(handler), get_executor()));
          conn_->advance_clock(clock_now());  // the close timeout counts from here
          (void)conn_->close(code, reason);
          flush();
          sync_timer();
          // Read until the peer's Close arrives, unless the user's own read
          // loop does (it re-arms its read before this posted check runs).
          asio::post(get_executor(), [this, alive = std::weak_ptr<bool>(alive_)] {
            if (auto a = alive.lock(); !a || !*a) return;
            if (!reading_ && !transport_closed_) drain_reads();
          });
        },
        token);
  }

 private:
  enum class timer_purpose { none, handshake, connection };

  struct head_op;  // impl/handshake.hpp

  template <class Self>
  void finish_handshake(Self& self, std::error_code ec);

  struct accept_op;  // impl/handshake.hpp

  void open_connection(ws::role r);

  void prepare_tls_client();

  // ---- reading messages ---------------------------------------------------------
  // One read of the socket usually brings several frames. They are delivered
  // in one scheduler turn: when the user's handler starts the next read from
  // inside its completion (the usual loop), a buffered message completes it
  // at once (a continuation, as Asio calls it, bounded by max_inline_reads
  // nested completions) instead of going round the scheduler once per
  // message. Replies made meanwhile are held and leave in one write
  // (defer_flush), sent directly by flush().
  //
  // An echo with one message in flight costs 4 system calls on Asio's
  // edge-triggered epoll reactor: recv, send, and the wait for the next
  // message, which is a recv that would block plus epoll_wait (async_wait
  // would replace the recv with an EPOLL_CTL_MOD). A level-triggered loop
  // needs 3. On Asio's io_uring backend (ASIO_HAS_IO_URING and
  // ASIO_DISABLE_EPOLL) it costs 2 io_uring_enter calls.
  static constexpr int max_inline_reads = 32;
  // When a read filled the whole buffer, more is usually waiting (a large
  // message, or a deep pipeline): plain TCP then reads again directly, at
  // most this many times per turn, instead of a scheduler round with its
  // epoll_wait per buffer.
  static constexpr int max_direct_reads = 8;
  // A frame payload still owed beyond this is read straight into the
  // message buffer (connection::payload_window): below it, one read that
  // also brings the following frames is worth more than the saved copy.
  static constexpr std::size_t min_payload_window = 16u << 10;
  // On a busy thread a stream re-arms its read only after the scheduler's
  // next epoll_wait. Asio's epoll reactor always tries a read at once when
  // one is started, and it is edge-triggered: right after a batch was
  // answered that recv nearly always finds nothing and costs a system call
  // (0.06 per echo at 64 connections x 16 in flight). Posted instead, the
  // read runs after the poll, when the peer has mostly sent its next batch
  // already. "Busy" means more than this many reads of other streams
  // completed on this thread since this stream's last one: with few active
  // streams the extra poll would cost more than it saves (5 system calls
  // instead of 4 per echo with one connection and one message in flight).
  static constexpr std::uint64_t rearm_after_poll = 8;

  struct read_op;  // impl/read.hpp

  bool read_now(asio::mutable_buffer to);

  void note_read_completion();
  bool busy_elsewhere() const { return busy_elsewhere_; }

  void grow_read_buffer();

  asio::mutable_buffer read_space();

  void reserve_behind_unparsed();

  std::error_code recv_into_buffer(std::size_t& n);

  void received(std::size_t added, std::size_t asked, std::size_t got);
  void received(std::size_t n, std::size_t asked) { received(n, asked, n); }

  void drain_reads();

  send_status send_owned(message_type type, std::string&& s);

  template <class F>
  send_status enqueue(F&& frame_it, std::size_t size);

  template <class Data, class Token>
  auto async_write(message_type type, Data data, Token&& token);

  void schedule_flush();
  void defer_flush();
  void post_flush_fallback();
  void post_flush_check(int rounds);

  void flush();

  std::vector<asio::const_buffer> unsent_pieces(std::size_t sent) const;

  std::size_t send_now();

  void on_written(std::error_code ec, std::size_t n);

  void wrote(std::size_t n);

  void fail_waiters(std::error_code ec);
  void complete_close_waiters(std::error_code ec);

  void close_transport();

  std::error_code close_outcome() const;

  // ---- the one timer --------------------------------------------------------------
  static instant clock_now() {
    return std::chrono::duration_cast<instant>(std::chrono::steady_clock::now().time_since_epoch());
  }
  void cancel_timer() {
    purpose_ = timer_purpose::none;
    timer_.cancel();
  }
  void arm_timer(std::chrono::steady_clock::time_point at, timer_purpose p) {
    purpose_ = p;
    timer_.expires_at(at);
    timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_), p](std::error_code ec) {
      if (auto a = alive.lock(); !a || !*a) return;
      if (ec || purpose_ != p) return;
      on_timer(p);
    });
  }
  // Arms the timer at the connection's next deadline when that is earlier
  // than the one armed; a later deadline is found when the timer fires.
  void sync_timer() {
    if (!conn_ || transport_closed_) return;
    const auto due = conn_->next_deadline();
    if (!due) {
      if (purpose_ != timer_purpose::none) cancel_timer();
      return;
    }
    const std::chrono::steady_clock::time_point at(std::chrono::duration_cast<std::chrono::steady_clock::duration>(*due));
    if (purpose_ == timer_purpose::connection && timer_.expiry() <= at) return;
    arm_timer(at, timer_purpose::connection);
  }
  void on_timer(timer_purpose p) {
    if (transport_closed_) return;
    if (p == timer_purpose::connection) {
      purpose_ = timer_purpose::none;
      switch (conn_->on_timer(clock_now())) {
        case timer_outcome::none: return sync_timer();
        case timer_outcome::ping_sent: flush(); return sync_timer();
        case timer_outcome::timed_out: break;
      }
    }
    timed_out_ = true;  // handshake, unanswered keep-alive or close handshake
    close_transport();
  }

  NextLayer next_;
  stream_options opt_;
  asio::steady_timer timer_;
  timer_purpose purpose_ = timer_purpose::none;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  detail::read_buffer rbuf_;  // lent by the thread's pool while there is something to read
  std::size_t rpos_ = 0, rlen_ = 0;
  bool last_read_filled_ = false;  // the last read filled its buffer: more is likely waiting
  std::uint64_t read_mark_ = 0;    // reads_completed_on_this_thread at this stream's last read
  bool busy_elsewhere_ = false;    // other streams completed reads since then (rearm_after_poll)
  std::size_t last_read_size_ = 0;  // of the last read_now()
  bool* turn_destroyed_ = nullptr; // set while a read completion of ours is on the stack
  int inline_reads_ = 0;           // nested reads completed inside one turn
  std::string head_;   // the peer's handshake head: request() and the response views point into it
  std::string reply_;  // a server's answer (101 or an error) while it is written
  http::request_head request_;
  http::response_head response_;
  bool request_read_ = false, tls_done_ = false;
  server_options server_opts_;
  std::error_code accept_error_;
  std::optional<client_handshake> client_hs_;

  std::optional<connection> conn_;
  std::string subprotocol_;
  std::optional<deflate_params> deflate_;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
  std::string discard_;

  bool reading_ = false, writing_ = false, transport_closed_ = false, timed_out_ = false;
  bool above_high_ = false;
  bool flush_deferred_ = false, flush_posted_ = false;  // see schedule_flush()
  output_batch inflight_;  // being written: frame bytes and attached payloads
  std::uint64_t written_total_ = 0, queued_total_ = 0;
  // (A vector, not a deque: libstdc++'s deque allocates 576 bytes when constructed.)
  std::vector<std::pair<std::uint64_t, std::unique_ptr<detail::waiter>>> write_waiters_;
  std::vector<std::unique_ptr<detail::waiter>> close_waiters_;
  std::function<void()> on_drain_;
};

}  // namespace sigwire::ws

#include <sigwire/ws/asio/impl/handshake.hpp>
#include <sigwire/ws/asio/impl/read.hpp>
#include <sigwire/ws/asio/impl/write.hpp>
