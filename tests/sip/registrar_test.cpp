// The registrar and its location service (RFC 3261 §10.3; RFC 5626 §6;
// RFC 7118 §5), driven with REGISTER requests as clients send them.
#include <sigwire/sip/dialog/registrar.hpp>
#include <sigwire/sip/builder.hpp>
#include <sigwire/sip/dialog/registration.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace sip = sigwire::sip;
namespace dlg = sigwire::sip::dialog;
namespace tsx = sigwire::sip::transaction;
using namespace std::chrono_literals;

namespace {

sip::message parsed(std::string text) {
  sip::message m;
  REQUIRE_FALSE(sip::message::parse(std::move(text), m));
  return m;
}

// A REGISTER for `to` with `contacts` (each a whole Contact value), `extra`
// header lines, and the Call-ID and CSeq given.
sip::message register_request(std::string_view to, std::vector<std::string> contacts, std::string_view extra = {},
                              std::string_view call_id = "reg-1@client", std::uint32_t cseq = 1) {
  std::string r = "REGISTER sip:example.com SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP 192.0.2.5:5060;branch=z9hG4bK" + std::to_string(cseq) + std::string(call_id.substr(0, 3)) + "\r\n"
                  "Max-Forwards: 70\r\n"
                  "From: <" + std::string(to) + ">;tag=f1\r\n"
                  "To: <" + std::string(to) + ">\r\n"
                  "Call-ID: " + std::string(call_id) + "\r\n"
                  "CSeq: " + std::to_string(cseq) + " REGISTER\r\n";
  for (const auto& c : contacts) r += "Contact: " + c + "\r\n";
  r += std::string(extra);
  r += "Content-Length: 0\r\n\r\n";
  return parsed(std::move(r));
}

std::vector<std::string> values(const dlg::register_reply& r, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : r.headers)
    if (n == name) out.push_back(v);
  return out;
}

const tsx::peer udp_flow{11, false}, ws_flow{12, true}, other_flow{13, true};

}  // namespace

TEST_CASE("rfc3261 §10.3 step 5: the address-of-record is the To URI without parameters, user unescaped, host lower case") {
  CHECK(dlg::canonical_aor("sip:%61lice@EXAMPLE.com;transport=tcp?subject=x") == "sip:alice@example.com");
  CHECK(dlg::canonical_aor("sips:bob@example.com:5061") == "sips:bob@example.com:5061");
  CHECK(dlg::canonical_aor("tel:+1-201-555-0123").empty());
  CHECK(dlg::canonical_aor("not a uri").empty());
}

TEST_CASE("rfc3261 §10.3: a REGISTER adds a binding; the 200 lists it with its expiry; a lookup by any form of the AOR finds it") {
  dlg::registrar reg;
  const auto r = reg.handle_register(register_request("sip:alice@example.com", {"<sip:alice@192.0.2.5:5060>"}, "Expires: 1800\r\n").view(),
                                     udp_flow, tsx::instant{0s});
  CHECK(r.status == 200);
  CHECK(r.aor == "sip:alice@example.com");
  CHECK(values(r, "Contact") == std::vector<std::string>{"<sip:alice@192.0.2.5:5060>;expires=1800"});
  CHECK(values(r, "Require").empty());
  const auto found = reg.lookup("sip:Alice@EXAMPLE.COM;user=phone", tsx::instant{10s});
  CHECK(found.empty());  // the user part is case-sensitive (§19.1.4)
  const auto again = reg.lookup("<sip:alice@EXAMPLE.COM>", tsx::instant{10s});
  CHECK(again.empty());  // a name-addr is not a URI
  const auto hits = reg.lookup("sip:alice@EXAMPLE.COM;transport=udp", tsx::instant{10s});
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]->contact == "sip:alice@192.0.2.5:5060");
  CHECK(hits[0]->flow == udp_flow);
  CHECK_FALSE(hits[0]->flow_only);
  CHECK(reg.lookup("sip:alice@example.com", tsx::instant{1800s}).empty());  // expired
}

TEST_CASE("rfc3261 §10.3 step 7: the expiry comes from the Contact, else Expires, else the default; too long is shortened") {
  dlg::registrar reg({.default_expires = 3600, .min_expires = 60, .max_expires = 7200});
  const auto r = reg.handle_register(register_request("sip:alice@example.com",
                                                      {"<sip:a@192.0.2.5>;expires=120", "<sip:b@192.0.2.5>"},
                                                      "Expires: 600\r\n")
                                         .view(),
                                     udp_flow, tsx::instant{0s});
  CHECK(r.status == 200);
  CHECK(values(r, "Contact") == std::vector<std::string>{"<sip:a@192.0.2.5>;expires=120", "<sip:b@192.0.2.5>;expires=600"});
  // Beyond 2^32-1 (§20.19) and beyond our maximum: the maximum.
  const auto c = reg.handle_register(register_request("sip:carol@example.com", {"<sip:c@192.0.2.7>"}, "Expires: 99999999999999\r\n").view(),
                                     udp_flow, tsx::instant{0s});
  CHECK(values(c, "Contact") == std::vector<std::string>{"<sip:c@192.0.2.7>;expires=7200"});
  // §10.2.1.1: a malformed Expires counts as 3600 (the default).
  const auto m = reg.handle_register(register_request("sip:dave@example.com", {"<sip:d@192.0.2.8>"}, "Expires: soon\r\n").view(),
                                     udp_flow, tsx::instant{0s});
  CHECK(values(m, "Contact") == std::vector<std::string>{"<sip:d@192.0.2.8>;expires=3600"});
  const auto d = reg.handle_register(register_request("sip:bob@example.com", {"<sip:b@192.0.2.6>"}).view(), udp_flow, tsx::instant{0s});
  CHECK(values(d, "Contact") == std::vector<std::string>{"<sip:b@192.0.2.6>;expires=3600"});
}

TEST_CASE("rfc3261 §10.3 step 7: an expiry below the minimum is refused with 423 and Min-Expires; nothing changes") {
  dlg::registrar reg({.min_expires = 300});
  const auto r = reg.handle_register(register_request("sip:alice@example.com", {"<sip:a@192.0.2.5>;expires=3600", "<sip:b@192.0.2.5>;expires=30"}).view(),
                                     udp_flow, tsx::instant{0s});
  CHECK(r.status == 423);
  CHECK(values(r, "Min-Expires") == std::vector<std::string>{"300"});
  CHECK(reg.lookup("sip:alice@example.com", tsx::instant{0s}).empty());  // all or nothing
  CHECK(reg.size() == 0);
}

TEST_CASE("rfc3261 §10.3 steps 6-7: refresh, then remove by expires=0, and Contact: * with Expires: 0 removes all") {
  dlg::registrar reg;
  const auto aor = "sip:alice@example.com";
  REQUIRE(reg.handle_register(register_request(aor, {"<sip:a@192.0.2.5>", "<sip:b@192.0.2.5>"}, "Expires: 600\r\n", "c1", 1).view(), udp_flow, tsx::instant{0s}).status == 200);
  // A refresh of one binding, its URI written another way (§19.1.4: host case, default-less params).
  auto r = reg.handle_register(register_request(aor, {"<sip:a@192.0.2.5>;expires=900"}, {}, "c1", 2).view(), udp_flow, tsx::instant{100s});
  CHECK(r.status == 200);
  CHECK(values(r, "Contact") == std::vector<std::string>{"<sip:a@192.0.2.5>;expires=900", "<sip:b@192.0.2.5>;expires=500"});
  r = reg.handle_register(register_request(aor, {"<sip:b@192.0.2.5>;expires=0"}, {}, "c1", 3).view(), udp_flow, tsx::instant{100s});
  CHECK(values(r, "Contact") == std::vector<std::string>{"<sip:a@192.0.2.5>;expires=900"});
  // A query: no Contact, the bindings listed, nothing changed.
  r = reg.handle_register(register_request(aor, {}, {}, "c1", 4).view(), udp_flow, tsx::instant{200s});
  CHECK(values(r, "Contact") == std::vector<std::string>{"<sip:a@192.0.2.5>;expires=800"});
  // "*" needs Expires: 0 ...
  r = reg.handle_register(register_request(aor, {"*"}, "Expires: 10\r\n", "c1", 5).view(), udp_flow, tsx::instant{200s});
  CHECK(r.status == 400);
  r = reg.handle_register(register_request(aor, {"*"}, {}, "c1", 5).view(), udp_flow, tsx::instant{200s});
  CHECK(r.status == 400);
  // ... and removes everything.
  r = reg.handle_register(register_request(aor, {"*"}, "Expires: 0\r\n", "c1", 6).view(), udp_flow, tsx::instant{200s});
  CHECK(r.status == 200);
  CHECK(values(r, "Contact").empty());
  CHECK(reg.size() == 0);
  CHECK(reg.aors() == 0);
}

TEST_CASE("rfc3261 §10.3 step 7: the same Call-ID with a CSeq not higher than the binding's is refused; another Call-ID updates") {
  dlg::registrar reg;
  const auto aor = "sip:alice@example.com";
  REQUIRE(reg.handle_register(register_request(aor, {"<sip:a@192.0.2.5>"}, {}, "c1", 5).view(), udp_flow, tsx::instant{0s}).status == 200);
  auto r = reg.handle_register(register_request(aor, {"<sip:a@192.0.2.5>;expires=0"}, {}, "c1", 5).view(), udp_flow, tsx::instant{1s});
  CHECK(r.status == 500);  // a retransmitted or reordered REGISTER
  r = reg.handle_register(register_request(aor, {"*"}, "Expires: 0\r\n", "c1", 4).view(), udp_flow, tsx::instant{1s});
  CHECK(r.status == 500);
  REQUIRE(reg.lookup(aor, tsx::instant{1s}).size() == 1);
  r = reg.handle_register(register_request(aor, {"<sip:a@192.0.2.5>;expires=0"}, {}, "other", 1).view(), udp_flow, tsx::instant{1s});
  CHECK(r.status == 200);
  CHECK(reg.lookup(aor, tsx::instant{1s}).empty());
}

TEST_CASE("rfc3261 §10.3: the lookup is best first: highest q, then the latest registration") {
  dlg::registrar reg;
  const auto aor = "sip:alice@example.com";
  REQUIRE(reg.handle_register(register_request(aor, {"<sip:low@192.0.2.5>;q=0.5", "<sip:old@192.0.2.5>"}, {}, "c1", 1).view(), udp_flow, tsx::instant{0s}).status == 200);
  const auto r = reg.handle_register(register_request(aor, {"<sip:new@192.0.2.6>;q=1.0"}, {}, "c2", 1).view(), udp_flow, tsx::instant{5s});
  CHECK(values(r, "Contact") == std::vector<std::string>{"<sip:low@192.0.2.5>;expires=3595;q=0.500", "<sip:old@192.0.2.5>;expires=3595",
                                                         "<sip:new@192.0.2.6>;expires=3600"});
  const auto hits = reg.lookup(aor, tsx::instant{6s});
  REQUIRE(hits.size() == 3);
  CHECK(hits[0]->contact == "sip:new@192.0.2.6");
  CHECK(hits[1]->contact == "sip:old@192.0.2.5");
  CHECK(hits[2]->contact == "sip:low@192.0.2.5");
  CHECK(reg.best(aor, tsx::instant{6s}) == hits[0]);  // the first of the list, without building it
  CHECK(reg.best("sip:nobody@example.com", tsx::instant{6s}) == nullptr);
  CHECK(reg.best(aor, tsx::instant{4000s}) == nullptr);  // all expired
}

TEST_CASE("rfc7118 §5 / rfc5626 §6: a WebSocket or .invalid Contact is reached over its flow, which replaces it by instance and reg-id") {
  dlg::registrar reg;
  const auto aor = "sip:alice@example.com";
  const std::string instance = "\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\"";
  auto r = reg.handle_register(register_request(aor, {"<sip:x1@df7jal23ls0d.invalid;transport=ws;ob>;+sip.instance=" + instance + ";reg-id=1"},
                                                "Supported: path, outbound, gruu\r\n", "ws1", 1)
                                   .view(),
                               ws_flow, tsx::instant{0s});
  CHECK(r.status == 200);
  CHECK(values(r, "Require") == std::vector<std::string>{"outbound"});
  CHECK(values(r, "Contact") ==
        std::vector<std::string>{"<sip:x1@df7jal23ls0d.invalid;transport=ws;ob>;expires=3600;+sip.instance=" + instance + ";reg-id=1"});
  auto hits = reg.lookup(aor, tsx::instant{1s});
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]->flow == ws_flow);
  CHECK(hits[0]->flow_only);
  CHECK(hits[0]->outbound());
  // The same instance and reg-id after a reconnect: another Contact, another
  // Call-ID, another flow; it replaces the binding (RFC 5626 §6), it does not add one.
  r = reg.handle_register(register_request(aor, {"<sip:x2@a8kq.invalid;transport=ws;ob>;+sip.instance=" + instance + ";reg-id=1"}, {}, "ws2", 1).view(),
                          other_flow, tsx::instant{2s});
  CHECK(r.status == 200);
  hits = reg.lookup(aor, tsx::instant{3s});
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]->contact == "sip:x2@a8kq.invalid;transport=ws;ob");
  CHECK(hits[0]->flow == other_flow);
  // A plain .invalid Contact (JsSIP, SIP.js) without outbound is flow-bound too.
  r = reg.handle_register(register_request("sip:bob@example.com", {"<sip:b@q1.invalid;transport=ws>"}, {}, "ws3", 1).view(), ws_flow, tsx::instant{3s});
  CHECK(values(r, "Require").empty());
  CHECK(reg.lookup("sip:bob@example.com", tsx::instant{3s}).at(0)->flow_only);
  // The flow closes: bob's binding on it goes; alice's, on the newer flow, stays.
  reg.flow_failed(ws_flow);
  CHECK(reg.lookup("sip:bob@example.com", tsx::instant{4s}).empty());
  CHECK(reg.lookup(aor, tsx::instant{4s}).size() == 1);
  reg.flow_failed(other_flow);
  CHECK(reg.size() == 0);
}

TEST_CASE("rfc3327 §5.3: the Path is kept with the bindings in order and repeated in the 200 when the client supports path") {
  dlg::registrar reg;
  const auto aor = "sip:alice@example.com";
  // Two proxies: the nearer one (P1) wrote its Path on top; the farther one in a header line of its own.
  auto r = reg.handle_register(register_request(aor, {"<sip:a1@ws7.invalid;transport=ws>"},
                                                "Path: <sip:p1.example.com;lr>\r\nPath: <sip:P2.example.com;lr;ob>\r\n"
                                                "Supported: path, outbound\r\n",
                                                "p1", 1)
                                   .view(),
                               udp_flow, tsx::instant{0s});
  REQUIRE(r.status == 200);
  CHECK(values(r, "Path") == std::vector<std::string>{"<sip:p1.example.com;lr>, <sip:P2.example.com;lr;ob>"});
  auto hits = reg.lookup(aor, tsx::instant{1s});
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]->path == std::vector<std::string>{"<sip:p1.example.com;lr>", "<sip:P2.example.com;lr;ob>"});
  CHECK_FALSE(hits[0]->flow_only);  // the proxies reach the WebSocket client, not the flow the REGISTER came on
  reg.flow_failed(udp_flow);
  CHECK(reg.lookup(aor, tsx::instant{1s}).size() == 1);
  // A client that does not list path: the Path is kept all the same, not repeated (Kamailio's "lazy" mode).
  r = reg.handle_register(register_request(aor, {"<sip:a1@ws7.invalid;transport=ws>"}, "Path: <sip:p3.example.com;lr>, <sip:p4.example.com;lr>\r\n", "p1", 2).view(),
                          udp_flow, tsx::instant{2s});
  REQUIRE(r.status == 200);
  CHECK(values(r, "Path").empty());
  CHECK(reg.lookup(aor, tsx::instant{3s}).at(0)->path == std::vector<std::string>{"<sip:p3.example.com;lr>", "<sip:p4.example.com;lr>"});
  // A refresh without Path (the client now reaches us directly): the binding has none, and is flow-bound again.
  r = reg.handle_register(register_request(aor, {"<sip:a1@ws7.invalid;transport=ws>"}, {}, "p1", 3).view(), ws_flow, tsx::instant{4s});
  REQUIRE(r.status == 200);
  hits = reg.lookup(aor, tsx::instant{5s});
  CHECK(hits.at(0)->path.empty());
  CHECK(hits.at(0)->flow_only);
}

TEST_CASE("rfc3327 §5.3: a Path that is not a list of bracketed SIP name-addrs gets 400 and changes nothing") {
  dlg::registrar reg;
  for (const std::string path : {"sip:p1.example.com;lr", "<tel:+12015550123>", "<sip:p1.example.com;lr", "<sip:p1;lr>,,<sip:p2;lr>",
                                  "<sip:p1;lr>, garbage", ""}) {
    CAPTURE(path);
    const auto r = reg.handle_register(register_request("sip:a@example.com", {"<sip:a@192.0.2.5>"}, "Path: " + path + "\r\n").view(),
                                       udp_flow, tsx::instant{0s});
    CHECK(r.status == 400);
    CHECK(r.reason == "Bad Path");
  }
  CHECK(reg.size() == 0);
}

TEST_CASE("rfc3261 §10.3: bad requests get precise errors and change nothing") {
  dlg::registrar reg;
  auto status = [&](sip::message m) { return reg.handle_register(m.view(), udp_flow, tsx::instant{0s}).status; };
  CHECK(status(register_request("sip:a@example.com", {"<sip:a@192.0.2.5>;expires=never"})) == 400);
  CHECK(status(register_request("sip:a@example.com", {"<sip:a@192.0.2.5>;+sip.instance=\"<urn:x>\";reg-id=0"})) == 400);
  CHECK(status(register_request("tel:+12015550123", {"<sip:a@192.0.2.5>"})) == 404);
  CHECK(reg.size() == 0);
}

TEST_CASE("a registrar's memory is bounded: bindings per AOR and in all, expired ones swept when the table is full") {
  dlg::registrar reg({.max_bindings_per_aor = 2, .max_bindings = 3});
  auto reg_one = [&](std::string aor, std::string contact, std::uint32_t expires, tsx::instant at) {
    return reg.handle_register(register_request(aor, {"<" + contact + ">;expires=" + std::to_string(expires)}, {}, contact, 1).view(), udp_flow, at).status;
  };
  CHECK(reg_one("sip:a@x", "sip:1@192.0.2.1", 60, tsx::instant{0s}) == 200);
  CHECK(reg_one("sip:a@x", "sip:2@192.0.2.1", 60, tsx::instant{0s}) == 200);
  CHECK(reg_one("sip:a@x", "sip:3@192.0.2.1", 60, tsx::instant{0s}) == 503);  // per AOR
  CHECK(reg_one("sip:b@x", "sip:4@192.0.2.1", 3600, tsx::instant{0s}) == 200);
  CHECK(reg_one("sip:c@x", "sip:5@192.0.2.1", 3600, tsx::instant{0s}) == 503);  // in all
  CHECK(reg.size() == 3);
  // a's two expire; the next REGISTER finds the table full, sweeps, and fits.
  CHECK(reg_one("sip:c@x", "sip:5@192.0.2.1", 3600, tsx::instant{61s}) == 200);
  CHECK(reg.size() == 2);
  CHECK(reg.aors() == 2);
}

TEST_CASE("a registrar gives expired bindings back: a REGISTER a sweep interval after the last sweeps first") {
  dlg::registrar reg({.min_expires = 60, .sweep_interval = 300s});
  for (int i = 0; i < 50; ++i)
    REQUIRE(reg.handle_register(register_request("sip:u" + std::to_string(i) + "@x", {"<sip:d@192.0.2.1>;expires=60"}).view(), udp_flow,
                                tsx::instant{1s})
                .status == 200);
  CHECK(reg.size() == 50);
  // 100 s on: expired, but no sweep is due; the lookups skip them.
  REQUIRE(reg.handle_register(register_request("sip:late@x", {"<sip:d@192.0.2.1>"}).view(), udp_flow, tsx::instant{100s}).status == 200);
  CHECK(reg.size() == 51);
  CHECK(reg.lookup("sip:u7@x", tsx::instant{100s}).empty());
  // 300 s after the last sweep (none yet: since the start of its clock), this one sweeps first.
  REQUIRE(reg.handle_register(register_request("sip:later@x", {"<sip:d@192.0.2.1>"}).view(), udp_flow, tsx::instant{302s}).status == 200);
  CHECK(reg.size() == 2);
  CHECK(reg.aors() == 2);
}

TEST_CASE("our REGISTER client against our registrar: register, refresh, unregister") {
  std::uint64_t seed = 7;
  dlg::registration client({.registrar = "sip:example.com", .aor = "<sip:alice@example.com>", .contact = "sip:alice@192.0.2.1:5060",
                            .via = "SIP/2.0/UDP 192.0.2.1:5060;rport", .expires = 300},
                           [&] { return seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; });
  dlg::registrar reg({.min_expires = 60});
  std::string out;
  client.start(tsx::instant{0s}, "z9hG4bKr1", out);
  const sip::message first = parsed(out);
  auto r = reg.handle_register(first.view(), udp_flow, tsx::instant{0s});
  REQUIRE(r.status == 200);
  CHECK(values(r, "Contact") == std::vector<std::string>{"<sip:alice@192.0.2.1:5060>;expires=300"});
  CHECK(reg.lookup("sip:alice@example.com", tsx::instant{299s}).size() == 1);
  out.clear();
  client.stop("z9hG4bKr2", out);
  const sip::message removal = parsed(out);
  r = reg.handle_register(removal.view(), udp_flow, tsx::instant{10s});
  CHECK(r.status == 200);
  CHECK(reg.lookup("sip:alice@example.com", tsx::instant{11s}).empty());
}

// --- authentication (RFC 3261 §10.3 steps 3-4, §22; RFC 8760) ---------------------------------
namespace {

dlg::registrar_config with_users() {
  dlg::registrar_config c;
  c.realm = "example.com";
  c.password_for = [](std::string_view user) -> std::optional<std::string> {
    if (user == "alice") return "secret";
    if (user == "bob") return "hunter2";
    return std::nullopt;
  };
  return c;
}

// The REGISTER again, CSeq + 1, with an Authorization answering `challenge` (a WWW-Authenticate value).
sip::message with_credentials(std::string_view aor, std::string_view challenge, std::string_view user, std::string_view password,
                              std::uint32_t cseq, std::string_view contact = "<sip:a@192.0.2.5>", std::uint32_t nonce_count = 1) {
  const auto c = sip::parse_challenge(challenge);
  REQUIRE(c);
  const sip::digest_client_input in{user, password, "REGISTER", "sip:example.com", "0a4f113b", nonce_count};
  return register_request(aor, {std::string(contact)}, "Authorization: " + sip::authorization_value(*c, in) + "\r\n", "auth-1", cseq);
}

// The `which`-th challenge (0: SHA-256, 1: MD5) of the 401 that `reg` answers
// an unauthenticated REGISTER for `aor` with.
std::string challenge_for(dlg::registrar& reg, std::string_view aor, tsx::instant at, std::size_t which = 0) {
  const auto r = reg.handle_register(register_request(aor, {"<sip:a@192.0.2.5>"}).view(), udp_flow, at);
  REQUIRE(r.status == 401);
  return values(r, "WWW-Authenticate").at(which);
}

}  // namespace

TEST_CASE("rfc3261 §22 / rfc8760: a registrar with a realm challenges (SHA-256 first, then MD5) and accepts either answer") {
  dlg::registrar reg(with_users());
  auto r = reg.handle_register(register_request("sip:alice@example.com", {"<sip:a@192.0.2.5>"}, {}, "auth-1", 1).view(), udp_flow, tsx::instant{0s});
  CHECK(r.status == 401);
  const auto challenges = values(r, "WWW-Authenticate");
  REQUIRE(challenges.size() == 2);
  CHECK(challenges[0].find("algorithm=SHA-256") != std::string::npos);
  CHECK(challenges[1].find("algorithm=MD5") != std::string::npos);
  CHECK(challenges[0].find("realm=\"example.com\"") != std::string::npos);
  CHECK(reg.size() == 0);
  for (std::uint32_t i = 0; i < 2; ++i) {  // one nonce for both: its count grows (RFC 7616 §3.4)
    r = reg.handle_register(
        with_credentials("sip:alice@example.com", challenges[i], "alice", "secret", 2 + i, "<sip:a@192.0.2.5>", 1 + i).view(),
        udp_flow, tsx::instant{1s});
    CHECK(r.status == 200);
  }
  CHECK(reg.lookup("sip:alice@example.com", tsx::instant{2s}).size() == 1);
}

TEST_CASE("rfc3261 §22: a wrong password or an unknown user is challenged again; another user's AOR is 403; a stale nonce says so") {
  dlg::registrar reg(with_users());
  const std::string challenge = challenge_for(reg, "sip:alice@example.com", tsx::instant{0s});
  auto r = reg.handle_register(with_credentials("sip:alice@example.com", challenge, "alice", "wrong", 2).view(), udp_flow, tsx::instant{1s});
  CHECK(r.status == 401);
  CHECK(values(r, "WWW-Authenticate").at(0).find("stale") == std::string::npos);
  r = reg.handle_register(with_credentials("sip:alice@example.com", challenge, "mallory", "secret", 3).view(), udp_flow, tsx::instant{1s});
  CHECK(r.status == 401);
  // §10.3 step 4: bob knows his password, but alice's bindings are not his to change.
  r = reg.handle_register(with_credentials("sip:alice@example.com", challenge, "bob", "hunter2", 4).view(), udp_flow, tsx::instant{1s});
  CHECK(r.status == 403);
  // A nonce we did not make, or one tampered with.
  std::string forged = challenge;
  forged.replace(forged.find("nonce=\"") + 7, 1, "f");
  r = reg.handle_register(with_credentials("sip:alice@example.com", forged, "alice", "secret", 5).view(), udp_flow, tsx::instant{1s});
  CHECK(r.status == 401);
  // RFC 2617 §3.2.1: past its lifetime the nonce is stale; the right password is re-challenged with stale=true.
  r = reg.handle_register(with_credentials("sip:alice@example.com", challenge, "alice", "secret", 6).view(), udp_flow, tsx::instant{301s});
  CHECK(r.status == 401);
  CHECK(values(r, "WWW-Authenticate").at(0).find("stale=true") != std::string::npos);
  CHECK(reg.size() == 0);
  r = reg.handle_register(with_credentials("sip:alice@example.com", values(r, "WWW-Authenticate").at(0), "alice", "secret", 7).view(), udp_flow,
                          tsx::instant{302s});
  CHECK(r.status == 200);
}

TEST_CASE("rfc5626 §4.2: our REGISTER client's outbound registration (instance, reg-id, Supported: outbound) binds its flow") {
  std::uint64_t seed = 11;
  dlg::registration client({.registrar = "sip:example.com", .aor = "<sip:carol@example.com>", .contact = "sip:carol@192.0.2.3:5060;transport=tcp",
                            .via = "SIP/2.0/TCP 192.0.2.3:5060", .expires = 300,
                            .instance = "<urn:uuid:00000000-0000-1000-8000-000a95a0e128>", .reg_id = 1},
                           [&] { return seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; });
  std::string out;
  client.start(tsx::instant{0s}, "z9hG4bKo1", out);
  const sip::message sent = parsed(out);
  CHECK(sent.view().find(sip::header_id::contact)->value ==
        "<sip:carol@192.0.2.3:5060;transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\";reg-id=1");
  CHECK(sent.view().find(sip::header_id::supported)->value == "path, outbound");
  dlg::registrar reg;
  const auto r = reg.handle_register(sent.view(), ws_flow, tsx::instant{0s});
  CHECK(r.status == 200);
  CHECK(values(r, "Require") == std::vector<std::string>{"outbound"});
  const auto hits = reg.lookup("sip:carol@example.com", tsx::instant{1s});
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]->outbound());
  CHECK(hits[0]->flow_only);
  CHECK(hits[0]->flow == ws_flow);
}

namespace {
// The 200 `reply` describes, to `request` (as session_layer::respond would send it).
sip::message response_to(const sip::message& request, const dlg::register_reply& reply) {
  std::string text(2048, '\0');
  sip::builder b(text);
  REQUIRE_FALSE(sip::response_from_request(b, request.view(), reply.status, "OK", "r1"));
  for (const auto& [name, value] : reply.headers) b.header(name, value);
  const auto done = b.finish();
  REQUIRE(done);
  text.resize(done.value.size());
  return parsed(std::move(text));
}
}  // namespace

TEST_CASE("rfc5626 §4.4.1: a Flow-Timer in the 200 to an outbound registration; our client reads it and that outbound was confirmed") {
  std::uint64_t seed = 5;
  const auto random = [&] { return seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; };
  dlg::registrar reg({.flow_timer = 25});
  for (const bool outbound : {true, false}) {
    CAPTURE(outbound);
    dlg::registration_config cfg{.registrar = "sip:example.com", .aor = "<sip:dave@example.com>", .contact = "sip:dave@192.0.2.4:5060",
                                 .via = "SIP/2.0/UDP 192.0.2.4:5060;rport", .expires = 300, .rewrite_contact = false};
    if (outbound) cfg.instance = "<urn:uuid:00000000-0000-1000-8000-000a95a0e129>", cfg.reg_id = 1;
    dlg::registration client(cfg, random);
    std::string out;
    client.start(tsx::instant{0s}, outbound ? "z9hG4bKf1" : "z9hG4bKf2", out);
    const sip::message sent = parsed(out);
    const auto r = reg.handle_register(sent.view(), udp_flow, tsx::instant{0s});
    REQUIRE(r.status == 200);
    CHECK(values(r, "Flow-Timer") == (outbound ? std::vector<std::string>{"25"} : std::vector<std::string>{}));
    out.clear();
    CHECK(client.on_response(response_to(sent, r).view(), tsx::instant{0s}, "z9hG4bKf3", out) == dlg::registration::action::none);
    CHECK(client.state() == dlg::registration_state::registered);
    CHECK(client.outbound_confirmed() == outbound);
    CHECK(client.flow_timer() == (outbound ? 25u : 0u));
  }
}

TEST_CASE("our REGISTER client answers our registrar's challenge (SHA-256, the one it prefers)") {
  std::uint64_t seed = 9;
  dlg::registration client({.registrar = "sip:example.com", .aor = "<sip:bob@example.com>", .contact = "sip:bob@192.0.2.2:5060",
                            .via = "SIP/2.0/UDP 192.0.2.2:5060;rport", .expires = 300,
                            .credentials = {{.realm = "example.com", .username = "bob", .password = "hunter2"}}},
                           [&] { return seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; });
  dlg::registrar reg(with_users());
  std::string out;
  client.start(tsx::instant{0s}, "z9hG4bKa1", out);
  const sip::message first = parsed(out);
  const auto challenge = reg.handle_register(first.view(), udp_flow, tsx::instant{0s});
  REQUIRE(challenge.status == 401);
  std::string response = "SIP/2.0 401 Unauthorized\r\n";
  for (const auto& h : first.view().headers())
    if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::to || h.id == sip::header_id::call_id ||
        h.id == sip::header_id::cseq)
      response += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
  for (const auto& [name, value] : challenge.headers) response += std::string(name) + ": " + value + "\r\n";
  out.clear();
  REQUIRE(client.on_response(parsed(response + "Content-Length: 0\r\n\r\n").view(), tsx::instant{0s}, "z9hG4bKa2", out) ==
          dlg::registration::action::send);
  const sip::message second = parsed(out);
  CHECK(second.view().find(sip::header_id::authorization)->value.find("algorithm=SHA-256") != std::string_view::npos);
  const auto ok = reg.handle_register(second.view(), udp_flow, tsx::instant{0s});
  CHECK(ok.status == 200);
  CHECK(reg.lookup("sip:bob@example.com", tsx::instant{1s}).size() == 1);
}

TEST_CASE("rfc7616 §3.4: a nonce count used before is a replay and is challenged again; a growing count is accepted") {
  dlg::registrar reg(with_users());
  const std::string challenge = challenge_for(reg, "sip:alice@example.com", tsx::instant{0s});
  CHECK(challenge.find("qop=\"auth\"") != std::string::npos);
  const sip::message registered = with_credentials("sip:alice@example.com", challenge, "alice", "secret", 2);
  CHECK(reg.handle_register(registered.view(), udp_flow, tsx::instant{1s}).status == 200);
  // The same message again (a captured copy): a new challenge, not stale, and nothing changes.
  CHECK(reg.handle_register(registered.view(), udp_flow, tsx::instant{2s}).status == 401);
  // A new request (CSeq 3, another Contact) reusing count 1 is a replay too.
  auto r = reg.handle_register(with_credentials("sip:alice@example.com", challenge, "alice", "secret", 3, "<sip:b@192.0.2.6>", 1).view(),
                               udp_flow, tsx::instant{2s});
  CHECK(r.status == 401);
  CHECK(values(r, "WWW-Authenticate").at(0).find("stale") == std::string::npos);
  CHECK(reg.lookup("sip:alice@example.com", tsx::instant{2s}).size() == 1);
  // Count 2, then 5 (counts may skip; they may not go back): accepted.
  CHECK(reg.handle_register(with_credentials("sip:alice@example.com", challenge, "alice", "secret", 4, "<sip:b@192.0.2.6>", 2).view(),
                            udp_flow, tsx::instant{3s}).status == 200);
  CHECK(reg.handle_register(with_credentials("sip:alice@example.com", challenge, "alice", "secret", 5, "<sip:b@192.0.2.6>", 5).view(),
                            udp_flow, tsx::instant{3s}).status == 200);
  CHECK(reg.handle_register(with_credentials("sip:alice@example.com", challenge, "alice", "secret", 6, "<sip:b@192.0.2.6>", 4).view(),
                            udp_flow, tsx::instant{3s}).status == 401);
  CHECK(reg.lookup("sip:alice@example.com", tsx::instant{3s}).size() == 2);
}

TEST_CASE("rfc2617 §3.2.2: credentials without qop (RFC 2069 form) use a nonce once") {
  dlg::registrar reg(with_users());
  std::string challenge = challenge_for(reg, "sip:alice@example.com", tsx::instant{0s}, 1);  // MD5
  const auto qop = challenge.find(", qop=\"auth\"");
  REQUIRE(qop != std::string::npos);
  challenge.erase(qop, std::string_view(", qop=\"auth\"").size());  // as an old client answers: no qop, nc or cnonce
  const sip::message once = with_credentials("sip:alice@example.com", challenge, "alice", "secret", 2);
  REQUIRE(once.bytes().find("nc=") == std::string_view::npos);
  CHECK(reg.handle_register(once.view(), udp_flow, tsx::instant{1s}).status == 200);
  CHECK(reg.handle_register(with_credentials("sip:alice@example.com", challenge, "alice", "secret", 3).view(), udp_flow,
                            tsx::instant{2s}).status == 401);
}

TEST_CASE("the nonces a registrar remembers are bounded: full, a new one gets 503 until the old ones age out") {
  auto cfg = with_users();
  cfg.max_tracked_nonces = 1;
  dlg::registrar reg(cfg);
  const auto ask = [&](std::string_view aor, tsx::instant at) { return challenge_for(reg, aor, at); };
  CHECK(reg.handle_register(with_credentials("sip:alice@example.com", ask("sip:alice@example.com", tsx::instant{0s}), "alice", "secret", 2).view(),
                            udp_flow, tsx::instant{0s}).status == 200);
  const auto full = reg.handle_register(
      with_credentials("sip:bob@example.com", ask("sip:bob@example.com", tsx::instant{1s}), "bob", "hunter2", 2).view(), udp_flow,
      tsx::instant{1s});
  CHECK(full.status == 503);
  CHECK(values(full, "Retry-After") == std::vector<std::string>{"300"});
  CHECK(reg.lookup("sip:bob@example.com", tsx::instant{1s}).empty());
  // Alice's nonce is past its lifetime at 301 s: its entry goes, Bob's new nonce takes its place.
  CHECK(reg.handle_register(with_credentials("sip:bob@example.com", ask("sip:bob@example.com", tsx::instant{301s}), "bob", "hunter2", 3).view(),
                            udp_flow, tsx::instant{301s}).status == 200);
}

TEST_CASE("rfc3261 §10.3 step 8 / §20.17: the 200 carries a Date in RFC 1123 form, in GMT") {
  using namespace std::chrono;
  CHECK(dlg::rfc1123_date(system_clock::time_point{}) == "Thu, 01 Jan 1970 00:00:00 GMT");
  const auto at = sys_days{2026y / December / 8} + 1h + 30min + 7s;
  CHECK(dlg::rfc1123_date(at) == "Tue, 08 Dec 2026 01:30:07 GMT");
  CHECK(dlg::rfc1123_date(sys_days{2000y / February / 29} + 23h + 59min + 59s + 999ms) == "Tue, 29 Feb 2000 23:59:59 GMT");

  dlg::registrar_config cfg;
  cfg.wall_clock = [at] { return at; };
  dlg::registrar reg(cfg);
  auto r = reg.handle_register(register_request("sip:alice@example.com", {"<sip:a@192.0.2.5>"}).view(), udp_flow, tsx::instant{0s});
  CHECK(r.status == 200);
  CHECK(values(r, "Date") == std::vector<std::string>{"Tue, 08 Dec 2026 01:30:07 GMT"});
  cfg.wall_clock = {};
  dlg::registrar without(cfg);
  r = without.handle_register(register_request("sip:alice@example.com", {"<sip:a@192.0.2.5>"}).view(), udp_flow, tsx::instant{0s});
  CHECK(r.status == 200);
  CHECK(values(r, "Date").empty());
}

TEST_CASE("rfc3261 §10.3 steps 1 and 5: with domains configured, another domain in the Request-URI or the To gets 404") {
  dlg::registrar_config cfg;
  cfg.domains = {"Example.COM", "example.org"};
  dlg::registrar reg(cfg);
  // register_request() sends to sip:example.com; the To decides the AOR.
  auto r = reg.handle_register(register_request("sip:alice@EXAMPLE.com", {"<sip:a@192.0.2.5>"}).view(), udp_flow, tsx::instant{0s});
  CHECK(r.status == 200);  // hosts compare without case
  r = reg.handle_register(register_request("sip:alice@example.org", {"<sip:a@192.0.2.5>"}, {}, "reg-2@client").view(), udp_flow,
                          tsx::instant{0s});
  CHECK(r.status == 404);  // step 5: example.org is served, but the request was sent to example.com's registrar
  CHECK(reg.lookup("sip:alice@example.org", tsx::instant{0s}).empty());

  std::string other = std::string(register_request("sip:alice@example.net", {"<sip:a@192.0.2.5>"}, {}, "reg-3@client").bytes());
  other.replace(other.find("REGISTER sip:example.com"), 24, "REGISTER sip:example.net");
  r = reg.handle_register(parsed(other).view(), udp_flow, tsx::instant{0s});
  CHECK(r.status == 404);  // step 1: not a domain of ours
  CHECK(r.reason == "Domain Not Served");
  CHECK(reg.size() == 1);

  dlg::registrar any;  // no domains: a registrar reached by address takes any AOR (as the interop tests use it)
  CHECK(any.handle_register(register_request("sip:alice@example.net", {"<sip:a@192.0.2.5>"}).view(), udp_flow, tsx::instant{0s}).status == 200);
}
