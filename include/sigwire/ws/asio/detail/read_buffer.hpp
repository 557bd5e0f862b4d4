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
// max_buffers, at most max_bytes in all; the rest goes back to malloc. The
// pool holds what was in use at once in a burst (64 streams each in the
// middle of a 64 KiB message), so bulk traffic does not allocate fresh
// pages for every message; idle streams hold nothing, so memory per idle
// connection does not depend on these limits.
class read_buffer_pool {
 public:
  static constexpr std::size_t max_buffers = 64;
  static constexpr std::size_t max_bytes = 8u << 20;
  static constexpr std::size_t min_pooled = 4096;  // smaller ones (a partial head) are freed

  static read_buffer_pool& this_thread() {
    thread_local read_buffer_pool pool;
    return pool;
  }

  // A buffer of at least n bytes (uninitialised), its size in `got`: the
  // smallest free one that is large enough, so a buffer that grew under bulk
  // traffic serves the next message of that traffic again.
  std::unique_ptr<char[]> take(std::size_t n, std::size_t& got) {
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->size >= n && (best == free_.end() || it->size < best->size)) best = it;
    if (best == free_.end()) {
      got = n;
      return std::unique_ptr<char[]>(new char[n]);
    }
    auto p = std::move(best->data);
    got = best->size;
    bytes_ -= got;
    *best = std::move(free_.back());
    free_.pop_back();
    return p;
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
    auto own = std::unique_ptr<char[]>(new char[keep]);  // exactly `keep`, never a pooled one
    std::memcpy(own.get(), data_.get(), std::min(keep, size_));
    release();
    data_ = std::move(own);
    size_ = keep;
  }

  void release() noexcept {
    if (data_) read_buffer_pool::this_thread().give(std::move(data_), size_);
    data_.reset();
    size_ = 0;
  }

 private:
  void replace(std::size_t n, std::size_t keep) {
    std::size_t got = 0;
    auto fresh = read_buffer_pool::this_thread().take(n, got);
    keep = std::min({keep, size_, n});
    if (keep) std::memcpy(fresh.get(), data_.get(), keep);
    release();
    data_ = std::move(fresh);
    size_ = got;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

}  // namespace sigwire::ws::detail
