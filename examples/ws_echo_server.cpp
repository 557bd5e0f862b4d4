// ws_echo_server: echoes every WebSocket message; serves a browser test
// page on "/". What conformance testers and the interop tests point at.
//
//   ws_echo_server [--port 9001] [--bind 127.0.0.1] [--tls CERT KEY]
//                  [--no-deflate] [--deflate-low-memory] [--keep-read-buffer]
//                  [--protocols sip,xmpp] [--log]
//
// --deflate-low-memory asks clients for no context takeover in both
// directions (ws::deflate_options::low_memory()): zlib state exists only
// while a message is compressed or inflated (docs/ws.md, memory per connection).
// --keep-read-buffer keeps each connection's read buffer while it is idle
// (stream_options::release_idle_read_buffer = false): more memory, slightly
// fewer system calls under load.
//
// A self-signed pair for --tls:
//   openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost
//     -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout key.pem -out cert.pem
//   (one line)
#include <sigwire/ws.hpp>
#include <sigwire/ws/asio/stream.hpp>

#include <asio/experimental/as_tuple.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

using namespace sigwire;
using asio::ip::tcp;

namespace {

struct config {
  unsigned short port = 9001;
  std::string bind = "127.0.0.1";
  std::string cert, key;
  bool deflate = true;
  bool low_memory_deflate = false;
  bool keep_read_buffer = false;
  bool log = false;
  std::vector<std::string> protocols = {"sip"};
};

// The test page: opens new WebSocket(url, ['sip']), sends text and an
// ArrayBuffer, shows the echoes, and reports the result to the server.
constexpr std::string_view page = R"html(<!doctype html>
<html><head><meta charset="utf-8"><title>sigwire echo</title></head>
<body><h1>sigwire WebSocket echo</h1><pre id="log"></pre><div id="result">RUNNING</div>
<script>
const log = (s) => { document.getElementById('log').textContent += s + '\n'; };
const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
const ws = new WebSocket(url, ['sip']);
ws.binaryType = 'arraybuffer';
const text = 'hello from the browser \u00e9\u20ac\u{1F600}';
const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
let gotText = false, gotBinary = false;
ws.onopen = () => { log('open, protocol=' + ws.protocol + ' extensions=' + ws.extensions);
  ws.send(text); ws.send(bytes.buffer); };
ws.onmessage = (e) => {
  if (typeof e.data === 'string') {
    if (e.data.startsWith('result:')) return;
    gotText = e.data === text; log('text echo ' + (gotText ? 'ok' : 'BAD'));
  } else {
    const b = new Uint8Array(e.data);
    gotBinary = b.length === bytes.length && b.every((v, i) => v === bytes[i]);
    log('binary echo ' + (gotBinary ? 'ok' : 'BAD'));
  }
  if (gotText && gotBinary) {
    const r = 'result:pass protocol=' + ws.protocol + ' extensions=' + ws.extensions;
    document.getElementById('result').textContent = 'PASS';
    ws.send(r);
    setTimeout(() => ws.close(1000, 'done'), 100);
  }
};
ws.onerror = () => { document.getElementById('result').textContent = 'ERROR'; };
ws.onclose = (e) => log('close ' + e.code);
</script></body></html>
)html";

// One connection: the upgrade (or the test page), then the echo loop. Plain
// callbacks, not a coroutine per connection: an idle connection then costs
// its stream and nothing else (docs/ws.md, "Memory per connection").
template <class Stream>
struct echo_session : std::enable_shared_from_this<echo_session<Stream>> {
  Stream s;
  const config& cfg;
  std::string msg;
  template <class... Args>
  echo_session(const config& c, Args&&... args) : s(std::forward<Args>(args)...), cfg(c) {}

  void start() {
    s.async_read_request([self = this->shared_from_this()](std::error_code ec) {
      if (!ec) self->on_request();
    });
  }

  void on_request() {
    if (!ws::is_upgrade_request(s.request())) return serve_page();
    ws::server_options opt;
    opt.subprotocols = cfg.protocols;
    if (cfg.low_memory_deflate) opt.deflate = ws::deflate_options::low_memory();
    opt.deflate.enabled = cfg.deflate;
    s.async_accept(std::move(opt), [self = this->shared_from_this()](std::error_code ec) {
      if (ec) {
        if (self->cfg.log) std::cout << "handshake failed: " << ec.message() << std::endl;
        return;
      }
      if (self->cfg.log)
        std::cout << "open protocol=" << self->s.subprotocol() << " deflate=" << self->s.deflate().has_value() << std::endl;
      self->read();
    });
  }

  void serve_page() {  // plain HTTP: the test page, then close
    auto res = std::make_shared<std::string>();
    http::head_builder(*res)
        .status_line(200, "OK")
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Content-Length", page.size())
        .header("Connection", "close")
        .end(page);
    asio::async_write(s.next_layer(), asio::buffer(*res), [self = this->shared_from_this(), res](std::error_code, std::size_t) {
      asio::error_code ignored;
      self->s.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  void read() {
    s.async_read(msg, [self = this->shared_from_this()](std::error_code ec, ws::message_type type) {
      self->on_message(ec, type);
    });
  }
  void on_message(std::error_code ec, ws::message_type type) {
    if (ec) {
      if (cfg.log) std::cout << "closed code=" << s.close_code() << " (" << ec.message() << ")" << std::endl;
      return;
    }
    if (cfg.log) {
      if (type == ws::message_type::text) std::cout << "text " << msg.size() << ": " << msg.substr(0, 200) << std::endl;
      else std::cout << "binary " << msg.size() << std::endl;
    }
    // Moved, not copied: a large message is written from this string and
    // the next read fills a fresh one.
    if (type == ws::message_type::text) s.send_text(std::move(msg));
    else s.send_binary(std::move(msg));
    read();
  }
};

template <class Stream, class... Args>
void start_session(const config& cfg, Args&&... args) {
  ws::stream_options so;
  so.connection.timeouts.idle = std::chrono::seconds(60);  // keep-alive ping after a minute of silence
  so.release_idle_read_buffer = !cfg.keep_read_buffer;
  std::make_shared<echo_session<Stream>>(cfg, so, std::forward<Args>(args)...)->start();
}

asio::awaitable<void> listen(tcp::acceptor& acc, const config& cfg, asio::ssl::context* tls) {
  while (true) {
    auto [ec, sock] = co_await acc.async_accept(asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) continue;
    sock.set_option(tcp::no_delay(true));
    if (tls) start_session<ws::stream<asio::ssl::stream<tcp::socket>>>(cfg, std::move(sock), *tls);
    else start_session<ws::stream<tcp::socket>>(cfg, std::move(sock));
  }
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--port") cfg.port = static_cast<unsigned short>(std::stoi(next()));
    else if (a == "--bind") cfg.bind = next();
    else if (a == "--tls") { cfg.cert = next(); cfg.key = next(); }
    else if (a == "--no-deflate") cfg.deflate = false;
    else if (a == "--deflate-low-memory") cfg.low_memory_deflate = true;
    else if (a == "--keep-read-buffer") cfg.keep_read_buffer = true;
    else if (a == "--log") cfg.log = true;
    else if (a == "--protocols") {
      cfg.protocols.clear();
      std::stringstream ss(next());
      for (std::string p; std::getline(ss, p, ',');) if (!p.empty()) cfg.protocols.push_back(p);
    } else {
      std::cerr << "usage: ws_echo_server [--port N] [--bind ADDR] [--tls CERT KEY] [--no-deflate] [--deflate-low-memory] [--keep-read-buffer] [--protocols a,b] [--log]\n";
      return 2;
    }
  }
  asio::io_context io(1);
  std::optional<asio::ssl::context> tls;
  if (!cfg.cert.empty()) {
    tls.emplace(asio::ssl::context::tls_server);
    tls->use_certificate_chain_file(cfg.cert);
    tls->use_private_key_file(cfg.key, asio::ssl::context::pem);
  }
  tcp::acceptor acc(io, {asio::ip::make_address(cfg.bind), cfg.port});
  std::cout << "listening on " << (tls ? "wss" : "ws") << "://" << cfg.bind << ":" << acc.local_endpoint().port()
            << "/ deflate=" << (cfg.deflate ? "on" : "off") << std::endl;
  asio::co_spawn(io, listen(acc, cfg, tls ? &*tls : nullptr), asio::detached);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) { io.stop(); });
  io.run();
}
