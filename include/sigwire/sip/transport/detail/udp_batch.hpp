// sigwire/sip/transport/detail/udp_batch.hpp - many UDP datagrams per system
// call with recvmmsg/sendmmsg (docs/sip-transport.md, "UDP in batches").
//
// One switch, as ws/asio/detail/direct_io.hpp has: SIGWIRE_SIP_UDP_MMSG is 1
// on Linux with Asio's readiness reactor (epoll), 0 on Asio's io_uring
// backend (it reads and writes with its next io_uring_enter, so a direct
// call would add one) and on other platforms. With 0 the hub receives one
// datagram per call through Asio (what options::udp_batch = 1 chooses
// anywhere) and still builds wherever Asio builds. Define it yourself to
// force either.
#pragma once

#include <asio/detail/config.hpp>  // ASIO_HAS_IO_URING_AS_DEFAULT

#if !defined(SIGWIRE_SIP_UDP_MMSG)
#if defined(__linux__) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#define SIGWIRE_SIP_UDP_MMSG 1
#else
#define SIGWIRE_SIP_UDP_MMSG 0
#endif
#endif

#if SIGWIRE_SIP_UDP_MMSG
#include <sigwire/sip/transaction/event.hpp>

#include <asio.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

namespace sigwire::sip::transport::detail {

// errno of the call that just failed, as Asio names it (would_block for EAGAIN).
inline std::error_code last_socket_error() noexcept {
  if (errno == EAGAIN || errno == EWOULDBLOCK) return asio::error::would_block;
  return {errno, asio::error::get_system_category()};
}

// Receive slots for one UDP socket: `slots` buffers of `size` bytes each,
// reserved once. The buffer is not initialised, so a page of it becomes
// resident only when a datagram reaches it (16 slots of 64 KiB cost what
// one zeroed 64 KiB buffer did while datagrams stay small).
class datagram_inbox {
 public:
  datagram_inbox(std::size_t slots, std::size_t size)
      : size_(size), bytes_(new char[slots * size]), headers_(slots), parts_(slots), names_(slots) {
    for (std::size_t i = 0; i < slots; ++i) {
      parts_[i] = {bytes_.get() + i * size, size};
      headers_[i].msg_hdr.msg_iov = &parts_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  std::size_t slots() const noexcept { return headers_.size(); }

  // The datagrams waiting on `fd`, at most slots(), without blocking. 0 with
  // `ec` would_block when none waits; fewer than slots(): the queue was
  // empty when the call returned.
  std::size_t receive(int fd, std::error_code& ec) {
    for (std::size_t i = 0; i < headers_.size(); ++i) {
      headers_[i].msg_hdr.msg_name = &names_[i];
      headers_[i].msg_hdr.msg_namelen = sizeof(names_[i]);
      headers_[i].msg_hdr.msg_flags = 0;
    }
    int got;
    do got = ::recvmmsg(fd, headers_.data(), static_cast<unsigned>(headers_.size()), MSG_DONTWAIT, nullptr);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
      ec = last_socket_error();
      return 0;
    }
    ec = {};
    return static_cast<std::size_t>(got);
  }
  // Datagram i of the last receive; truncated ones (larger than a slot) are
  // dropped by the caller.
  std::string_view data(std::size_t i) const noexcept { return {bytes_.get() + i * size_, headers_[i].msg_len}; }
  bool truncated(std::size_t i) const noexcept { return (headers_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }
  asio::ip::udp::endpoint from(std::size_t i) const {
    asio::ip::udp::endpoint e;
    const auto length = std::min<std::size_t>(headers_[i].msg_hdr.msg_namelen, e.capacity());
    std::memcpy(e.data(), &names_[i], length);
    e.resize(length);
    return e;
  }

 private:
  std::size_t size_;
  std::unique_ptr<char[]> bytes_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> parts_;
  std::vector<sockaddr_storage> names_;
};

// Datagrams queued while a received batch is handled, sent with one
// sendmmsg per socket when it ends (answers of one wake-up in one call).
struct queued_datagram {
  int fd;
  asio::ip::udp::endpoint to;
  transaction::shared_bytes bytes;
  transaction::tsx_id tsx;
};

// Sends `batch` (all on one socket) without blocking; returns how many left
// before the first that failed, whose error is in `ec` (none: all left).
inline std::size_t send_datagrams(std::span<queued_datagram> batch, std::vector<mmsghdr>& headers,
                                  std::vector<iovec>& parts, std::error_code& ec) {
  headers.assign(batch.size(), mmsghdr{});
  parts.resize(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    parts[i] = {const_cast<char*>(batch[i].bytes->data()), batch[i].bytes->size()};
    headers[i].msg_hdr.msg_name = batch[i].to.data();
    headers[i].msg_hdr.msg_namelen = static_cast<socklen_t>(batch[i].to.size());
    headers[i].msg_hdr.msg_iov = &parts[i];
    headers[i].msg_hdr.msg_iovlen = 1;
  }
  ec = {};
  std::size_t sent = 0;
  while (sent < batch.size()) {
    const int n = ::sendmmsg(batch.front().fd, headers.data() + sent, static_cast<unsigned>(batch.size() - sent), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ec = last_socket_error();
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  return sent;
}

}  // namespace sigwire::sip::transport::detail
#endif
