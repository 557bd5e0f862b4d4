#include <sigwire/ws/handshake.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace sigwire;

namespace {
std::string request(std::string_view extra = {}, std::string_view method = "GET", std::string_view version = "HTTP/1.1",
                    bool host = true, std::string_view upgrade = "websocket", std::string_view connection = "Upgrade",
                    std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==", std::string_view ws_version = "13") {
  std::string s = std::string(method) + " /chat " + std::string(version) + "\r\n";
  if (host) s += "Host: server.example.com\r\n";
  if (!upgrade.empty()) s += "Upgrade: " + std::string(upgrade) + "\r\n";
  if (!connection.empty()) s += "Connection: " + std::string(connection) + "\r\n";
  if (!key.empty()) s += "Sec-WebSocket-Key: " + std::string(key) + "\r\n";
  if (!ws_version.empty()) s += "Sec-WebSocket-Version: " + std::string(ws_version) + "\r\n";
  return s + std::string(extra) + "\r\n";
}

ws::accept_result accept(const std::string& text, const ws::server_options& opt = {}) {
  http::request_head req;
  const auto r = http::parse_request(text, req);
  REQUIRE(r.complete());
  return ws::server_accept(req, opt);
}

ws::client_result client_check(const ws::client_handshake& hs, const std::string& response) {
  http::response_head res;
  REQUIRE(http::parse_response(response, res).complete());
  return hs.validate(res);
}
}  // namespace

TEST_CASE("rfc6455_1_3_accept_key_example") {
  CHECK(ws::accept_key_string("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("rfc6455_4_2_2_server_accepts_the_rfc_request") {
  ws::server_options opt;
  opt.subprotocols = {"superchat", "chat"};
  const auto r = accept(request("Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"), opt);
  REQUIRE(r.ok());
  CHECK(r.status == 101);
  CHECK(r.subprotocol == "superchat");  // server preference
  http::response_head res;
  REQUIRE(http::parse_response(r.response, res).complete());
  CHECK(res.status == 101);
  CHECK(*res.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(*res.header("Sec-WebSocket-Protocol") == "superchat");
  CHECK(res.has_token("upgrade", "websocket"));
  CHECK(res.has_token("connection", "upgrade"));
  CHECK_FALSE(res.header("Sec-WebSocket-Extensions"));
}

TEST_CASE("rfc6455_4_2_1_every_must_has_a_precise_failure") {
  struct bad { std::string text; ws::error e; unsigned status; };
  const bad cases[] = {
      {request({}, "POST"), ws::error::bad_method, 400},
      {request({}, "GET", "HTTP/1.0"), ws::error::bad_http_version, 400},
      {request({}, "GET", "HTTP/1.1", false), ws::error::missing_host, 400},
      {request("Host: again\r\n"), ws::error::missing_host, 400},
      {request({}, "GET", "HTTP/1.1", true, ""), ws::error::missing_upgrade, 400},
      {request({}, "GET", "HTTP/1.1", true, "h2c"), ws::error::missing_upgrade, 400},
      {request({}, "GET", "HTTP/1.1", true, "websocket", ""), ws::error::missing_connection, 400},
      {request({}, "GET", "HTTP/1.1", true, "websocket", "keep-alive"), ws::error::missing_connection, 400},
      {request({}, "GET", "HTTP/1.1", true, "websocket", "Upgrade", ""), ws::error::bad_key, 400},
      {request({}, "GET", "HTTP/1.1", true, "websocket", "Upgrade", "c2hvcnQ="), ws::error::bad_key, 400},
      {request({}, "GET", "HTTP/1.1", true, "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ=!"), ws::error::bad_key, 400},
      {request({}, "GET", "HTTP/1.1", true, "websocket", "Upgrade", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), ws::error::bad_key, 400},
      {request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), ws::error::bad_key, 400},
      {request({}, "GET", "HTTP/1.1", true, "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ==", ""), ws::error::missing_version, 426},
      {request({}, "GET", "HTTP/1.1", true, "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ==", "8"), ws::error::bad_version, 426},
      {request({}, "GET", "HTTP/1.1", true, "websocket", "Upgrade", "dGhlIHNhbXBsZSBub25jZQ==", "13, 8"), ws::error::bad_version, 426},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto r = accept(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.ec == make_error_code(c.e));
    CHECK(r.status == c.status);
    http::response_head res;
    REQUIRE(http::parse_response(r.response, res).complete());
    CHECK(res.status == c.status);
    CHECK(r.response.find(std::string(ws::error_message(c.e))) != std::string::npos);
    if (c.status == 426) CHECK(*res.header("sec-websocket-version") == "13");
  }
}

TEST_CASE("rfc6455_4_2_1_tokens_are_case_insensitive_and_listed") {
  const auto r = accept(request({}, "GET", "HTTP/1.1", true, "WebSocket", "keep-alive, UPGRADE"));
  CHECK(r.ok());
}

TEST_CASE("rfc6455_4_2_2_origin_policy_hook") {
  ws::server_options opt;
  opt.origin_allowed = [](std::optional<std::string_view> o) { return o && *o == "https://good.example"; };
  CHECK(accept(request("Origin: https://good.example\r\n"), opt).ok());
  const auto bad = accept(request("Origin: https://evil.example\r\n"), opt);
  CHECK(bad.ec == make_error_code(ws::error::origin_rejected));
  CHECK(bad.status == 403);
  CHECK(accept(request(), opt).status == 403);  // no Origin, policy says no
}

TEST_CASE("rfc6455_4_2_2_subprotocol_policy") {
  ws::server_options opt;
  opt.subprotocols = {"sip"};
  CHECK(accept(request("Sec-WebSocket-Protocol: sip\r\n"), opt).subprotocol == "sip");
  CHECK(accept(request("Sec-WebSocket-Protocol: xmpp\r\nSec-WebSocket-Protocol: sip\r\n"), opt).subprotocol == "sip");
  CHECK(accept(request("Sec-WebSocket-Protocol: SIP\r\n"), opt).subprotocol.empty());  // case-sensitive
  CHECK(accept(request("Sec-WebSocket-Protocol: xmpp\r\n"), opt).ok());                 // none selected
  opt.require_subprotocol = true;
  const auto r = accept(request("Sec-WebSocket-Protocol: xmpp\r\n"), opt);
  CHECK(r.ec == make_error_code(ws::error::no_subprotocol));
  CHECK(r.status == 400);
}

TEST_CASE("rfc6455_4_1_client_request_and_response_validation") {
  ws::client_options opt;
  opt.host = "server.example.com";
  opt.target = "/socket.io/?transport=websocket";
  opt.origin = "http://example.com";
  opt.subprotocols = {"sip", "xmpp"};
  ws::client_handshake hs(opt);
  CHECK(ws::is_valid_key(hs.key()));
  ws::client_handshake other(opt);
  CHECK(other.key() != hs.key());  // fresh random nonce each time (§4.1)

  // The server side accepts what the client builds.
  http::request_head req;
  REQUIRE(http::parse_request(hs.request(), req).complete());
  CHECK(req.query == "transport=websocket");
  CHECK(*req.header("origin") == "http://example.com");
  ws::server_options sopt;
  sopt.subprotocols = {"sip"};
  const auto acc = ws::server_accept(req, sopt);
  REQUIRE(acc.ok());
  const auto ok = client_check(hs, acc.response);
  CHECK_FALSE(ok.ec);
  CHECK(ok.subprotocol == "sip");
  CHECK_FALSE(ok.deflate);

  const std::string accept = ws::accept_key_string(hs.key());
  auto res = [&](std::string status, std::string extra) {
    return "HTTP/1.1 " + status + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + extra + "\r\n";
  };
  CHECK(client_check(hs, res("200 OK", "Sec-WebSocket-Accept: " + accept + "\r\n")).ec == make_error_code(ws::error::bad_status));
  CHECK(client_check(hs, "HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n").ec ==
        make_error_code(ws::error::bad_response_upgrade));
  CHECK(client_check(hs, res("101 OK", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")).ec ==
        make_error_code(ws::error::bad_accept));
  CHECK(client_check(hs, res("101 OK", "")).ec == make_error_code(ws::error::bad_accept));
  CHECK(client_check(hs, res("101 OK", "Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Protocol: mqtt\r\n")).ec ==
        make_error_code(ws::error::unexpected_subprotocol));
  CHECK(client_check(hs, res("101 OK", "Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n")).ec ==
        make_error_code(ws::error::unexpected_extension));
  CHECK(client_check(hs, res("101 OK", "Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Extensions: x-foo\r\n")).ec ==
        make_error_code(ws::error::unexpected_extension));
  CHECK_FALSE(client_check(hs, res("101 OK", "Sec-WebSocket-Accept: " + accept + "\r\nSec-WebSocket-Protocol: xmpp\r\n")).ec);
}

TEST_CASE("rfc6455_4_1_client_request_shape") {
  ws::client_options opt;
  opt.host = "h:8080";
  opt.deflate.enabled = true;
  opt.extra_headers = {{"Authorization", "Bearer x"}};
  ws::client_handshake hs(opt, "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(hs.request() ==
        "GET / HTTP/1.1\r\nHost: h:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12\r\n"
        "Authorization: Bearer x\r\n\r\n");
}
