// sigwire/sip/transport/hub.hpp - SIP over UDP and TCP on Asio (RFC 3261 §18):
// the thin adapter between sockets and the sans-IO layers.
//
//   sip::transport::hub net(io, {.on_message = [&](std::string bytes, transaction::peer from) {...},
//                                .on_send_failed = [&](transaction::tsx_id tsx) {...}});
//   net.listen(protocol::udp, {asio::ip::make_address("127.0.0.1"), 5060});
//   net.listen(protocol::tcp, {asio::ip::make_address("127.0.0.1"), 5060});
//   transaction::peer p = net.peer_for(protocol::tcp, {address, 5070});  // connects when first used
//   net.send(p, bytes, tsx);
//
// Every remote end is a "flow" the layers above know only as a
// transaction::peer: a UDP listener and a remote address, or one TCP
// connection (accepted or opened by us). A response goes back on the flow its
// request came on: the connection for TCP, the source address for UDP
// (§18.2.2 with RFC 3581 rport; the request's Via gets received/rport,
// via_stamp.hpp). Streams are cut into messages by sip::framer (Content-Length,
// §18.3); CRLFCRLF keep-alive pings are answered with CRLF (RFC 5626 §3.5.1).
// A framing error closes the connection; a connection idle for
// options::idle_timeout is closed; a send that cannot be done (no connection,
// connect refused, write failed) is reported with its transaction id, so the
// transaction layer ends that transaction (§17.1.4, §17.2.4).
//
// Memory follows the traffic: a connection reads into a buffer that starts
// at 4 KiB, grows to the message size limit only for a large message and
// shrinks back when it is drained.
//
// One thread: every handler runs on the io_context's thread that runs it
// (docs/sip-transport.md has the rules for several threads).
//
// Not yet: TLS, WS and WSS (RFC 7118), a request too large for UDP moved to
// TCP (§18.1.1), DNS (RFC 3263): peers are IP addresses.
#pragma once

#include <sigwire/core/slots.hpp>
#include <sigwire/sip/framer.hpp>
#include <sigwire/sip/transaction/event.hpp>
#include <sigwire/sip/transport/via_stamp.hpp>

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sigwire::sip::transport {

enum class protocol : std::uint8_t { udp, tcp };

constexpr std::string_view text(protocol p) noexcept { return p == protocol::udp ? "UDP" : "TCP"; }

struct handlers {
  std::function<void(std::string bytes, transaction::peer from)> on_message;  // one whole SIP message
  std::function<void(transaction::tsx_id tsx)> on_send_failed;               // tell the transaction layer
};

struct options {
  sip::limits limits{};                      // message size for both transports (65,535 by default)
  std::size_t max_flows = 100'000;           // UDP remote addresses + connections; beyond: new ones refused
  std::chrono::seconds idle_timeout{600};    // a connection without traffic this long is closed
  std::size_t max_send_queue = 1 << 20;      // bytes waiting for a peer that does not read; beyond: closed
  std::string user = "sigwire";              // user part of our Contact URIs
};

struct counters {
  std::uint64_t messages_in = 0, messages_out = 0, framing_errors = 0, send_failures = 0, refused_flows = 0;
  std::uint64_t connections_accepted = 0, connections_opened = 0, connections_closed = 0, pings_answered = 0;
  std::uint64_t slow_peers = 0;  // connections closed because their send queue passed max_send_queue
};

class hub {
 public:
  hub(asio::io_context& io, handlers h, options o = {})
      : io_(io), handlers_(std::move(h)), opt_(std::move(o)), sweep_(io) {}
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;
  ~hub() {
    *alive_ = false;  // handlers still queued in the io_context return at once
    close();
  }

  // Opens a listener; port 0 picks a free one (read it from local_endpoint()).
  // Returns the listener's index. Throws std::system_error when the address
  // cannot be bound (a configuration error, not network input).
  std::size_t listen(protocol p, const asio::ip::tcp::endpoint& at) { return start(bound(p, at)); }

  // UDP and TCP on one port, as SIP servers listen (§18: the same port for
  // both); port 0 picks one free for both. Returns the UDP listener's index
  // (the TCP one is the next).
  std::size_t listen_udp_and_tcp(const asio::ip::tcp::endpoint& at) {
    for (int attempt = 0;; ++attempt) {
      auto udp = bound(protocol::udp, at);
      try {
        auto tcp = bound(protocol::tcp, {at.address(), udp->local.port()});
        const std::size_t index = start(std::move(udp));
        start(std::move(tcp));
        return index;
      } catch (const std::system_error&) {
        if (at.port() != 0 || attempt == 20) throw;  // a free UDP port taken on TCP: try another
      }
    }
  }
  asio::ip::tcp::endpoint local_endpoint(std::size_t listener) const { return listeners_.at(listener)->local; }

  // The flow to `to` over `p`, for a request we start: UDP from our first
  // listener of that address family; TCP over a connection already open to
  // `to`, or a new one (connected when the first send needs it). An invalid
  // peer (id 0) when there is no such listener or the flow limit is reached.
  transaction::peer peer_for(protocol p, const asio::ip::tcp::endpoint& to) {
    if (p == protocol::udp) {
      for (std::size_t i = 0; i < listeners_.size(); ++i)
        if (listeners_[i]->proto == protocol::udp && listeners_[i]->local.address().is_v4() == to.address().is_v4())
          return udp_flow(i, {to.address(), to.port()});
      return {};
    }
    if (const auto it = connections_by_remote_.find(to); it != connections_by_remote_.end()) return peer_of(it->second);
    return open_connection(to);
  }

  // Sends one message (or a CRLF keep-alive) on a flow. A send that cannot be
  // done is reported through on_send_failed(tsx), now or when it fails.
  void send(const transaction::peer& to, transaction::shared_bytes bytes, transaction::tsx_id tsx = {}) {
    const auto f = resolve(to);
    if (!f) return failed(tsx);
    ++counters_.messages_out;
    if (f->proto == protocol::udp) {
      std::error_code ec;
      listeners_[f->listener]->udp.send_to(asio::buffer(*bytes), f->udp_remote, 0, ec);
      // A full socket buffer drops the datagram as the network would: the
      // transaction layer retransmits. Anything else is a transport error.
      if (ec && ec != asio::error::would_block && ec != asio::error::no_buffer_space) failed(tsx);
      return;
    }
    f->conn->queue(std::move(bytes), tsx);
  }

  // Our Via (without branch) and Contact toward a peer: its listener's, or
  // for a connection we opened, the first TCP listener's (so the peer may
  // open connections back to us, §18.1.1), else the connection's own address.
  std::string_view via_for(const transaction::peer& p) const {
    const auto f = resolve(p);
    if (!f) return listeners_.empty() ? std::string_view{} : std::string_view(listeners_.front()->via);
    if (f->proto == protocol::tcp && f->conn) return f->conn->via;
    return listeners_[f->listener]->via;
  }
  std::string_view contact_for(const transaction::peer& p) const {
    const auto f = resolve(p);
    if (!f) return listeners_.empty() ? std::string_view{} : std::string_view(listeners_.front()->contact);
    if (f->proto == protocol::tcp && f->conn) return f->conn->contact;
    return listeners_[f->listener]->contact;
  }
  // The remote address of a flow, for logs and for access rules.
  asio::ip::tcp::endpoint remote_of(const transaction::peer& p) const {
    const auto f = resolve(p);
    if (!f) return {};
    if (f->proto == protocol::udp) return {f->udp_remote.address(), f->udp_remote.port()};
    return f->conn->remote;
  }

  std::size_t connections() const noexcept { return connections_by_remote_.size(); }
  std::size_t flows() const noexcept { return flows_.empty() ? 0 : flows_.size() - 1 - free_.size(); }  // slot 0 is "none"
  const counters& stats() const noexcept { return counters_; }

  // Closes every listener and connection; pending handlers end as aborted.
  void close() {
    closing_ = true;
    std::error_code ignored;
    sweep_.cancel();
    for (auto& l : listeners_) {
      l->udp.close(ignored);
      l->acceptor.close(ignored);
    }
    for (flow& f : flows_)
      if (f.conn) f.conn->socket.close(ignored);
  }

 private:
  // --- listeners ----------------------------------------------------------------------
  struct listener;
  std::unique_ptr<listener> bound(protocol p, const asio::ip::tcp::endpoint& at) {
    auto l = std::make_unique<listener>(io_, p);
    if (p == protocol::udp) {
      l->udp.open(at.protocol() == asio::ip::tcp::v4() ? asio::ip::udp::v4() : asio::ip::udp::v6());
      l->udp.bind({at.address(), at.port()});
      l->udp.non_blocking(true);  // a full send buffer drops the datagram instead of blocking the loop
      l->local = {at.address(), l->udp.local_endpoint().port()};
    } else {
      l->acceptor.open(at.protocol());
      l->acceptor.set_option(asio::socket_base::reuse_address(true));
      l->acceptor.bind(at);
      l->acceptor.listen();
      l->local = l->acceptor.local_endpoint();
    }
    l->via = via_value(l->proto, l->local);
    l->contact = contact_uri(l->proto, l->local);
    return l;
  }
  std::size_t start(std::unique_ptr<listener> l) {
    const protocol p = l->proto;
    listeners_.push_back(std::move(l));
    const std::size_t index = listeners_.size() - 1;
    if (p == protocol::udp) receive_datagram(index);
    else accept_next(index);
    arm_sweep();
    return index;
  }

  // --- flows -------------------------------------------------------------------------
  class connection;
  struct flow {
    protocol proto = protocol::udp;
    std::uint32_t generation = 1;
    bool in_use = false;
    std::size_t listener = 0;                // UDP: the socket we send from
    asio::ip::udp::endpoint udp_remote{};
    std::shared_ptr<connection> conn{};      // TCP
  };
  struct listener {
    listener(asio::io_context& io, protocol p) : proto(p), udp(io), acceptor(io) {}
    protocol proto;
    asio::ip::udp::socket udp;
    asio::ip::tcp::acceptor acceptor;
    asio::ip::tcp::endpoint local{};
    std::string via, contact;
    std::vector<char> datagram = std::vector<char>(65536);
    asio::ip::udp::endpoint from{};
  };
  struct udp_key {
    std::size_t listener;
    asio::ip::udp::endpoint remote;
    friend bool operator==(const udp_key&, const udp_key&) = default;
  };
  struct udp_key_hash {
    std::size_t operator()(const udp_key& k) const noexcept {
      return std::hash<asio::ip::udp::endpoint>{}(k.remote) * 31 + k.listener;
    }
  };

  static transaction::peer make_peer(std::uint32_t index, std::uint32_t generation, bool reliable) {
    return {(static_cast<std::uint64_t>(generation) << 32) | index, reliable};
  }
  transaction::peer peer_of(std::uint32_t index) const {
    return make_peer(index, flows_[index].generation, flows_[index].proto != protocol::udp);
  }
  // What a peer names. UDP over IPv4 needs no table: the id holds the
  // listener, port and address (bit 63 set), so a flood of sources costs no
  // memory and a call silent for hours still has its flow. Everything else
  // is a slot of the flow table with its generation (bit 63 clear).
  struct flow_ref {
    protocol proto;
    std::size_t listener;
    asio::ip::udp::endpoint udp_remote;
    connection* conn;
  };
  static constexpr std::uint64_t udp4_tag = 1ull << 63;
  static transaction::peer udp4_peer(std::size_t listener, const asio::ip::udp::endpoint& remote) {
    return {udp4_tag | (static_cast<std::uint64_t>(listener) << 48) | (static_cast<std::uint64_t>(remote.port()) << 32) |
                remote.address().to_v4().to_uint(),
            false};
  }
  std::optional<flow_ref> resolve(const transaction::peer& p) const {
    if (p.id & udp4_tag) {
      const std::size_t listener = (p.id >> 48) & 0x7fff;
      if (listener >= listeners_.size() || listeners_[listener]->proto != protocol::udp) return std::nullopt;
      const asio::ip::address_v4 address(static_cast<std::uint32_t>(p.id));
      return flow_ref{protocol::udp, listener, {address, static_cast<unsigned short>(p.id >> 32)}, nullptr};
    }
    const auto index = static_cast<std::uint32_t>(p.id & 0xffffffffu);
    const auto generation = static_cast<std::uint32_t>(p.id >> 32);
    if (index >= flows_.size() || !flows_[index].in_use || flows_[index].generation != generation) return std::nullopt;
    const flow& f = flows_[index];
    return flow_ref{f.proto, f.listener, f.udp_remote, f.conn.get()};
  }

  // Index 0 is never handed out, so peer{} (id 0) is "no flow".
  std::uint32_t new_flow(protocol p) {
    if (flows_.empty()) flows_.emplace_back();
    if (flows() >= opt_.max_flows) {
      ++counters_.refused_flows;
      return 0;
    }
    const std::uint32_t index = sigwire::core::take_slot(flows_, free_);
    flow& f = flows_[index];
    f.proto = p;
    f.in_use = true;
    return index;
  }
  void release_flow(std::uint32_t index) {
    flow& f = flows_[index];
    f.in_use = false;
    f.conn.reset();
    f.generation = (f.generation + 1) & 0x7fffffffu;  // every peer naming the old flow is stale now
    if (f.generation == 0) f.generation = 1;           // (bit 63 of an id stays clear: not a UDP/IPv4 peer)
    free_.push_back(index);
  }
  transaction::peer udp_flow(std::size_t listener, const asio::ip::udp::endpoint& remote) {
    if (remote.address().is_v4()) return udp4_peer(listener, remote);
    const udp_key key{listener, remote};  // IPv6: a table slot (not aged out yet: bounded by max_flows)
    if (const auto it = udp_flows_.find(key); it != udp_flows_.end()) return peer_of(it->second);
    const std::uint32_t index = new_flow(protocol::udp);
    if (index == 0) return {};
    flows_[index].listener = listener;
    flows_[index].udp_remote = remote;
    udp_flows_.emplace(key, index);
    return peer_of(index);
  }
  void failed(transaction::tsx_id tsx) {
    ++counters_.send_failures;
    if (tsx.valid() && handlers_.on_send_failed) handlers_.on_send_failed(tsx);
  }

  // --- UDP -----------------------------------------------------------------------------
  void receive_datagram(std::size_t index) {
    listener& l = *listeners_[index];
    l.udp.async_receive_from(asio::buffer(l.datagram), l.from, [this, alive = alive_, index](std::error_code ec, std::size_t n) {
      if (!*alive || closing_ || ec == asio::error::operation_aborted) return;
      if (!ec) on_datagram(index, n);
      receive_datagram(index);
    });
  }
  void on_datagram(std::size_t index, std::size_t n) {
    listener& l = *listeners_[index];
    const std::string_view data(l.datagram.data(), n);
    if (data.find_first_not_of("\r\n") == std::string_view::npos) return;  // a keep-alive: nothing to answer on UDP
    const transaction::peer from = udp_flow(index, l.from);
    if (from.id == 0) return;
    deliver(with_room_for_stamp(data), from, l.from.address(), l.from.port());
  }
  // A message's own copy, with room for ";received=...;rport=..." so that the
  // stamp does not allocate again.
  static std::string with_room_for_stamp(std::string_view message) {
    std::string bytes;
    bytes.reserve(message.size() + 64);
    bytes.assign(message);
    return bytes;
  }
  void deliver(std::string bytes, const transaction::peer& from, const asio::ip::address& address, unsigned port) {
    ++counters_.messages_in;
    stamp_received(bytes, address.to_string(), port);
    if (handlers_.on_message) handlers_.on_message(std::move(bytes), from);
  }

  // --- TCP -----------------------------------------------------------------------------
  class connection : public std::enable_shared_from_this<connection> {
   public:
    connection(hub& owner, asio::ip::tcp::socket s, std::uint32_t index)
        : socket(std::move(s)), owner_(owner), alive_(owner.alive_), framer_(owner.opt_.limits), index_(index) {}

    void start_reading() {
      last_activity = std::chrono::steady_clock::now();
      read_more();
    }
    void connect(const asio::ip::tcp::endpoint& to) {
      socket.async_connect(to, [self = shared_from_this()](std::error_code ec) {
        if (self->gone(ec)) return;
        if (ec) return self->drop();
        self->connected_ = true;
        std::error_code ignored;
        self->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        self->start_reading();
        self->write_next();
      });
    }
    void queue(transaction::shared_bytes bytes, transaction::tsx_id tsx) {
      if (queued_ + bytes->size() > owner_.opt_.max_send_queue) {  // a peer that stopped reading
        ++owner_.counters_.slow_peers;
        drop();                // the flow is gone first: a report below that sends again fails at once
        owner_.failed(tsx);
        return;
      }
      queued_ += bytes->size();
      out_.push_back({std::move(bytes), tsx});
      if (out_.size() == 1 && connected_) write_next();
    }

    // Closes the connection and forgets its flow; every message still queued
    // is a transport error (reported last: the report may send again).
    void drop() {
      auto keep = shared_from_this();
      std::error_code ignored;
      socket.close(ignored);
      std::deque<pending> unsent = std::move(out_);
      out_.clear();
      queued_ = 0;
      owner_.forget(index_, *this);
      for (const pending& p : unsent) owner_.failed(p.tsx);
    }

    asio::ip::tcp::socket socket;
    asio::ip::tcp::endpoint remote{};
    std::string via, contact;
    std::chrono::steady_clock::time_point last_activity{};
    bool connected_ = false;

   private:
    struct pending {
      transaction::shared_bytes bytes;
      transaction::tsx_id tsx;
    };
    static constexpr std::size_t initial_buffer = 4096;

    // A handler that must not run: the hub is destroyed or closing, or we
    // closed the socket ourselves (drop() already forgot the flow).
    bool gone(const std::error_code& ec) const { return !*alive_ || owner_.closing_ || ec == asio::error::operation_aborted; }

    void read_more() {
      if (in_.size() - used_ < initial_buffer / 2)
        in_.resize(std::min(std::max(initial_buffer, in_.size() * 2), owner_.opt_.limits.max_message_size + initial_buffer));
      socket.async_read_some(asio::buffer(in_.data() + used_, in_.size() - used_),
                             [self = shared_from_this()](std::error_code ec, std::size_t n) {
                               if (self->gone(ec)) return;
                               if (ec) return self->drop();
                               self->used_ += n;
                               self->last_activity = std::chrono::steady_clock::now();
                               if (self->take_messages()) self->read_more();
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
          ++owner_.counters_.framing_errors;
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
        const transaction::peer from = owner_.peer_of(index_);
        std::string message = owner_.with_room_for_stamp(f.message);
        begin += f.consumed();
        owner_.deliver(std::move(message), from, remote.address(), remote.port());
        if (!socket.is_open()) return false;  // the handler closed us
      }
      std::memmove(in_.data(), in_.data() + begin, used_ - begin);
      used_ -= begin;
      if (used_ == 0 && in_.size() > initial_buffer) std::string(initial_buffer, '\0').swap(in_);  // give it back
      return true;
    }
    void answer_pings(std::size_t pings) {
      for (; pings_answered_ < pings; ++pings_answered_) {
        ++owner_.counters_.pings_answered;
        static const transaction::shared_bytes pong = transaction::share("\r\n");
        queue(pong, {});
      }
    }
    void write_next() {
      if (out_.empty()) return;
      // The handler holds the bytes too: drop() may clear the queue while the write is pending.
      transaction::shared_bytes bytes = out_.front().bytes;
      const auto buffer = asio::buffer(*bytes);
      asio::async_write(socket, buffer, [self = shared_from_this(), bytes = std::move(bytes)](std::error_code ec, std::size_t) {
        if (self->gone(ec)) return;
        if (ec) return self->drop();
        self->last_activity = std::chrono::steady_clock::now();
        self->queued_ -= self->out_.front().bytes->size();
        self->out_.pop_front();
        self->write_next();
      });
    }

    hub& owner_;
    std::shared_ptr<const bool> alive_;
    sip::framer framer_;
    std::string in_;
    std::size_t used_ = 0, pings_answered_ = 0, queued_ = 0;
    std::deque<pending> out_;
    std::uint32_t index_;
  };

  void accept_next(std::size_t index) {
    listeners_[index]->acceptor.async_accept([this, alive = alive_, index](std::error_code ec, asio::ip::tcp::socket s) {
      if (!*alive || closing_ || ec == asio::error::operation_aborted) return;
      if (!ec) adopt(index, std::move(s));
      accept_next(index);
    });
  }
  void adopt(std::size_t listener_index, asio::ip::tcp::socket s) {
    std::error_code ec;
    const auto remote = s.remote_endpoint(ec);
    const std::uint32_t index = ec ? 0 : new_flow(protocol::tcp);
    if (index == 0) return;  // the socket closes here
    ++counters_.connections_accepted;
    s.set_option(asio::ip::tcp::no_delay(true), ec);
    auto c = std::make_shared<connection>(*this, std::move(s), index);
    c->remote = remote;
    c->connected_ = true;
    c->via = listeners_[listener_index]->via;
    c->contact = listeners_[listener_index]->contact;
    flows_[index].conn = c;
    flows_[index].listener = listener_index;
    connections_by_remote_[remote] = index;
    c->start_reading();
  }
  transaction::peer open_connection(const asio::ip::tcp::endpoint& to) {
    const std::uint32_t index = new_flow(protocol::tcp);
    if (index == 0) return {};
    ++counters_.connections_opened;
    auto c = std::make_shared<connection>(*this, asio::ip::tcp::socket(io_), index);
    c->remote = to;
    flows_[index].conn = c;
    connections_by_remote_[to] = index;
    set_local_identity(*c);
    c->connect(to);
    return peer_of(index);
  }
  // Via and Contact of a connection we open, known before it connects (the
  // INVITE is built first): the first TCP listener's of the address family,
  // so that the peer can open connections back to us (§18.1.1); else the
  // connection's own address, bound now to a listener's address.
  void set_local_identity(connection& c) {
    const bool v4 = c.remote.address().is_v4();
    for (const auto& l : listeners_)
      if (l->proto == protocol::tcp && l->local.address().is_v4() == v4) {
        c.via = l->via;
        c.contact = l->contact;
        return;
      }
    asio::ip::tcp::endpoint local(v4 ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), 0);
    for (const auto& l : listeners_)
      if (l->local.address().is_v4() == v4) local.address(l->local.address());
    std::error_code ec;
    c.socket.open(local.protocol(), ec);
    if (!ec) c.socket.bind(local, ec);
    if (!ec) local = c.socket.local_endpoint(ec);
    c.via = via_value(protocol::tcp, local);
    c.contact = contact_uri(protocol::tcp, local);
  }
  void forget(std::uint32_t index, const connection& c) {
    if (index >= flows_.size() || flows_[index].conn.get() != &c) return;
    ++counters_.connections_closed;
    if (const auto it = connections_by_remote_.find(c.remote); it != connections_by_remote_.end() && it->second == index)
      connections_by_remote_.erase(it);
    release_flow(index);
  }

  // One timer for every connection's idle timeout, not one per connection.
  void arm_sweep() {
    if (sweep_armed_ || closing_) return;
    sweep_armed_ = true;
    sweep_.expires_after(std::max<std::chrono::seconds>(std::chrono::seconds(1), opt_.idle_timeout / 4));
    sweep_.async_wait([this, alive = alive_](std::error_code ec) {
      if (!*alive) return;
      sweep_armed_ = false;
      if (ec || closing_) return;
      const auto now = std::chrono::steady_clock::now();
      std::vector<std::shared_ptr<connection>> idle;
      for (const flow& f : flows_)
        if (f.in_use && f.conn && f.conn->connected_ && now - f.conn->last_activity > opt_.idle_timeout) idle.push_back(f.conn);
      for (auto& c : idle) c->drop();
      arm_sweep();
    });
  }

  static std::string host_text(const asio::ip::address& a) {
    return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  }
  static std::string via_value(protocol p, const asio::ip::tcp::endpoint& at) {
    std::string v = "SIP/2.0/" + std::string(text(p)) + " " + host_text(at.address()) + ":" + std::to_string(at.port());
    if (p == protocol::udp) v += ";rport";  // RFC 3581: ask for the response where we sent from
    return v;
  }
  std::string contact_uri(protocol p, const asio::ip::tcp::endpoint& at) const {
    std::string c = "sip:" + opt_.user + "@" + host_text(at.address()) + ":" + std::to_string(at.port());
    if (p == protocol::tcp) c += ";transport=tcp";
    return c;
  }

  asio::io_context& io_;
  handlers handlers_;
  options opt_;
  std::vector<std::unique_ptr<listener>> listeners_;
  std::vector<flow> flows_;
  std::vector<std::uint32_t> free_;
  std::unordered_map<udp_key, std::uint32_t, udp_key_hash> udp_flows_;
  std::unordered_map<asio::ip::tcp::endpoint, std::uint32_t> connections_by_remote_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  asio::steady_timer sweep_;
  bool sweep_armed_ = false, closing_ = false;
  counters counters_{};
};

}  // namespace sigwire::sip::transport
