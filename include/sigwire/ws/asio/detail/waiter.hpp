// sigwire/ws/asio/detail/waiter.hpp - small pieces of ws::stream: the
// move-only completion a waiting write or close holds (waiter), the stream
// kinds (TLS, plain TCP), the per-thread read counter behind
// busy_elsewhere(), and the host of a URL authority.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <cstdint>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace sigwire::ws {

namespace detail {

template <class T>
struct is_ssl_stream : std::false_type {};
template <class S>
struct is_ssl_stream<asio::ssl::stream<S>> : std::true_type {};

// A move-only completion waiting for an event of the stream.
struct waiter {
  virtual ~waiter() = default;
  virtual void complete(std::error_code ec) = 0;
};
template <class Handler, class Executor>
struct waiter_impl final : waiter {
  Handler handler;
  asio::executor_work_guard<Executor> work;
  waiter_impl(Handler h, Executor ex) : handler(std::move(h)), work(ex) {}
  void complete(std::error_code ec) override {
    auto ex = asio::get_associated_executor(handler, work.get_executor());
    asio::post(ex, [h = std::move(handler), ec]() mutable { std::move(h)(ec); });
    work.reset();
  }
};

template <class T>
struct is_tcp_socket : std::false_type {};
template <class Executor>
struct is_tcp_socket<asio::basic_stream_socket<asio::ip::tcp, Executor>> : std::true_type {};

// Reads of plain-TCP streams completed by the reactor on this thread: how
// busy the thread is, for stream::busy_elsewhere().
inline thread_local std::uint64_t reads_completed_on_this_thread = 0;

inline std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host.substr(1, host.find(']') - 1);
  const auto colon = host.rfind(':');
  return colon != std::string_view::npos && host.find(':') == colon ? host.substr(0, colon) : host;
}

}  // namespace detail

}  // namespace sigwire::ws
