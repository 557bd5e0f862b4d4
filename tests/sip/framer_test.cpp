#include <sigwire/sip/framer.hpp>
#include <sigwire/sip/message.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace sip = sigwire::sip;

namespace {
std::string msg(std::string_view call_id, std::string_view body) {
  return "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: " + std::string(call_id) +
         "\r\nCSeq: 1 MESSAGE\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// Feeds `stream` in chunks of `chunk` bytes; returns the Call-IDs framed.
std::vector<std::string> feed(const std::string& stream, std::size_t chunk, std::size_t* pings = nullptr) {
  sip::framer f;
  std::string buf;
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < stream.size();) {
    buf.append(stream, pos, chunk);
    pos += chunk;
    for (;;) {
      const auto fr = f.next(buf);
      REQUIRE(fr.state != sip::frame::status::failed);
      if (fr.state == sip::frame::status::need_more) break;
      if (pings) *pings += fr.pings;
      sip::message_view m;
      sip::parse_options o;
      o.transport = sip::transport_kind::stream;
      REQUIRE(sip::parse(fr.message, m, o).complete());
      out.emplace_back(m.call_id());
      buf.erase(0, fr.consumed());
    }
  }
  return out;
}
}  // namespace

TEST_CASE("rfc3261_18_3 framer: several messages per read, partial input, any split") {
  const std::string stream = msg("one", "hello") + msg("two", "") + "\r\n\r\n" + msg("three", "x\r\n\r\ny");
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 64u, 4096u}) {
    CAPTURE(chunk);
    std::size_t pings = 0;
    CHECK(feed(stream, chunk, &pings) == std::vector<std::string>{"one", "two", "three"});
    CHECK(pings == 1);
  }
}

TEST_CASE("rfc5626_3_5_1 keep-alive pings are skipped and counted") {
  sip::framer f;
  auto fr = f.next("\r\n\r\n\r\n\r\n");
  CHECK(fr.state == sip::frame::status::need_more);
  CHECK(fr.pings == 2);
  CHECK(fr.skipped == 8);
}

TEST_CASE("rfc5626_3_5_1 a connection that only pings keeps no bytes: drop_keepalive") {
  sip::framer f;
  std::string buf = "\r\n\r\n\r";  // one ping, and the start of the next
  auto fr = f.next(buf);
  CHECK(fr.pings == 1);
  CHECK(fr.skipped == buf.size());
  buf.erase(0, f.drop_keepalive());
  CHECK(buf.empty());
  buf += "\n\r\n";  // the ping split across reads still counts once
  fr = f.next(buf);
  CHECK(fr.pings == 1);
  buf.erase(0, f.drop_keepalive());
  const std::string msg = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nhi";
  buf += msg.substr(0, 10);
  fr = f.next(buf);
  CHECK(fr.state == sip::frame::status::need_more);
  CHECK(f.drop_keepalive() == 0);  // a message has begun: nothing to drop
  buf += msg.substr(10);
  fr = f.next(buf);
  REQUIRE(fr.state == sip::frame::status::complete);
  CHECK(fr.message == msg);
}

TEST_CASE("rfc3261_18_3 framer rejects a missing or bad Content-Length on streams") {
  sip::framer f;
  const auto fr = f.next("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n");
  CHECK(fr.state == sip::frame::status::failed);
  CHECK(fr.ec == sip::error::missing_content_length);
  CHECK(f.next("anything").state == sip::frame::status::failed);  // final
  sip::framer g;
  CHECK(g.next("OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\n").ec == sip::error::duplicate_header);
  sip::framer h;
  CHECK(h.next("OPTIONS sip:a@b SIP/2.0\r\nl: -5\r\n\r\n").ec == sip::error::bad_content_length);
  sip::limits lim;
  lim.max_message_size = 64;
  sip::framer k(lim);
  CHECK(k.next(std::string(100, 'A')).ec == sip::error::message_too_large);
}

TEST_CASE("framer finds Content-Length beyond the inline header array") {
  std::string m = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (int i = 0; i < 150; ++i) m += "X-" + std::to_string(i) + ": y\r\n";
  m += "Content-Length: 3\r\n\r\nabc";
  sip::framer f;
  const std::string buffered = m + "tail";
  const auto fr = f.next(buffered);
  REQUIRE(fr.state == sip::frame::status::complete);
  CHECK(fr.message == m);
}
