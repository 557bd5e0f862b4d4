// sigwire/ws/asio/detail/direct_io.hpp - the direct, non-blocking recv and
// gathered send a plain-TCP ws::stream makes before (or instead of) going
// through Asio's reactor: a write that fits the socket buffer costs one
// system call and no scheduler round, and a read after a full one needs no
// epoll_wait (docs/ws.md, "System calls per echo").
//
// One switch: SIGWIRE_WS_DIRECT_IO is 1 where there are POSIX sockets and
// Asio runs a readiness reactor (epoll, kqueue); 0 on Asio's io_uring
// backend (it submits reads and writes with its next io_uring_enter, so a
// direct call would add a system call) and where there are no POSIX sockets.
// With 0 the stream uses Asio's operations only and still builds wherever
// Asio builds. Define it yourself to force either.
#pragma once

#if !defined(SIGWIRE_WS_DIRECT_IO)
#if defined(ASIO_HAS_IO_URING_AS_DEFAULT) || !__has_include(<sys/socket.h>)
#define SIGWIRE_WS_DIRECT_IO 0
#else
#define SIGWIRE_WS_DIRECT_IO 1
#endif
#endif

#include <array>
#include <cerrno>
#include <cstddef>
#include <string_view>

#if SIGWIRE_WS_DIRECT_IO
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#endif

namespace sigwire::ws::detail {

inline constexpr bool direct_io_available = SIGWIRE_WS_DIRECT_IO != 0;

// One non-blocking recv into `to` (EINTR retried): the bytes read, 0 at the
// end of the stream, -1 with errno set.
template <class Handle>
long recv_now(Handle fd, void* to, std::size_t size) noexcept {
#if SIGWIRE_WS_DIRECT_IO
  ssize_t n;
  do n = ::recv(fd, to, size, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return static_cast<long>(n);
#else
  (void)fd, (void)to, (void)size;
  errno = EAGAIN;
  return -1;
#endif
}

// One non-blocking gathered send (sendmsg; no SIGPIPE, EINTR retried) of the
// pieces for_each_piece(f) hands to f (at most 64): the bytes sent, 0 when
// it would block or failed (the asynchronous write that follows meets and
// reports the same error).
template <class Handle, class ForEachPiece>
std::size_t send_now(Handle fd, ForEachPiece&& for_each_piece) noexcept {
#if SIGWIRE_WS_DIRECT_IO
  std::array<iovec, 64> iov;
  std::size_t count = 0;
  for_each_piece([&](std::string_view piece) {
    if (count < iov.size()) iov[count++] = {const_cast<char*>(piece.data()), piece.size()};
  });
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = count;
  for (;;) {
    const ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return 0;
  }
#else
  (void)fd, (void)for_each_piece;
  return 0;
#endif
}

}  // namespace sigwire::ws::detail
