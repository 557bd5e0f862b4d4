// An in-memory Asio byte stream with fault injection, for driving stream
// adapters (ws::stream, the SIP transports) through every step of their
// I/O without sockets:
//
//   test::fail_count fc(7);                        // the 8th operation fails, and every later one
//   auto [a, b] = test::fault_stream::make_pair(io.get_executor(), {.fail = &fc, .max_io = 3});
//   ws::stream<test::fault_stream> server(ws::stream_options{}, std::move(a));
//   ws::stream<asio::ssl::stream<test::fault_stream>> tls(opts, std::move(b), ctx);
//
// The two ends are connected like a TCP connection: bytes written to one
// are read from the other, close() on one end makes the other's reads end
// with eof once drained. Every async_read_some / async_write_some is one
// operation counted by the fail_count (Boost.Beast's test::fail_count is
// the model): from the Nth on, each completes with injected_error() and
// moves no byte. max_io makes every read and write short (at most that
// many bytes), so partial reads and writes are exercised too. Completions
// are posted, never run inside the initiating call, as with a socket.
#pragma once

#include <asio.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace sigwire::test {

inline std::error_code injected_error() { return std::make_error_code(std::errc::io_error); }

// Counts operations over any number of streams sharing it.
class fail_count {
 public:
  // n: the 0-based index of the first operation that fails.
  explicit fail_count(std::size_t n) : n_(n) {}
  // The error for this operation, if it is the Nth or later.
  std::error_code next() {
    if (i_ < n_) {
      ++i_;
      return {};
    }
    fired_ = true;
    return injected_error();
  }
  bool fired() const noexcept { return fired_; }
  std::size_t operations() const noexcept { return i_; }

 private:
  std::size_t n_, i_ = 0;
  bool fired_ = false;
};

struct fault_options {
  fail_count* fail = nullptr;  // none: nothing fails
  std::size_t max_io = 0;      // bytes per read or write at most; 0: no limit
};

class fault_stream {
 public:
  using executor_type = asio::any_io_executor;
  using lowest_layer_type = fault_stream;

  static std::pair<fault_stream, fault_stream> make_pair(executor_type ex, fault_options a, fault_options b) {
    auto l = std::make_shared<link>();
    return {fault_stream(ex, l, 0, a), fault_stream(ex, l, 1, b)};
  }
  static std::pair<fault_stream, fault_stream> make_pair(executor_type ex, fault_options both = {}) {
    return make_pair(ex, both, both);
  }

  fault_stream(fault_stream&&) noexcept = default;
  fault_stream& operator=(fault_stream&&) noexcept = default;
  ~fault_stream() {
    std::error_code ignored;
    if (link_) close(ignored);
  }

  executor_type get_executor() noexcept { return ex_; }
  lowest_layer_type& lowest_layer() noexcept { return *this; }
  bool is_open() const noexcept { return link_ && !link_->closed[side_]; }

  // Like a socket's: the peer's reads end with eof, our pending read with operation_aborted.
  void shutdown(asio::socket_base::shutdown_type, std::error_code& ec) {
    ec = {};
    end_writing();
  }
  void close(std::error_code& ec) {
    ec = {};
    if (!link_ || link_->closed[side_]) return;
    link_->closed[side_] = true;
    end_writing();
    if (auto r = std::move(link_->reader[side_])) {
      link_->reader[side_].reset();
      r->complete(asio::error::operation_aborted, 0);
    }
  }
  void close() {
    std::error_code ignored;
    close(ignored);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& bufs) {
          auto op = std::make_unique<read_op<std::decay_t<decltype(handler)>>>(std::move(handler), ex_);
          op->max = limit();
          for (auto it = asio::buffer_sequence_begin(bufs); it != asio::buffer_sequence_end(bufs); ++it)
            op->buffers.emplace_back(*it);
          if (auto ec = fault()) return op->complete(ec, 0);
          if (link_->closed[side_]) return op->complete(asio::error::bad_descriptor, 0);
          if (link_->reader[side_]) return op->complete(asio::error::in_progress, 0);  // one read at a time
          if (asio::buffer_size(bufs) == 0) return op->complete({}, 0);  // as a stream socket: at once
          link_->reader[side_] = std::move(op);
          serve_reader(side_);
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& bufs) {
          auto complete = [&](std::error_code ec, std::size_t n) {
            asio::post(ex_, [h = std::move(handler), ec, n]() mutable { h(ec, n); });
          };
          if (auto ec = fault()) return complete(ec, 0);
          const int peer = 1 - side_;
          if (link_->closed[side_] || link_->write_ended[side_]) return complete(asio::error::bad_descriptor, 0);
          if (link_->closed[peer]) return complete(asio::error::broken_pipe, 0);
          std::size_t n = 0;
          for (auto it = asio::buffer_sequence_begin(bufs); it != asio::buffer_sequence_end(bufs); ++it) {
            const asio::const_buffer b(*it);
            const std::size_t take = std::min(b.size(), limit() - n);
            const auto* p = static_cast<const char*>(b.data());
            link_->inbound[peer].insert(link_->inbound[peer].end(), p, p + take);
            n += take;
            if (n == limit()) break;
          }
          complete({}, n);
          serve_reader(peer);
        },
        token, buffers);
  }

 private:
  struct pending_read {
    std::vector<asio::mutable_buffer> buffers;
    std::size_t max = 0;  // the reader's max_io
    virtual ~pending_read() = default;
    virtual void complete(std::error_code ec, std::size_t n) = 0;
  };
  template <class Handler>
  struct read_op final : pending_read {
    read_op(Handler h, executor_type ex) : handler(std::move(h)), ex(std::move(ex)) {}
    void complete(std::error_code ec, std::size_t n) override {
      asio::post(ex, [h = std::move(handler), ec, n]() mutable { h(ec, n); });
    }
    Handler handler;
    executor_type ex;
  };
  // What both ends share; index = side.
  struct link {
    std::deque<char> inbound[2];  // bytes waiting to be read by that side
    std::unique_ptr<pending_read> reader[2];
    bool write_ended[2] = {false, false};  // that side shut down or closed: the other reads eof once drained
    bool closed[2] = {false, false};
  };

  fault_stream(executor_type ex, std::shared_ptr<link> l, int side, fault_options o)
      : ex_(std::move(ex)), link_(std::move(l)), side_(side), opt_(o) {}

  std::error_code fault() { return opt_.fail ? opt_.fail->next() : std::error_code{}; }
  std::size_t limit() const noexcept { return opt_.max_io ? opt_.max_io : static_cast<std::size_t>(-1); }

  void end_writing() {
    if (link_->write_ended[side_]) return;
    link_->write_ended[side_] = true;
    serve_reader(1 - side_);
  }

  // Completes `side`'s pending read if it has bytes (or eof) to take.
  void serve_reader(int side) {
    auto& r = link_->reader[side];
    auto& in = link_->inbound[side];
    if (!r) return;
    if (in.empty() && !link_->write_ended[1 - side]) return;
    std::unique_ptr<pending_read> op = std::move(r);
    if (in.empty()) return op->complete(asio::error::eof, 0);
    const std::size_t max = op->max;
    std::size_t n = 0;
    for (auto& b : op->buffers) {
      const std::size_t take = std::min({b.size(), in.size(), max - n});
      std::copy_n(in.begin(), take, static_cast<char*>(b.data()));
      in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
      n += take;
      if (in.empty() || n == max) break;
    }
    op->complete({}, n);
  }

  executor_type ex_;
  std::shared_ptr<link> link_;
  int side_ = 0;
  fault_options opt_;
};

}  // namespace sigwire::test
