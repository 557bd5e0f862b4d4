#include <sigwire/sip/uri.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace sip = sigwire::sip;

TEST_CASE("rfc3261_19_1_1 sip uri components") {
  auto u = sip::parse_uri("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr;maddr=[::1]?subject=hi&priority=urgent");
  REQUIRE(u);
  CHECK(u->scheme == sip::uri_scheme::sips);
  CHECK(u->user == "alice");
  CHECK(u->password == "secret");
  CHECK(u->host == "[2001:db8::1]");
  CHECK(u->is_ipv6());
  CHECK(u->port == 5061);
  CHECK(u->transport() == std::optional<std::string_view>("tcp"));
  CHECK(u->lr());
  CHECK(u->param("maddr") == std::optional<std::string_view>("[::1]"));
  CHECK(u->headers == "subject=hi&priority=urgent");
  CHECK_FALSE(u->param("ttl").has_value());
}

TEST_CASE("rfc3261_19_1_1 tel and absolute uris are opaque") {
  auto t = sip::parse_uri("tel:+1-201-555-0123;phone-context=example.com");
  REQUIRE(t);
  CHECK(t->scheme == sip::uri_scheme::tel);
  CHECK(t->opaque == "+1-201-555-0123;phone-context=example.com");
  auto h = sip::parse_uri("http://www.example.com/a?b=c");
  REQUIRE(h);
  CHECK(h->scheme == sip::uri_scheme::other);
  CHECK(h->scheme_name == "http");
  CHECK(sip::parse_uri("urn:service:sos"));
}

TEST_CASE("malformed uris are rejected with a precise error") {
  CHECK(sip::parse_uri("sip:").ec == sip::error::bad_uri_host);
  CHECK(sip::parse_uri("sip:@host").ec == sip::error::bad_uri_user);
  CHECK(sip::parse_uri("sip:a%4@host").ec == sip::error::bad_uri_user);
  CHECK(sip::parse_uri("sip:host:99999").ec == sip::error::bad_uri_port);
  CHECK(sip::parse_uri("sip:host:").ec == sip::error::bad_uri_port);
  CHECK(sip::parse_uri("sip:[::1").ec == sip::error::bad_uri_host);
  CHECK(sip::parse_uri("sip:[zz::1]").ec == sip::error::bad_uri_host);
  CHECK(sip::parse_uri("sip:host;;lr").ec == sip::error::bad_uri_params);
  CHECK(sip::parse_uri("sip:host;a=").ec == sip::error::bad_uri_params);
  CHECK(sip::parse_uri("sip:host?").ec == sip::error::bad_uri_headers);
  CHECK(sip::parse_uri("sip:host?a").ec == sip::error::bad_uri_headers);
  CHECK(sip::parse_uri("sip:host?a=b", false).ec == sip::error::uri_headers_in_request_uri);
  CHECK(sip::parse_uri("sip:ho st").ec == sip::error::bad_uri_host);
  CHECK(sip::parse_uri("<sip:host>").ec == sip::error::bad_uri);
  CHECK(sip::parse_uri("nocolon").ec == sip::error::bad_uri);
  CHECK(sip::parse_uri("1x:abc").ec == sip::error::bad_uri);
  CHECK(sip::parse_uri("x:a b").ec == sip::error::bad_uri);
}

TEST_CASE("rfc3261_19_1_4 equivalent uris") {
  auto eq = [](std::string_view a, std::string_view b) {
    auto x = sip::parse_uri(a), y = sip::parse_uri(b);
    REQUIRE(x);
    REQUIRE(y);
    return sip::equivalent(*x, *y) && sip::equivalent(*y, *x);
  };
  // The RFC's own examples of equivalent URIs.
  CHECK(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
  CHECK(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
  CHECK(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
  CHECK(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
           "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
  CHECK(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
           "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
  // ... and of non-equivalent ones.
  CHECK_FALSE(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
  CHECK_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
  CHECK_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
  CHECK_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
  CHECK_FALSE(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
  CHECK_FALSE(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
  CHECK_FALSE(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
  CHECK_FALSE(eq("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
}

TEST_CASE("escapes decode on demand and keep NULs") {
  CHECK(sip::unescape("a%20b%00c") == std::string("a b\0c", 5));
  CHECK(sip::unescaped_equal("%41", "a", true));
  CHECK_FALSE(sip::unescaped_equal("%41", "a", false));
}

// The SIMD scans (16 bytes per step, the last partial block re-read as
// the final 16 bytes of the view) must stop exactly where the byte tables
// say: every byte value, at many positions, in views shorter and longer
// than a block, from several start offsets.
template <class Scan, class Table>
void check_scan_against_table(Scan scan, Table table, char filler, bool (*in_class)(int)) {
  for (int b = 0; b < 256; ++b)
    for (std::size_t len : {1u, 10u, 15u, 16u, 17u, 23u, 32u, 40u})
      for (std::size_t at = 0; at < len; at += 3)
        for (std::size_t from : {0u, 1u, 9u}) {
          if (from > at) continue;
          std::string s(len, filler);
          s[at] = static_cast<char>(b);
          const std::size_t stop = scan(std::string_view(s), from);
          CHECK(stop == (in_class(b) ? len : at));
          CHECK(stop == table(std::string_view(s), from));
        }
}

TEST_CASE("rfc3261_25_1 hostname scan agrees with the character table for every byte") {
  namespace d = sigwire::sip::detail;
  check_scan_against_table([](std::string_view s, std::size_t i) { return d::skip_host_chars(s, i); },
                           [](std::string_view s, std::size_t i) { return d::skip_class(s, i, d::lx_host); }, 'a',
                           [](int b) { return (b < 0x80 && std::isalnum(b) != 0) || b == '-' || b == '.'; });
}

TEST_CASE("rfc3261_25_1 Call-ID word scan agrees with the character table for every byte") {
  namespace d = sigwire::sip::detail;
  check_scan_against_table([](std::string_view s, std::size_t i) { return d::skip_word_chars(s, i); },
                           [](std::string_view s, std::size_t i) { return d::skip_uri_class(s, i, d::uc_word); }, 'w',
                           [](int b) { return b > 0x20 && b < 0x7f && std::string_view("#$&,;=@^|").find(static_cast<char>(b)) == std::string_view::npos; });
}

TEST_CASE("rfc3261_7_3_1 list splitter scan agrees with the character table for every byte") {
  namespace d = sigwire::sip::detail;
  check_scan_against_table([](std::string_view s, std::size_t i) { return d::find_list_special(s, i); },
                           [](std::string_view s, std::size_t i) { return d::skip_class(s, i, d::lx_list_plain); }, 'x',
                           [](int b) { return b != '"' && b != '<' && b != '>' && b != ','; });
}

TEST_CASE("rfc3261_20_10 bracket search agrees with string_view::find") {
  for (std::size_t len : {1u, 15u, 16u, 17u, 40u})
    for (std::size_t at = 0; at <= len; ++at)
      for (std::size_t from : {0u, 1u, 9u}) {
        std::string s(len, '<');
        if (at < len) s[at] = '>';
        const std::string_view v(s);
        const std::size_t expected = std::min(v.find('>', from), v.size());
        CHECK(sigwire::core::scan::find(v, from, sigwire::core::scan::any_of<'>'>{}) == expected);
      }
}
