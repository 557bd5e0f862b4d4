// sigwire/ws/handshake.hpp - the opening handshake (RFC 6455 §4), sans-IO.
//
// Client:
//   ws::client_handshake hs({.host = "example.com", .target = "/chat",
//                            .subprotocols = {"sip"}});
//   write(hs.request());
//   http::response_head res; parse_response(bytes, res);
//   auto r = hs.validate(res);        // r.ec, r.subprotocol, r.deflate
// Server:
//   http::request_head req; parse_request(bytes, req);
//   auto r = ws::server_accept(req, server_opts);
//   write(r.response);                // 101, or the precise 400/403/426
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/base64.hpp>
#include <sigwire/core/digest.hpp>
#include <sigwire/core/random.hpp>
#include <sigwire/http/head.hpp>
#include <sigwire/ws/deflate.hpp>
#include <sigwire/ws/error.hpp>

namespace sigwire::ws {

inline constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// Sec-WebSocket-Accept (§4.2.2 step 5.4): base64(SHA-1(key + GUID)), 28 chars.
inline std::array<char, 28> accept_key(std::string_view key) noexcept {
  std::array<char, 28> out{};
  char buf[128];
  if (key.size() + accept_guid.size() > sizeof buf) return out;
  key.copy(buf, key.size());
  accept_guid.copy(buf + key.size(), accept_guid.size());
  const auto digest = core::sha1(std::string_view(buf, key.size() + accept_guid.size()));
  core::base64::encode(std::as_bytes(std::span(digest)), out.data());
  return out;
}
inline std::string accept_key_string(std::string_view key) {
  const auto k = accept_key(key);
  return std::string(k.data(), k.size());
}

// A valid Sec-WebSocket-Key: base64 of exactly 16 bytes (§4.2.1 item 5).
inline bool is_valid_key(std::string_view key) noexcept {
  if (key.size() != 24) return false;
  std::byte out[18];
  const auto r = core::base64::decode(key, out);
  return r && r.size == 16;
}

// --- client --------------------------------------------------------------------
struct client_options {
  std::string host;                       // Host header (with :port if not default)
  std::string target = "/";               // path and query
  std::string origin;                     // empty: no Origin header
  std::vector<std::string> subprotocols;  // in preference order
  deflate_options deflate;                // .enabled = true to offer permessage-deflate
  std::vector<http::header> extra_headers;  // e.g. Authorization, Cookie
};

struct client_result {
  std::error_code ec;
  std::string subprotocol;                // empty when none was selected
  std::optional<deflate_params> deflate;  // set when permessage-deflate is on
};

class client_handshake {
 public:
  explicit client_handshake(client_options opt) : opt_(std::move(opt)) {
    const auto nonce = core::random_array<16>();
    key_ = core::base64::encode(std::span<const std::byte>(nonce));
    build();
  }
  // With a fixed key (tests, the RFC example).
  client_handshake(client_options opt, std::string key) : opt_(std::move(opt)), key_(std::move(key)) { build(); }

  const std::string& request() const noexcept { return request_; }
  const std::string& key() const noexcept { return key_; }
  const client_options& options() const noexcept { return opt_; }

  // §4.1: the client's checks of the server's response.
  client_result validate(const http::response_head& res) const {
    client_result r;
    auto fail = [&](error e) { r.ec = make_error_code(e); r.deflate.reset(); return r; };
    if (res.status != 101) return fail(error::bad_status);
    if (!res.has_token("upgrade", "websocket") || !res.has_token("connection", "upgrade"))
      return fail(error::bad_response_upgrade);
    const auto accept = res.header("sec-websocket-accept");
    const auto expected = accept_key(key_);
    if (!accept || res.headers.count("sec-websocket-accept") != 1 ||
        *accept != std::string_view(expected.data(), expected.size()))
      return fail(error::bad_accept);
    if (const auto proto = res.header("sec-websocket-protocol")) {
      bool offered = false;
      for (const auto& p : opt_.subprotocols) offered = offered || p == *proto;
      if (!offered || res.headers.count("sec-websocket-protocol") != 1) return fail(error::unexpected_subprotocol);
      r.subprotocol = std::string(*proto);
    }
    const auto v = deflate_validate_response(res.headers, opt_.deflate);
    if (v.ec) return fail(static_cast<error>(v.ec.value()));
    r.deflate = v.params;
    return r;
  }

 private:
  void build() {
    http::head_builder b(request_);
    b.request_line("GET", opt_.target)
        .header("Host", opt_.host)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", key_)
        .header("Sec-WebSocket-Version", "13");
    if (!opt_.origin.empty()) b.header("Origin", opt_.origin);
    if (!opt_.subprotocols.empty()) {
      std::string list;
      for (const auto& p : opt_.subprotocols) list.append(list.empty() ? "" : ", ").append(p);
      b.header("Sec-WebSocket-Protocol", list);
    }
    if (opt_.deflate.enabled) b.header("Sec-WebSocket-Extensions", deflate_offer(opt_.deflate));
    for (const auto& h : opt_.extra_headers) b.header(h.name, h.value);
    b.end();
  }

  client_options opt_;
  std::string key_;
  std::string request_;
};

// --- server ----------------------------------------------------------------------
struct server_options {
  // Subprotocols we speak, in our preference order; the first of ours that
  // the client offered is selected (server preference, as RFC 7118 servers do).
  std::vector<std::string> subprotocols{};
  bool require_subprotocol = false;  // reject clients that share none (400)
  // Origin policy: return false to answer 403. Unset: every origin allowed
  // (non-browser clients send none; §10.2).
  std::function<bool(std::optional<std::string_view> origin)> origin_allowed{};
  deflate_options deflate{};
  std::vector<http::header> extra_headers{};  // added to the 101
};

struct accept_result {
  std::error_code ec;     // set: the handshake failed and `response` says why
  unsigned status = 0;    // 101, 400, 403 or 426
  std::string response;   // the whole response head to write
  std::string subprotocol;
  std::optional<deflate_params> deflate;

  bool ok() const noexcept { return !ec; }
};

namespace detail {

inline error check_request(const http::request_head& req) {
  // §4.2.1, in the order the RFC lists the MUSTs.
  if (req.method != "GET") return error::bad_method;
  if (req.version_minor < 1) return error::bad_http_version;
  if (req.headers.count("host") != 1 || req.header("host")->empty()) return error::missing_host;
  if (!req.has_token("upgrade", "websocket")) return error::missing_upgrade;
  if (!req.has_token("connection", "upgrade")) return error::missing_connection;
  const auto key = req.header("sec-websocket-key");
  if (!key || req.headers.count("sec-websocket-key") != 1 || !is_valid_key(*key)) return error::bad_key;
  const auto version = req.header("sec-websocket-version");
  if (!version) return error::missing_version;
  if (*version != "13" || req.headers.count("sec-websocket-version") != 1) return error::bad_version;
  return error{};
}

inline std::string select_subprotocol(const http::request_head& req, const server_options& opt) {
  for (const auto& ours : opt.subprotocols)
    if (req.has_token("sec-websocket-protocol", ours)) {
      // has_token compares case-insensitively; subprotocol names are case-sensitive (§4.1).
      bool exact = false;
      req.headers.for_each_item("sec-websocket-protocol", [&](std::string_view item) {
        exact = item == ours;
        return !exact;
      });
      if (exact) return ours;
    }
  return {};
}

}  // namespace detail

// The response to a failed handshake: status, a text body naming the failure,
// and Sec-WebSocket-Version: 13 with 426 (§4.2.2, §4.4).
inline std::string failure_response(error e) {
  const unsigned status = http_status_for(e);
  const std::string body = std::string(error_message(e)) + "\n";
  std::string out;
  http::head_builder b(out);
  b.status_line(status, http::reason_phrase(status));
  if (status == 426) b.header("Sec-WebSocket-Version", "13").header("Upgrade", "websocket");
  b.header("Content-Type", "text/plain").header("Content-Length", body.size()).header("Connection", "close");
  b.end(body);
  return out;
}

inline accept_result server_accept(const http::request_head& req, const server_options& opt) {
  accept_result r;
  auto fail = [&](error e) {
    r.ec = make_error_code(e);
    r.status = http_status_for(e);
    r.response = failure_response(e);
    return r;
  };
  if (const error e = detail::check_request(req); e != error{}) return fail(e);
  if (opt.origin_allowed && !opt.origin_allowed(req.header("origin"))) return fail(error::origin_rejected);
  r.subprotocol = detail::select_subprotocol(req, opt);
  if (r.subprotocol.empty() && opt.require_subprotocol) return fail(error::no_subprotocol);
  r.deflate = deflate_accept(req.headers, opt.deflate);

  const auto accept = accept_key(*req.header("sec-websocket-key"));
  r.status = 101;
  http::head_builder b(r.response);
  b.status_line(101, http::reason_phrase(101))
      .header("Upgrade", "websocket")
      .header("Connection", "Upgrade")
      .header("Sec-WebSocket-Accept", std::string_view(accept.data(), accept.size()));
  if (!r.subprotocol.empty()) b.header("Sec-WebSocket-Protocol", r.subprotocol);
  if (r.deflate) b.header("Sec-WebSocket-Extensions", deflate_response(*r.deflate));
  for (const auto& h : opt.extra_headers) b.header(h.name, h.value);
  b.end();
  return r;
}

// Whether a parsed request asks for a WebSocket upgrade at all (servers that
// also serve plain HTTP, like the echo example's test page, branch on this).
inline bool is_upgrade_request(const http::request_head& req) {
  return req.has_token("upgrade", "websocket");
}

}  // namespace sigwire::ws
