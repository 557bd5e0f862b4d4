// ws_memory_client: opens many idle WebSocket connections to measure what a
// server keeps per connection (bench/ws_memory.sh drives it; loopback only).
//
//   ws_memory_client --port P --conns N [--mode echo|connect|half]
//                    [--deflate] [--size BYTES] [--rounds R]
//
// Modes:
//   echo     upgrade (offering permessage-deflate with --deflate, as browsers
//            do: client_max_window_bits, context takeover both ways), send one
//            SIP-like text message, read its echo and check it, then idle;
//   connect  open the TCP connection and send nothing;
//   half     send the first half of an upgrade request, then nothing.
// After all N connections reached their idle state the client prints
//   READY conns=N
// and waits for a line on stdin (the script reads the server's memory
// meanwhile); then it closes all connections and prints CLOSED. With
// --rounds R it then waits for another line before the next round.
//
// The client side runs sigwire's own sans-IO codec (ws::client_handshake,
// ws::connection in the client role) over blocking sockets, one connection
// at a time: the server sees connections arrive one by one and then idle.
#include <sigwire/http/head.hpp>
#include <sigwire/ws/connection.hpp>
#include <sigwire/ws/handshake.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace ws = sigwire::ws;
namespace http = sigwire::http;

namespace {

enum class mode { echo, connect, half };

struct options {
  int port = 0;
  int conns = 1000;
  mode what = mode::echo;
  bool deflate = false;
  std::size_t size = 600;  // a short SIP request
  int rounds = 1;
};

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) die("send");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until `done(buffer)` says how many bytes make a whole unit (>0).
template <class Done>
std::string read_until(int fd, std::string& buf, Done done) {
  for (;;) {
    if (const std::size_t n = done(buf)) {
      std::string unit = buf.substr(0, n);
      buf.erase(0, n);
      return unit;
    }
    char tmp[4096];
    const ssize_t got = ::recv(fd, tmp, sizeof tmp, 0);
    if (got <= 0) die("recv (server closed?)");
    buf.append(tmp, static_cast<std::size_t>(got));
  }
}

std::string sip_like_message(std::size_t size, int seq) {
  std::string m = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK" +
                  std::to_string(seq) + "\r\nCall-ID: " + std::to_string(seq) + "@memory-bench\r\n";
  while (m.size() < size) m += "X-Pad: abcdefghijklmnopqrstuvwxyz0123456789\r\n";
  m.resize(size);
  return m;
}

// Upgrade, one message, its echo; leaves the connection idle and open.
void echo_once(int fd, const options& opt, int seq) {
  ws::client_options co;
  co.host = "127.0.0.1:" + std::to_string(opt.port);
  co.deflate.enabled = opt.deflate;
  ws::client_handshake hs(co);
  write_all(fd, hs.request());
  std::string buf;
  http::response_head res;
  const std::string head = read_until(fd, buf, [&](const std::string& b) {
    const auto r = http::parse_response(b, res);
    if (r.failed()) { std::fprintf(stderr, "bad response head\n"); std::exit(1); }
    return r.need_more() ? std::size_t{0} : r.consumed;
  });
  (void)http::parse_response(head, res);
  const auto v = hs.validate(res);
  if (v.ec) { std::fprintf(stderr, "handshake: %s\n", v.ec.message().c_str()); std::exit(1); }
  if (opt.deflate && !v.deflate) { std::fprintf(stderr, "server declined permessage-deflate\n"); std::exit(1); }

  ws::connection_options cfg;
  cfg.deflate = v.deflate;
  ws::connection conn(ws::role::client, cfg);
  const std::string msg = sip_like_message(opt.size, seq);
  if (conn.send_text(msg)) { std::fprintf(stderr, "send_text failed\n"); std::exit(1); }
  std::string out;
  conn.take_output(out);
  write_all(fd, out);
  for (;;) {
    while (!buf.empty()) {
      const auto r = conn.feed(buf);
      buf.erase(0, r.consumed);
      if (r.ev.type == ws::event_type::text) {
        std::string echoed;
        conn.take_message(echoed);
        if (echoed != msg) { std::fprintf(stderr, "echo differs\n"); std::exit(1); }
        return;
      }
      if (r.ev.type == ws::event_type::close || r.ev.type == ws::event_type::error) {
        std::fprintf(stderr, "connection ended before the echo\n");
        std::exit(1);
      }
      if (r.consumed == 0) break;
    }
    char tmp[4096];
    const ssize_t got = ::recv(fd, tmp, sizeof tmp, 0);
    if (got <= 0) die("recv echo");
    buf.append(tmp, static_cast<std::size_t>(got));
  }
}

int open_one(const options& opt, int seq) {
  const int fd = connect_loopback(opt.port);
  switch (opt.what) {
    case mode::echo: echo_once(fd, opt, seq); break;
    case mode::connect: break;
    case mode::half:
      write_all(fd, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
      break;
  }
  return fd;
}

void raise_file_limit(int conns) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) die("getrlimit");
  const rlim_t want = static_cast<rlim_t>(conns) + 64;
  if (r.rlim_cur < want) {
    r.rlim_cur = std::min(want, r.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &r) != 0) die("setrlimit");
  }
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view k = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", argv[i]); std::exit(2); }
      return argv[++i];
    };
    if (k == "--port") o.port = std::atoi(value());
    else if (k == "--conns") o.conns = std::atoi(value());
    else if (k == "--size") o.size = static_cast<std::size_t>(std::atol(value()));
    else if (k == "--rounds") o.rounds = std::atoi(value());
    else if (k == "--deflate") o.deflate = true;
    else if (k == "--mode") {
      const std::string_view m = value();
      if (m == "echo") o.what = mode::echo;
      else if (m == "connect") o.what = mode::connect;
      else if (m == "half") o.what = mode::half;
      else { std::fprintf(stderr, "unknown mode %s\n", argv[i]); std::exit(2); }
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (o.port <= 0 || o.conns <= 0 || o.rounds <= 0) {
    std::fprintf(stderr, "usage: ws_memory_client --port P --conns N [--mode echo|connect|half] [--deflate] [--size B] [--rounds R]\n");
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options opt = parse_args(argc, argv);
  raise_file_limit(opt.conns);
  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(opt.conns));
  for (int round = 0; round < opt.rounds; ++round) {
    for (int i = 0; i < opt.conns; ++i) fds.push_back(open_one(opt, round * opt.conns + i));
    std::printf("READY conns=%d\n", opt.conns);
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) return 0;
    for (const int fd : fds) ::close(fd);
    fds.clear();
    std::printf("CLOSED\n");
    std::fflush(stdout);
    // Another round starts on the next line (the caller measures in between).
    if (round + 1 < opt.rounds && !std::getline(std::cin, line)) return 0;
  }
  return 0;
}
