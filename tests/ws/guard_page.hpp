// Input that ends right before a PROT_NONE page, so any read past the end
// faults (picohttpparser's test trick).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

namespace sigwire::test {

class guarded_buffer {
 public:
  guarded_buffer() {
    page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    base_ = static_cast<char*>(::mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ::mprotect(base_ + page_, page_, PROT_NONE);
  }
  ~guarded_buffer() { ::munmap(base_, 2 * page_); }
  guarded_buffer(const guarded_buffer&) = delete;
  guarded_buffer& operator=(const guarded_buffer&) = delete;

  // Copies s so that its last byte is the last readable byte.
  std::string_view place(std::string_view s) {
    char* start = base_ + page_ - s.size();
    std::memcpy(start, s.data(), s.size());
    return {start, s.size()};
  }

 private:
  std::size_t page_ = 0;
  char* base_ = nullptr;
};

}  // namespace sigwire::test
