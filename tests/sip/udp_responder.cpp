// A tiny UDP UAS on the loopback built from the sans-IO parser and builder,
// for the sipp interop test: INVITE -> 100, 180, 200 (with SDP); ACK -> none;
// BYE/OPTIONS/other -> 200; malformed -> the owed response (RFC 3261 §8.2).
// Prints the bound port on stdout, then serves until `seconds` pass.
//   udp_responder [seconds]
#include <sigwire/sip.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace sip = sigwire::sip;

namespace {
const std::string sdp =
    "v=0\r\no=responder 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct stats {
  unsigned requests = 0, bad = 0, sent = 0;
};

void reply(int fd, const sockaddr_in& to, std::string_view bytes, stats& st) {
  if (sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0) ++st.sent;
}

void respond(int fd, const sockaddr_in& from, const sip::message_view& req, int status, std::string_view reason,
             const std::string& tag, stats& st, bool with_sdp = false) {
  std::array<char, 4096> buf{};
  sip::builder b(buf, with_sdp ? std::string_view(sdp) : std::string_view{});
  if (sip::response_from_request(b, req, status, reason, tag)) return;
  if (status >= 180) b.header(sip::header_id::contact, "<sip:responder@127.0.0.1>");
  if (with_sdp) b.header(sip::header_id::content_type, "application/sdp");
  if (auto out = b.finish()) reply(fd, from, *out, st);
}

void handle(int fd, const sockaddr_in& from, std::string_view datagram, stats& st) {
  std::vector<sip::header_field> arena(256);
  sip::message_view m;
  if (auto r = sip::parse(datagram, m, {}, arena); r.failed()) {
    ++st.bad;
    const auto owed = sip::owed_response_to(m, r.ec);
    // A message too broken to answer (no Via, From, To...) is dropped (RFC 3261 §18.2.1).
    if (owed.status && m.is_request() && m.top_via() && m.from() && m.to() && m.cseq())
      respond(fd, from, m, owed.status, owed.reason, sip::make_tag(), st);
    return;
  }
  if (!m.is_request()) return;
  ++st.requests;
  if (auto owed = sip::uas_check(m); owed.status) {
    respond(fd, from, m, owed.status, owed.reason, sip::make_tag(), st);
    return;
  }
  // One To tag per dialog, stable across retransmissions: derived from the Call-ID.
  char tag_buf[24];
  std::snprintf(tag_buf, sizeof tag_buf, "r%zx", std::hash<std::string_view>{}(m.call_id()));
  const std::string tag = tag_buf;
  if (m.method() == "INVITE") {
    respond(fd, from, m, 100, "Trying", tag, st);
    respond(fd, from, m, 180, "Ringing", tag, st);
    respond(fd, from, m, 200, "OK", tag, st, true);
  } else if (m.method() != "ACK") {
    respond(fd, from, m, 200, "OK", tag, st);
  }
}
}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 30;
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 2;
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("%u\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  stats st;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::array<char, 65536> buf{};
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    const ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n > 0) handle(fd, from, std::string_view(buf.data(), static_cast<std::size_t>(n)), st);
  }
  std::fprintf(stderr, "requests=%u bad=%u sent=%u\n", st.requests, st.bad, st.sent);
  close(fd);
  return 0;
}
