// ws_client: the browser's WebSocket API in C++ over sigwire::ws::stream.
//
//   ws_client ws://127.0.0.1:9001/ [--protocol sip] [--no-deflate] [--insecure] [--ca FILE]
//             [--text MSG]... [--binary HEX]... [--file PATH]... [--close CODE]
//       sends each message, prints the echoes, closes; exit 0 when every
//       message came back unchanged.
//   ws_client --autobahn ws://127.0.0.1:9001 AGENT
//       the Autobahn|Testsuite client loop: getCaseCount, runCase (echo
//       everything until the server closes), updateReports.
#include <sigwire/ws.hpp>
#include <sigwire/ws/asio/stream.hpp>

#include <asio/experimental/as_tuple.hpp>

#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

// GCC 12 warns falsely (-Wmismatched-new-delete) when it inlines the frame
// allocation of a member coroutine returning asio::awaitable (asio's frame
// operator new/delete pair is correct).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using namespace sigwire;
using asio::ip::tcp;
using asio::experimental::as_tuple;
using asio::use_awaitable;

namespace {

struct url {
  bool tls = false;
  std::string host, port, target = "/";
  static std::optional<url> parse(std::string_view s) {
    url u;
    if (s.starts_with("ws://")) s.remove_prefix(5);
    else if (s.starts_with("wss://")) { s.remove_prefix(6); u.tls = true; }
    else return std::nullopt;
    const auto slash = s.find('/');
    std::string_view authority = s.substr(0, slash);
    if (slash != std::string_view::npos) u.target = std::string(s.substr(slash));
    const auto colon = authority.rfind(':');
    const bool has_port = colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos;
    u.host = std::string(has_port ? authority.substr(0, colon) : authority);
    u.port = has_port ? std::string(authority.substr(colon + 1)) : (u.tls ? "443" : "80");
    if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
    return u.host.empty() ? std::nullopt : std::optional<url>(u);
  }
  std::string host_header() const {
    const bool v6 = host.find(':') != std::string::npos;
    const std::string h = v6 ? "[" + host + "]" : host;
    return (port == (tls ? "443" : "80")) ? h : h + ":" + port;
  }
};

struct settings {
  std::vector<std::string> protocols;
  bool deflate = true;
  bool verify = true;
  std::string ca_file;  // extra trust anchor (e.g. a self-signed test certificate)
};

// The browser API: on_open, on_message, on_error, on_close; send, close.
class web_socket {
 public:
  std::function<void()> on_open;
  std::function<void(std::string_view data, bool binary)> on_message;
  std::function<void(std::error_code)> on_error;
  std::function<void(std::uint16_t code, std::string_view reason)> on_close;

  web_socket(asio::io_context& io, settings s) : io_(io), settings_(std::move(s)), tls_ctx_(asio::ssl::context::tls_client) {
    tls_ctx_.set_default_verify_paths();
    if (!settings_.ca_file.empty()) tls_ctx_.load_verify_file(settings_.ca_file);
  }
  void connect(const url& u);
  void send(std::string_view text) { if (tcp_) tcp_->send_text(text); else if (tls_) tls_->send_text(text); }
  void send_binary(std::string_view bytes) { if (tcp_) tcp_->send_binary(bytes); else if (tls_) tls_->send_binary(bytes); }
  void close(std::uint16_t code = 1000, std::string reason = {}) {
    auto done = [](std::error_code) {};
    if (tcp_) tcp_->async_close(code, reason, done);
    else if (tls_) tls_->async_close(code, reason, done);
  }
  std::string_view protocol() const { return tcp_ ? tcp_->subprotocol() : tls_ ? tls_->subprotocol() : ""; }
  bool deflate() const { return tcp_ ? tcp_->deflate().has_value() : tls_ && tls_->deflate().has_value(); }

 private:
  asio::awaitable<void> run(url u) {
    tcp::resolver resolver(io_);
    auto [rec, endpoints] = co_await resolver.async_resolve(u.host, u.port, as_tuple(use_awaitable));
    if (rec) { fail(rec); co_return; }
    ws::stream_options so;
    so.tls_verify = settings_.verify;
    ws::client_options co;
    co.host = u.host_header();
    co.target = u.target;
    co.subprotocols = settings_.protocols;
    co.deflate.enabled = settings_.deflate;
    if (u.tls) {
      tls_ = std::make_unique<ws::stream<asio::ssl::stream<tcp::socket>>>(so, tcp::socket(io_), tls_ctx_);
      co_await session(*tls_, endpoints, co);
    } else {
      tcp_ = std::make_unique<ws::stream<tcp::socket>>(so, tcp::socket(io_));
      co_await session(*tcp_, endpoints, co);
    }
  }

  template <class Stream>
  asio::awaitable<void> session(Stream& s, const tcp::resolver::results_type& endpoints, ws::client_options co) {
    auto [cec, ep] = co_await asio::async_connect(s.lowest_layer(), endpoints, as_tuple(use_awaitable));
    if (cec) { fail(cec); co_return; }
    s.lowest_layer().set_option(tcp::no_delay(true));
    auto [hec] = co_await s.async_handshake(co, as_tuple(use_awaitable));
    if (hec) { fail(hec); co_return; }
    if (on_open) on_open();
    std::string msg;
    while (true) {
      auto [ec, type] = co_await s.async_read(msg, as_tuple(use_awaitable));
      if (ec == ws::error::closed) {
        if (on_close) on_close(s.close_code(), s.close_reason());
        co_return;
      }
      if (ec) { fail(ec); if (on_close) on_close(1006, ""); co_return; }
      if (on_message) on_message(msg, type == ws::message_type::binary);
    }
  }
  void fail(std::error_code ec) { if (on_error) on_error(ec); }

  asio::io_context& io_;
  settings settings_;
  asio::ssl::context tls_ctx_;
  std::unique_ptr<ws::stream<tcp::socket>> tcp_;
  std::unique_ptr<ws::stream<asio::ssl::stream<tcp::socket>>> tls_;
};

void web_socket::connect(const url& u) { asio::co_spawn(io_, run(u), asio::detached); }

std::string from_hex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(core::ascii::hex_value(h[i]) * 16 + core::ascii::hex_value(h[i + 1])));
  return out;
}

// --- Autobahn|Testsuite client loop ---------------------------------------------
int autobahn(const std::string& base, const std::string& agent, const settings& s) {
  auto run_one = [&](const std::string& target, bool echo, std::string* first_text) {
    asio::io_context io;
    web_socket ws(io, s);
    web_socket* self = &ws;
    ws.on_message = [&, self](std::string_view data, bool binary) {
      if (first_text && first_text->empty() && !binary) *first_text = std::string(data);
      if (echo) binary ? self->send_binary(data) : self->send(data);
    };
    ws.on_error = [](std::error_code) {};
    auto u = url::parse(base);
    if (!u) return false;
    u->target = target;
    ws.connect(*u);
    io.run_for(std::chrono::seconds(120));
    return true;
  };
  std::string count_text;
  if (!run_one("/getCaseCount", false, &count_text)) { std::cerr << "bad URL\n"; return 2; }
  const int count = count_text.empty() ? 0 : std::stoi(count_text);
  std::cout << "autobahn: " << count << " cases" << std::endl;
  for (int i = 1; i <= count; ++i) {
    run_one("/runCase?case=" + std::to_string(i) + "&agent=" + agent, true, nullptr);
    std::cout << "case " << i << "/" << count << " done" << std::endl;
  }
  run_one("/updateReports?agent=" + agent, false, nullptr);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  std::vector<std::pair<bool, std::string>> messages;  // (binary, bytes)
  std::uint16_t close_code = 1000;
  std::string target_url;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--autobahn") {
      const std::string base = next(), agent = next();
      return autobahn(base, agent.empty() ? "sigwire" : agent, s);
    }
    if (a == "--protocol") s.protocols.push_back(next());
    else if (a == "--no-deflate") s.deflate = false;
    else if (a == "--insecure") s.verify = false;
    else if (a == "--ca") s.ca_file = next();
    else if (a == "--text") messages.emplace_back(false, next());
    else if (a == "--binary") messages.emplace_back(true, from_hex(next()));
    else if (a == "--file") {
      std::ifstream f(next(), std::ios::binary);
      messages.emplace_back(true, std::string(std::istreambuf_iterator<char>(f), {}));
    } else if (a == "--close") close_code = static_cast<std::uint16_t>(std::stoi(next()));
    else if (target_url.empty() && a.find("://") != std::string::npos) target_url = a;
    else {
      std::cerr << "usage: ws_client URL [--protocol P] [--no-deflate] [--insecure] [--ca FILE] [--text MSG] [--binary HEX] "
                   "[--file PATH] [--close CODE]\n       ws_client --autobahn URL AGENT\n";
      return 2;
    }
  }
  const auto u = url::parse(target_url);
  if (!u) { std::cerr << "not a ws:// or wss:// URL: " << target_url << "\n"; return 2; }
  if (messages.empty()) messages.emplace_back(false, "hello from sigwire");

  asio::io_context io;
  web_socket ws(io, s);
  std::size_t echoed = 0;
  bool all_equal = true, closed = false;
  ws.on_open = [&] {
    std::cout << "open protocol=" << ws.protocol() << " deflate=" << (ws.deflate() ? "on" : "off") << std::endl;
    for (const auto& [binary, data] : messages) binary ? ws.send_binary(data) : ws.send(data);
  };
  ws.on_message = [&](std::string_view data, bool binary) {
    std::cout << (binary ? "binary " : "text ") << data.size() << (binary ? "" : ": " + std::string(data.substr(0, 200)))
              << std::endl;
    if (echoed < messages.size())
      all_equal = all_equal && messages[echoed].first == binary && messages[echoed].second == data;
    if (++echoed == messages.size()) ws.close(close_code, "bye");
  };
  ws.on_error = [&](std::error_code ec) { std::cout << "error: " << ec.message() << std::endl; };
  ws.on_close = [&](std::uint16_t code, std::string_view reason) {
    closed = true;
    std::cout << "close " << code << " " << reason << std::endl;
  };
  ws.connect(*u);
  io.run_for(std::chrono::seconds(30));
  const bool ok = closed && echoed == messages.size() && all_equal;
  std::cout << (ok ? "OK" : "FAILED") << " echoed " << echoed << "/" << messages.size() << std::endl;
  return ok ? 0 : 1;
}
