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
// Timers: one steady_timer serves the handshake timeout, the idle timeout
// (a ping after idle_timeout of silence, failure after another idle_timeout
// without any byte) and the close timeout. It is re-armed only when it
// fires, never per message.
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

#include <sys/socket.h>
#include <sys/uio.h>

#include <sigwire/http/head.hpp>
#include <sigwire/ws/asio/detail/read_buffer.hpp>
#include <sigwire/ws/connection.hpp>
#include <sigwire/ws/handshake.hpp>

namespace sigwire::ws {

enum class send_status { queued, dropped };
enum class message_type { text, binary };

struct stream_options {
  connection_options connection;  // limits, auto pong; deflate settings (budget)
  std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
  std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);  // zero: no keep-alive
  std::chrono::steady_clock::duration close_timeout = std::chrono::seconds(5);
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

namespace detail {

template <class T>
struct is_ssl_stream : std::false_type {};
template <class S>
struct is_ssl_stream<asio::ssl::stream<S>> : std::true_type {};

// A move-only completion waiting for an event of the stream.
struct waiter {
  virtual ~waiter() = default;
  virtual void complete(std::error_code ec) = 0;
};
template <class Handler, class Executor>
struct waiter_impl final : waiter {
  Handler handler;
  asio::executor_work_guard<Executor> work;
  waiter_impl(Handler h, Executor ex) : handler(std::move(h)), work(ex) {}
  void complete(std::error_code ec) override {
    auto ex = asio::get_associated_executor(handler, work.get_executor());
    asio::post(ex, [h = std::move(handler), ec]() mutable { std::move(h)(ec); });
    work.reset();
  }
};

template <class T>
struct is_tcp_socket : std::false_type {};
template <class Executor>
struct is_tcp_socket<asio::basic_stream_socket<asio::ip::tcp, Executor>> : std::true_type {};

// Reads of plain-TCP streams completed by the reactor on this thread: how
// busy the thread is, for stream::busy_elsewhere().
inline thread_local std::uint64_t reads_completed_on_this_thread = 0;

inline std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host.substr(1, host.find(']') - 1);
  const auto colon = host.rfind(':');
  return colon != std::string_view::npos && host.find(':') == colon ? host.substr(0, colon) : host;
}

}  // namespace detail

template <class NextLayer>
class stream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;
  static constexpr bool is_tls = detail::is_ssl_stream<NextLayer>::value;
  static constexpr bool is_plain_tcp = detail::is_tcp_socket<NextLayer>::value;
#if defined(ASIO_HAS_IO_URING_AS_DEFAULT)
  // Asio's io_uring backend (ASIO_HAS_IO_URING + ASIO_DISABLE_EPOLL) hands
  // the async write to the kernel with its next submission: a direct send
  // (or recv) would add a system call there instead of saving a scheduler
  // round.
  static constexpr bool direct_io = false;
#else
  static constexpr bool direct_io = is_plain_tcp;
#endif

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
          (void)conn_->close(code, reason);
          flush();
          arm_timer(opt_.close_timeout, timer_purpose::close);
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
  enum class timer_purpose { none, handshake, idle, close };

  // ---- head exchange (both roles) --------------------------------------------
  // Client: [TLS] write request, read response, validate.
  // Server (read_only_request): [TLS] read request.
  struct head_op {
    stream* s;
    bool server;
    enum { start, tls_done, wrote, reading, waiting, rejected } state = start;

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
      if (state == rejected) return s->finish_handshake(self, make_error_code(error::bad_request_head));
      if (ec) return s->finish_handshake(self, ec);
      switch (state) {
        case start:
          state = tls_done;
          s->arm_timer(s->opt_.handshake_timeout, timer_purpose::handshake);
          if constexpr (is_tls) {
            if (server && s->tls_done_) break;
            s->tls_done_ = true;
            if (!server) s->prepare_tls_client();
            s->next_.async_handshake(server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client, std::move(self));
            return;
          }
          break;
        case tls_done: break;
        case wrote: return read_head(self);
        case reading:
          s->rlen_ += n;
          return on_bytes(self);
        case waiting: {
          std::size_t got = 0;
          ec = s->recv_into_buffer(got);
          if (ec == asio::error::would_block) return read_head(self);
          if (ec) return s->finish_handshake(self, ec);
          s->rlen_ += got;
          return on_bytes(self);
        }
        case rejected: break;
      }
      if (server) return read_head(self);
      state = wrote;
      asio::async_write(s->next_, asio::buffer(s->client_hs_->request()), std::move(self));
    }

    template <class Self>
    void on_bytes(Self& self) {
      const std::string_view have(s->rbuf_.data(), s->rlen_);
      http::parse_result r;
      if (server) r = http::parse_request(have, s->request_);
      else r = http::parse_response(have, s->response_);
      if (r.failed()) {  // also a head past http::limits::max_head_bytes
        if (!server) return s->finish_handshake(self, make_error_code(error::bad_response_head));
        // A server answers a malformed head with 400 before closing.
        state = rejected;
        s->head_ = failure_response(error::bad_request_head);
        return asio::async_write(s->next_, asio::buffer(s->head_), std::move(self));
      }
      if (r.need_more()) {
        s->rbuf_.shrink_to(s->rlen_);  // hold only what came, while the peer takes its time
        return read_head(self);
      }
      // Keep the head in its own buffer (views point into it); leftover bytes stay in rbuf_.
      s->head_.assign(s->rbuf_.data(), r.consumed);
      s->rpos_ = r.consumed;
      if (server) {
        (void)http::parse_request(s->head_, s->request_);
        s->request_read_ = true;
        return s->finish_handshake(self, {});
      }
      (void)http::parse_response(s->head_, s->response_);
      const auto v = s->client_hs_->validate(s->response_);
      if (v.ec) return s->finish_handshake(self, v.ec);
      s->subprotocol_ = v.subprotocol;
      s->deflate_ = v.deflate;
      s->open_connection(role::client);
      s->finish_handshake(self, {});
    }

    // Over plain TCP a connection that sends nothing holds no buffer: wait
    // until bytes are there, then read them (state waiting).
    template <class Self>
    void read_head(Self& self) {
      if constexpr (direct_io) {
        state = waiting;
        return s->lowest_layer().async_wait(asio::socket_base::wait_read, std::move(self));
      }
      state = reading;
      s->reserve_behind_unparsed();
      s->next_.async_read_some(asio::buffer(s->rbuf_.data() + s->rlen_, s->rbuf_.size() - s->rlen_), std::move(self));
    }
  };

  template <class Self>
  void finish_handshake(Self& self, std::error_code ec) {
    if (ec && timed_out_) ec = make_error_code(error::timeout);
    if (ec) close_transport();
    self.complete(ec);
  }

  struct accept_op {
    stream* s;
    enum { start, have_request, wrote } state = start;
    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t = 0) {
      if (ec) return s->finish_handshake(self, ec);
      if (state == start) {
        state = have_request;
        if (!s->request_read_)
          return s->async_read_request(std::move(self));
      }
      if (state == have_request) {
        state = wrote;
        auto r = server_accept(s->request_, s->server_opts_);
        s->accept_error_ = r.ec;
        s->subprotocol_ = r.subprotocol;
        s->deflate_ = r.deflate;
        s->head_ = std::move(r.response);
        return asio::async_write(s->next_, asio::buffer(s->head_), std::move(self));
      }
      if (s->accept_error_) return s->finish_handshake(self, s->accept_error_);
      s->open_connection(role::server);
      s->finish_handshake(self, {});
    }
  };

  void open_connection(ws::role r) {
    connection_options co = opt_.connection;
    co.deflate = deflate_;
    // The codec's budget (mem_level, level, keep_idle_codec, ...) is the one
    // of the deflate_options the handshake negotiated with.
    co.deflate_settings = r == role::server ? server_opts_.deflate : client_hs_->options().deflate;
    conn_.emplace(r, std::move(co));
    last_rx_ = std::chrono::steady_clock::now();
    if (opt_.idle_timeout.count() > 0) arm_timer(opt_.idle_timeout, timer_purpose::idle);
    else cancel_timer();
  }

  void prepare_tls_client() {
    if constexpr (is_tls) {
      const std::string host(detail::host_without_port(client_hs_->options().host));
      // SNI from the URL host (RFC 6066 §3); no SNI for IP literals.
      asio::error_code ec;
      asio::ip::make_address(host, ec);
      if (ec) SSL_set_tlsext_host_name(next_.native_handle(), host.c_str());
      if (opt_.tls_verify) {
        next_.set_verify_mode(asio::ssl::verify_peer);
        next_.set_verify_callback(asio::ssl::host_name_verification(host));
      } else {
        next_.set_verify_mode(asio::ssl::verify_none);
      }
    }
  }

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

  struct read_op {
    stream* s;
    std::string* out;
    enum { start, posted, reading, reading_payload, waiting, closing, rearming } state = start;
    std::size_t window_size = 0;  // of the read in state `reading_payload`
    std::error_code final_ec;  // what a read in state `closing` reports

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
      if (state == start) return begin(self);
      if (state == closing) return done(self, final_ec, message_type::binary);
      if (state == rearming) return rearm(self);
      // A completion from the scheduler: a new turn of this stream.
      bool destroyed = false;
      bool* const outer = std::exchange(s->turn_destroyed_, &destroyed);
      if (!ec && state == waiting) {  // readable: read into a buffer lent for this turn
        ec = s->recv_into_buffer(n);
        if (ec == asio::error::would_block) {
          s->turn_destroyed_ = outer;
          return wait(self);
        }
        state = reading;
      }
      if (!ec && (state == reading || state == reading_payload)) s->note_read_completion();
      if (!ec && state == reading) s->received(n, s->rbuf_.size());
      if (!ec && state == reading_payload) s->received(0, window_size, n);
      if (ec) done(self, s->timed_out_ ? make_error_code(error::timeout) : ec, message_type::binary);
      else if (state != reading_payload || !commit(self, n)) deliver(self);
      if (destroyed) {
        if (outer) *outer = true;
        return;
      }
      s->turn_destroyed_ = outer;
    }

    template <class Self>
    void begin(Self& self) {
      if (!s->conn_) return self.complete(make_error_code(error::closed), message_type::binary);
      s->reading_ = true;
      const bool closed = s->transport_closed_ || s->conn_->state() == connection_state::closed;
      const bool buffered = s->rpos_ < s->rlen_ || closed;
      if (s->turn_destroyed_ && s->inline_reads_ < max_inline_reads) {
        // Started from our own completion handler: continue in this turn.
        bool* destroyed = s->turn_destroyed_;
        ++s->inline_reads_;
        deliver(self);
        if (!*destroyed) --s->inline_reads_;
        return;
      }
      if (buffered) {
        state = posted;
        return asio::post(s->get_executor(), std::move(self));  // never complete inline
      }
      // Nothing buffered: straight to the socket (async_read_some never
      // completes inline), saving a scheduler round and its epoll_wait.
      s->rpos_ = s->rlen_ = 0;
      s->flush();
      read_more(self);
    }

    // Reads into the payload window when a large payload is still owed,
    // else into rbuf_.
    template <class Self>
    void read_more(Self& self) {
      const auto window = s->conn_->payload_window(s->opt_.max_read_buffer_size);
      if (window.size() >= min_payload_window) {
        state = reading_payload;
        window_size = window.size();
        return s->next_.async_read_some(asio::buffer(window.data(), window.size()), std::move(self));
      }
      if constexpr (direct_io) {
        // Quiet: the last read did not fill the buffer, so the peer has sent
        // everything for now. Wait without holding a buffer.
        if (!s->last_read_filled_ && s->opt_.release_idle_read_buffer) return wait(self);
      }
      state = reading;
      s->next_.async_read_some(s->read_space(), std::move(self));
    }

    // Gives the read buffer back (everything in it was parsed) and waits
    // for readability: on Asio's epoll reactor this costs an epoll_ctl
    // where a read would have cost a recv that finds nothing, so an idle
    // stream holds no buffer at no extra system call.
    template <class Self>
    void wait(Self& self) {
      s->rbuf_.release();
      state = waiting;
      s->lowest_layer().async_wait(asio::socket_base::wait_read, std::move(self));
    }

    // Feeds buffered bytes until an event for the user, then reads more.
    template <class Self>
    void deliver(Self& self) {
      for (int direct_reads = 0;; ++direct_reads) {
        if (deliver_buffered(self)) return;
        s->rpos_ = s->rlen_ = 0;
        s->flush();
        if (s->transport_closed_ || s->conn_->state() == connection_state::closed)
          return done(self, make_error_code(error::closed), message_type::binary);
        if (s->last_read_filled_) s->grow_read_buffer();
        const bool may_read_now = direct_reads < max_direct_reads;
        const auto window = s->conn_->payload_window(s->opt_.max_read_buffer_size);
        if (window.size() >= min_payload_window) {
          // Most of a large payload is still to come: read it straight into
          // the message buffer (unmasked there in place), skipping a copy.
          if (!may_read_now || !s->read_now(asio::buffer(window.data(), window.size()))) break;
          if (commit(self, s->last_read_size_)) return;
          continue;
        }
        if (!may_read_now || !s->read_now(s->read_space())) break;
        s->rlen_ = s->last_read_size_;
      }
      if (s->busy_elsewhere()) {
        // Re-arm behind the scheduler's next poll: by then the peer has
        // usually sent more, so Asio's first recv finds data instead of
        // costing a system call that would block (see rearm_after_poll).
        state = rearming;
        return asio::post(s->get_executor(), std::move(self));
      }
      read_more(self);
    }

    // After the scheduler's poll the peer has usually sent more: read at
    // once (as a completion of state waiting), and wait only if nothing came.
    template <class Self>
    void rearm(Self& self) {
      if (s->transport_closed_ || !s->conn_ || s->conn_->state() == connection_state::closed)
        return done(self, make_error_code(error::closed), message_type::binary);
      if constexpr (direct_io) {
        if (s->opt_.release_idle_read_buffer &&
            s->conn_->payload_window(s->opt_.max_read_buffer_size).size() < min_payload_window) {
          state = waiting;
          return (*this)(self);
        }
      }
      read_more(self);
    }

    // n payload bytes arrived in the window; true when that completed the read.
    template <class Self>
    bool commit(Self& self, std::size_t n) {
      return report(self, s->conn_->commit_payload(n).ev);
    }

    // Feeds what rbuf_ holds; true when an event completed this read (self
    // is then spent, and the stream may be gone).
    template <class Self>
    bool deliver_buffered(Self& self) {
      while (s->rpos_ < s->rlen_) {
        const auto r = s->conn_->feed(std::string_view(s->rbuf_.data() + s->rpos_, s->rlen_ - s->rpos_));
        s->rpos_ += r.consumed;
        if (report(self, r.ev)) return true;
      }
      return false;
    }

    // Completes the read for an event the user sees; false for none, ping, pong.
    template <class Self>
    bool report(Self& self, const event& ev) {
      switch (ev.type) {
        case event_type::none:
        case event_type::ping:
        case event_type::pong: return false;
        case event_type::text:
        case event_type::binary:
          s->conn_->take_message(*out);  // a swap, not a copy
          // An automatic pong or earlier replies may be waiting: they
          // leave with the reply the handler is about to make.
          if (s->conn_->buffered_amount() > 0) s->defer_flush();
          done(self, {}, ev.type == event_type::text ? message_type::text : message_type::binary);
          return true;
        case event_type::close:
          s->close_code_ = ev.code;
          s->close_reason_.assign(ev.data);
          end_after_output(self, make_error_code(error::closed));
          return true;
        case event_type::error:
          s->close_code_ = static_cast<std::uint16_t>(close_code::abnormal);
          end_after_output(self, ev.ec);
          return true;
      }
      return false;
    }

    // The Close frame we answer with (§5.5.1), or send after a protocol
    // error (§7.1.7), must leave before the read reports the end: a handler
    // that then destroys the stream must not cut it off. A direct send has
    // usually taken it already; otherwise (TLS, io_uring, a full socket
    // buffer) the read completes once it is written, the write fails, or the
    // close timeout closes the transport.
    template <class Self>
    void end_after_output(Self& self, std::error_code ec) {
      s->flush();
      if (!s->writing_ || s->transport_closed_) return done(self, ec, message_type::binary);
      state = closing;
      final_ec = ec;
      s->arm_timer(s->opt_.close_timeout, timer_purpose::close);
      s->write_waiters_.push_back({s->written_total_ + s->buffered_amount(),
                                   std::make_unique<detail::waiter_impl<Self, executor_type>>(std::move(self),
                                                                                              s->get_executor())});
    }

    template <class Self>
    void done(Self& self, std::error_code ec, message_type t) {
      s->reading_ = false;
      if constexpr (direct_io) {
        // Everything received is parsed and the peer is quiet: give the
        // buffer back, so a stream with no read pending holds none either.
        if (s->rpos_ >= s->rlen_ && !s->last_read_filled_ && s->opt_.release_idle_read_buffer) {
          s->rpos_ = s->rlen_ = 0;
          s->rbuf_.release();
        }
      }
      if (ec) {
        if (s->conn_ && s->conn_->buffered_amount() == 0 && !s->writing_) s->close_transport();
        s->complete_close_waiters(s->close_outcome());
      }
      stream* const st = s;
      bool* const turn = st->turn_destroyed_;
      if (!turn && st->flush_deferred_) st->post_flush_fallback();  // nothing looks after the handler
      self.complete(ec, t);  // may start the next read, or destroy the stream
      // Held replies leave when the next read drains the buffer; if the
      // handler started none, the posted check sends them.
      if (turn && !*turn && !st->reading_ && st->flush_deferred_) st->post_flush_fallback();
    }
  };

  // One non-blocking recv into `to`, only on plain TCP (epoll backend) and
  // only after a read that filled its buffer. False when nothing came: the
  // reactor's read then waits (and reports EOF or errors). The size read is
  // left in last_read_size_.
  bool read_now(asio::mutable_buffer to) {
    if constexpr (direct_io) {
      if (!last_read_filled_) return false;
      last_read_filled_ = false;
      ssize_t n;
      do n = ::recv(lowest_layer().native_handle(), to.data(), to.size(), MSG_DONTWAIT);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return false;
      last_read_size_ = static_cast<std::size_t>(n);
      received(0, to.size(), last_read_size_);
      return true;
    }
    return false;
  }

  // Plain TCP on epoll only (io_uring submits reads without a system call).
  void note_read_completion() {
    if constexpr (direct_io) {
      const std::uint64_t now = ++detail::reads_completed_on_this_thread;
      busy_elsewhere_ = now - read_mark_ > rearm_after_poll;
      read_mark_ = now;
    }
  }
  bool busy_elsewhere() const { return busy_elsewhere_; }

  // Only between reads (nothing unparsed in the buffer).
  void grow_read_buffer() {
    if (rbuf_.size() < opt_.max_read_buffer_size) rbuf_.reserve(std::min(rbuf_.size() * 2, opt_.max_read_buffer_size));
  }

  // The whole read buffer for a read (nothing unparsed in it), lent now if
  // the stream holds none.
  asio::mutable_buffer read_space() {
    rbuf_.reserve(opt_.read_buffer_size);
    return asio::buffer(rbuf_.data(), rbuf_.size());
  }

  // Room to read behind the rlen_ bytes held (a partial HTTP head), in a
  // buffer of the pooled size when they are few.
  void reserve_behind_unparsed() {
    const std::size_t size = opt_.read_buffer_size;
    rbuf_.reserve(rlen_ + 1024 <= size ? size : rlen_ + size, rlen_);
  }

  // One non-blocking recv after a wait for readability, behind the rlen_
  // bytes already in the buffer. would_block when the wake-up found nothing.
  std::error_code recv_into_buffer(std::size_t& n) {
    reserve_behind_unparsed();
    ssize_t got;
    do got = ::recv(lowest_layer().native_handle(), rbuf_.data() + rlen_, rbuf_.size() - rlen_, MSG_DONTWAIT);
    while (got < 0 && errno == EINTR);
    if (got > 0) {
      n = static_cast<std::size_t>(got);
      return {};
    }
    if (got == 0) return asio::error::eof;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return asio::error::would_block;
    return {errno, asio::error::get_system_category()};
  }

  // A read completed: `added` more bytes in rbuf_, `got` of `asked` bytes in all.
  void received(std::size_t added, std::size_t asked, std::size_t got) {
    rlen_ += added;
    last_read_filled_ = got == asked;
    last_rx_ = std::chrono::steady_clock::now();
    ping_outstanding_ = false;
  }
  void received(std::size_t n, std::size_t asked) { received(n, asked, n); }

  // Reads and discards until the close handshake ends (async_close without a reader).
  void drain_reads() {
    async_read(discard_, [this, alive = std::weak_ptr<bool>(alive_)](std::error_code ec, message_type) {
      if (auto a = alive.lock(); !a || !*a) return;
      if (!ec) drain_reads();
    });
  }

  // ---- writing ------------------------------------------------------------------
  send_status send_owned(message_type type, std::string&& s) {
    const std::size_t n = s.size();  // read before the string is moved from
    return enqueue(
        [&] { return type == message_type::text ? conn_->send_text(std::move(s)) : conn_->send_binary(std::move(s)); },
        n);
  }

  template <class F>
  send_status enqueue(F&& frame_it, std::size_t size) {
    if (!conn_ || transport_closed_) return send_status::dropped;
    if (buffered_amount() + size > opt_.high_watermark) {
      above_high_ = true;
      return send_status::dropped;
    }
    if (frame_it()) return send_status::dropped;
    queued_total_ = written_total_ + buffered_amount();
    schedule_flush();
    return send_status::queued;
  }

  // Data is std::string_view (copied when framed) or std::string (taken over).
  template <class Data, class Token>
  auto async_write(message_type type, Data data, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, type, data = std::move(data)](auto handler) mutable {
          using H = std::decay_t<decltype(handler)>;
          auto w = std::make_unique<detail::waiter_impl<H, executor_type>>(std::move(handler), get_executor());
          const auto st = type == message_type::text ? send_text(std::move(data)) : send_binary(std::move(data));
          if (st == send_status::dropped) return w->complete(make_error_code(error::closed));
          if (written_total_ >= queued_total_) return w->complete({});  // the send went out at once
          write_waiters_.push_back({queued_total_, std::move(w)});
        },
        token);
  }

  // Messages parsed from one read are usually answered one by one from their
  // handlers. While unparsed input remains, output is held so that the whole
  // batch leaves in one write: the read op flushes when its buffer drains,
  // and a posted check flushes anyway when no read carries the batch on.
  // Inside one of our read completions the check is posted only once the
  // handler has returned without starting a read, so the usual read loop
  // costs no scheduler round for it. The check goes round the scheduler
  // twice, so that a handler run later (a posted completion) could start
  // the next read first.
  void schedule_flush() {
    if (rpos_ >= rlen_) return flush();
    defer_flush();
  }
  void defer_flush() {
    flush_deferred_ = true;
    if (!turn_destroyed_) post_flush_fallback();  // in a read completion, done() decides
  }
  void post_flush_fallback() {
    if (flush_posted_) return;
    flush_posted_ = true;
    post_flush_check(2);
  }
  void post_flush_check(int rounds) {
    asio::post(get_executor(), [this, rounds, alive = std::weak_ptr<bool>(alive_)] {
      if (auto a = alive.lock(); !a || !*a) return;
      if (rounds > 1) return post_flush_check(rounds - 1);
      flush_posted_ = false;
      if (flush_deferred_ && (!reading_ || rpos_ >= rlen_)) flush();
    });
  }

  void flush() {
    flush_deferred_ = false;
    if (writing_ || !conn_ || transport_closed_) return;
    if (conn_->buffered_amount() == 0) {
      if (conn_->transport_should_close() && !reading_) close_transport();
      return;
    }
    conn_->take_output(inflight_);
    const std::size_t sent = send_now();
    if (sent == inflight_.size()) return wrote(sent);
    writing_ = true;
    auto on_done = [this, sent, alive = std::weak_ptr<bool>(alive_)](std::error_code ec, std::size_t n) {
      if (auto a = alive.lock(); !a || !*a) return;
      on_written(ec, sent + n);
    };
    asio::async_write(next_, unsent_pieces(sent), std::move(on_done));
  }

  // The batch's pieces without their first `sent` bytes.
  std::vector<asio::const_buffer> unsent_pieces(std::size_t sent) const {
    std::vector<asio::const_buffer> pieces;
    pieces.reserve(inflight_.max_pieces());
    inflight_.for_each_piece([&](std::string_view piece) {
      const std::size_t skip = std::min(sent, piece.size());
      sent -= skip;
      if (skip < piece.size()) pieces.push_back(asio::buffer(piece) + skip);
    });
    return pieces;
  }

  // Plain TCP: one non-blocking send (gathered: sendmsg) before going
  // async, so that a write which fits the socket buffer costs one system
  // call and no scheduler round. Returns the bytes sent (0 when it would
  // block or failed: the async write then meets and reports the same error).
  std::size_t send_now() {
    if constexpr (direct_io) {
      std::array<iovec, 64> iov;
      std::size_t count = 0;
      inflight_.for_each_piece([&](std::string_view piece) {
        if (count < iov.size()) iov[count++] = {const_cast<char*>(piece.data()), piece.size()};
      });
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = count;
      for (;;) {
        const ssize_t n = ::sendmsg(lowest_layer().native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) return 0;
      }
    }
    return 0;
  }

  void on_written(std::error_code ec, std::size_t n) {
    writing_ = false;
    if (ec) {
      written_total_ += n;
      inflight_.clear();
      fail_waiters(ec);
      close_transport();
      return;
    }
    wrote(n);
    if (!transport_closed_) schedule_flush();  // what queued meanwhile; held while a batch is being read
  }

  // Book-keeping after inflight_ was written whole. Runs inside flush(), so
  // whatever calls user code is posted (waiters post their completions).
  void wrote(std::size_t n) {
    written_total_ += n;
    // Nothing more queued: hold no output buffer while idle (the next
    // take_output() swaps this empty one into the connection).
    if (conn_->buffered_amount() == 0) inflight_.release();
    else inflight_.clear();
    // Waiters are in queue order: complete those whose bytes are all out.
    const auto done = std::find_if(write_waiters_.begin(), write_waiters_.end(),
                                   [&](const auto& w) { return w.first > written_total_; });
    for (auto it = write_waiters_.begin(); it != done; ++it) it->second->complete({});
    write_waiters_.erase(write_waiters_.begin(), done);
    if (above_high_ && buffered_amount() < opt_.low_watermark) {
      above_high_ = false;
      if (on_drain_)
        asio::post(get_executor(), [this, alive = std::weak_ptr<bool>(alive_)] {
          if (auto a = alive.lock(); a && *a && on_drain_) on_drain_();
        });
    }
    if (conn_->transport_should_close() && conn_->buffered_amount() == 0) {
      // §7.1.1: the server closes TCP first; our client closes too once the
      // handshake is complete (peers handle either order).
      close_transport();
    }
  }

  void fail_waiters(std::error_code ec) {
    for (auto& w : write_waiters_) w.second->complete(ec);
    write_waiters_.clear();
    complete_close_waiters(ec);
  }
  void complete_close_waiters(std::error_code ec) {
    if (!transport_closed_ && conn_ && conn_->state() != connection_state::closed) return;
    for (auto& w : close_waiters_) w->complete(ec);
    close_waiters_.clear();
  }

  void close_transport() {
    if (transport_closed_) return;
    transport_closed_ = true;
    asio::error_code ignored;
    lowest_layer().shutdown(asio::socket_base::shutdown_both, ignored);
    lowest_layer().close(ignored);
    cancel_timer();
    for (auto& w : write_waiters_) w.second->complete(make_error_code(error::closed));
    write_waiters_.clear();
    // §7.1.5: no Close frame received means the close code is 1006.
    if (close_code_ == 0) close_code_ = static_cast<std::uint16_t>(close_code::abnormal);
    const std::error_code outcome = close_outcome();
    for (auto& w : close_waiters_) w->complete(outcome);
    close_waiters_.clear();
  }

  // What async_close reports: success only for a complete close handshake.
  std::error_code close_outcome() const {
    if (timed_out_) return make_error_code(error::timeout);
    if (conn_ && conn_->close_handshake_complete()) return {};
    return make_error_code(error::closed_abnormally);
  }

  // ---- the one timer --------------------------------------------------------------
  void cancel_timer() {
    purpose_ = timer_purpose::none;
    timer_.cancel();
  }
  void arm_timer(std::chrono::steady_clock::duration d, timer_purpose p) {
    purpose_ = p;
    timer_.expires_after(d);
    timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_), p](std::error_code ec) {
      if (auto a = alive.lock(); !a || !*a) return;
      if (ec || purpose_ != p) return;
      on_timer(p);
    });
  }
  void on_timer(timer_purpose p) {
    if (transport_closed_) return;
    if (p == timer_purpose::idle) {
      const auto idle = std::chrono::steady_clock::now() - last_rx_;
      if (idle < opt_.idle_timeout) return arm_timer(opt_.idle_timeout - idle, p);
      if (!ping_outstanding_) {  // keep-alive: one ping, then one more period to answer
        ping_outstanding_ = true;
        last_rx_ = std::chrono::steady_clock::now();
        (void)ping();
        return arm_timer(opt_.idle_timeout, p);
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
  std::string head_;
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
  bool ping_outstanding_ = false, above_high_ = false;
  bool flush_deferred_ = false, flush_posted_ = false;  // see schedule_flush()
  std::chrono::steady_clock::time_point last_rx_{};
  output_batch inflight_;  // being written: frame bytes and attached payloads
  std::uint64_t written_total_ = 0, queued_total_ = 0;
  // (A vector, not a deque: libstdc++'s deque allocates 576 bytes when constructed.)
  std::vector<std::pair<std::uint64_t, std::unique_ptr<detail::waiter>>> write_waiters_;
  std::vector<std::unique_ptr<detail::waiter>> close_waiters_;
  std::function<void()> on_drain_;
};

}  // namespace sigwire::ws
