#include <sigwire/core/random.hpp>
#include <sigwire/sip/access.hpp>
#include <sigwire/sip/builder.hpp>
#include <sigwire/sip/message.hpp>

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

namespace sip = sigwire::sip;

TEST_CASE("builder writes a request with computed Content-Length") {
  std::array<char, 1024> buf{};
  const std::string branch = sip::make_branch(), tag = sip::make_tag(), cid = sip::make_call_id("pc33.atlanta.com");
  CHECK(branch.rfind("z9hG4bK", 0) == 0);
  CHECK(branch.size() == 23);
  CHECK(cid.find("@pc33.atlanta.com") != std::string::npos);
  CHECK(sip::make_tag() != tag);
  sip::builder b(buf, "v=0\r\n");
  b.request_line("INVITE", "sip:bob@biloxi.com")
      .header(sip::header_id::via, "SIP/2.0/UDP pc33.atlanta.com;branch=" + branch)
      .header("Max-Forwards", "70")
      .header(sip::header_id::to, "Bob <sip:bob@biloxi.com>")
      .header(sip::header_id::from, "Alice <sip:alice@atlanta.com>;tag=" + tag)
      .header(sip::header_id::call_id, cid)
      .header(sip::header_id::cseq, "1 INVITE")
      .header(sip::header_id::content_type, "application/sdp");
  auto out = b.finish();
  REQUIRE(out);
  sip::message_view m;
  REQUIRE(sip::parse(*out, m).complete());
  CHECK(m.top_via()->branch == branch);
  CHECK(m.from()->tag == tag);
  CHECK(m.call_id() == cid);
  CHECK(*m.content_length() == 5);
  CHECK(m.body() == "v=0\r\n");
}

TEST_CASE("builder refuses injection and reports a small buffer") {
  std::array<char, 64> buf{};
  sip::builder b(buf);
  b.request_line("OPTIONS", "sip:a@b").header("X", "a\r\nVia: evil");
  CHECK(b.finish().ec == sip::error::bad_builder_input);
  sip::builder c(buf);
  c.request_line("OPTIONS", "sip:a@b").header("X-Long", std::string(100, 'x'));
  CHECK(c.finish().ec == sip::error::buffer_too_small);
  sip::builder d(buf);
  d.status_line(1000, "x");
  CHECK(d.finish().ec == sip::error::bad_builder_input);
}

TEST_CASE("rfc3261_8_2_6 response from request copies Via/From/To/Call-ID/CSeq") {
  const std::string req =
      "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1, SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKa1\r\n"
      "Via: SIP/2.0/UDP far.example.com;branch=z9hG4bKf1\r\n"
      "Record-Route: <sip:proxy.example.com;lr>\r\n"
      "To: Bob <sip:bob@biloxi.com>\r\nFrom: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
      "Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  sip::message_view m;
  REQUIRE(sip::parse(req, m).complete());
  std::array<char, 1024> buf{};
  sip::builder b(buf);
  REQUIRE_FALSE(sip::response_from_request(b, m, 200, "OK", "a6c85cf"));
  b.header(sip::header_id::contact, "<sip:bob@192.0.2.4>");
  auto out = b.finish();
  REQUIRE(out);
  sip::message_view r;
  REQUIRE(sip::parse(*out, r).complete());
  CHECK(r.status() == 200);
  CHECK(r.to()->tag == "a6c85cf");
  CHECK(r.from()->tag == "1928301774");
  CHECK(r.call_id() == "a84b4c76e66710");
  CHECK(r.cseq()->number == 314159);
  std::vector<std::string> branches;
  sip::for_each_via(r, [&](const sip::via& v) { branches.emplace_back(v.branch); });
  CHECK(branches == std::vector<std::string>{"z9hG4bKp1", "z9hG4bKa1", "z9hG4bKf1"});
  CHECK(r.find(sip::header_id::record_route) != nullptr);
  CHECK(r.find(sip::header_id::max_forwards) == nullptr);
  // 100 Trying gets no To tag.
  sip::builder t(buf);
  REQUIRE_FALSE(sip::response_from_request(t, m, 100, "Trying", "x"));
  auto tr = t.finish();
  sip::message_view tm;
  REQUIRE(sip::parse(*tr, tm).complete());
  CHECK_FALSE(tm.to()->has_tag);
  CHECK(tm.find(sip::header_id::record_route) == nullptr);
}

TEST_CASE("build(parse(m)) preserves header order and values") {
  const std::string in =
      "REGISTER sip:registrar.biloxi.com SIP/2.0\r\nv: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7\r\n"
      "Max-Forwards: 70\r\nt: Bob <sip:bob@biloxi.com>\r\nf: Bob <sip:bob@biloxi.com>;tag=456248\r\n"
      "i: 843817637684230@998sdasdh09\r\nCSeq: 1826 REGISTER\r\nm: <sip:bob@192.0.2.4>\r\nX-Folded: a\r\n b\r\n"
      "Expires: 7200\r\nl: 0\r\n\r\n";
  sip::message_view a, b;
  REQUIRE(sip::parse(in, a).complete());
  std::array<char, 2048> buf{};
  auto out = sip::rebuild(a, buf);
  REQUIRE(out);
  REQUIRE(sip::parse(*out, b).complete());
  REQUIRE(a.headers().size() == b.headers().size());
  for (std::size_t i = 0; i < a.headers().size(); ++i) {
    CHECK(a.headers()[i].id == b.headers()[i].id);
    if (a.headers()[i].name != "X-Folded") CHECK(a.headers()[i].value == b.headers()[i].value);
  }
  CHECK(b.find("X-Folded")->value == "a b");
  std::array<char, 2048> buf2{};
  CHECK(*sip::rebuild(b, buf2) == *out);  // stable after one round
}

TEST_CASE("property: random messages from the builder parse back to the same fields") {
  auto pick = [](std::string_view alphabet, std::size_t n) {
    std::string s;
    const auto bytes = sigwire::core::random_token(n);
    for (char c : bytes) s.push_back(alphabet[static_cast<std::size_t>(c) % alphabet.size()]);
    return s;
  };
  const std::string_view tok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~";
  const std::string_view host = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::array<char, 8192> buf{};
  std::vector<sip::header_field> arena(128);
  for (int round = 0; round < 500; ++round) {
    const std::string method = pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1 + sigwire::core::random_u32() % 10);
    const std::string user = pick(tok, 1 + sigwire::core::random_u32() % 12);
    const std::string h = pick(host, 1 + sigwire::core::random_u32() % 20) + ".example";
    const std::string branch = sip::make_branch(), tag = pick(tok, 1 + sigwire::core::random_u32() % 16);
    const std::string cid = pick(tok, 1 + sigwire::core::random_u32() % 30) + "@" + h;
    const std::uint32_t seq = sigwire::core::random_u32();
    const std::uint32_t port = sigwire::core::random_u32() % 65536;
    const std::string body = pick(host, sigwire::core::random_u32() % 300);
    const std::size_t extra = sigwire::core::random_u32() % 60;
    sip::builder b(buf, body);
    b.request_line(method, "sip:" + user + "@" + h + ":" + std::to_string(port))
        .header(sip::header_id::via, "SIP/2.0/TCP " + h + ";branch=" + branch)
        .header(sip::header_id::from, "<sip:" + user + "@" + h + ">;tag=" + tag)
        .header(sip::header_id::to, "sip:" + user + "@" + h)
        .header(sip::header_id::call_id, cid)
        .header(sip::header_id::cseq, std::to_string(seq) + " " + method);
    std::vector<std::string> extras;
    for (std::size_t i = 0; i < extra; ++i) {
      extras.push_back(pick(host, 1 + i % 40));
      b.header("X-" + std::to_string(i), extras.back());
    }
    auto out = b.finish();
    REQUIRE(out);
    sip::message_view m;
    sip::parse_options o;
    o.transport = sip::transport_kind::stream;
    REQUIRE(sip::parse(*out, m, o, arena).complete());
    CHECK(m.method() == method);
    CHECK(m.request_uri().user == user);
    CHECK(m.request_uri().host == h);
    CHECK(m.request_uri().port == port);
    CHECK(m.top_via()->branch == branch);
    CHECK(m.from()->tag == tag);
    CHECK(m.to()->address.host == h);
    CHECK(m.call_id() == cid);
    CHECK(m.cseq()->number == seq);
    CHECK(m.body() == body);
    REQUIRE(m.headers().size() == 5 + extra + 1);
    for (std::size_t i = 0; i < extra; ++i) CHECK(m.headers()[5 + i].value == extras[i]);
  }
}

TEST_CASE("rfc3261_8_2_6 response from a request with folded headers") {
  const std::string req =
      "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP pc33.atlanta.com\r\n ;branch=z9hG4bKa1\r\n"
      "To: Bob\r\n <sip:bob@biloxi.com>\r\nFrom: <sip:alice@atlanta.com>\r\n ;tag=1928301774\r\n"
      "Call-ID: a84b4c76e66710\r\nCSeq: 314159\r\n INVITE\r\nContent-Length: 0\r\n\r\n";
  sip::message_view m;
  REQUIRE(sip::parse(req, m).complete());
  std::array<char, 1024> buf{};
  sip::builder b(buf);
  REQUIRE_FALSE(sip::response_from_request(b, m, 486, "Busy Here", "t1"));
  auto out = b.finish();
  REQUIRE(out);
  sip::message_view r;
  REQUIRE(sip::parse(*out, r).complete());
  CHECK(r.top_via()->branch == "z9hG4bKa1");
  CHECK(r.to()->tag == "t1");
  CHECK(r.to()->display_name == "Bob");
  CHECK(r.from()->tag == "1928301774");
  CHECK(r.cseq()->method == "INVITE");
  CHECK(out->find("\r\n ") == std::string_view::npos);  // written unfolded
  sip::builder bad(buf);
  CHECK(sip::response_from_request(bad, m, 486, "Busy Here", "t a g") == sip::error::bad_builder_input);
}
