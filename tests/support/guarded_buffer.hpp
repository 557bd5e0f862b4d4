// tests/support/guarded_buffer.hpp - input that ends right before a
// PROT_NONE page, so any read past the end faults at once (picohttpparser's
// trick). Use it for every parser and SIMD kernel:
//
//   guarded_buffer g("INVITE sip:...");
//   parse(g.view());   // an over-read crashes the test instead of passing silently
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
  explicit guarded_buffer(std::string_view content) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t data_pages = (content.size() + page - 1) / page;
    size_ = (data_pages + 1) * page;
    void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(m);
    char* guard = base_ + data_pages * page;
    if (mprotect(guard, page, PROT_NONE) != 0) throw std::runtime_error("mprotect failed");
    data_ = guard - content.size();
    if (!content.empty()) std::memcpy(data_, content.data(), content.size());
    length_ = content.size();
  }
  guarded_buffer(const guarded_buffer&) = delete;
  guarded_buffer& operator=(const guarded_buffer&) = delete;
  ~guarded_buffer() { munmap(base_, size_); }

  std::string_view view() const noexcept { return {data_, length_}; }
  char* data() noexcept { return data_; }
  std::size_t size() const noexcept { return length_; }

 private:
  char* base_ = nullptr;
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t length_ = 0;
};

}  // namespace sigwire::test
