#include <sigwire/http/head.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace sigwire;

namespace {
const std::string rfc6455_request =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";
}

TEST_CASE("rfc6455_1_2_request_head_parses_into_views") {
  http::request_head req;
  const auto r = http::parse_request(rfc6455_request, req);
  REQUIRE(r.complete());
  CHECK(r.consumed == rfc6455_request.size());
  CHECK(req.method == "GET");
  CHECK(req.target == "/chat");
  CHECK(req.path == "/chat");
  CHECK(req.query.empty());
  CHECK(req.version_minor == 1);
  CHECK(req.headers.fields.size() == 7);
  CHECK(*req.header("HOST") == "server.example.com");
  CHECK(*req.header("sec-websocket-key") == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(req.has_token("connection", "upgrade"));
  CHECK(req.has_token("Sec-WebSocket-Protocol", "superchat"));
  CHECK_FALSE(req.has_token("Sec-WebSocket-Protocol", "super"));
  // Views point into the caller's buffer: no copies.
  CHECK(req.method.data() == rfc6455_request.data());
  CHECK(req.header("origin")->data() > rfc6455_request.data());
}

TEST_CASE("request_head_every_prefix_needs_more") {
  http::request_head req;
  for (std::size_t n = 0; n < rfc6455_request.size(); ++n) {
    const auto r = http::parse_request(std::string_view(rfc6455_request).substr(0, n), req);
    INFO("prefix " << n);
    REQUIRE(r.need_more());
  }
}

TEST_CASE("request_head_bytes_after_the_head_are_not_consumed") {
  const std::string data = rfc6455_request + "\x81\x05hello";
  http::request_head req;
  const auto r = http::parse_request(data, req);
  REQUIRE(r.complete());
  CHECK(r.consumed == rfc6455_request.size());
}

TEST_CASE("request_target_splits_path_and_query") {
  const std::string s = "GET /socket.io/?transport=websocket&sid=ab12 HTTP/1.1\r\nHost: x\r\n\r\n";
  http::request_head req;
  REQUIRE(http::parse_request(s, req).complete());
  CHECK(req.path == "/socket.io/");
  CHECK(req.query == "transport=websocket&sid=ab12");
  CHECK(*http::query_param(req.query, "transport") == "websocket");
  CHECK(*http::query_param(req.query, "sid") == "ab12");
  CHECK_FALSE(http::query_param(req.query, "x"));
  CHECK(http::query_param("a&b=1", "a")->empty());
}

TEST_CASE("repeated_headers_and_comma_lists") {
  const std::string s =
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nconnection:  ,Upgrade , \r\n"
      "X: \"a,b\", c\r\n\r\n";
  http::request_head req;
  REQUIRE(http::parse_request(s, req).complete());
  CHECK(req.headers.count("CONNECTION") == 2);
  CHECK(req.has_token("connection", "keep-alive"));
  CHECK(req.has_token("connection", "UPGRADE"));
  std::vector<std::string> items;
  req.headers.for_each_item("x", [&](std::string_view i) { items.emplace_back(i); return true; });
  REQUIRE(items.size() == 2);
  CHECK(items[0] == "\"a,b\"");
  CHECK(items[1] == "c");
  std::vector<std::string> values;
  req.headers.for_each("connection", [&](std::string_view v) { values.emplace_back(v); });
  CHECK(values == std::vector<std::string>{"keep-alive", ",Upgrade ,"});
}

TEST_CASE("request_head_errors_name_the_violation") {
  struct bad { const char* text; http::error e; };
  const bad cases[] = {
      {"GET  / HTTP/1.1\r\n\r\n", http::error::bad_request_line},
      {"GET / HTTP/1.1 x\r\n\r\n", http::error::bad_request_line},
      {"G(T / HTTP/1.1\r\n\r\n", http::error::bad_method},
      {"GET /\x01 HTTP/1.1\r\n\r\n", http::error::bad_target},
      {"GET / HTTP/2.0\r\n\r\n", http::error::bad_version},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", http::error::bad_header_name},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", http::error::bad_header_name},
      {"GET / HTTP/1.1\r\n: x\r\n\r\n", http::error::bad_header_name},
      {"GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n", http::error::bad_header_value},
      {"GET / HTTP/1.1\r\nA: x\r\n folded\r\n\r\n", http::error::obsolete_folding},
      {"GET / HTTP/1.1\nA: x\r\n\r\n", http::error::bad_line_ending},
      {"GET / HTTP/1.1\r\nA: x\ry\r\n\r\n", http::error::bad_line_ending},
  };
  for (const auto& c : cases) {
    http::request_head req;
    const auto r = http::parse_request(c.text, req);
    INFO(c.text);
    REQUIRE(r.failed());
    CHECK(r.ec == make_error_code(c.e));
  }
}

TEST_CASE("request_head_limits") {
  http::limits lim{.max_head_bytes = 64, .max_headers = 2};
  http::request_head req;
  std::string big = "GET / HTTP/1.1\r\nA: " + std::string(100, 'a');
  CHECK(http::parse_request(big, req, lim).ec == make_error_code(http::error::head_too_large));
  const std::string many = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  CHECK(http::parse_request(many, req, lim).ec == make_error_code(http::error::too_many_headers));
  lim.max_headers = 3;
  CHECK(http::parse_request(many, req, lim).complete());
}

TEST_CASE("response_head_parses_status_line") {
  const std::string s =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  http::response_head res;
  const auto r = http::parse_response(s, res);
  REQUIRE(r.complete());
  CHECK(res.status == 101);
  CHECK(res.reason == "Switching Protocols");
  CHECK(*res.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  http::response_head empty_reason;
  CHECK(http::parse_response("HTTP/1.1 200 \r\n\r\n", empty_reason).complete());
  CHECK(http::parse_response("HTTP/1.0 404\r\n\r\n", empty_reason).complete());
  CHECK(empty_reason.status == 404);
  CHECK(http::parse_response("HTTP/1.1 1x1 OK\r\n\r\n", res).ec == make_error_code(http::error::bad_status_code));
  CHECK(http::parse_response("HTTP/1.1  101 OK\r\n\r\n", res).ec == make_error_code(http::error::bad_status_line));
  CHECK(http::parse_response("HTTX/1.1 101 OK\r\n\r\n", res).ec == make_error_code(http::error::bad_version));
}

TEST_CASE("builder_round_trips") {
  std::string out;
  http::head_builder b(out);
  b.request_line("GET", "/a?b=c").header("Host", "h").header("Content-Length", std::size_t{5}).end();
  CHECK(out == "GET /a?b=c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
  http::request_head req;
  REQUIRE(http::parse_request(out, req).complete());
  CHECK(req.query == "b=c");
  std::string res;
  http::head_builder(res).status_line(426, http::reason_phrase(426));
  CHECK(res == "HTTP/1.1 426 Upgrade Required\r\n");
}

#include "../support/guarded_buffer.hpp"

TEST_CASE("parsers_never_read_past_the_input") {
  test::guarded_buffer g;
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  for (const std::string* text : {&rfc6455_request, &response}) {
    for (std::size_t n = 0; n <= text->size(); ++n) {
      const auto in = g.place(std::string_view(*text).substr(0, n));
      http::request_head req;
      http::response_head res;
      (void)http::parse_request(in, req);
      (void)http::parse_response(in, res);
    }
  }
  CHECK(true);  // reaching here means no access faulted
}
