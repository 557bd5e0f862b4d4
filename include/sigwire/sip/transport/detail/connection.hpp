// sigwire/sip/transport/detail/connection.hpp - one SIP connection of the
// hub (hub.hpp): TCP or TLS, framed by Content-Length (RFC 3261 §18.3), or
// WS or WSS, one SIP message per WebSocket message (RFC 7118 §5).
//
// A connection's life:
//
//   accepted / connect() --> [TCP connect] --> [TLS handshake] --> [WebSocket handshake] --> ready
//                                  any failure, or not ready within options::handshake_timeout
//                                  (the hub's sweep), or an error later: drop()
//
// Messages queued before `ready` wait and leave in order once it is. drop()
// closes the socket, tells the hub to forget the flow and reports every
// message still queued as a transport error of its transaction.
#pragma once

#include <sigwire/core/utf8.hpp>
#include <sigwire/sip/framer.hpp>
#include <sigwire/sip/transport/options.hpp>
#include <sigwire/ws/asio/stream.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sigwire::sip::transport::detail {

class connection;

// What a connection asks of the hub that owns it.
class connection_owner {
 public:
  virtual const options& settings() const noexcept = 0;
  virtual counters& tally() noexcept = 0;
  virtual bool closing() const noexcept = 0;
  virtual void received(std::uint32_t flow, std::string message) = 0;  // one whole SIP message
  // Forget the flow; `failed`: it did not end by our choice (transport error,
  // closed by the peer, keep-alive or handshake unanswered).
  virtual void closed(std::uint32_t flow, const connection& c, bool failed) = 0;
  virtual void send_failed(transaction::tsx_id tsx) = 0;
  // A request moved from UDP to this connection (§18.1.1) that could not
  // leave: send its original bytes over UDP after all.
  virtual void send_over_udp(const transaction::peer& udp, transaction::shared_bytes original, transaction::tsx_id tsx) = 0;

 protected:
  ~connection_owner() = default;
};

using tcp_socket = asio::ip::tcp::socket;
using tls_socket = asio::ssl::stream<asio::ip::tcp::socket>;
using lowest_socket = asio::ip::tcp::socket::lowest_layer_type;

// Client side of TLS: SNI for a host name (RFC 6066 §3: never for an IP
// literal) and verification of the certificate against that name or address.
inline void prepare_tls_client(tls_socket& s, const std::string& host, bool verify) {
  std::error_code ec;
  (void)asio::ip::make_address(host, ec);
  if (ec) SSL_set_tlsext_host_name(s.native_handle(), host.c_str());
  if (!verify) return s.set_verify_mode(asio::ssl::verify_none);
  s.set_verify_mode(asio::ssl::verify_peer);
  s.set_verify_callback(asio::ssl::host_name_verification(host));
}

// A message's own copy, with room for ";received=...;rport=..." so that the
// Via stamp (via_stamp.hpp) does not allocate again.
inline std::string with_room_for_stamp(std::string_view message) {
  std::string bytes;
  bytes.reserve(message.size() + 64);
  bytes.assign(message);
  return bytes;
}

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(connection_owner& owner, std::shared_ptr<const bool> alive, std::uint32_t flow)
      : owner_(owner), alive_(std::move(alive)), flow_(flow) {}
  virtual ~connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  virtual lowest_socket& socket() noexcept = 0;
  // The OpenSSL connection of a TLS or WSS connection, else null.
  virtual SSL* tls_handle() noexcept { return nullptr; }
  // Closes the transport now (a WebSocket stream also stops its timer).
  virtual void close_now() noexcept {
    std::error_code ignored;
    socket().close(ignored);
  }
  // A connection a listener accepted: its handshakes, then reading.
  virtual void accepted() = 0;
  // A connection we open to `to`; `host` names the peer for TLS (SNI,
  // verification) and for the WebSocket Host header.
  virtual void connect(const asio::ip::tcp::endpoint& to, std::string host) = 0;

  // `udp` and `original`: a request moved here from UDP (§18.1.1), sent over
  // UDP after all when this connection fails before it left.
  void queue(transaction::shared_bytes bytes, transaction::tsx_id tsx, transaction::peer udp = {},
             transaction::shared_bytes original = {}) {
    push({std::move(bytes), tsx, udp, std::move(original), false});
  }
  // A CRLF ping or pong (RFC 5626 §3.5.1): not SIP traffic for the idle timeout.
  void queue_keepalive(transaction::shared_bytes bytes) { push({std::move(bytes), {}, {}, {}, true}); }

  // Closes the connection and forgets its flow; every message still queued
  // is a transport error (reported last: the report may send again).
  // `failed` is false only when we close a connection idle too long.
  void drop(bool failed = true) {
    if (dropped_) return;  // a handler of the closed transport may call it again
    dropped_ = true;
    auto keep = shared_from_this();
    close_now();
    if (!ready) ++owner_.tally().handshake_failures;
    ready = false;
    std::deque<pending> unsent = std::move(out_);
    out_.clear();
    queued_ = 0;
    owner_.closed(flow_, *this, failed);
    for (const pending& p : unsent) {
      if (p.udp.id != 0) owner_.send_over_udp(p.udp, p.original, p.tsx);
      else owner_.send_failed(p.tsx);
    }
  }

  asio::ip::tcp::endpoint remote{};
  std::string via, contact;                             // ours on this connection
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();  // SIP traffic, or the start
  std::chrono::steady_clock::time_point last_received = last_activity;  // any byte (a pong too)
  std::chrono::steady_clock::time_point ping_sent{};    // RFC 5626 keep-alive awaiting its pong, when set
  bool ready = false;                                   // connected and every handshake done
  bool opened_by_us = false;                            // we send its keep-alive pings

  // RFC 5626 §3.5.1 / §4.4.1: a CRLFCRLF ping on TCP and TLS (WebSocket
  // streams keep themselves alive with WebSocket pings).
  virtual bool send_ping() { return false; }

 protected:
  struct pending {
    transaction::shared_bytes bytes;
    transaction::tsx_id tsx;
    transaction::peer udp{};                   // §18.1.1: the UDP flow it was moved from
    transaction::shared_bytes original{};      // and its bytes as they were
    bool keepalive = false;
  };

  // A handler that must not run: the hub is destroyed or closing, or we
  // closed the socket ourselves (drop() already forgot the flow).
  bool gone(const std::error_code& ec) const { return !*alive_ || owner_.closing() || ec == asio::error::operation_aborted; }

  virtual void start_reading() = 0;
  // Sends out_.front(); calls wrote() when it left.
  virtual void write_front() = 0;

  void push(pending p) {
    if (queued_ + p.bytes->size() > owner_.settings().max_send_queue) return too_slow(p.tsx);
    queued_ += p.bytes->size();
    out_.push_back(std::move(p));
    if (ready && !writing_) write_next();
  }
  void became_ready() {
    ready = true;
    touch();
    start_reading();
    if (!out_.empty()) write_next();
  }
  void write_next() {
    if (out_.empty()) return;
    writing_ = true;
    write_front();
  }
  void wrote() {
    writing_ = false;
    if (!out_.front().keepalive) touch();
    queued_ -= out_.front().bytes->size();
    out_.pop_front();
    write_next();
  }
  // A peer that stopped reading: the flow is gone first, so a report that
  // sends again fails at once.
  void too_slow(transaction::tsx_id tsx) {
    ++owner_.tally().slow_peers;
    failing_ = true;  // no goodbye it would not read
    drop();
    owner_.send_failed(tsx);
  }
  void touch() { last_activity = std::chrono::steady_clock::now(); }
  std::error_code checked(io_point point, protocol p, std::error_code ec) const {
    return with_faults(owner_.settings(), point, p, ec);
  }

  connection_owner& owner_;
  std::shared_ptr<const bool> alive_;
  std::uint32_t flow_;
  std::deque<pending> out_;
  std::size_t queued_ = 0;
  bool writing_ = false, dropped_ = false;
  bool failing_ = false;  // closed at once, without a close handshake
};

// TCP or TLS: a byte stream cut into messages by sip::framer.
template <class Stream>
class stream_connection final : public connection {
  static constexpr bool tls = std::is_same_v<Stream, tls_socket>;
  static constexpr protocol proto = tls ? protocol::tls : protocol::tcp;

 public:
  template <class... Args>
  stream_connection(connection_owner& owner, std::shared_ptr<const bool> alive, std::uint32_t flow, Args&&... args)
      : connection(owner, std::move(alive), flow), stream_(std::forward<Args>(args)...), framer_(owner.settings().limits) {}

  lowest_socket& socket() noexcept override { return stream_.lowest_layer(); }
  SSL* tls_handle() noexcept override {
    if constexpr (tls) return stream_.native_handle();
    else return nullptr;
  }

  // TLS says it is closing (RFC 8446 §6.1) before the socket closes, when
  // the connection is up, not failing and no write is under way (ws::stream
  // does the same after its close handshake: one helper for both).
  void close_now() noexcept override {
    if constexpr (tls)
      if (ready && !writing_ && !failing_) ws::detail::send_close_notify(stream_);
    connection::close_now();
  }

  bool send_ping() override {
    static const transaction::shared_bytes ping = transaction::share("\r\n\r\n");
    ping_sent = std::chrono::steady_clock::now();
    queue_keepalive(ping);
    return ready;
  }

  void accepted() override {
    if constexpr (tls) {
      stream_.async_handshake(asio::ssl::stream_base::server, [self = shared()](std::error_code ec) {
        if (self->gone(ec)) return;
        if (self->checked(io_point::tls_handshake, proto, ec)) return self->drop();
        self->became_ready();
      });
    } else {
      became_ready();
    }
  }

  void connect(const asio::ip::tcp::endpoint& to, std::string host) override {
    socket().async_connect(to, [self = shared(), host = std::move(host)](std::error_code ec) {
      if (self->gone(ec)) return;
      if (self->checked(io_point::connect, proto, ec)) return self->drop();
      std::error_code ignored;
      self->socket().set_option(asio::ip::tcp::no_delay(true), ignored);
      if constexpr (tls) {
        prepare_tls_client(self->stream_, host, self->owner_.settings().tls.verify_server);
        self->stream_.async_handshake(asio::ssl::stream_base::client, [self](std::error_code ec2) {
          if (self->gone(ec2)) return;
          if (self->checked(io_point::tls_handshake, proto, ec2)) return self->drop();
          self->became_ready();
        });
      } else {
        self->became_ready();
      }
    });
  }

 private:
  static constexpr std::size_t initial_buffer = 4096;

  std::shared_ptr<stream_connection> shared() { return std::static_pointer_cast<stream_connection>(shared_from_this()); }

  // The buffer starts at 4 KiB, doubles while a large message comes in (up
  // to the message size limit) and goes back to 4 KiB once drained.
  void start_reading() override {
    if (in_.size() - used_ < initial_buffer / 2)
      in_.resize(std::min(std::max(initial_buffer, in_.size() * 2), owner_.settings().limits.max_message_size + initial_buffer));
    stream_.async_read_some(asio::buffer(in_.data() + used_, in_.size() - used_), [self = shared()](std::error_code ec, std::size_t n) {
      if (self->gone(ec)) return;
      if (self->checked(io_point::read, proto, ec)) return self->drop();
      self->used_ += n;
      self->last_received = std::chrono::steady_clock::now();
      self->ping_sent = {};  // any byte answers a ping
      if (self->take_messages()) self->start_reading();
    });
  }

  // Cuts whole messages off the front of the buffer; false when the stream broke.
  bool take_messages() {
    std::size_t begin = 0;
    for (;;) {
      const std::string_view rest(in_.data() + begin, used_ - begin);
      const sip::frame f = framer_.next(rest);
      answer_pings(f.pings);
      if (f.state == sip::frame::status::failed) {
        ++owner_.tally().framing_errors;
        failing_ = true;
        drop();
        return false;
      }
      if (f.state == sip::frame::status::need_more) {
        if (f.skipped == rest.size()) {  // only keep-alives: keep nothing
          begin += framer_.drop_keepalive();
          pings_answered_ = 0;
        }
        break;
      }
      pings_answered_ = 0;
      touch();
      const std::string_view message = f.message;
      begin += f.consumed();
      owner_.received(flow_, with_room_for_stamp(message));
      if (!socket().is_open()) return false;  // the handler closed us
    }
    std::memmove(in_.data(), in_.data() + begin, used_ - begin);
    used_ -= begin;
    if (used_ == 0 && in_.size() > initial_buffer) std::string(initial_buffer, '\0').swap(in_);  // give it back
    return true;
  }

  // RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong. On a
  // connection the peer opened, its pings keep it from the idle timeout: a
  // client keeps its flow (§4.4.1, the flow its outbound registration is
  // reached over) alive that way. Our own pings do not count.
  void answer_pings(std::size_t pings) {
    if (pings > pings_answered_ && !opened_by_us) touch();
    for (; pings_answered_ < pings; ++pings_answered_) {
      ++owner_.tally().pings_answered;
      static const transaction::shared_bytes pong = transaction::share("\r\n");
      queue_keepalive(pong);
    }
  }

  void write_front() override {
    if (checked(io_point::write, proto, {})) return drop();  // reports the front message too
    // The handler holds the bytes too: drop() may clear the queue while the write is pending.
    transaction::shared_bytes bytes = out_.front().bytes;
    const auto buffer = asio::buffer(*bytes);
    asio::async_write(stream_, buffer, [self = shared(), bytes = std::move(bytes)](std::error_code ec, std::size_t) {
      if (self->gone(ec)) return;
      if (ec) return self->drop();  // reports the message in flight too
      self->wrote();
    });
  }

  Stream stream_;
  sip::framer framer_;
  std::string in_;
  std::size_t used_ = 0, pings_answered_ = 0;
};

// WS or WSS (RFC 7118): the `sip` subprotocol, one SIP message per
// WebSocket message, text frames when the message is UTF-8 (as browsers
// send), binary otherwise.
template <class Next>
class websocket_connection final : public connection {
  static constexpr protocol proto = std::is_same_v<Next, tls_socket> ? protocol::wss : protocol::ws;

 public:
  template <class... Args>
  websocket_connection(connection_owner& owner, std::shared_ptr<const bool> alive, std::uint32_t flow, Args&&... args)
      : connection(owner, std::move(alive), flow), ws_(stream_settings(owner.settings()), std::forward<Args>(args)...) {}

  lowest_socket& socket() noexcept override { return ws_.lowest_layer(); }
  SSL* tls_handle() noexcept override {
    if constexpr (proto == protocol::wss) return ws_.next_layer().native_handle();
    else return nullptr;
  }

  // A connection that is up closes with the WebSocket close handshake
  // (RFC 6455 §7.1.2): 1001 when the hub closes, 1000 when idle or in answer
  // to the peer's Close; the stream closes the transport when the peer's Close
  // comes back (over WSS after its close_notify) or at its close timeout. A
  // connection not up yet, or one failing (a peer that stopped reading), is
  // closed at once.
  void close_now() noexcept override {
    if (ready && !failing_ && !closing_) {
      closing_ = true;
      try {
        return close_handshake(owner_.closing() ? ws::close_code::going_away : ws::close_code::normal);
      } catch (...) {  // no memory for the timer: close at once
      }
    }
    ws_.abort();
  }

  void accepted() override {
    ws::server_options server{.subprotocols = {"sip"}, .require_subprotocol = true};  // RFC 7118 §4
    ws_.async_accept(std::move(server), [self = shared()](std::error_code ec) {
      if (self->gone(ec)) return;
      if (self->checked(io_point::ws_handshake, proto, ec)) return self->drop();
      self->became_ready();
    });
  }

  void connect(const asio::ip::tcp::endpoint& to, std::string host) override {
    socket().async_connect(to, [self = shared(), to, host = std::move(host)](std::error_code ec) {
      if (self->gone(ec)) return;
      if (self->checked(io_point::connect, proto, ec)) return self->drop();
      std::error_code ignored;
      self->socket().set_option(asio::ip::tcp::no_delay(true), ignored);
      ws::client_options client;
      client.host = host_header(host, to);
      client.target = self->owner_.settings().websocket.path;
      client.subprotocols = {"sip"};
      self->ws_.async_handshake(std::move(client), [self](std::error_code ec2) {
        if (self->gone(ec2)) return;
        if (self->checked(io_point::ws_handshake, proto, ec2) || self->ws_.subprotocol() != "sip")
          return self->drop();  // RFC 7118 §4: sip or nothing
        self->became_ready();
      });
    });
  }

 private:
  std::shared_ptr<websocket_connection> shared() {
    return std::static_pointer_cast<websocket_connection>(shared_from_this());
  }

  // What keeps the connection alive during the handshake is a timer's wait,
  // held by the io_context (and dropped with it if the loop ends first); the
  // stream's own close handler must not hold it: the stream is ours, a cycle.
  // The stream closes the transport at its close timeout; the timer is only
  // a bound a little beyond it.
  void close_handshake(ws::close_code code) {
    const auto bound = owner_.settings().websocket.close_timeout + std::chrono::seconds(1);
    linger_ = std::make_unique<asio::steady_timer>(ws_.get_executor(), bound);
    linger_->async_wait([self = shared()](std::error_code) { self->ws_.abort(); });
    ws_.async_close(static_cast<std::uint16_t>(code), {}, [weak = weak_from_this()](std::error_code) {
      if (auto self = weak.lock()) static_cast<websocket_connection&>(*self).linger_->cancel();
    });
  }

  static ws::stream_options stream_settings(const options& o) {
    ws::stream_options s;
    s.connection.limits.max_message_size = o.limits.max_message_size;
    s.connection.limits.max_frame_payload = o.limits.max_message_size;
    s.handshake_timeout = o.handshake_timeout;
    s.connection.timeouts.close = o.websocket.close_timeout;
    s.connection.timeouts.idle = o.websocket.ping_interval;
    s.high_watermark = o.max_send_queue;
    s.low_watermark = o.max_send_queue / 2;
    s.read_buffer_size = 4096;  // SIP messages are small; the stream grows it for bulk
    s.tls_verify = o.tls.verify_server;
    return s;
  }
  static std::string host_header(const std::string& host, const asio::ip::tcp::endpoint& to) {
    const bool literal_v6 = host.find(':') != std::string::npos;
    return (literal_v6 ? "[" + host + "]" : host) + ":" + std::to_string(to.port());
  }

  void start_reading() override {
    ws_.async_read(message_, [self = shared()](std::error_code ec, ws::message_type) {
      if (self->gone(ec)) return;
      if (self->checked(io_point::read, proto, ec)) return self->drop();
      self->touch();
      // A message of line ends only is a keep-alive some clients send; not SIP.
      if (self->message_.find_first_not_of("\r\n") != std::string::npos) {
        // handed over, not copied: an idle connection keeps no message buffer
        self->owner_.received(self->flow_, std::exchange(self->message_, std::string()));
        if (!self->socket().is_open() || self->closing_) return;  // the handler closed us
      }
      self->start_reading();
    });
  }

  // The WebSocket stream has its own send queue (bounded by max_send_queue
  // through its high watermark): a message leaves its hands at once.
  void write_front() override {
    if (checked(io_point::write, proto, {})) return drop();  // reports the front message too
    const std::string_view bytes = *out_.front().bytes;
    const transaction::tsx_id tsx = out_.front().tsx;
    const auto status = sigwire::core::utf8::is_valid(bytes) ? ws_.send_text(bytes) : ws_.send_binary(bytes);
    if (status == ws::send_status::dropped) {
      writing_ = false;
      queued_ -= bytes.size();
      out_.pop_front();  // reported once, by too_slow()
      return too_slow(tsx);
    }
    wrote();
  }

  ws::stream<Next> ws_;
  std::string message_;
  bool closing_ = false;
  std::unique_ptr<asio::steady_timer> linger_;  // only while closing
};

}  // namespace sigwire::sip::transport::detail
