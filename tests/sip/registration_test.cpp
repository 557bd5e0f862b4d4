// The REGISTER client (RFC 3261 §10.2): refresh, unregister, digest, 423, contact rewrite.
// A small registrar in the test answers each REGISTER as RFC 3261 §10.3 would.
#include <sigwire/sip/dialog/registration.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace sip = sigwire::sip;
namespace dlg = sigwire::sip::dialog;
using namespace std::chrono_literals;
using action = dlg::registration::action;

namespace {

std::uint64_t seed = 42;
std::uint64_t next_random() { return seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; }

sip::message parsed(std::string text) {
  sip::message m;
  REQUIRE_FALSE(sip::message::parse(std::move(text), m));
  return m;
}

// A registrar's answer to `request`: `extra` header lines; `via_params` added to the top Via (received/rport).
sip::message reply(const sip::message& request, int status, std::string_view extra, std::string_view via_params = {}) {
  std::string r = "SIP/2.0 " + std::to_string(status) + " X\r\n";
  for (const auto& h : request->headers()) {
    using sip::header_id;
    if (h.id == header_id::via) {  // RFC 3581 §4: the server fills in the empty rport
      std::string v(h.value);
      if (!via_params.empty()) v = v.substr(0, v.find(";rport")) + v.substr(v.find(";rport") + 6);
      r += "Via: " + v + std::string(via_params) + "\r\n";
    }
    if (h.id == header_id::from || h.id == header_id::call_id || h.id == header_id::cseq)
      r += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
    if (h.id == header_id::to) r += "To: " + std::string(h.value) + ";tag=reg1\r\n";
  }
  return parsed(r + std::string(extra) + "Content-Length: 0\r\n\r\n");
}

dlg::registration_config config() {
  return {.registrar = "sip:example.com", .aor = "<sip:alice@example.com>", .contact = "sip:alice@192.0.2.1:5060",
          .via = "SIP/2.0/UDP 192.0.2.1:5060;rport", .expires = 600, .credentials = {{"", "alice", "secret"}}};
}

}  // namespace

TEST_CASE("§10.2: register, refresh at the granted expiry minus the margin with the same Call-ID and CSeq + 1, unregister") {
  dlg::registration reg(config(), next_random);
  std::string out;
  reg.start(0ms, "z9hG4bKr1", out);
  CHECK(reg.state() == dlg::registration_state::registering);
  const auto first = parsed(out);
  CHECK(first->method() == "REGISTER");
  CHECK(first->request_uri_text() == "sip:example.com");
  CHECK(first->find(sip::header_id::expires)->value == "600");
  CHECK(first->find(sip::header_id::contact)->value == "<sip:alice@192.0.2.1:5060>");
  CHECK(first->cseq()->number == 1);

  // The registrar grants 300 s on our Contact (the Contact's expires wins over Expires).
  CHECK(reg.on_response(reply(first, 200, "Contact: <sip:alice@192.0.2.1:5060>;expires=300\r\nExpires: 900\r\n").view(),
                        1000ms, "z9hG4bKx", out) == action::none);
  CHECK(reg.state() == dlg::registration_state::registered);
  CHECK(reg.granted_expires() == 300);
  REQUIRE(reg.next_deadline());
  CHECK(*reg.next_deadline() == 1000ms + 295s);
  CHECK(reg.on_timer(1000ms + 294s, "z9hG4bKr2", out) == action::none);
  REQUIRE(reg.on_timer(1000ms + 295s, "z9hG4bKr2", out) == action::send);
  const auto refresh = parsed(out);
  CHECK(refresh->call_id() == first->call_id());
  CHECK(refresh->from()->tag == first->from()->tag);
  CHECK(refresh->cseq()->number == 2);
  CHECK(refresh->top_via()->branch == "z9hG4bKr2");

  // A short grant: refresh at half of it.
  CHECK(reg.on_response(reply(refresh, 200, "Expires: 8\r\n").view(), 300s, "z9hG4bKx", out) == action::none);
  CHECK(*reg.next_deadline() == 304s);

  reg.stop("z9hG4bKr3", out);
  const auto bye = parsed(out);
  CHECK(bye->find(sip::header_id::expires)->value == "0");
  CHECK(bye->cseq()->number == 3);
  CHECK(reg.state() == dlg::registration_state::unregistering);
  CHECK(reg.on_response(reply(bye, 200, "").view(), 301s, "z9hG4bKx", out) == action::none);
  CHECK(reg.state() == dlg::registration_state::unregistered);
  CHECK_FALSE(reg.next_deadline());
}

TEST_CASE("§22.2: a 401 is answered with credentials and CSeq + 1; refused again, the registration fails") {
  dlg::registration reg(config(), next_random);
  std::string out;
  reg.start(0ms, "z9hG4bKa1", out);
  const auto first = parsed(out);
  const std::string challenge = "WWW-Authenticate: " + sip::challenge_value("example.com", "abc", sip::digest_algorithm::sha256) + "\r\n";
  REQUIRE(reg.on_response(reply(first, 401, challenge).view(), 10ms, "z9hG4bKa2", out) == action::send);
  const auto second = parsed(out);
  CHECK(second->cseq()->number == 2);
  CHECK(second->top_via()->branch == "z9hG4bKa2");
  const auto* authz = second->find(sip::header_id::authorization);
  REQUIRE(authz != nullptr);
  CHECK_FALSE(sip::verify(authz->value, "REGISTER", "secret", "example.com", "abc"));
  // The same credentials refused: no loop.
  CHECK(reg.on_response(reply(second, 401, challenge).view(), 20ms, "z9hG4bKa3", out) == action::none);
  CHECK(reg.state() == dlg::registration_state::failed);
  CHECK(reg.last_status() == 401);

  // Accepted instead: the next REGISTER (a refresh) takes CSeq 3.
  dlg::registration ok(config(), next_random);
  ok.start(0ms, "z9hG4bKb1", out);
  const auto r1 = parsed(out);
  REQUIRE(ok.on_response(reply(r1, 401, challenge).view(), 10ms, "z9hG4bKb2", out) == action::send);
  const auto r2 = parsed(out);
  CHECK(ok.on_response(reply(r2, 200, "Expires: 600\r\n").view(), 20ms, "z9hG4bKx", out) == action::none);
  CHECK(ok.state() == dlg::registration_state::registered);
  REQUIRE(ok.on_timer(20ms + 595s, "z9hG4bKb3", out) == action::send);
  CHECK(parsed(out)->cseq()->number == 3);
}

TEST_CASE("§10.2.8: 423 Interval Too Brief is retried with Min-Expires; a second 423 with nothing new fails") {
  dlg::registration reg(config(), next_random);
  std::string out;
  reg.start(0ms, "z9hG4bKm1", out);
  const auto first = parsed(out);
  REQUIRE(reg.on_response(reply(first, 423, "Min-Expires: 1800\r\n").view(), 5ms, "z9hG4bKm2", out) == action::send);
  const auto second = parsed(out);
  CHECK(second->find(sip::header_id::expires)->value == "1800");
  CHECK(reg.on_response(reply(second, 423, "Min-Expires: 1800\r\n").view(), 6ms, "z9hG4bKm3", out) == action::none);
  CHECK(reg.state() == dlg::registration_state::failed);
}

TEST_CASE("RFC 3581 contact rewrite: the registrar saw us at received/rport: the new Contact is registered, the old removed") {
  dlg::registration reg(config(), next_random);
  std::string out;
  reg.start(0ms, "z9hG4bKn1", out);
  const auto first = parsed(out);
  REQUIRE(reg.on_response(reply(first, 200, "Contact: <sip:alice@192.0.2.1:5060>;expires=600\r\n",
                                ";received=203.0.113.7;rport=40123").view(),
                          10ms, "z9hG4bKn2", out) == action::send);
  const auto second = parsed(out);
  CHECK(second->find(sip::header_id::contact)->value ==
        "<sip:alice@203.0.113.7:40123>, <sip:alice@192.0.2.1:5060>;expires=0");
  CHECK(reg.contact() == "sip:alice@203.0.113.7:40123");
  CHECK(reg.state() != dlg::registration_state::registered);
  // The registrar now sees the Contact it sees us at: registered, nothing more to rewrite.
  CHECK(reg.on_response(reply(second, 200, "Contact: <sip:alice@203.0.113.7:40123>;expires=600\r\n",
                              ";received=203.0.113.7;rport=40123").view(),
                        20ms, "z9hG4bKn3", out) == action::none);
  CHECK(reg.state() == dlg::registration_state::registered);
  CHECK(reg.granted_expires() == 600);
}

TEST_CASE("a REGISTER whose transaction times out fails with 408; an error response fails with its status") {
  dlg::registration reg(config(), next_random);
  std::string out;
  reg.start(0ms, "z9hG4bKt1", out);
  reg.on_failure(0ms);
  CHECK(reg.state() == dlg::registration_state::failed);
  CHECK(reg.last_status() == 408);
  reg.start(0ms, "z9hG4bKt2", out);
  CHECK(reg.on_response(reply(parsed(out), 403, "").view(), 1ms, "z9hG4bKt3", out) == action::none);
  CHECK(reg.state() == dlg::registration_state::failed);
  CHECK(reg.last_status() == 403);
}

TEST_CASE("a registration that failed in a way that may pass is retried, backing off: 60 s, 120 s ...; a success resets it") {
  dlg::registration reg(config(), next_random);
  std::string out;
  reg.start(0ms, "z9hG4bKr1", out);
  reg.on_failure(1s);  // no answer: 408
  CHECK(reg.state() == dlg::registration_state::failed);
  REQUIRE(reg.next_deadline());
  CHECK(*reg.next_deadline() == 61s);
  CHECK(reg.on_timer(60s, "z9hG4bKr2", out) == action::none);
  REQUIRE(reg.on_timer(61s, "z9hG4bKr2", out) == action::send);
  CHECK(reg.state() == dlg::registration_state::registering);
  const auto retry = parsed(out);
  CHECK(retry->cseq()->number == 2);  // the same Call-ID, the next CSeq (§10.2.4)
  // A restarting registrar: 503, then (the next wait doubled) it answers.
  CHECK(reg.on_response(reply(retry, 503, "").view(), 62s, "z9hG4bKr3", out) == action::none);
  REQUIRE(reg.next_deadline());
  CHECK(*reg.next_deadline() == 62s + 120s);
  REQUIRE(reg.on_timer(182s, "z9hG4bKr4", out) == action::send);
  const auto third = parsed(out);
  CHECK(reg.on_response(reply(third, 200, "Contact: <sip:alice@192.0.2.1:5060>;expires=600\r\n").view(), 183s, "z9hG4bKr5", out) ==
        action::none);
  CHECK(reg.state() == dlg::registration_state::registered);
  CHECK(*reg.next_deadline() == 183s + 595s);  // a refresh again, no back-off left
}

TEST_CASE("a registration rejected for good (403, credentials refused) or an unregistration that fails is not retried") {
  dlg::registration reg(config(), next_random);
  std::string out;
  reg.start(0ms, "z9hG4bKf1", out);
  CHECK(reg.on_response(reply(parsed(out), 403, "").view(), 1s, "z9hG4bKf2", out) == action::none);
  CHECK(reg.state() == dlg::registration_state::failed);
  CHECK_FALSE(reg.next_deadline());
  reg.start(2s, "z9hG4bKf3", out);
  CHECK(reg.on_response(reply(parsed(out), 200, "Contact: <sip:alice@192.0.2.1:5060>;expires=600\r\n").view(), 3s, "z9hG4bKf4", out) ==
        action::none);
  reg.stop("z9hG4bKf5", out);
  reg.on_failure(4s, 503);
  CHECK(reg.state() == dlg::registration_state::failed);
  CHECK_FALSE(reg.next_deadline());
  dlg::registration_config no_retry = config();
  no_retry.retry_interval = 0ms;
  dlg::registration once(no_retry, next_random);
  once.start(0ms, "z9hG4bKf6", out);
  once.on_failure(1s);
  CHECK_FALSE(once.next_deadline());
}
