// RFC 3665 basic call flows (§2.1 registration with digest, §3.1 session
// establishment and teardown): every message parses with its routing fields.
#include <sigwire/sip/access.hpp>
#include <sigwire/sip/auth.hpp>
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/uas.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "corpus.hpp"

namespace sip = sigwire::sip;

namespace {
std::string data(const char* name) {
  const char* root = std::getenv("SIGWIRE_SOURCE_ROOT");
  REQUIRE(root);
  return sipt::read_file(std::filesystem::path(root) / "tests/sip/data/rfc3665" / name);
}
}  // namespace

TEST_CASE("rfc3665_2_1 registration with digest challenge") {
  const std::string f1 = data("reg_f1_register.sip"), f2 = data("reg_f2_401.sip"), f3 = data("reg_f3_register_auth.sip"),
                    f4 = data("reg_f4_200.sip");
  sip::message_view m1, m2, m3, m4;
  REQUIRE(sip::parse(f1, m1).complete());
  REQUIRE(sip::parse(f2, m2).complete());
  REQUIRE(sip::parse(f3, m3).complete());
  REQUIRE(sip::parse(f4, m4).complete());
  for (auto* m : {&m1, &m2, &m3, &m4}) CHECK_FALSE(sip::validate_all(*m).ec);
  CHECK(m1.request_uri().scheme == sip::uri_scheme::sips);
  CHECK(m1.top_via()->transport == "TLS");
  CHECK(m1.top_via()->port == 5061);
  CHECK(sip::uas_check(m1).status == 0);
  CHECK(m2.status() == 401);
  CHECK(m2.top_via()->received == "192.0.2.201");
  auto www = sip::auth(m2, sip::header_id::www_authenticate);
  REQUIRE(www);
  auto ch = sip::parse_challenge(m2.find(sip::header_id::www_authenticate)->value);
  REQUIRE(ch);
  CHECK(ch->realm == "atlanta.example.com");
  CHECK(ch->nonce == "ea9c8e88df84f1cec4341ae6cbe5a359");
  CHECK(ch->qop_auth);
  auto cred = sip::auth(m3, sip::header_id::authorization);
  REQUIRE(cred);
  CHECK(cred->param("username") == std::optional<std::string_view>("bob"));
  CHECK(cred->param("uri") == std::optional<std::string_view>("sips:ss2.biloxi.example.com"));
  CHECK(m3.cseq()->number == 2);
  int contacts = 0;
  sip::for_each_contact(m4, [&](const sip::name_addr& c) {
    ++contacts;
    CHECK(c.expires == "3600");
  });
  CHECK(contacts == 1);
}

TEST_CASE("rfc3665_3_1 successful session establishment and teardown") {
  const char* files[] = {"call_f1_invite.sip", "call_f2_180.sip", "call_f3_200.sip",
                         "call_f4_ack.sip",    "call_f5_bye.sip", "call_f6_200.sip"};
  std::string call_id;
  for (const char* f : files) {
    CAPTURE(f);
    const std::string d = data(f);
    sip::message_view m;
    REQUIRE(sip::parse(d, m).complete());
    CHECK_FALSE(sip::validate_all(m).ec);
    if (call_id.empty()) call_id = m.call_id();
    CHECK(m.call_id() == call_id);
    CHECK(m.top_via()->rfc3261_branch());
    CHECK(m.from()->has_tag);
    if (m.is_request()) CHECK(sip::uas_check(m).status == 0);
  }
  const std::string inv = data("call_f1_invite.sip");
  sip::message_view m;
  REQUIRE(sip::parse(inv, m).complete());
  CHECK(sip::content_type(m)->is("application", "sdp"));
  CHECK(m.body().substr(0, 4) == "v=0\r");
  CHECK(*m.content_length() == m.body().size());
  sip::for_each_contact(m, [](const sip::name_addr& c) { CHECK(c.address.transport() == std::optional<std::string_view>("tcp")); });
}
