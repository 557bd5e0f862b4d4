// tests/support/guarded_buffer.hpp - input that ends right before a
// PROT_NONE page, so any read past the end faults at once (picohttpparser's
// trick). Every parser and SIMD kernel test uses it:
//
//   sigwire::test::guarded_buffer g(64 * 1024);      // capacity, reusable
//   parse(g.place("INVITE sip:..."));                 // an over-read crashes the test
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace sigwire::test {

class guarded_buffer {
 public:
  explicit guarded_buffer(std::size_t capacity = 4096) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    data_pages_ = (capacity + page_ - 1) / page_;
    if (data_pages_ == 0) data_pages_ = 1;
    void* m = mmap(nullptr, (data_pages_ + 1) * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("guarded_buffer: mmap failed");
    base_ = static_cast<char*>(m);
    if (mprotect(guard(), page_, PROT_NONE) != 0) throw std::runtime_error("guarded_buffer: mprotect failed");
  }
  guarded_buffer(const guarded_buffer&) = delete;
  guarded_buffer& operator=(const guarded_buffer&) = delete;
  ~guarded_buffer() { munmap(base_, (data_pages_ + 1) * page_); }

  std::size_t capacity() const noexcept { return data_pages_ * page_; }

  // Copies `s` so that its last byte is the last readable byte.
  std::string_view place(std::string_view s) {
    if (s.size() > capacity()) throw std::length_error("guarded_buffer: input larger than capacity");
    char* start = guard() - s.size();
    if (!s.empty()) std::memcpy(start, s.data(), s.size());
    return {start, s.size()};
  }

 private:
  char* guard() const noexcept { return base_ + data_pages_ * page_; }

  std::size_t page_ = 0;
  std::size_t data_pages_ = 0;
  char* base_ = nullptr;
};

}  // namespace sigwire::test
