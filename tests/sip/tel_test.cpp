// tel: URIs (RFC 3966): the RFC's examples, the grammar's edges, §4 equality.
#include <sigwire/sip/tel.hpp>

#include <doctest/doctest.h>

#include <string>

namespace sip = sigwire::sip;

TEST_CASE("rfc3966_6_examples_parse") {
  // RFC 3966 §6 (and §5.1.5's local number with a domain context).
  auto a = sip::parse_tel("tel:+1-201-555-0123");
  REQUIRE(a);
  CHECK(a->global);
  CHECK(a->number == "+1-201-555-0123");
  std::string buf;
  CHECK(a->digits(buf) == "+12015550123");
  CHECK(a->params.empty());

  auto b = sip::parse_tel("tel:7042;phone-context=example.com");
  REQUIRE(b);
  CHECK_FALSE(b->global);
  CHECK(b->number == "7042");
  CHECK(b->phone_context == "example.com");

  auto c = sip::parse_tel("tel:863-1234;phone-context=+1-914-555");
  REQUIRE(c);
  CHECK(c->phone_context == "+1-914-555");
  CHECK(c->digits(buf) == "8631234");
}

TEST_CASE("rfc3966_3_parameters") {
  auto t = sip::parse_tel("tel:+1-212-555-0101;ext=7;isub=abc%2F1;foo=bar;flag");
  REQUIRE(t);
  CHECK(t->extension == "7");
  CHECK(t->isdn_subaddress == "abc%2F1");
  CHECK(t->param("FOO") == "bar");
  CHECK(t->param("flag") == std::string_view{});
  CHECK_FALSE(t->param("missing"));
  // The opaque part of a parsed URI is accepted too.
  auto u = sip::parse_uri("tel:+358-555-1234567;postd=pp22");
  REQUIRE(u);
  REQUIRE(u->scheme == sip::uri_scheme::tel);
  auto v = sip::parse_tel(u->opaque);
  REQUIRE(v);
  CHECK(v->param("postd") == "pp22");
  // Local numbers may use hex digits, '*' and '#'.
  CHECK(sip::parse_tel("tel:*67#;phone-context=example.com"));
  CHECK(sip::parse_tel("tel:(0)1A;phone-context=+44"));
}

TEST_CASE("rfc3966_3_malformed_numbers_and_parameters_are_rejected") {
  for (const char* bad : {
           "tel:",                                   // no number
           "tel:+",                                  // '+' without a digit
           "tel:+-.()",                              // separators only
           "tel:+1 212 555",                         // spaces are not visual separators
           "tel:+1-212-555-0101x",                   // letter in a global number
           "tel:7042",                               // local number without phone-context
           "tel:----;phone-context=example.com",     // local number without a digit
           "tel:7042;phone-context=",                // empty context
           "tel:7042;phone-context=-bad.com",        // label starting with '-'
           "tel:7042;phone-context=example.123",     // top label must start with a letter
           "tel:7042;phone-context=+",               // global context without a digit
           "tel:+1;ext=",                            // empty ext
           "tel:+1;ext=12a",                         // ext is phonedigits
           "tel:+1;ext=1;ext=2",                     // ext twice
           "tel:+1;isub=a b",                        // space in isub
           "tel:+1;isub=%zz",                        // bad escape
           "tel:+1;;x=1",                            // empty parameter name
           "tel:+1;na me=1",                         // bad parameter name
           "tel:+1;x=",                              // empty value
           "tel:+1;x=a\"b",                          // '"' is not a paramchar
           "tel:+1;x=%4",                            // truncated escape
           "tel:+1;x=1;X=2",                         // a parameter twice (found by the fuzzer)
       }) {
    CAPTURE(bad);
    CHECK_FALSE(sip::parse_tel(bad));
  }
}

TEST_CASE("rfc3966_4_equality") {
  auto eq = [](std::string_view a, std::string_view b) {
    auto x = sip::parse_tel(a), y = sip::parse_tel(b);
    REQUIRE(x);
    REQUIRE(y);
    const bool r = sip::tel_equivalent(*x, *y);
    CHECK(r == sip::tel_equivalent(*y, *x));  // symmetric
    return r;
  };
  CHECK(eq("tel:+1-201-555-0123", "tel:+1(201)5550123"));           // separators carry no meaning
  CHECK(eq("tel:7042;phone-context=EXAMPLE.com", "tel:7042;phone-context=example.com"));
  CHECK(eq("tel:+1-201-555-0123;ext=1-2;foo=A", "tel:+12015550123;FOO=a;ext=12"));  // order, case
  CHECK(eq("tel:1a;phone-context=+1-914", "tel:1A;phone-context=+1914"));
  CHECK_FALSE(eq("tel:+1-201-555-0123", "tel:+1-201-555-0124"));
  CHECK_FALSE(eq("tel:7042;phone-context=+1", "tel:+17042"));       // local vs global
  CHECK_FALSE(eq("tel:+1;ext=1", "tel:+1"));                         // a parameter on one side only
  CHECK_FALSE(eq("tel:+1;isub=ab", "tel:+1;isub=AB"));               // isub is case-sensitive
  CHECK_FALSE(eq("tel:7042;phone-context=a.com", "tel:7042;phone-context=b.com"));
}
