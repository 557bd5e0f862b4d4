#include <sigwire/sip/auth.hpp>

#include <doctest/doctest.h>

namespace sip = sigwire::sip;

TEST_CASE("rfc2617_3_5 digest example (MD5, qop=auth)") {
  CHECK(sip::digest_response(sip::digest_algorithm::md5, "Mufasa", "testrealm@host.com", "Circle Of Life",
                             "dcd98b7102dd2f0e8b11d0f600bfb0c093", "GET", "/dir/index.html", "auth", "00000001",
                             "0a4f113b") == "6629fae49393a05397450978507c4ef1");
}

TEST_CASE("rfc7616_3_9_1 digest example (SHA-256, qop=auth) as used by RFC 8760") {
  CHECK(sip::digest_response(sip::digest_algorithm::sha256, "Mufasa", "http-auth@example.org", "Circle of Life",
                             "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "GET", "/dir/index.html", "auth",
                             "00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ") ==
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST_CASE("rfc3261_22 client and server agree for every algorithm") {
  for (auto alg : {sip::digest_algorithm::md5, sip::digest_algorithm::md5_sess, sip::digest_algorithm::sha256,
                   sip::digest_algorithm::sha256_sess}) {
    CAPTURE(sip::algorithm_name(alg));
    const std::string ch = sip::challenge_value("atlanta.com", "84a4cc6f3082121f32b42a2187831a9e", alg, "op1");
    auto c = sip::parse_challenge(ch);
    REQUIRE(c);
    CHECK(c->algorithm == alg);
    CHECK(c->qop_auth);
    CHECK(c->opaque == "op1");
    sip::digest_client_input in{"bob", "zanzibar", "REGISTER", "sip:atlanta.com", "0a4f113b", 1};
    const std::string cred = sip::authorization_value(*c, in);
    CHECK_FALSE(sip::verify(cred, "REGISTER", "zanzibar", "atlanta.com", "84a4cc6f3082121f32b42a2187831a9e"));
    CHECK(sip::verify(cred, "REGISTER", "wrong", "atlanta.com", "84a4cc6f3082121f32b42a2187831a9e") ==
          sip::error::auth_response_mismatch);
    CHECK(sip::verify(cred, "INVITE", "zanzibar", "atlanta.com", "84a4cc6f3082121f32b42a2187831a9e") ==
          sip::error::auth_response_mismatch);
    CHECK(sip::verify(cred, "REGISTER", "zanzibar", "other", "84a4cc6f3082121f32b42a2187831a9e") ==
          sip::error::auth_realm_mismatch);
    CHECK(sip::verify(cred, "REGISTER", "zanzibar", "atlanta.com", "stale") == sip::error::auth_nonce_mismatch);
  }
}

TEST_CASE("rfc2069 compatibility: no qop") {
  auto c = sip::parse_challenge("Digest realm=\"biloxi.com\", nonce=\"abc\"");
  REQUIRE(c);
  CHECK_FALSE(c->has_qop);
  const std::string cred = sip::authorization_value(*c, {"bob", "pw", "INVITE", "sip:bob@biloxi.com"});
  CHECK(cred.find("qop") == std::string::npos);
  CHECK_FALSE(sip::verify(cred, "INVITE", "pw", "biloxi.com", "abc"));
}

TEST_CASE("bad challenges and credentials are errors") {
  CHECK(sip::parse_challenge("Basic realm=\"x\"").ec == sip::error::unsupported_auth_scheme);
  CHECK(sip::parse_challenge("Digest realm=\"x\"").ec == sip::error::missing_auth_param);
  CHECK(sip::parse_challenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256").ec ==
        sip::error::unsupported_algorithm);
  CHECK(sip::parse_challenge("Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\"").ec == sip::error::unsupported_qop);
  CHECK(sip::parse_challenge("Digest realm=\"x\", nonce=\"n\", qop=\"auth-int,auth\""));
  CHECK(sip::verify("Digest username=\"a\"", "X", "p", "r", "n") == sip::error::missing_auth_param);
  CHECK(sip::verify("Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth", "X", "p",
                    "r", "n") == sip::error::missing_auth_param);
  CHECK(sip::verify("garbage ,", "X", "p", "r", "n") == sip::error::bad_auth_header);
}
