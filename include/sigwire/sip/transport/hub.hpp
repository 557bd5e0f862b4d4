// sigwire/sip/transport/hub.hpp - SIP over UDP, TCP, TLS, WS and WSS on Asio
// (RFC 3261 §18, RFC 7118): the thin adapter between sockets and the sans-IO
// layers.
//
//   sip::transport::hub net(io, {.on_message = [&](std::string bytes, transaction::peer from) {...},
//                                .on_send_failed = [&](transaction::tsx_id tsx) {...}});
//   net.listen(protocol::udp, {asio::ip::make_address("127.0.0.1"), 5060});
//   net.listen(protocol::tcp, {asio::ip::make_address("127.0.0.1"), 5060});
//   net.listen(protocol::ws, {asio::ip::make_address("127.0.0.1"), 8080});   // RFC 7118, subprotocol sip
//   transaction::peer p = net.peer_for(protocol::tcp, {address, 5070});  // connects when first used
//   net.send(p, bytes, tsx);
//
// Every remote end is a "flow" the layers above know only as a
// transaction::peer: a UDP listener and a remote address, or one connection
// (TCP, TLS, WS or WSS; accepted or opened by us; detail/connection.hpp). A
// response goes back on the flow its request came on: the connection for
// streams, the source address for UDP (§18.2.2 with RFC 3581 rport; the
// request's Via gets received/rport, via_stamp.hpp). TCP and TLS are cut into
// messages by sip::framer (Content-Length, §18.3), CRLFCRLF keep-alive pings
// answered with CRLF (RFC 5626 §3.5.1); a WebSocket message is one SIP
// message. A client whose Contact host is `.invalid` (RFC 7118 §5.2) is
// reached on the flow its requests came on: keep the peer of its REGISTER or
// INVITE, as the user agent does for its calls.
// A framing error closes the connection; a connection idle for
// options::idle_timeout, or not connected and through its handshakes within
// options::handshake_timeout, is closed; a send that cannot be done (no
// connection, connect refused, handshake failed, write failed) is reported
// with its transaction id, so the transaction layer ends that transaction
// (§17.1.4, §17.2.4).
//
// Memory follows the traffic: a connection reads into a buffer that starts
// at 4 KiB, grows to the message size limit only for a large message and
// shrinks back when it is drained.
//
// One thread: every handler runs on the io_context's thread that runs it
// (docs/sip-transport.md has the rules for several threads).
//
// A request for UDP larger than options::udp_request_limit (1300 bytes) goes
// over TCP to the same address, its top Via saying so (§18.1.1), and over UDP
// after all when that connection fails. The CANCEL of a moved INVITE and the
// ACK of its non-2xx answer follow it over that connection (§9.1, §17.1.1.3).
//
// STUN on UDP (RFC 5626 §4.4.2, §8; stun/message.hpp): a Binding request
// that reaches a UDP listener is answered with the address it came from
// (so clients of an outbound registrar can keep their flows alive), and
// keep_alive() keeps one of our UDP flows alive with Binding requests.
//
// Not yet: DNS (RFC 3263): peers are IP addresses.
#pragma once

#include <sigwire/core/random.hpp>
#include <sigwire/core/slots.hpp>
#include <sigwire/sip/transaction/event.hpp>
#include <sigwire/sip/transport/detail/connection.hpp>
#include <sigwire/sip/transport/detail/udp_batch.hpp>
#include <sigwire/sip/transport/options.hpp>
#include <sigwire/sip/transport/tls_identity.hpp>
#include <sigwire/sip/transport/via_stamp.hpp>
#include <sigwire/stun/message.hpp>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sigwire::sip::transport {

class hub final : private detail::connection_owner {
 public:
  // Throws std::system_error when options::tls names files that cannot be
  // loaded (a configuration error).
  hub(asio::io_context& io, handlers h, options o = {})
      : io_(io), handlers_(std::move(h)), opt_(std::move(o)), tls_(asio::ssl::context::tls), sweep_(io), keepalive_timer_(io) {
    configure_tls();
  }
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;
  ~hub() {
    *alive_ = false;  // handlers still queued in the io_context return at once
    close();
  }

  // Opens a listener; port 0 picks a free one (read it from local_endpoint()).
  // Returns the listener's index. Throws std::system_error when the address
  // cannot be bound (a configuration error, not network input), and
  // std::invalid_argument for TLS or WSS without a certificate.
  std::size_t listen(protocol p, const asio::ip::tcp::endpoint& at) {
    if (is_secure(p) && opt_.tls.certificate_chain_file.empty())
      throw std::invalid_argument("a TLS or WSS listener needs options.tls.certificate_chain_file and private_key_file");
    return start(bound(p, at));
  }

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
  // listener of that address family; a stream over a connection already
  // open to `to` with `p`, or a new one (connecting at once; messages wait
  // until it is ready). `host` names the peer for TLS (SNI, certificate
  // check) and the WebSocket Host header; empty: its IP address. An invalid
  // peer (id 0) when there is no such listener or the flow limit is reached.
  transaction::peer peer_for(protocol p, const asio::ip::tcp::endpoint& to, std::string_view host = {}) {
    if (p == protocol::udp) {
      for (std::size_t i = 0; i < listeners_.size(); ++i)
        if (listeners_[i]->proto == protocol::udp && listeners_[i]->local.address().is_v4() == to.address().is_v4())
          return udp_flow(i, {to.address(), to.port()});
      return {};
    }
    if (const auto it = connections_by_remote_.find({p, to}); it != connections_by_remote_.end()) return peer_of(it->second);
    return open_connection(p, to, host.empty() ? to.address().to_string() : std::string(host));
  }

  // Whether `p` still names a flow (a closed connection's peers are stale).
  bool flow_open(const transaction::peer& p) const { return p.id != 0 && resolve(p).has_value(); }

  // RFC 5626 §4.4.2: keeps the UDP flow `flow` (to a registrar that does
  // outbound) alive with STUN Binding requests, each 80-100% of `interval`
  // after the last was answered. One unanswered within
  // options::pong_timeout (sent again at 0.5, 1.5, 3.5 and 7.5 s: RFC 5389
  // §7.2.1's doubling), or answered with another mapped address than the
  // first (a NAT binding that changed), fails the flow: on_flow_failed, and
  // the keep-alives stop. Called again for the same flow, it takes the new
  // interval. False, and nothing done, for a flow that is not UDP: those
  // keep themselves alive with CRLF pings (options::keepalive_interval).
  bool keep_alive(const transaction::peer& flow, std::chrono::seconds interval) {
    const auto f = resolve(flow);
    if (!f || f->proto != protocol::udp || interval.count() <= 0) return false;
    udp_keepalive& k = keepalives_[flow.id];
    k.flow = flow;
    k.interval = interval;
    if (k.sent == std::chrono::steady_clock::time_point{}) k.next = std::chrono::steady_clock::now() + jittered(interval);
    arm_keepalives();
    return true;
  }
  void stop_keep_alive(const transaction::peer& flow) { keepalives_.erase(flow.id); }

  // Sends one message (or a CRLF keep-alive) on a flow. A send that cannot be
  // done is reported through on_send_failed(tsx), now or when it fails. A
  // request for UDP larger than options::udp_request_limit goes over TCP
  // (§18.1.1).
  void send(const transaction::peer& to, transaction::shared_bytes bytes, transaction::tsx_id tsx = {}) {
    send_on(to, std::move(bytes), tsx, true);
  }

  // Our Via (without branch) and Contact toward a peer: its listener's, or
  // for a connection we opened, the first listener's of its protocol (so the
  // peer may open connections back to us, §18.1.1), else the connection's
  // own address.
  std::string_view via_for(const transaction::peer& p) const {
    const auto f = resolve(p);
    if (!f) return listeners_.empty() ? std::string_view{} : std::string_view(listeners_.front()->via);
    if (f->conn) return f->conn->via;
    return listeners_[f->listener]->via;
  }
  std::string_view contact_for(const transaction::peer& p) const {
    const auto f = resolve(p);
    if (!f) return listeners_.empty() ? std::string_view{} : std::string_view(listeners_.front()->contact);
    if (f->conn) return f->conn->contact;
    return listeners_[f->listener]->contact;
  }
  // The remote address of a flow, for logs and for access rules.
  asio::ip::tcp::endpoint remote_of(const transaction::peer& p) const {
    const auto f = resolve(p);
    if (!f) return {};
    if (f->proto == protocol::udp) return {f->udp_remote.address(), f->udp_remote.port()};
    return f->conn->remote;
  }

  // The protocol of a flow (UDP for an unknown one).
  protocol protocol_of(const transaction::peer& p) const {
    const auto f = resolve(p);
    return f ? f->proto : protocol::udp;
  }

  std::size_t connections() const noexcept { return connections_by_remote_.size(); }
  // The OpenSSL context of TLS and WSS, for settings options do not cover.
  asio::ssl::context& tls_context() { return tls_ready(); }
  std::size_t flows() const noexcept { return flows_.empty() ? 0 : flows_.size() - 1 - free_.size(); }  // slot 0 is "none"
  const counters& stats() const noexcept { return counters_; }

  // RFC 5922 §7.1: the SIP domain identities (tls_identity.hpp) that the
  // certificate of a TLS or WSS peer proves on flow `p`, once its handshake
  // is done and the certificate verified: a client's on a listener with
  // tls.verify_client, a server's on a connection we opened with
  // tls.verify_server. Empty for any other flow (no certificate, none
  // verified, not TLS or WSS, not up, unknown).
  std::vector<std::string> verified_identities(const transaction::peer& p) const {
    const auto f = resolve(p);
    if (!f || !f->conn || !f->conn->ready) return {};
    SSL* ssl = f->conn->tls_handle();
    if (!ssl || !(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) || SSL_get_verify_result(ssl) != X509_V_OK) return {};
    return sip_domain_identities(SSL_get0_peer_certificate(ssl));
  }

  // Closes every listener and connection; pending handlers end as aborted.
  // Sends after this fail (on_send_failed).
  void close() {
    closing_ = true;
    std::error_code ignored;
    sweep_.cancel();
    keepalive_timer_.cancel();
    keepalives_.clear();
    for (auto& l : listeners_) {
      l->udp.close(ignored);
      l->acceptor.close(ignored);
    }
    for (flow& f : flows_)
      if (f.conn) f.conn->close_now();
  }

 private:
  // --- listeners ----------------------------------------------------------------------
  struct listener;
  std::unique_ptr<listener> bound(protocol p, const asio::ip::tcp::endpoint& at) {
    auto l = std::make_unique<listener>(io_, p);
    if (p == protocol::udp) {
      l->udp.open(at.protocol() == asio::ip::tcp::v4() ? asio::ip::udp::v4() : asio::ip::udp::v6());
      if (opt_.reuse_port) allow_port_sharing(l->udp);
      l->udp.bind({at.address(), at.port()});
      l->udp.non_blocking(true);  // a full send buffer drops the datagram instead of blocking the loop
      l->local = {at.address(), l->udp.local_endpoint().port()};
    } else {
      l->acceptor.open(at.protocol());
      l->acceptor.set_option(asio::socket_base::reuse_address(true));
      if (opt_.reuse_port) allow_port_sharing(l->acceptor);
      l->acceptor.bind(at);
      l->acceptor.listen();
      l->local = l->acceptor.local_endpoint();
    }
    const asio::ip::tcp::endpoint published{published_address(l->local.address()), l->local.port()};
    l->via = via_value(l->proto, published);
    l->contact = contact_uri(l->proto, published);
    return l;
  }
  // options::reuse_port: SO_REUSEPORT before bind, where the platform has it.
  template <class Socket>
  static void allow_port_sharing(Socket& s) {
#if defined(SO_REUSEPORT)
    s.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
#else
    (void)s;
    throw std::system_error(make_error_code(asio::error::operation_not_supported), "options::reuse_port (SO_REUSEPORT)");
#endif
  }
  std::size_t start(std::unique_ptr<listener> l) {
    const protocol p = l->proto;
    listeners_.push_back(std::move(l));
    const std::size_t index = listeners_.size() - 1;
    if (p == protocol::udp) start_receiving(index);
    else accept_next(index);
    arm_sweep();
    return index;
  }

  // --- flows -------------------------------------------------------------------------
  using connection = detail::connection;
  struct flow {
    protocol proto = protocol::udp;
    std::uint32_t generation = 1;
    bool in_use = false;
    std::size_t listener = 0;                // UDP: the socket we send from
    asio::ip::udp::endpoint udp_remote{};
    std::shared_ptr<connection> conn{};      // TCP, TLS, WS, WSS
  };
  static constexpr std::size_t max_datagram = 65536;  // more than UDP carries over IPv4 or IPv6
  struct listener {
    listener(asio::io_context& io, protocol p) : proto(p), udp(io), acceptor(io) {}
    protocol proto;
    asio::ip::udp::socket udp;
    asio::ip::tcp::acceptor acceptor;
    asio::ip::tcp::endpoint local{};
    std::string via, contact;
    std::vector<char> datagram{};  // one-datagram receive (options::udp_batch = 1)
    asio::ip::udp::endpoint from{};
#if SIGWIRE_SIP_UDP_MMSG
    std::unique_ptr<detail::datagram_inbox> inbox{};  // batched receive
#endif
  };
  struct remote_key {  // a connection's protocol and remote end
    protocol proto;
    asio::ip::tcp::endpoint remote;
    friend bool operator==(const remote_key&, const remote_key&) = default;
  };
  struct remote_key_hash {
    std::size_t operator()(const remote_key& k) const noexcept {
      return std::hash<asio::ip::tcp::endpoint>{}(k.remote) * 31 + static_cast<std::size_t>(k.proto);
    }
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
  void send_on(const transaction::peer& to, transaction::shared_bytes bytes, transaction::tsx_id tsx, bool may_move) {
    // A closed hub sends nothing: its sockets are shut, or its connections
    // closing in good order (a message queued on one would cut that short).
    if (closing_) return failed(tsx);
    const auto f = resolve(to);
    if (!f) return failed(tsx);
    ++counters_.messages_out;
    if (f->proto != protocol::udp) return f->conn->queue(std::move(bytes), tsx);
    if (may_move && too_large_for_udp(*bytes) && move_to_tcp(*f, to, bytes, tsx)) return;
    if (may_move && !moved_invites_.empty() && follow_moved_invite(to, bytes, tsx)) return;
    std::error_code ec = with_faults(opt_, io_point::udp_send, protocol::udp, {});
    if (ec) return udp_send_failed(ec, tsx);
#if SIGWIRE_SIP_UDP_MMSG
    if (holding_datagrams_) {
      outbox_.push_back({listeners_[f->listener]->udp.native_handle(), f->udp_remote, std::move(bytes), tsx});
      return;
    }
#endif
    listeners_[f->listener]->udp.send_to(asio::buffer(*bytes), f->udp_remote, 0, ec);
    if (ec) udp_send_failed(ec, tsx);
  }
  // A full socket buffer drops the datagram as the network would: the
  // transaction layer retransmits. Anything else is a transport error.
  void udp_send_failed(const std::error_code& ec, transaction::tsx_id tsx) {
    if (ec != asio::error::would_block && ec != asio::error::no_buffer_space) failed(tsx);
  }

  // RFC 3261 §18.1.1: "larger than 1300 bytes and the path MTU is unknown"
  // (requests only; a response goes where its request came from).
  bool too_large_for_udp(std::string_view message) const {
    return opt_.udp_request_limit != 0 && message.size() > opt_.udp_request_limit && !message.starts_with("SIP/");
  }
  // The request goes over TCP to the address of the UDP flow, its top Via
  // naming TCP and the connection's sent-by (the transaction is matched by
  // branch, which stays); when the connection fails before it left, it goes
  // over UDP as it was (the RFC's "SHOULD retry the request, using UDP").
  bool move_to_tcp(const flow_ref& f, const transaction::peer& udp, const transaction::shared_bytes& bytes, transaction::tsx_id tsx) {
    const asio::ip::tcp::endpoint remote{f.udp_remote.address(), f.udp_remote.port()};
    const transaction::peer tcp = peer_for(protocol::tcp, remote);
    const auto t = resolve(tcp);
    if (!t || !t->conn) return false;
    std::string moved(*bytes);
    if (!replace_via_sent_by(moved, t->conn->via)) return false;
    ++counters_.requests_moved_to_tcp;
    if (bytes->starts_with("INVITE ") && moved_invites_.size() < opt_.max_flows)
      if (const std::string_view branch = top_via_branch(*bytes); !branch.empty())
        moved_invites_.insert_or_assign(std::string(branch), moved_invite{tcp, std::chrono::steady_clock::now()});
    t->conn->queue(transaction::share(std::move(moved)), tsx, udp, bytes);
    return true;
  }
  // RFC 3261 §9.1: a CANCEL goes to the "address, port, and transport" of the
  // request it cancels; §17.1.1.3: so does the ACK of a non-2xx final
  // response. Both carry the INVITE's branch: when that INVITE was moved to
  // TCP they take its connection and its Via (over UDP as they are when the
  // connection is gone). The ACK ends what the entry was for.
  bool follow_moved_invite(const transaction::peer& udp, const transaction::shared_bytes& bytes, transaction::tsx_id tsx) {
    const bool ack = bytes->starts_with("ACK ");
    if (!ack && !bytes->starts_with("CANCEL ")) return false;
    const auto it = moved_invites_.find(std::string(top_via_branch(*bytes)));
    if (it == moved_invites_.end()) return false;
    const auto t = resolve(it->second.tcp);
    if (ack) moved_invites_.erase(it);
    std::string moved(*bytes);
    if (!t || !t->conn || !replace_via_sent_by(moved, t->conn->via)) return false;
    ++counters_.follow_ups_moved_to_tcp;
    t->conn->queue(transaction::share(std::move(moved)), tsx, udp, bytes);
    return true;
  }
  static std::string_view top_via_branch(std::string_view request) noexcept {
    const detail::via_span v = detail::find_top_via(request);
    if (!v.found) return {};
    const std::string_view via = request.substr(v.begin, v.end - v.begin);
    const detail::param_found b = detail::find_param(via, "branch");
    if (!b.found || !b.has_value) return {};
    const std::size_t value = via.find('=', b.name_begin) + 1;
    return via.substr(value, b.value_end - value);
  }
  void send_over_udp(const transaction::peer& udp, transaction::shared_bytes original, transaction::tsx_id tsx) override {
    ++counters_.moved_back_to_udp;
    --counters_.messages_out;  // counted once, when it was first sent
    send_on(udp, std::move(original), tsx, false);
  }

  void failed(transaction::tsx_id tsx) {
    ++counters_.send_failures;
    if (tsx.valid() && handlers_.on_send_failed) handlers_.on_send_failed(tsx);
  }

  // --- UDP -----------------------------------------------------------------------------
  void start_receiving(std::size_t index) {
#if SIGWIRE_SIP_UDP_MMSG
    if (opt_.udp_batch > 1) {
      listeners_[index]->inbox = std::make_unique<detail::datagram_inbox>(opt_.udp_batch, max_datagram);
      return await_datagrams(index);
    }
#endif
    listeners_[index]->datagram.resize(max_datagram);
    receive_datagram(index);
  }
  // One datagram per wake-up, through Asio (every platform).
  void receive_datagram(std::size_t index) {
    listener& l = *listeners_[index];
    l.udp.async_receive_from(asio::buffer(l.datagram), l.from, [this, alive = alive_, index](std::error_code ec, std::size_t n) {
      if (!*alive || closing_ || ec == asio::error::operation_aborted) return;
      listener& l = *listeners_[index];
      if (!with_faults(opt_, io_point::udp_receive, protocol::udp, ec)) on_datagram(index, {l.datagram.data(), n}, l.from);
      receive_datagram(index);
    });
  }
#if SIGWIRE_SIP_UDP_MMSG
  // Batched (Linux): wait for readiness, then take what waits with recvmmsg,
  // udp_batch datagrams per call, until the queue is empty, and send what
  // handling each batch produced with one sendmmsg. A queue still full
  // after four calls goes back to the loop first, so that a flood cannot
  // starve the other handlers.
  void await_datagrams(std::size_t index) {
    listeners_[index]->udp.async_wait(asio::socket_base::wait_read, [this, alive = alive_, index](std::error_code ec) {
      if (!*alive || closing_ || ec == asio::error::operation_aborted) return;
      take_datagrams(index);
    });
  }
  void take_datagrams(std::size_t index) {
    listener& l = *listeners_[index];
    for (int round = 0; round < 4; ++round) {
      std::error_code ec;
      const std::size_t n = l.inbox->receive(l.udp.native_handle(), ec);
      if (n > 0) handle_datagrams(index, n);
      if (closing_ || !l.udp.is_open()) return;
      if (ec || n < l.inbox->slots()) return await_datagrams(index);  // empty (or an error: wait for the next)
    }
    asio::post(io_, [this, alive = alive_, index] {  // a full queue: the others' turn first
      if (*alive && !closing_) take_datagrams(index);
    });
  }
  void handle_datagrams(std::size_t index, std::size_t n) {
    const detail::datagram_inbox& in = *listeners_[index]->inbox;
    holding_datagrams_ = true;
    for (std::size_t i = 0; i < n && !closing_; ++i)
      if (!in.truncated(i) && !with_faults(opt_, io_point::udp_receive, protocol::udp, {}))
        on_datagram(index, in.data(i), in.from(i));
    holding_datagrams_ = false;
    send_held_datagrams();
  }
  // One sendmmsg per run of datagrams from the same socket. A datagram that
  // fails is reported (udp_send_failed) and the rest still go.
  void send_held_datagrams() {
    std::swap(outbox_, sending_);
    std::span<detail::queued_datagram> rest(sending_);
    if (closing_)  // close() ran while the batch was handled: every send fails
      for (const detail::queued_datagram& d : std::exchange(rest, {})) failed(d.tsx);
    while (!rest.empty()) {
      std::size_t run = 1;
      while (run < rest.size() && rest[run].fd == rest.front().fd) ++run;
      std::error_code ec;
      const std::size_t sent = detail::send_datagrams(rest.first(run), mmsg_headers_, mmsg_parts_, ec);
      if (ec) udp_send_failed(ec, rest[sent].tsx);
      rest = rest.subspan(ec ? sent + 1 : sent);
    }
    sending_.clear();
  }
#endif
  void on_datagram(std::size_t index, std::string_view data, const asio::ip::udp::endpoint& remote) {
    if (data.find_first_not_of("\r\n") == std::string_view::npos) return;  // a keep-alive: nothing to answer on UDP
    if (stun::looks_like_stun(data)) return on_stun(index, data, remote);
    const transaction::peer from = udp_flow(index, remote);
    if (from.id == 0) return;
    deliver(detail::with_room_for_stamp(data), from, remote.address(), remote.port());
  }
  void deliver(std::string bytes, const transaction::peer& from, const asio::ip::address& address, unsigned port) {
    ++counters_.messages_in;
    stamp_received(bytes, address.to_string(), port);
    if (handlers_.on_message) handlers_.on_message(std::move(bytes), from);
  }

  // --- connections (detail/connection.hpp) -------------------------------------------
  const options& settings() const noexcept override { return opt_; }
  counters& tally() noexcept override { return counters_; }
  bool closing() const noexcept override { return closing_; }
  void received(std::uint32_t index, std::string message) override {
    const connection& c = *flows_[index].conn;
    deliver(std::move(message), peer_of(index), c.remote.address(), c.remote.port());
  }
  void closed(std::uint32_t index, const connection& c, bool failed) override {
    if (index >= flows_.size() || flows_[index].conn.get() != &c) return;
    ++counters_.connections_closed;
    const auto it = connections_by_remote_.find({flows_[index].proto, c.remote});
    if (it != connections_by_remote_.end() && it->second == index) connections_by_remote_.erase(it);
    const transaction::peer flow = peer_of(index);
    release_flow(index);  // first: what the report sends again goes to a new flow
    if (failed && !closing_ && handlers_.on_flow_failed) handlers_.on_flow_failed(flow);
  }
  void send_failed(transaction::tsx_id tsx) override { failed(tsx); }

  void configure_tls() {
    tls_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    // OpenSSL's own record buffers are given back while a connection is idle
    // (Asio's ssl::stream keeps its engine's 4 x 17 KiB: docs/sip-transport.md).
    SSL_CTX_set_mode(tls_.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    const tls_options& t = opt_.tls;
    if (!t.certificate_chain_file.empty()) tls_.use_certificate_chain_file(t.certificate_chain_file);
    if (!t.private_key_file.empty()) tls_.use_private_key_file(t.private_key_file, asio::ssl::context::pem);
    if (!t.ca_file.empty()) tls_.load_verify_file(t.ca_file);
    // The context's mode is the server side's: connections we open set
    // their own (prepare_tls_client, ws::stream_options::tls_verify).
    if (t.verify_client) tls_.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }

  // Without options::tls.ca_file peers are verified against the system's
  // store, loaded when the first TLS or WSS connection needs it: reading it
  // costs about 1.4 MB and 20 ms per hub, which a UA without TLS never pays.
  asio::ssl::context& tls_ready() {
    if (!tls_store_loaded_ && opt_.tls.ca_file.empty()) tls_.set_default_verify_paths();
    tls_store_loaded_ = true;
    return tls_;
  }

  std::shared_ptr<connection> make_connection(protocol p, std::uint32_t index, asio::ip::tcp::socket s) {
    auto& owner = static_cast<detail::connection_owner&>(*this);
    switch (p) {
      case protocol::tls:
        return std::make_shared<detail::stream_connection<detail::tls_socket>>(owner, alive_, index, std::move(s), tls_ready());
      case protocol::ws: return std::make_shared<detail::websocket_connection<detail::tcp_socket>>(owner, alive_, index, std::move(s));
      case protocol::wss:
        return std::make_shared<detail::websocket_connection<detail::tls_socket>>(owner, alive_, index, std::move(s), tls_ready());
      default: return std::make_shared<detail::stream_connection<detail::tcp_socket>>(owner, alive_, index, std::move(s));
    }
  }

  void accept_next(std::size_t index) {
    listeners_[index]->acceptor.async_accept([this, alive = alive_, index](std::error_code ec, asio::ip::tcp::socket s) {
      if (!*alive || closing_ || ec == asio::error::operation_aborted) return;
      if (!ec) adopt(index, std::move(s));
      accept_next(index);
    });
  }
  void adopt(std::size_t listener_index, asio::ip::tcp::socket s) {
    const listener& l = *listeners_[listener_index];
    std::error_code ec;
    const auto remote = s.remote_endpoint(ec);
    const std::uint32_t index = ec ? 0 : new_flow(l.proto);
    if (index == 0) return;  // the socket closes here
    ++counters_.connections_accepted;
    s.set_option(asio::ip::tcp::no_delay(true), ec);
    const auto local = s.local_endpoint(ec);
    auto c = make_connection(l.proto, index, std::move(s));
    c->remote = remote;
    if (l.local.address().is_unspecified() && !ec) {  // a wildcard listener: the address the peer reached
      c->via = via_value(l.proto, local);
      c->contact = contact_uri(l.proto, local);
    } else {
      c->via = l.via;
      c->contact = l.contact;
    }
    flows_[index].conn = c;
    flows_[index].listener = listener_index;
    connections_by_remote_[{l.proto, remote}] = index;
    c->accepted();
  }
  transaction::peer open_connection(protocol p, const asio::ip::tcp::endpoint& to, std::string host) {
    const std::uint32_t index = new_flow(p);
    if (index == 0) return {};
    ++counters_.connections_opened;
    auto c = make_connection(p, index, asio::ip::tcp::socket(io_));
    c->remote = to;
    c->opened_by_us = true;
    flows_[index].conn = c;
    connections_by_remote_[{p, to}] = index;
    set_local_identity(p, *c);
    arm_sweep();  // the handshake deadline holds without a listener too
    c->connect(to, std::move(host));
    return peer_of(index);
  }
  // Via and Contact of a connection we open, known before it connects (the
  // INVITE is built first): the first listener's of its protocol and address
  // family, so that the peer can open connections back to us (§18.1.1); else
  // the connection's own address, bound now to a listener's address.
  void set_local_identity(protocol p, connection& c) {
    const bool v4 = c.remote.address().is_v4();
    for (const auto& l : listeners_)
      if (l->proto == p && l->local.address().is_v4() == v4) {
        c.via = l->via;
        c.contact = l->contact;
        return;
      }
    asio::ip::tcp::endpoint local(source_address_toward(c.remote), 0);
    for (const auto& l : listeners_)
      if (l->local.address().is_v4() == v4 && !l->local.address().is_unspecified()) local.address(l->local.address());
    std::error_code ec;
    c.socket().open(local.protocol(), ec);
    if (!ec) c.socket().bind(local, ec);
    if (!ec) local = c.socket().local_endpoint(ec);
    c.via = via_value(p, local);
    c.contact = contact_uri(p, local);
  }

  // A listener on 0.0.0.0 or :: cannot put that in Via or Contact: it
  // publishes the address the system sends from toward the outside (asked of
  // the routing table for an RFC 5737 / RFC 3849 documentation address; no
  // packet leaves), else loopback. A connection it accepts says the address
  // it was reached at instead (adopt()).
  asio::ip::address published_address(const asio::ip::address& bound) {
    if (!bound.is_unspecified()) return bound;
    const auto outside = asio::ip::make_address(bound.is_v4() ? "192.0.2.1" : "2001:db8::1");
    const auto a = source_address_toward({outside, 5060});
    if (!a.is_unspecified()) return a;
    if (bound.is_v4()) return asio::ip::address_v4::loopback();
    return asio::ip::address_v6::loopback();
  }

  // The address the system sends from toward `to` (a connected UDP socket
  // sends nothing; it only asks the routing table), so that a Via never
  // says 0.0.0.0.
  asio::ip::address source_address_toward(const asio::ip::tcp::endpoint& to) {
    asio::ip::udp::socket probe(io_);
    std::error_code ec;
    probe.connect({to.address(), to.port()}, ec);
    if (!ec) {
      const auto local = probe.local_endpoint(ec);
      if (!ec) return local.address();
    }
    return to.address().is_v4() ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::address(asio::ip::address_v6::any());
  }

  // --- STUN on UDP (RFC 5626 §4.4.2, §8) ---------------------------------------------
  // A Binding request is answered with the address it came from (420 when it
  // asks for attributes we do not know, RFC 5389 §7.3.1); a success response
  // answers one of our keep-alives. Other STUN is dropped (§7.3).
  void on_stun(std::size_t index, std::string_view data, const asio::ip::udp::endpoint& remote) {
    stun::message m;
    if (stun::parse(data, m) != stun::error::ok) {
      ++counters_.stun_dropped;
      return;
    }
    if (m.type == stun::binding_request) {
      const std::string reply = m.unknown_required.empty()
                                    ? stun::binding_success_for(m.transaction, stun_address(remote))
                                    : stun::binding_error_for(m.transaction, 420, "Unknown Attribute", m.unknown_required);
      std::error_code ec = with_faults(opt_, io_point::udp_send, protocol::udp, {});
      if (!ec) listeners_[index]->udp.send_to(asio::buffer(reply), remote, 0, ec);
      if (!ec) ++counters_.stun_answered;
      return;
    }
    if (m.type == stun::binding_success) return on_keepalive_answer(udp_flow(index, remote), m);
    ++counters_.stun_dropped;
  }
  static stun::address stun_address(const asio::ip::udp::endpoint& e) {
    stun::address a;
    a.port = e.port();
    if (e.address().is_v4()) {
      const auto b = e.address().to_v4().to_bytes();
      std::copy(b.begin(), b.end(), a.bytes.begin());
    } else {
      a.family = 2;
      const auto b = e.address().to_v6().to_bytes();
      std::copy(b.begin(), b.end(), a.bytes.begin());
    }
    return a;
  }

  struct udp_keepalive {
    transaction::peer flow{};
    std::chrono::seconds interval{};
    std::chrono::steady_clock::time_point next{};  // the next request, or its next retransmission
    std::chrono::steady_clock::time_point sent{};  // the request awaiting its answer (none: epoch)
    std::chrono::milliseconds wait{500};           // RFC 5389 §7.2.1: RTO, doubled per retransmission
    stun::transaction_id transaction{};
    std::optional<stun::address> mapped{};  // what the first answer said
  };
  // §4.4.1: 80-100% of the interval, so that keep-alives of many clients spread out.
  static std::chrono::milliseconds jittered(std::chrono::seconds interval) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(interval).count();
    return std::chrono::milliseconds(ms * 4 / 5 + static_cast<long long>(core::random_u32() % static_cast<std::uint32_t>(ms / 5 + 1)));
  }
  void on_keepalive_answer(const transaction::peer& flow, const stun::message& m) {
    const auto it = keepalives_.find(flow.id);
    if (it == keepalives_.end() || it->second.sent == std::chrono::steady_clock::time_point{} ||
        it->second.transaction != m.transaction) {
      ++counters_.stun_dropped;  // not ours, or late
      return;
    }
    udp_keepalive& k = it->second;
    if (m.mapped && k.mapped && *m.mapped != *k.mapped) return keepalive_failed(flow);  // §4.4.2: the NAT binding changed
    if (m.mapped) k.mapped = m.mapped;
    ++counters_.stun_keepalives_answered;
    k.sent = {};
    k.next = std::chrono::steady_clock::now() + jittered(k.interval);
    arm_keepalives();
  }
  void keepalive_failed(const transaction::peer& flow) {
    keepalives_.erase(flow.id);
    ++counters_.keepalive_failures;
    if (handlers_.on_flow_failed) handlers_.on_flow_failed(flow);
  }
  // One timer for every UDP keep-alive, at the earliest thing due.
  void arm_keepalives() {
    if (closing_ || keepalives_.empty()) return;
    auto earliest = std::chrono::steady_clock::time_point::max();
    for (const auto& [id, k] : keepalives_)
      earliest = std::min(earliest, k.sent == std::chrono::steady_clock::time_point{} ? k.next
                                                                                       : std::min(k.next, k.sent + opt_.pong_timeout));
    if (keepalive_armed_ && earliest >= keepalive_at_) return;
    keepalive_armed_ = true;
    keepalive_at_ = earliest;
    keepalive_timer_.expires_at(earliest);
    keepalive_timer_.async_wait([this, alive = alive_](std::error_code ec) {
      if (!*alive || ec == asio::error::operation_aborted) return;  // re-armed earlier, or closed
      keepalive_armed_ = false;
      if (closing_) return;
      run_keepalives(std::chrono::steady_clock::now());
      arm_keepalives();
    });
  }
  void run_keepalives(std::chrono::steady_clock::time_point now) {
    std::vector<transaction::peer> failed;
    for (auto& [id, k] : keepalives_) {
      const bool waiting = k.sent != std::chrono::steady_clock::time_point{};
      if (waiting && now - k.sent >= opt_.pong_timeout) {
        failed.push_back(k.flow);
        continue;
      }
      if (now < k.next) continue;
      if (!waiting) {  // a new request
        core::random_bytes(std::as_writable_bytes(std::span(k.transaction)));
        k.sent = now;
        k.wait = std::chrono::milliseconds(500);
      } else {
        k.wait *= 2;
      }
      k.next = now + k.wait;
      send_keepalive(k);
    }
    for (const transaction::peer& f : failed) keepalive_failed(f);
  }
  void send_keepalive(const udp_keepalive& k) {
    const auto f = resolve(k.flow);
    if (!f) return;
    std::error_code ec = with_faults(opt_, io_point::udp_send, protocol::udp, {});
    if (!ec) listeners_[f->listener]->udp.send_to(asio::buffer(stun::binding_request_for(k.transaction)), f->udp_remote, 0, ec);
    if (!ec) ++counters_.stun_keepalives_sent;
  }

  // One timer for every connection's idle timeout and handshake deadline,
  // not one per connection.
  void arm_sweep() {
    if (sweep_armed_ || closing_) return;
    sweep_armed_ = true;
    auto period = std::min<std::chrono::seconds>(opt_.idle_timeout / 4, opt_.handshake_timeout);
    if (opt_.keepalive_interval.count() > 0) period = std::min(period, std::max(opt_.keepalive_interval / 4, std::chrono::seconds(1)));
    period = std::min(period, opt_.pong_timeout);
    sweep_.expires_after(std::max<std::chrono::seconds>(std::chrono::seconds(1), period));
    sweep_.async_wait([this, alive = alive_](std::error_code ec) {
      if (!*alive) return;
      sweep_armed_ = false;
      if (ec || closing_) return;
      sweep(std::chrono::steady_clock::now());
      arm_sweep();
    });
  }
  // Closes connections idle too long, not ready in time or whose ping went
  // unanswered; pings the quiet ones we opened.
  void sweep(std::chrono::steady_clock::time_point now) {
    std::vector<std::shared_ptr<connection>> idle, failed, to_ping;
    for (const flow& f : flows_) {
      if (!f.in_use || !f.conn) continue;
      const connection& c = *f.conn;
      if (c.ready && now - c.last_activity > opt_.idle_timeout) {
        idle.push_back(f.conn);
      } else if (!c.ready && now - c.last_activity > opt_.handshake_timeout) {
        failed.push_back(f.conn);
      } else if (c.ping_sent != std::chrono::steady_clock::time_point{}) {
        if (now - c.ping_sent > opt_.pong_timeout) {  // RFC 5626 §4.4.1: the flow failed
          ++counters_.keepalive_failures;
          failed.push_back(f.conn);
        }
      } else if (c.ready && c.opened_by_us && opt_.keepalive_interval.count() > 0 &&
                 now - c.last_received > opt_.keepalive_interval) {
        to_ping.push_back(f.conn);
      }
    }
    for (auto& c : idle) c->drop(false);
    for (auto& c : failed) c->drop();
    std::erase_if(moved_invites_, [&](const auto& entry) {  // its connection gone, or long past any CANCEL
      return !resolve(entry.second.tcp) || now - entry.second.at > moved_invite_memory;
    });
    for (auto& c : to_ping)
      if (c->send_ping()) ++counters_.pings_sent;
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
    if (p != protocol::udp) c.append(";transport=").append(uri_parameter(p));
    return c;
  }

  asio::io_context& io_;
  handlers handlers_;
  options opt_;
  std::vector<std::unique_ptr<listener>> listeners_;
  std::vector<flow> flows_;
  std::vector<std::uint32_t> free_;
  std::unordered_map<udp_key, std::uint32_t, udp_key_hash> udp_flows_;
  std::unordered_map<remote_key, std::uint32_t, remote_key_hash> connections_by_remote_;
  // INVITEs moved to TCP by branch, for their CANCEL and ACK (follow_moved_invite).
  // Three minutes: Timer C's least (§16.6), longer than a caller usually rings.
  struct moved_invite {
    transaction::peer tcp;
    std::chrono::steady_clock::time_point at;
  };
  static constexpr std::chrono::minutes moved_invite_memory{3};
  std::unordered_map<std::string, moved_invite> moved_invites_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
#if SIGWIRE_SIP_UDP_MMSG
  bool holding_datagrams_ = false;  // a received batch is being handled: UDP sends wait in outbox_
  std::vector<detail::queued_datagram> outbox_{}, sending_{};
  std::vector<mmsghdr> mmsg_headers_{};
  std::vector<iovec> mmsg_parts_{};
#endif
  asio::ssl::context tls_;
  bool tls_store_loaded_ = false;  // tls_ready()
  asio::steady_timer sweep_;
  bool sweep_armed_ = false, closing_ = false;
  std::unordered_map<std::uint64_t, udp_keepalive> keepalives_;  // keep_alive(), by flow
  asio::steady_timer keepalive_timer_;
  std::chrono::steady_clock::time_point keepalive_at_{};
  bool keepalive_armed_ = false;
  counters counters_{};
};

}  // namespace sigwire::sip::transport
