// epoll_echo_server: the ceiling for the echo load test. A minimal
// single-threaded WebSocket echo server, deliberately NOT RFC-complete (no
// fragmentation, no UTF-8 check, no ping/pong, no limits beyond a buffer cap):
// one read per readiness event, every complete frame in the buffer unmasked and
// appended to one output buffer, one write per batch.
//
//   epoll_echo_server PORT      (listens on 127.0.0.1 only)
#include <sigwire/ws/frame.hpp>
#include <sigwire/ws/handshake.hpp>
#include <sigwire/ws/mask.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace ws = sigwire::ws;

namespace {

constexpr std::size_t max_buffer = 8u << 20;

struct conn {
  int fd = -1;
  bool open = false;  // handshake done
  bool want_out = false;
  std::vector<std::byte> in;  // capacity only: in_len bytes are valid
  std::size_t in_len = 0;
  std::vector<std::byte> out;
  std::size_t out_off = 0;
};

bool handshake(conn& c) {
  const std::string head(reinterpret_cast<const char*>(c.in.data()), c.in_len);
  const auto end = head.find("\r\n\r\n");
  if (end == std::string::npos) return head.size() < 16384;
  std::string lower = head.substr(0, end);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const auto k = lower.find("sec-websocket-key:");
  if (k == std::string::npos) return false;
  auto v = head.substr(k + 18, lower.find("\r\n", k) - k - 18);
  v.erase(0, v.find_first_not_of(' '));
  v.erase(v.find_last_not_of(' ') + 1);
  const std::string res = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: " + ws::accept_key_string(v) + "\r\n\r\n";
  for (char ch : res) c.out.push_back(static_cast<std::byte>(ch));
  std::memmove(c.in.data(), c.in.data() + end + 4, c.in_len - end - 4);
  c.in_len -= end + 4;
  c.open = true;
  return true;
}

// Echoes every complete frame; false means close the connection.
bool echo_frames(conn& c) {
  std::size_t pos = 0;
  while (true) {
    ws::frame_header h;
    const auto r = ws::decode_header(std::span<const std::byte>(c.in.data() + pos, c.in_len - pos), h);
    if (r.failed()) return false;
    if (r.need_more() || c.in_len - pos - r.size < h.payload_length) break;
    const std::byte* payload = c.in.data() + pos + r.size;
    const std::size_t n = static_cast<std::size_t>(h.payload_length);
    const bool masked = h.masked;
    h.masked = false;
    const std::size_t old = c.out.size();
    c.out.resize(old + ws::header_size(n, false) + n);
    const std::size_t hs = ws::encode_header(h, c.out.data() + old);
    // Unmask straight into the output buffer: one pass over the payload.
    if (masked) ws::mask_copy(c.out.data() + old + hs, payload, n, h.key);
    else std::memcpy(c.out.data() + old + hs, payload, n);
    pos += r.size + n;
    if (h.opcode == ws::opcode::close) return false;
  }
  std::memmove(c.in.data(), c.in.data() + pos, c.in_len - pos);
  c.in_len -= pos;
  return c.out.size() < max_buffer;
}

// Writes what it can; keeps EPOLLOUT armed only while output is pending.
bool flush(int ep, conn& c) {
  while (c.out_off < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) break;
      return false;
    }
    c.out_off += static_cast<std::size_t>(n);
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  if (c.want_out != !c.out.empty()) {
    c.want_out = !c.out.empty();
    epoll_event ev{};
    ev.events = EPOLLIN | (c.want_out ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  }
  return true;
}

bool on_readable(conn& c) {
  if (c.in.size() - c.in_len < 65536) {
    if (c.in.size() >= max_buffer) return false;
    c.in.resize(c.in.size() * 2 + 262144);
  }
  const ssize_t n = ::recv(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len, 0);
  if (n > 0) c.in_len += static_cast<std::size_t>(n);
  if (n == 0 || (n < 0 && errno != EAGAIN)) return false;
  if (!c.open && !handshake(c)) return false;
  return !c.open || echo_frames(c);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: epoll_echo_server PORT\n");
    return 2;
  }
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd, 512) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  const int ep = ::epoll_create1(0);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.ptr = nullptr;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  epoll_event events[256];
  while (true) {
    const int n = ::epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<conn*>(events[i].data.ptr);
      if (c == nullptr) {  // listener
        const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
        if (fd < 0) continue;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto* nc = new conn;
        nc->fd = fd;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = nc;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        continue;
      }
      bool ok = true;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ok = on_readable(*c);
      if (ok) ok = flush(ep, *c);
      if (!ok) {
        ::close(c->fd);  // also removes it from the epoll set
        delete c;
      }
    }
  }
}
