// sigwire/ws/asio/detail/read_buffer.hpp - the stream's receive buffer, lent
// from a per-thread pool so that memory follows the traffic, not the number
// of connections.
//
// A stream holds a buffer only while it has bytes to read or parse; an idle
// stream gives its buffer back and waits for readability without one
// (docs/ws.md, "Memory per connection"). Buffers are not zero-filled: pages
// the kernel never wrote into are never touched.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace sigwire::ws::detail {

// Free buffers kept for the next stream on this thread: at most
// max_buffers, at most max_bytes in all. The rest goes back to malloc.
class read_buffer_pool {
 public:
  static constexpr std::size_t max_buffers = 4;
  static constexpr std::size_t max_bytes = 1u << 20;
  static constexpr std::size_t min_pooled = 4096;  // smaller ones (a partial head) are freed

  static read_buffer_pool& this_thread() {
    thread_local read_buffer_pool pool;
    return pool;
  }

  // A buffer of exactly n bytes (uninitialised).
  std::unique_ptr<char[]> take(std::size_t n) {
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->size != n) continue;
      auto p = std::move(it->data);
      bytes_ -= n;
      free_.erase(it);
      return p;
    }
    return std::unique_ptr<char[]>(new char[n]);
  }

  void give(std::unique_ptr<char[]> p, std::size_t n) {
    // Only power-of-two sizes from min_pooled up are kept: the sizes streams ask for.
    const bool poolable = n >= min_pooled && (n & (n - 1)) == 0;
    if (!p || !poolable || free_.size() >= max_buffers || bytes_ + n > max_bytes) return;  // freed here
    bytes_ += n;
    free_.push_back({std::move(p), n});
  }

  std::size_t cached_bytes() const noexcept { return bytes_; }

 private:
  struct entry {
    std::unique_ptr<char[]> data;
    std::size_t size;
  };
  std::vector<entry> free_;
  std::size_t bytes_ = 0;
};

// The bytes a stream has received and not yet parsed live in data()[0, size()).
class read_buffer {
 public:
  read_buffer() = default;
  ~read_buffer() { release(); }
  read_buffer(const read_buffer&) = delete;
  read_buffer& operator=(const read_buffer&) = delete;

  char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  // At least n bytes; the first `keep` bytes are preserved.
  void reserve(std::size_t n, std::size_t keep = 0) {
    if (size_ >= n) return;
    replace(n, keep);
  }

  // Gives the pooled buffer back and keeps the first `keep` bytes in a
  // buffer of their own size (nothing when keep is 0): what an idle stream
  // holds of an unfinished HTTP head.
  void shrink_to(std::size_t keep) {
    if (keep == size_) return;
    if (keep == 0) return release();
    replace(keep, keep);
  }

  void release() noexcept {
    if (data_) read_buffer_pool::this_thread().give(std::move(data_), size_);
    data_.reset();
    size_ = 0;
  }

 private:
  void replace(std::size_t n, std::size_t keep) {
    auto fresh = read_buffer_pool::this_thread().take(n);
    keep = std::min({keep, size_, n});
    if (keep) std::memcpy(fresh.get(), data_.get(), keep);
    release();
    data_ = std::move(fresh);
    size_ = n;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

}  // namespace sigwire::ws::detail
