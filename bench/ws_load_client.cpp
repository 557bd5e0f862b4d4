// ws_load_client: end-to-end WebSocket echo load generator (loopback only).
//
//   ws_load_client --port P [--conns N] [--inflight K] [--size BYTES]
//                  [--seconds S] [--server-pid PID]
//
// Opens N connections to 127.0.0.1:P, performs the HTTP upgrade, then keeps
// K binary messages in flight per connection for S seconds: every message is
// a masked client frame built with sigwire's frame/mask headers, every echo is
// parsed with ws::decode_header and compared byte by byte with what was sent.
// Single-threaded epoll. Prints one line:
//   RESULT msgs=.. msgs_per_s=.. p50_us=.. p99_us=.. server_cpu_us_per_msg=.. errors=..
// Server CPU is utime+stime of /proc/PID/stat over the measured interval.
#include <sigwire/ws/frame.hpp>
#include <sigwire/ws/mask.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace ws = sigwire::ws;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  int port = 0;
  int conns = 1;
  int inflight = 1;
  std::size_t size = 16;
  double seconds = 3.0;
  long server_pid = 0;
};

constexpr std::size_t pattern_period = 251;  // message seq picks an offset in the pattern

struct connection {
  int fd = -1;
  std::vector<std::byte> rx;
  std::size_t rx_len = 0;
  std::vector<std::byte> tx;
  std::size_t tx_off = 0;
  std::deque<clock_type::time_point> sent_at;
  std::deque<std::uint64_t> sent_seq;
  std::uint64_t next_seq = 0;
  std::size_t msg_off = 0;  // bytes of the current (possibly fragmented) echo received
  bool want_out = false;
};

struct run_state {
  options opt;
  std::vector<std::byte> pattern;
  std::uint32_t rng = 0x9E3779B9u;
  std::vector<double> latencies_us;
  std::uint64_t received = 0;
  std::uint64_t errors = 0;
  bool sending = true;
  bool measuring = true;
};

std::uint32_t next_random(std::uint32_t& s) {  // xorshift32: mask keys need not be secret here
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(2);
}

long cpu_ticks(long pid) {
  if (pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(f, line);
  const auto rp = line.rfind(')');
  if (rp == std::string::npos) return 0;
  std::istringstream in(line.substr(rp + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {  // fields 14 and 15 (1-based) are utime, stime
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

int connect_and_upgrade(int port, std::vector<std::byte>& leftover) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string req =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) die("send upgrade");
  std::string head;
  char buf[4096];
  const auto deadline = clock_type::now() + std::chrono::seconds(5);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (clock_type::now() > deadline || head.size() > 16384) die("upgrade response too slow or too long");
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) die("recv upgrade");
    head.append(buf, static_cast<std::size_t>(n));
  }
  // RFC 6455 §1.3: the accept value for this fixed key.
  if (head.rfind("HTTP/1.1 101", 0) != 0 || head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos) {
    std::fprintf(stderr, "bad upgrade response:\n%s\n", head.c_str());
    std::exit(2);
  }
  const auto end = head.find("\r\n\r\n") + 4;
  for (std::size_t i = end; i < head.size(); ++i) leftover.push_back(static_cast<std::byte>(head[i]));
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

void queue_message(run_state& st, connection& c) {
  const std::size_t n = st.opt.size;
  ws::frame_header h;
  h.opcode = ws::opcode::binary;
  h.masked = true;
  const std::uint32_t k = next_random(st.rng);
  std::memcpy(h.key.data(), &k, 4);
  h.payload_length = n;
  const std::size_t old = c.tx.size();
  c.tx.resize(old + ws::header_size(n, true) + n);
  const std::size_t hs = ws::encode_header(h, c.tx.data() + old);
  const std::uint64_t seq = c.next_seq++;
  ws::mask_copy(c.tx.data() + old + hs, st.pattern.data() + seq % pattern_period, n, h.key);
  c.sent_at.push_back(clock_type::now());
  c.sent_seq.push_back(seq);
}

void set_out(int ep, connection& c, bool want) {
  if (c.want_out == want) return;
  c.want_out = want;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.ptr = &c;
  ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
}

void flush(int ep, connection& c) {
  while (c.tx_off < c.tx.size()) {
    const ssize_t n = ::send(c.fd, c.tx.data() + c.tx_off, c.tx.size() - c.tx_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) break;
      die("send");
    }
    c.tx_off += static_cast<std::size_t>(n);
  }
  if (c.tx_off == c.tx.size()) {
    c.tx.clear();
    c.tx_off = 0;
  }
  set_out(ep, c, c.tx_off < c.tx.size() || !c.tx.empty());
}

// Parses every complete echoed frame in c.rx and checks it; returns false on EOF/error.
bool on_readable(int ep, run_state& st, connection& c) {
  if (c.rx.size() - c.rx_len < 65536) c.rx.resize(c.rx_len + 65536 + st.opt.size + ws::max_header_size);
  const ssize_t n = ::recv(c.fd, c.rx.data() + c.rx_len, c.rx.size() - c.rx_len, 0);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN;
  c.rx_len += static_cast<std::size_t>(n);
  std::size_t pos = 0;
  const auto now = clock_type::now();
  while (true) {
    ws::frame_header h;
    const auto r = ws::decode_header(std::span<const std::byte>(c.rx.data() + pos, c.rx_len - pos), h);
    if (r.failed()) {
      ++st.errors;
      return false;
    }
    if (r.need_more() || c.rx_len - pos - r.size < h.payload_length) break;
    const std::byte* payload = c.rx.data() + pos + r.size;
    const auto len = static_cast<std::size_t>(h.payload_length);
    pos += r.size + len;
    if (h.opcode == ws::opcode::ping || h.opcode == ws::opcode::pong) continue;  // keep-alive: not counted
    // A server may fragment (Beast does by default): continuation frames are
    // compared at their offset in the message.
    const auto expected_op = c.msg_off == 0 ? ws::opcode::binary : ws::opcode::continuation;
    if (c.sent_seq.empty() || h.masked || h.opcode != expected_op || c.msg_off + len > st.opt.size) {
      ++st.errors;
      return false;
    }
    const std::uint64_t seq = c.sent_seq.front();
    if (std::memcmp(payload, st.pattern.data() + seq % pattern_period + c.msg_off, len) != 0) ++st.errors;
    c.msg_off += len;
    if (!h.fin) continue;
    if (c.msg_off != st.opt.size) {
      ++st.errors;
      return false;
    }
    c.msg_off = 0;
    if (st.measuring) {
      st.latencies_us.push_back(std::chrono::duration<double, std::micro>(now - c.sent_at.front()).count());
      ++st.received;
    }
    c.sent_at.pop_front();
    c.sent_seq.pop_front();
    if (st.sending) queue_message(st, c);
  }
  std::memmove(c.rx.data(), c.rx.data() + pos, c.rx_len - pos);
  c.rx_len -= pos;
  flush(ep, c);
  return true;
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port") o.port = std::atoi(v);
    else if (k == "--conns") o.conns = std::max(1, std::atoi(v));
    else if (k == "--inflight") o.inflight = std::max(1, std::atoi(v));
    else if (k == "--size") o.size = static_cast<std::size_t>(std::atol(v));
    else if (k == "--seconds") o.seconds = std::clamp(std::atof(v), 0.1, 60.0);
    else if (k == "--server-pid") o.server_pid = std::atol(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (o.port <= 0) {
    std::fprintf(stderr, "usage: ws_load_client --port P [--conns N] [--inflight K] [--size B] [--seconds S] [--server-pid PID]\n");
    std::exit(2);
  }
  return o;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return v[idx];
}

}  // namespace

int main(int argc, char** argv) {
  run_state st;
  st.opt = parse_args(argc, argv);
  st.pattern.resize(st.opt.size + pattern_period);
  for (auto& b : st.pattern) b = static_cast<std::byte>(next_random(st.rng));

  const int ep = ::epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  std::vector<connection> conns(static_cast<std::size_t>(st.opt.conns));
  for (auto& c : conns) {
    std::vector<std::byte> leftover;
    c.fd = connect_and_upgrade(st.opt.port, leftover);
    c.rx = leftover;
    c.rx_len = leftover.size();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl");
  }

  const long hz = ::sysconf(_SC_CLK_TCK);
  const long cpu0 = cpu_ticks(st.opt.server_pid);
  const auto t0 = clock_type::now();
  const auto stop_at = t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(st.opt.seconds));
  for (auto& c : conns) {
    for (int i = 0; i < st.opt.inflight; ++i) queue_message(st, c);
    flush(ep, c);
  }
  long cpu1 = cpu0;
  auto t1 = t0;
  const auto hard_stop = stop_at + std::chrono::seconds(3);  // drain bound
  std::vector<epoll_event> events(conns.size());
  std::size_t outstanding = conns.size() * static_cast<std::size_t>(st.opt.inflight);
  while (clock_type::now() < hard_stop) {
    if (st.measuring && clock_type::now() >= stop_at) {
      st.measuring = false;
      st.sending = false;
      t1 = clock_type::now();
      cpu1 = cpu_ticks(st.opt.server_pid);
    }
    if (!st.measuring) {
      outstanding = 0;
      for (auto& c : conns) outstanding += c.sent_seq.size();
      if (outstanding == 0) break;
    }
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<connection*>(events[static_cast<std::size_t>(i)].data.ptr);
      if (events[static_cast<std::size_t>(i)].events & EPOLLOUT) flush(ep, c);
      if (events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (!on_readable(ep, st, c)) {
          std::fprintf(stderr, "connection closed or protocol error\n");
          ++st.errors;
          return 1;
        }
      }
    }
  }
  if (outstanding != 0) {
    std::fprintf(stderr, "%zu echoes still missing after the drain bound\n", outstanding);
    ++st.errors;
  }
  for (auto& c : conns) ::close(c.fd);  // abrupt close is fine for a load test
  ::close(ep);

  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const double cpu_us = static_cast<double>(cpu1 - cpu0) * 1e6 / static_cast<double>(hz);
  const double rate = static_cast<double>(st.received) / secs;
  std::printf("RESULT msgs=%llu msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f server_cpu_us_per_msg=%.2f errors=%llu\n",
              static_cast<unsigned long long>(st.received), rate, percentile(st.latencies_us, 0.50),
              percentile(st.latencies_us, 0.99),
              st.received ? cpu_us / static_cast<double>(st.received) : 0.0,
              static_cast<unsigned long long>(st.errors));
  return st.errors == 0 ? 0 : 1;
}
