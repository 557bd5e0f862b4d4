// ws_echo_coro: the smallest WebSocket echo server, on C++20 coroutines.
// Start here; ws_echo_server adds TLS, deflate options, a test page and speed.
//
//   ws_echo_coro [PORT]        (0 or nothing: any free port; prints the URL)
#include <sigwire/ws/asio/stream.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace sigwire;
using asio::ip::tcp;

asio::awaitable<void> echo(tcp::socket socket) {
  ws::stream<tcp::socket> ws(std::move(socket));
  const ws::server_options options{.subprotocols = {"sip"}};  // a named local: GCC 12 rejects the temporary
  try {
    co_await ws.async_accept(options, asio::use_awaitable);
    for (std::string message;;) {
      const auto type = co_await ws.async_read(message, asio::use_awaitable);
      if (type == ws::message_type::text)
        co_await ws.async_write_text(std::move(message), asio::use_awaitable);
      else
        co_await ws.async_write_binary(std::move(message), asio::use_awaitable);
    }
  } catch (const std::system_error&) {  // the peer closed, or broke the protocol
  }
}

asio::awaitable<void> listen(tcp::acceptor acceptor) {
  for (;;) asio::co_spawn(acceptor.get_executor(), echo(co_await acceptor.async_accept(asio::use_awaitable)), asio::detached);
}

int main(int argc, char** argv) {
  asio::io_context io;
  const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0);
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
  std::printf("listening on ws://127.0.0.1:%u/\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::co_spawn(io, listen(std::move(acceptor)), asio::detached);
  io.run();
}
