#include <sigwire/sip/headers.hpp>
#include <sigwire/sip/header_names.hpp>

#include <doctest/doctest.h>

namespace sip = sigwire::sip;

TEST_CASE("rfc3261_7_3_3 compact forms and IANA registry") {
  const std::pair<char, std::string_view> forms[] = {
      {'a', "Accept-Contact"}, {'b', "Referred-By"}, {'c', "Content-Type"}, {'d', "Request-Disposition"},
      {'e', "Content-Encoding"}, {'f', "From"}, {'i', "Call-ID"}, {'j', "Reject-Contact"}, {'k', "Supported"},
      {'l', "Content-Length"}, {'m', "Contact"}, {'n', "Identity-Info"}, {'o', "Event"}, {'r', "Refer-To"},
      {'s', "Subject"}, {'t', "To"}, {'u', "Allow-Events"}, {'v', "Via"}, {'x', "Session-Expires"},
      {'y', "Identity"}};
  for (const auto& form : forms) {
    const char c = form.first;
    const std::string_view name = form.second;
    CAPTURE(c);
    const char lower[2] = {c, 0};
    const char upper[2] = {static_cast<char>(c - 32), 0};
    CHECK(sip::lookup_header(lower) == sip::lookup_header(name));
    CHECK(sip::lookup_header(upper) == sip::lookup_header(name));
    CHECK(sip::canonical_name(sip::lookup_header(lower)) == name);
  }
  CHECK(sip::lookup_header("g") == sip::header_id::other);
  CHECK(sip::lookup_header("cALL-id") == sip::header_id::call_id);
  CHECK(sip::lookup_header("WWW-Authenticate") == sip::header_id::www_authenticate);
  CHECK(sip::lookup_header("X-Custom") == sip::header_id::other);
  for (const auto& h : sip::header_table)
    if (h.id != sip::header_id::other) CHECK(sip::lookup_header(h.name) == h.id);
}

TEST_CASE("rfc3261_20_42 via with IPv6 and params") {
  auto v = sip::parse_via("SIP/2.0/TLS [2001:db8::9:1]:5061;branch=z9hG4bK-x;received=2001:db8::9:255;rport=5062;maddr=[2001:db8::1];ttl=16");
  REQUIRE(v);
  CHECK(v->transport == "TLS");
  CHECK(v->host == "[2001:db8::9:1]");
  CHECK(v->port == 5061);
  CHECK(v->branch == "z9hG4bK-x");
  CHECK(v->received == "2001:db8::9:255");
  CHECK(v->rport == "5062");
  CHECK(v->maddr == "[2001:db8::1]");
  CHECK(v->ttl == "16");
  CHECK(v->rfc3261_branch());
  auto r = sip::parse_via("SIP/2.0/UDP host;received=[2001:db8::1];rport");
  REQUIRE(r);
  CHECK(r->has_rport);
  CHECK(r->rport.empty());
  CHECK(r->received == "[2001:db8::1]");
  CHECK(sip::parse_via("SIP/2.0/UDP host;ttl=256").ec == sip::error::bad_via);
  CHECK(sip::parse_via("SIP/2.0/UDP host:70000").ec == sip::error::bad_via);
  CHECK(sip::parse_via("SIP/2.0 host").ec == sip::error::bad_via);
  CHECK(sip::parse_via("SIP/2.0/UDP").ec == sip::error::bad_via);
  CHECK(sip::parse_via("SIP/2.0/UDP host;;").ec == sip::error::bad_via);
  CHECK(sip::parse_via("SIP/2.0/UDP host;received=a b").ec == sip::error::bad_via);
  sip::limits lim;
  lim.max_params = 2;
  CHECK(sip::parse_via("SIP/2.0/UDP h;a;b;c", lim).ec == sip::error::too_many_params);
}

TEST_CASE("rfc3261_20_10 name-addr forms") {
  auto a = sip::parse_name_addr("\"Bob \\\"B\\\"\" <sips:bob@biloxi.com>;tag=a6c85cf", sip::error::bad_to);
  REQUIRE(a);
  CHECK(a->display_name_text() == "Bob \"B\"");
  CHECK(a->address.scheme == sip::uri_scheme::sips);
  CHECK(a->tag == "a6c85cf");
  auto b = sip::parse_name_addr("sip:+12125551212@phone2net.com;tag=887s", sip::error::bad_from);
  REQUIRE(b);
  CHECK_FALSE(b->bracketed);
  CHECK(b->address.user == "+12125551212");
  CHECK(b->tag == "887s");
  auto c = sip::parse_name_addr("Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", sip::error::bad_from);
  REQUIRE(c);
  CHECK(c->display_name == "Anonymous");
  auto s = sip::parse_name_addr(" * ", sip::error::bad_contact, {}, true);
  REQUIRE(s);
  CHECK(s->star);
  auto q = sip::parse_name_addr("<sip:a@b>;q=0.7;expires=3600", sip::error::bad_contact);
  REQUIRE(q);
  CHECK(q->q == "0.7");
  CHECK(q->expires == "3600");
  CHECK(sip::parse_name_addr("<sip:a@b>;q=1.5", sip::error::bad_contact).ec == sip::error::bad_contact);
  CHECK(sip::parse_name_addr("<sip:a@b>;q=0.1234", sip::error::bad_contact).ec == sip::error::bad_contact);
  CHECK(sip::parse_name_addr("*", sip::error::bad_to).ec == sip::error::bad_to);
  CHECK(sip::parse_name_addr("<sip:a@b", sip::error::bad_to).ec == sip::error::bad_to);
  CHECK(sip::parse_name_addr("\"x <sip:a@b>", sip::error::bad_to).ec == sip::error::bad_to);
  CHECK(sip::parse_name_addr("sip:a@b?x=y", sip::error::bad_to).ec == sip::error::bad_to);
  CHECK(sip::parse_name_addr("<sip:a@b> junk", sip::error::bad_to).ec == sip::error::bad_to);
  CHECK(sip::parse_name_addr("<sip:a@b>;tag", sip::error::bad_to).ec == sip::error::bad_to);  // tag = token
  CHECK(sip::parse_name_addr("<sip:a@b>;tag=a b", sip::error::bad_to).ec == sip::error::bad_to);
}

TEST_CASE("rfc3261_20_16 cseq and scalar ranges") {
  auto c = sip::parse_cseq("4711 INVITE");
  REQUIRE(c);
  CHECK(c->number == 4711);
  CHECK(c->method == "INVITE");
  CHECK(sip::parse_cseq("4294967295 ACK"));
  CHECK(sip::parse_cseq("4294967296 ACK").ec == sip::error::bad_cseq);
  CHECK(sip::parse_cseq("-1 ACK").ec == sip::error::bad_cseq);
  CHECK(sip::parse_cseq("1").ec == sip::error::bad_cseq);
  CHECK(sip::parse_cseq("1 INVITE x").ec == sip::error::bad_cseq);
  CHECK(sip::parse_call_id("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com"));
  CHECK(sip::parse_call_id("a@").ec == sip::error::bad_call_id);
  CHECK(sip::parse_call_id("a b").ec == sip::error::bad_call_id);
  CHECK(sip::parse_number("70", sip::error::bad_max_forwards, 255).value == 70);
  CHECK(sip::parse_number("256", sip::error::bad_max_forwards, 255).ec == sip::error::bad_max_forwards);
}

TEST_CASE("rfc3261_20_15 content-type, tokens, dates, retry-after, warning") {
  auto t = sip::parse_media_type("multipart/mixed ; boundary=\"unique-boundary-1\"");
  REQUIRE(t);
  CHECK(t->is("MULTIPART", "Mixed"));
  CHECK(t->param("boundary") == std::optional<std::string_view>("\"unique-boundary-1\""));
  CHECK(sip::parse_media_type("application").ec == sip::error::bad_content_type);
  CHECK_FALSE(sip::check_date("Sat, 13 Nov 2010 23:29:00 GMT"));
  CHECK(sip::check_date("Fri, 01 Jan 2010 16:00:00 EST") == sip::error::bad_date);
  CHECK_FALSE(sip::check_retry_after("18000;duration=3600"));
  CHECK_FALSE(sip::check_retry_after("120 (I'm in a meeting)"));
  CHECK(sip::check_retry_after("949302838503028349304023988") == sip::error::bad_retry_after);
  CHECK_FALSE(sip::check_warning("307 isi.edu \"Session parameter 'foo' not understood\""));
  CHECK(sip::check_warning("1812 overture \"In Progress\"") == sip::error::bad_warning);
}

TEST_CASE("rfc2617_3_2 auth header params") {
  auto h = sip::parse_auth_header(
      "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\",\r\n nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5");
  REQUIRE(h);
  CHECK(h->is_digest());
  CHECK(h->param("realm") == std::optional<std::string_view>("atlanta.com"));
  CHECK(h->param("nonce") == std::optional<std::string_view>("f84f1cec41e6cbe5aea9c8e88d359"));
  CHECK(h->param("opaque") == std::optional<std::string_view>(""));
  CHECK(h->param("algorithm") == std::optional<std::string_view>("MD5"));
  CHECK_FALSE(h->param("cnonce"));
  CHECK(sip::parse_auth_header("NoOneKnowsThisScheme opaque-data=here"));
  CHECK(sip::parse_auth_header("Digest realm=\"a").ec == sip::error::bad_auth_header);
  CHECK(sip::parse_auth_header("Digest realm").ec == sip::error::bad_auth_header);
  CHECK(sip::parse_auth_header("Digest a=b,,c=d").ec == sip::error::bad_auth_header);
}
