// sigwire/ws/asio/detail/close_notify.hpp - TLS close_notify (RFC 8446 §6.1)
// written at once, for a TLS stream about to close its socket.
//
// The socket is made non-blocking first: the alert goes out in one write
// and the wait for the peer's close_notify ends there (would block). RFC
// 8446 §6.1 does not ask for that wait, so no timer and no handler are
// needed, and nothing outlives the stream. Call it only when no write is
// under way on the stream (its record would be cut); a read still pending
// only waits on the socket and ends as aborted when the socket closes.
// Streams whose lowest layer is not a socket (test streams) are left alone.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <type_traits>

namespace sigwire::ws::detail {

template <class TlsStream>
void send_close_notify(TlsStream& tls) {
  using lowest = std::remove_reference_t<decltype(tls.lowest_layer())>;
  if constexpr (requires(lowest& l, asio::error_code& e) { l.non_blocking(true, e); }) {
    asio::error_code ignored;
    tls.lowest_layer().non_blocking(true, ignored);
    tls.shutdown(ignored);
  }
}

}  // namespace sigwire::ws::detail
