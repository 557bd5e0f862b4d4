#include <sigwire/sip/access.hpp>
#include <sigwire/sip/message.hpp>

#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <vector>

namespace sip = sigwire::sip;

namespace {
// Keeps parsed inputs alive for the views checked after parse().
std::string_view hold(std::string s) {
  static std::deque<std::string> store;
  store.push_back(std::move(s));
  return store.back();
}

const std::string long_form =
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.com>\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.com>\r\n"
    "Content-Type: application/sdp\r\n"
    "Supported: replaces, timer\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";
const std::string compact_folded =
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "v: SIP/2.0/UDP\r\n pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards:\t70\r\n"
    "t: Bob\r\n\t<sip:bob@biloxi.com>\r\n"
    "f  : Alice <sip:alice@atlanta.com>\r\n ;tag=1928301774\r\n"
    "i: a84b4c76e66710@pc33.atlanta.com\r\n"
    "CSEQ: 314159\r\n INVITE\r\n"
    "m: <sip:alice@pc33.atlanta.com>\r\n"
    "c: application/sdp\r\n"
    "k: replaces,\r\n timer\r\n"
    "l: 4\r\n"
    "\r\n"
    "v=0\n";

struct summary {
  std::string via_host, via_branch, to_uri, from_tag, call_id, cseq_method, contact, ctype;
  std::uint32_t cseq = 0, mf = 0;
  std::vector<std::string> supported;
  std::string body;
};

summary summarize(const sip::message_view& m) {
  summary s;
  s.via_host = m.top_via()->host;
  s.via_branch = m.top_via()->branch;
  s.to_uri = m.to()->address.raw;
  s.from_tag = m.from()->tag;
  s.call_id = m.call_id();
  s.cseq = m.cseq()->number;
  s.cseq_method = m.cseq()->method;
  s.mf = *m.max_forwards();
  sip::for_each_contact(m, [&](const sip::name_addr& c) { s.contact = c.address.raw; });
  s.ctype = std::string(sip::content_type(m)->type) + "/" + std::string(sip::content_type(m)->subtype);
  sip::for_each_token(m, sip::header_id::supported, [&](std::string_view t) { s.supported.emplace_back(t); });
  s.body = m.body();
  return s;
}
}  // namespace

TEST_CASE("rfc3261_7_3_3 compact and folded forms equal the long forms") {
  sip::message_view a, b;
  REQUIRE(sip::parse(long_form, a).complete());
  REQUIRE(sip::parse(compact_folded, b).complete());
  const summary x = summarize(a), y = summarize(b);
  CHECK(x.via_host == y.via_host);
  CHECK(x.via_branch == y.via_branch);
  CHECK(x.to_uri == y.to_uri);
  CHECK(x.from_tag == y.from_tag);
  CHECK(x.call_id == y.call_id);
  CHECK(x.cseq == y.cseq);
  CHECK(x.cseq_method == y.cseq_method);
  CHECK(x.mf == y.mf);
  CHECK(x.contact == y.contact);
  CHECK(x.ctype == y.ctype);
  CHECK(x.supported == y.supported);
  CHECK(x.supported == std::vector<std::string>{"replaces", "timer"});
  CHECK(x.body == y.body);
  for (std::size_t i = 0; i < a.headers().size(); ++i) CHECK(a.headers()[i].id == b.headers()[i].id);
}

TEST_CASE("rfc3261_7_1 start lines") {
  sip::message_view m;
  CHECK(sip::parse("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nl: 0\r\n\r\n", m).complete());
  CHECK(m.is_response());
  CHECK(m.status() == 180);
  CHECK(m.reason() == "Ringing");
  CHECK(sip::parse("SIP/2.0 099 Low\r\n\r\n", m).ec == sip::error::bad_status_code);
  CHECK(sip::parse("SIP/2.0 700 High\r\n\r\n", m).ec == sip::error::bad_status_code);
  CHECK(sip::parse("SIP/2.0 20 Short\r\n\r\n", m).ec == sip::error::bad_status_code);
  CHECK(sip::parse("SIP/2.0 200\r\n\r\n", m).ec == sip::error::bad_status_code);
  CHECK(sip::parse("SIP/3.0 200 OK\r\n\r\n", m).ec == sip::error::version_not_supported);
  CHECK(sip::parse("OPTIONS sip:@b SIP/2.0\r\n\r\n", m).ec == sip::error::bad_request_uri);
  CHECK(sip::parse("OPTIONS sip:a@b HTTP/1.1\r\n\r\n", m).ec == sip::error::bad_version);
  CHECK(sip::parse("OPT(ONS sip:a@b SIP/2.0\r\n\r\n", m).ec == sip::error::bad_method);
  CHECK(sip::parse("OPTIONS sip:a@b sip/2.0\r\n\r\n", m).ec == sip::error::bad_version);
  sip::parse_options o;
  o.lenient = sip::lenient_version_case;
  CHECK(sip::parse("OPTIONS sip:a@b sip/2.0\r\nl: 0\r\n\r\n", m, o).complete());
  CHECK(sip::owed_response_to(m, sip::make_error_code(sip::error::version_not_supported)).status == 505);
}

TEST_CASE("strict line ends, leniency flags opt in") {
  const std::string lf = "OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\nl: 0\n\n";
  sip::message_view m;
  CHECK(sip::parse(lf, m).ec == sip::error::bad_line_ending);
  sip::parse_options o;
  o.lenient = sip::lenient_bare_lf;
  CHECK(sip::parse(lf, m, o).complete());
  CHECK(m.top_via()->host == "h");
  CHECK(sip::parse("OPTIONS sip:a@b SIP/2.0\r\nVia: a\rb\r\n\r\n", m).ec == sip::error::bad_line_ending);
  CHECK(sip::parse("OPTIONS sip:a@b SIP/2.0\r\n continued\r\n\r\n", m).ec == sip::error::bad_folding);
  CHECK(sip::parse("OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n", m).ec == sip::error::bad_header_line);
  CHECK(sip::parse("OPTIONS sip:a@b SIP/2.0\r\n: x\r\n\r\n", m).ec == sip::error::bad_header_name);
  const std::string no_end = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nl: 0\r\n";
  CHECK(sip::parse(no_end, m).ec == sip::error::truncated_message);
  o.lenient = sip::lenient_missing_final_crlf;
  CHECK(sip::parse(no_end, m, o).complete());
}

TEST_CASE("rfc3261_18_3 content-length on datagrams and streams") {
  const std::string base = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n";
  sip::message_view m;
  CHECK(sip::parse(hold(base + "l: 3\r\n\r\nabcdef"), m).complete());
  CHECK(m.body() == "abc");
  CHECK(m.size() == base.size() + 8 + 3);
  CHECK(sip::parse(hold(base + "l: 9\r\n\r\nabc"), m).ec == sip::error::content_length_mismatch);
  CHECK(sip::parse(hold(base + "l: -1\r\n\r\n"), m).ec == sip::error::bad_content_length);
  CHECK(sip::parse(hold(base + "l: 1\r\nl: 1\r\n\r\na"), m).ec == sip::error::duplicate_header);
  CHECK(sip::parse(hold(base + "l: 99999999999\r\n\r\n"), m).ec == sip::error::bad_content_length);
  CHECK(sip::parse(hold(base + "l: 70000\r\n\r\n"), m).ec == sip::error::body_too_large);
  CHECK(sip::parse(hold(base + "\r\nrest"), m).complete());
  CHECK(m.body() == "rest");
  sip::parse_options s;
  s.transport = sip::transport_kind::stream;
  // A stream message whose body or head has not all arrived: a status, not an error.
  const auto partial_body = sip::parse(hold(base + "l: 9\r\n\r\nabc"), m, s);
  CHECK(partial_body.need_more());
  CHECK_FALSE(partial_body.ec);
  const auto partial_head = sip::parse(hold(base + "l: 9\r\n"), m, s);
  CHECK(partial_head.need_more());
  CHECK_FALSE(partial_head.ec);
  CHECK(sip::parse(hold(base + "l: 9\r\n"), m).ec == sip::error::truncated_message);  // a datagram cannot grow
  CHECK(sip::parse(hold(base + "l: 9\r\n\r\nabc"), m, s).status == sip::parse_status::need_more);
  CHECK(sip::parse(hold(base + "\r\n"), m, s).ec == sip::error::missing_content_length);
  s.lenient = sip::lenient_stream_missing_content_length;
  CHECK(sip::parse(hold(base + "\r\nxx"), m, s).complete());
  CHECK(m.body().empty());
}

TEST_CASE("routing headers are validated by parse, others lazily every time") {
  const std::string head = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nCSeq: 1 INVITE\r\n";
  sip::message_view m;
  CHECK(sip::parse(hold(head + "CSeq: 2 INVITE\r\nl: 0\r\n\r\n"), m).ec == sip::error::duplicate_header);
  CHECK(m.failure_where() == "2 INVITE");
  CHECK(sip::parse(hold(head + "Max-Forwards: 256\r\nl: 0\r\n\r\n"), m).ec == sip::error::bad_max_forwards);
  CHECK(sip::parse("INVITE sip:a@b SIP/2.0\r\nCSeq: 1 BYE\r\nl: 0\r\n\r\n", m).ec == sip::error::cseq_method_mismatch);
  CHECK(sip::parse("INVITE sip:a@b SIP/2.0\r\nVia: x\r\nl: 0\r\n\r\n", m).ec == sip::error::bad_via);
  CHECK(sip::owed_response_to(m, sip::make_error_code(sip::error::bad_via)).reason == "Bad Via Header");
  // A broken Contact does not fail parse(); each access reports it.
  const std::string bad_contact = head + "Contact: <sip:a@b\r\nExpires: x\r\nl: 0\r\n\r\n";
  REQUIRE(sip::parse(bad_contact, m).complete());
  for (int i = 0; i < 3; ++i) {
    CHECK(sip::for_each_contact(m, [](const sip::name_addr&) {}).ec == sip::error::bad_contact);
    CHECK(sip::expires(m).ec == sip::error::bad_expires);
  }
  CHECK(sip::content_type(m).ec == sip::error::header_not_found);
  CHECK(sip::validate_all(m).ec == sip::error::bad_contact);
  // Contact: * must stand alone
  REQUIRE(sip::parse(hold(head + "Contact: *, <sip:a@b>\r\nl: 0\r\n\r\n"), m).complete());
  CHECK(sip::for_each_contact(m, [](const sip::name_addr&) {}).ec == sip::error::bad_contact);
}

TEST_CASE("header index: inline array, then the caller's arena, then a limit") {
  std::string msg = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (int i = 0; i < 100; ++i) msg += "X-H" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
  msg += "l: 0\r\n\r\n";
  sip::message_view m;
  CHECK(sip::parse(msg, m).ec == sip::error::too_many_headers);
  std::vector<sip::header_field> arena(200);
  REQUIRE(sip::parse(msg, m, {}, arena).complete());
  REQUIRE(m.headers().size() == 101);
  CHECK(m.headers()[0].value == "v0");
  CHECK(m.headers()[99].value == "v99");
  CHECK(m.find("x-h50")->value == "v50");
  sip::parse_options o;
  o.limits.max_headers = 50;
  CHECK(sip::parse(msg, m, o, arena).ec == sip::error::too_many_headers);
  o = {};
  o.limits.max_header_line = 8;
  CHECK(sip::parse(msg, m, o, arena).ec == sip::error::header_line_too_long);
  o = {};
  o.limits.max_message_size = 100;
  CHECK(sip::parse(msg, m, o, arena).ec == sip::error::message_too_large);
  o = {};
  o.limits.max_values = 2;
  REQUIRE(sip::parse("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP a, SIP/2.0/UDP b, SIP/2.0/UDP c\r\nl: 0\r\n\r\n", m, o).complete());
  CHECK(sip::for_each_via(m, [](const sip::via&) {}).ec == sip::error::too_many_values);
}
