// sip::method and sip::message (owned buffer + view).
#include <sigwire/sip/method.hpp>
#include <sigwire/sip/owned_message.hpp>

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace sip = sigwire::sip;

namespace {
const std::string invite =
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.com>\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Content-Length: 0\r\n"
    "\r\n";
}  // namespace

TEST_CASE("RFC 3261 §7.1: methods parse case-sensitively and print back") {
  for (int i = 0; i < static_cast<int>(sip::method::other); ++i) {
    const auto m = static_cast<sip::method>(i);
    CHECK(sip::parse_method(sip::text(m)) == m);
    CHECK(sip::is_known_method(sip::text(m)));
  }
  CHECK(sip::parse_method("REGISTER") == sip::method::register_);
  CHECK(sip::parse_method("invite") == sip::method::other);
  CHECK(sip::parse_method("NEWMETHOD") == sip::method::other);
  CHECK(sip::parse_method("") == sip::method::other);
  CHECK(sip::text(sip::method::other).empty());
}

TEST_CASE("sip::message owns its bytes; the view survives moves") {
  sip::message m;
  REQUIRE_FALSE(sip::message::parse(invite, m));
  CHECK(m.method() == sip::method::invite);
  CHECK(m.bytes() == invite);
  sip::message moved = std::move(m);
  CHECK(m.empty());
  CHECK(moved->top_via()->branch == "z9hG4bK776asdhds");
  CHECK(moved->call_id() == "a84b4c76e66710@pc33.atlanta.com");
  CHECK(moved->cseq()->number == 314159u);
  // Views point into the message's own buffer.
  const auto b = moved.bytes();
  const auto id = moved->call_id();
  CHECK(id.data() >= b.data());
  CHECK(id.data() + id.size() <= b.data() + b.size());

  std::vector<sip::message> store;
  for (int i = 0; i < 100; ++i) store.push_back(moved.clone());  // reallocations move them
  for (const auto& s : store) CHECK(s->top_via()->branch == "z9hG4bK776asdhds");
  CHECK(store[0].bytes().data() != moved.bytes().data());
}

TEST_CASE("sip::message with more headers than the inline array uses its own arena") {
  std::string many = invite.substr(0, invite.size() - 2);
  for (int i = 0; i < 40; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  sip::message m;
  REQUIRE_FALSE(sip::message::parse(many, m));
  CHECK(m->headers().size() == 47u);
  sip::message n = std::move(m);
  CHECK(n->find("X-H39")->value == "v");
  CHECK(n.heap_bytes() > many.size());
}

TEST_CASE("a clone is parsed with the options of its original (kept in the view)") {
  // Bare LF line ends parse only with lenient_bare_lf; more headers than the
  // default limit only with a larger one: the clone needs both.
  std::string lf = invite;
  for (std::size_t at = lf.find("\r\n"); at != std::string::npos; at = lf.find("\r\n", at)) lf.erase(at, 1);
  lf.insert(lf.size() - 1, "X-A: 1\nX-B: 2\nX-C: 3\n");
  sip::parse_options opt;
  opt.lenient = sip::lenient_bare_lf;
  opt.limits.max_headers = 12;
  sip::message strict;
  CHECK(sip::message::parse(lf, strict));  // strict by default
  sip::message m;
  REQUIRE_FALSE(sip::message::parse(lf, m, opt));
  const sip::message copy = m.clone();
  REQUIRE_FALSE(copy.empty());
  CHECK(copy->options().lenient == sip::lenient_bare_lf);
  CHECK(copy->options().limits.max_headers == 12u);
  CHECK(copy->find("X-C")->value == "3");
  CHECK(copy.bytes() == m.bytes());
  CHECK(copy.bytes().data() != m.bytes().data());
  CHECK(sizeof(sip::message) <= 64u);  // buffer, arena, view pointer: the options live in the view
}

TEST_CASE("sip::message::parse reports the parser's error and stays empty") {
  sip::message m;
  CHECK(sip::message::parse("NOT SIP\r\n\r\n", m));
  CHECK(m.empty());
}

TEST_CASE("a parsed view handed back by one message and reused by the next carries nothing over") {
  // Views of destroyed messages are kept per thread for the next parse:
  // fill one with a large request with a body, then parse a bare response.
  std::string big = invite.substr(0, invite.size() - 2 - std::string("Content-Length: 0\r\n").size());
  for (int i = 0; i < 40; ++i) big += "X-H" + std::to_string(i) + ": v\r\n";
  big += "Content-Length: 4\r\n\r\nbody";
  const std::string bare =
      "SIP/2.0 180 Ringing\r\n"
      "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
      "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
      "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
      "Call-ID: other@pc33.atlanta.com\r\n"
      "CSeq: 314159 INVITE\r\n"
      "\r\n";
  for (int round = 0; round < 40; ++round) {  // more rounds than views are kept
    {
      std::vector<sip::message> held(3);
      for (auto& h : held) REQUIRE_FALSE(sip::message::parse(big, h));
      CHECK(held[2]->body() == "body");
    }  // three views go back
    sip::message r;
    REQUIRE_FALSE(sip::message::parse(bare, r));
    CHECK(r->is_response());
    CHECK(r->status() == 180);
    CHECK(r->method().empty());
    CHECK(r->body().empty());
    CHECK_FALSE(r->content_length());
    CHECK_FALSE(r->max_forwards());
    CHECK(r->headers().size() == 5u);
    CHECK(r->find("X-H0") == nullptr);
    CHECK(r->call_id() == "other@pc33.atlanta.com");
    sip::message failed;
    CHECK(sip::message::parse("NOT SIP\r\n\r\n", failed));  // a failed parse hands its view back too
    CHECK(failed.empty());
    CHECK(failed->headers().empty());
  }
}
