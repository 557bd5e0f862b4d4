// sigwire/sip/transport/options.hpp - what the SIP transports are called and
// configured with: the protocols of RFC 3261 §18 and RFC 7118, the hub's
// handlers, limits and TLS and WebSocket settings.
#pragma once

#include <sigwire/sip/detail/ieq.hpp>
#include <sigwire/sip/limits.hpp>
#include <sigwire/sip/transaction/event.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace sigwire::sip::transport {

enum class protocol : std::uint8_t { udp, tcp, tls, ws, wss };

// The Via transport token (RFC 3261 §20.42, RFC 7118 §5.2).
constexpr std::string_view text(protocol p) noexcept {
  switch (p) {
    case protocol::udp: return "UDP";
    case protocol::tcp: return "TCP";
    case protocol::tls: return "TLS";
    case protocol::ws: return "WS";
    case protocol::wss: return "WSS";
  }
  return "UDP";
}
// The value of a SIP URI's ;transport= parameter (RFC 3261 §19.1.1). RFC 7118
// §5.2 defines one value for WebSocket, "ws", for WS and WSS alike: the
// security is in the sips: scheme or in the connection the URI is reached
// over (Kamailio reads ";transport=wss" as no transport it knows).
constexpr std::string_view uri_parameter(protocol p) noexcept {
  switch (p) {
    case protocol::udp: return "udp";
    case protocol::tcp: return "tcp";
    case protocol::tls: return "tls";
    case protocol::ws: return "ws";
    case protocol::wss: return "ws";
  }
  return "udp";
}
// The protocol a ;transport= value names (case-insensitive); none when
// unknown. "ws" is WS (a sips: URI makes it WSS: ua::resolve); "wss", which
// RFC 7118 does not define but its §8.2 example and some stacks write, is
// taken as WSS.
inline std::optional<protocol> protocol_from_parameter(std::string_view value) noexcept {
  for (const protocol p : {protocol::udp, protocol::tcp, protocol::tls, protocol::ws})
    if (sip::detail::ieq_lower(value, uri_parameter(p))) return p;
  if (sip::detail::ieq_lower(value, "wss")) return protocol::wss;
  return std::nullopt;
}
constexpr bool is_stream(protocol p) noexcept { return p != protocol::udp; }  // reliable: §17 timers change
constexpr bool is_secure(protocol p) noexcept { return p == protocol::tls || p == protocol::wss; }
constexpr bool is_websocket(protocol p) noexcept { return p == protocol::ws || p == protocol::wss; }
// The port a SIP URI without one means: 5060, 5061 for TLS (RFC 3261 §19.1.2),
// 80 and 443 for WS and WSS (RFC 7118 §7).
constexpr unsigned short default_port(protocol p) noexcept {
  switch (p) {
    case protocol::tls: return 5061;
    case protocol::ws: return 80;
    case protocol::wss: return 443;
    default: return 5060;
  }
}

// Where a transport touches the network: the points fault injection can fail.
enum class io_point : std::uint8_t { udp_receive, udp_send, connect, tls_handshake, ws_handshake, read, write };

struct handlers {
  std::function<void(std::string bytes, transaction::peer from)> on_message{};  // one whole SIP message
  std::function<void(transaction::tsx_id tsx)> on_send_failed{};             // tell the transaction layer
  // A connection failed (reset or closed by the peer, a keep-alive or the
  // handshake not answered in time; not one we closed as idle): requests
  // sent over it wait for responses that cannot come (transaction::layer::flow_failed).
  std::function<void(transaction::peer flow)> on_flow_failed{};
};

// TLS (and WSS) through OpenSSL. A server listener needs a certificate and
// key; connections we open verify the server's certificate and name
// (the host given to hub::peer_for, else the IP address) unless told not to.
// Mutual TLS (RFC 5630 §3.1.1 allows it; RFC 5923 relies on it): with
// verify_client our listeners ask every client for a certificate and refuse
// a client without one that ca_file vouches for; as a client we present
// certificate_chain_file when a server asks.
struct tls_options {
  std::string certificate_chain_file{};  // PEM; ours as a server (and as a client when set)
  std::string private_key_file{};        // PEM
  std::string ca_file{};                 // PEM; peers are verified against it (empty: the system's store)
  bool verify_server = true;             // false only for tests against self-signed peers
  bool verify_client = false;            // listeners require a client certificate (mutual TLS)
};

// SIP over WebSocket (RFC 7118). The `sip` subprotocol is required on
// accept and offered on connect; each SIP message is one WebSocket message.
struct websocket_options {
  std::string path = "/";                          // request target of connections we open
  std::chrono::seconds ping_interval{30};          // a WebSocket ping after this much silence (0: none)
  std::chrono::milliseconds close_timeout{2000};   // a close handshake we start waits this long for the peer's Close
};

struct options {
  sip::limits limits{};                      // message size for every transport (65,535 by default)
  std::size_t max_flows = 100'000;           // UDP remote addresses + connections; beyond: new ones refused
  std::chrono::seconds idle_timeout{600};    // a connection without SIP traffic this long is closed
  std::chrono::seconds handshake_timeout{10};  // connect + TLS/WebSocket handshake, else closed
  // RFC 5626 §4.4.1: TCP and TLS connections we opened send a CRLFCRLF ping
  // after this long without receiving a byte (0: never; the RFC's default
  // keep-alive time for connection-oriented flows is 95-120 s), and are
  // closed when no pong (any byte) comes within pong_timeout (§4.4.1: 10 s).
  std::chrono::seconds keepalive_interval{110};
  std::chrono::seconds pong_timeout{10};
  // RFC 5626 §4.4.2: the STUN keep-alives of a UDP flow under an outbound
  // registration come 80-100% of this apart when the registrar sent no
  // Flow-Timer (24-29 s: libre's choice, below common NAT UDP timeouts).
  std::chrono::seconds udp_keepalive_interval{29};
  std::size_t max_send_queue = 1 << 20;      // bytes waiting for a peer that does not read; beyond: closed
  // RFC 3261 §18.1.1: a request larger than this (path MTU unknown) goes over
  // TCP to the same address, back to UDP if that connection fails. 0: never.
  std::size_t udp_request_limit = 1300;
  // UDP datagrams taken per system call (recvmmsg, and sendmmsg for what
  // handling them sends; Linux). 1: one per call through Asio's
  // async_receive_from, the path every other platform takes.
  std::size_t udp_batch = 16;
  // SO_REUSEPORT on every listener, so several hubs (one user agent per
  // thread, each on its own io_context) can listen on one port; the kernel
  // gives each UDP source and each TCP connection to one of them
  // (docs/sip-transport.md, "Threads"). Where the platform has no
  // SO_REUSEPORT, listen() throws.
  bool reuse_port = false;
  std::string user = "sigwire";              // user part of our Contact URIs
  tls_options tls{};
  websocket_options websocket{};
  // Fault injection, for tests: asked before each send and write (an error
  // it returns fails it unsent) and after each receive, read, connect and
  // handshake that succeeded (an error replaces the result, the data is
  // dropped), as if the operation had failed so.
  std::function<std::error_code(io_point, protocol)> inject_fault{};
};

// The result of an operation at `point`, after fault injection.
inline std::error_code with_faults(const options& o, io_point point, protocol p, std::error_code ec) {
  if (ec || !o.inject_fault) return ec;
  return o.inject_fault(point, p);
}

struct counters {
  std::uint64_t messages_in = 0, messages_out = 0, framing_errors = 0, send_failures = 0, refused_flows = 0;
  std::uint64_t connections_accepted = 0, connections_opened = 0, connections_closed = 0, pings_answered = 0;
  std::uint64_t slow_peers = 0;          // connections closed because their send queue passed max_send_queue
  std::uint64_t handshake_failures = 0;  // connections closed before ready: connect, TLS or WebSocket failed or timed out
  std::uint64_t requests_moved_to_tcp = 0;  // §18.1.1, options::udp_request_limit
  std::uint64_t moved_back_to_udp = 0;      // their TCP connection failed before they left
  std::uint64_t follow_ups_moved_to_tcp = 0;  // CANCELs and ACKs of a moved INVITE that followed it
  std::uint64_t pings_sent = 0, keepalive_failures = 0;  // RFC 5626 §4.4.1 on connections we opened, and STUN on UDP
  // STUN on UDP (RFC 5626 §4.4.2, §8): Binding requests answered, malformed
  // or unexpected STUN dropped, our keep-alive requests sent (retransmissions
  // too) and answered.
  std::uint64_t stun_answered = 0, stun_dropped = 0, stun_keepalives_sent = 0, stun_keepalives_answered = 0;
};

}  // namespace sigwire::sip::transport
