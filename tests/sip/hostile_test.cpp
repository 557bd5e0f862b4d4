// Hostile input: every prefix of every message, input ending right before
// an unreadable page (any over-read faults), huge peer-controlled counts.
#include <sigwire/sip/access.hpp>
#include <sigwire/sip/auth.hpp>
#include <sigwire/sip/framer.hpp>
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/uas.hpp>

#include <doctest/doctest.h>


#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "corpus.hpp"
#include "../support/guarded_buffer.hpp"

namespace sip = sigwire::sip;

namespace {
void exercise(std::string_view in, std::vector<sip::header_field>& arena) {
  for (auto t : {sip::transport_kind::datagram, sip::transport_kind::stream}) {
    sip::message_view m;
    sip::parse_options o;
    o.transport = t;
    if (!sip::parse(in, m, o, arena).complete()) continue;
    (void)sip::validate_all(m);
    (void)sip::uas_check(m);
    (void)sip::for_each_via(m, [](const sip::via&) {});
    for (auto id : {sip::header_id::www_authenticate, sip::header_id::authorization})
      if (auto* h = m.find(id)) (void)sip::parse_challenge(h->value);
    CHECK(m.size() <= in.size());
  }
  sip::framer f;
  (void)f.next(in);
}

std::vector<std::string> all_messages() {
  std::vector<std::string> out;
  const char* root = std::getenv("SIGWIRE_SOURCE_ROOT");
  REQUIRE(root != nullptr);
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(root) / "tests/sip/data/rfc3665"))
    out.push_back(sipt::read_file(e.path()));
  REQUIRE(sipt::have_corpus());
  for (const auto& r : sipt::manifest()) out.push_back(sipt::read_file(sipt::corpus_dir() / r.file));
  return out;
}
}  // namespace

TEST_CASE("every prefix of every message, ending at an unreadable page") {
  std::vector<sip::header_field> arena(256);
  const auto msgs = all_messages();
  REQUIRE(msgs.size() >= 10);
  sigwire::test::guarded_buffer g(8192);
  std::size_t runs = 0;
  for (const auto& full : msgs) {
    for (std::size_t n = 0; n <= full.size(); ++n, ++runs) exercise(g.place(std::string_view(full).substr(0, n)), arena);
  }
  CHECK(runs > 5000);
}

TEST_CASE("a truncated datagram never parses as a complete message with its Content-Length") {
  const auto msgs = all_messages();
  for (const auto& full : msgs) {
    sip::message_view whole;
    if (!sip::parse(full, whole).complete() || !whole.content_length()) continue;
    for (std::size_t n = 0; n < whole.size(); ++n) {
      sip::message_view m;
      CHECK_FALSE(sip::parse(std::string_view(full).substr(0, n), m).complete());
    }
  }
}

TEST_CASE("huge peer-controlled counts hit limits, not memory") {
  std::vector<sip::header_field> arena(512);
  sip::message_view m;
  std::string vias = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h";
  for (int i = 0; i < 20000; ++i) vias += ", SIP/2.0/UDP h";
  vias += "\r\nl: 0\r\n\r\n";
  sip::parse_options o;
  o.limits.max_header_line = 1 << 20;
  o.limits.max_message_size = 1 << 20;
  REQUIRE(sip::parse(vias, m, o).complete());
  CHECK(sip::for_each_via(m, [](const sip::via&) {}).ec == sip::error::too_many_values);
  std::string params = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h";
  for (int i = 0; i < 20000; ++i) params += ";p";
  params += "\r\nl: 0\r\n\r\n";
  CHECK(sip::parse(params, m, o).ec == sip::error::too_many_params);
  std::string headers = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (int i = 0; i < 5000; ++i) headers += "X: y\r\n";
  headers += "\r\n";
  CHECK(sip::parse(headers, m, o, arena).ec == sip::error::too_many_headers);
  CHECK(sip::parse(std::string(70000, 'A'), m).ec == sip::error::message_too_large);
  std::string quotes = "OPTIONS sip:a@b SIP/2.0\r\nTo: \"" + std::string(5000, '\\') + "\r\n\r\n";
  CHECK(sip::parse(quotes, m).ec == sip::error::bad_to);
  std::string cl = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0000000000000000000000000000001\r\n\r\nx";
  CHECK(sip::parse(cl, m).complete());
  CHECK(m.body() == "x");
}

TEST_CASE("random bytes never crash any parser") {
  std::vector<sip::header_field> arena(64);
  std::string buf;
  unsigned seed = 12345;
  const std::string alphabet = "INVITE sip:@;=,<>\"\\:/ \r\n\tSIP/2.0Via:Contact:l:1m:*%0a[]";
  for (int round = 0; round < 3000; ++round) {
    buf = "INVITE sip:a@b SIP/2.0\r\n";
    const std::size_t n = (seed = seed * 1103515245 + 12345) % 300;
    for (std::size_t i = 0; i < n; ++i) {
      seed = seed * 1103515245 + 12345;
      buf.push_back(alphabet[(seed >> 16) % alphabet.size()]);
    }
    exercise(buf, arena);
    (void)sip::parse_uri(buf.substr(15));
    (void)sip::verify(buf, "INVITE", "p", "r", "n");
  }
}
