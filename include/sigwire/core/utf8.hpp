// sigwire/core/utf8.hpp - UTF-8 validation (RFC 3629), whole or incremental.
//
//   utf8::is_valid(text)                     // one buffer, complete
//   utf8::validator v;                       // chunks, e.g. WebSocket fragments
//   v.feed(chunk1); v.feed(chunk2);          // each: complete / incomplete / invalid
//   v.finish();                              // at message end
//
// Invalid input is reported as soon as the first byte that cannot belong to
// valid UTF-8 arrives (RFC 6455 §8.1 "fail fast"), with its offset from the
// start of the stream. Bulk work runs in the best SIMD kernel for this CPU;
// the scalar reference decides sequence boundaries and exact positions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include <sigwire/core/cpu.hpp>
#include <sigwire/core/detail/utf8_scalar.hpp>
#include <sigwire/core/detail/utf8_simd.hpp>

namespace sigwire::core::utf8 {

enum class status {
  complete,    // everything so far is valid and ends on a character boundary
  incomplete,  // valid so far, but the input ends inside a multi-byte character
  invalid,     // a byte that cannot be part of valid UTF-8 was seen
};

struct result {
  utf8::status status = status::complete;
  // invalid: offset of the first offending byte; incomplete: offset where the
  // unfinished character starts; complete: bytes seen.
  std::size_t position = 0;

  bool ok() const noexcept { return status != status::invalid; }
};

// Whole-buffer check with an explicit kernel (tests, benchmarks).
inline bool is_valid(std::string_view s, simd_level level) noexcept {
  return detail::kernel_for(level)(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

namespace detail {
// Short pure-ASCII text (most signalling messages) is answered inline,
// without the call into a wide kernel: OR the bytes together in 8-byte words,
// the last word overlapping the previous ones, and look at the top bits.
inline bool is_short_ascii(const std::uint8_t* p, std::size_t n) noexcept {
  auto word = [p](std::size_t at) {
    std::uint64_t w;
    std::memcpy(&w, p + at, 8);
    return w;
  };
  std::uint64_t any = 0;
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 <= n; i += 8) any |= word(i);
    any |= word(n - 8);
  } else {
    for (std::size_t i = 0; i < n; ++i) any |= p[i];
  }
  return (any & 0x8080808080808080ull) == 0;
}
inline constexpr std::size_t short_text = 256;
}  // namespace detail

// Whole-buffer check: complete and valid.
inline bool is_valid(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  if (s.size() <= detail::short_text && detail::is_short_ascii(p, s.size())) return true;
  return detail::best_kernel()(p, s.size());
}
inline bool is_valid(std::span<const std::byte> s) noexcept {
  return is_valid(std::string_view(reinterpret_cast<const char*>(s.data()), s.size()));
}

// Incremental validator; state carries across feed() calls.
class validator {
 public:
  validator() noexcept : kernel_(detail::best_kernel()) {}
  explicit validator(simd_level level) noexcept : kernel_(detail::kernel_for(level)) {}

  result feed(std::string_view chunk) noexcept {
    return feed(reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size());
  }
  result feed(std::span<const std::byte> chunk) noexcept {
    return feed(reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size());
  }

  result feed(const std::uint8_t* p, std::size_t n) noexcept {
    if (failed_) return current();
    std::size_t i = 0;
    // 1. Finish a character left open by the previous chunk (at most 3 bytes).
    while (i < n && !state_.at_boundary()) {
      if (!state_.step(p[i])) return fail(i);
      ++i;
    }
    if (i == n) return advance(n);
    // 2. The kernel validates everything up to the last character boundary.
    const std::size_t body_end = i + complete_prefix(p + i, n - i);
    if (body_end > i && !kernel_(p + i, body_end - i)) {
      detail::scalar_state s;
      return fail(i + detail::scalar_find_invalid(s, p + i, body_end - i));
    }
    // 3. The open tail goes through the reference, which rejects impossible
    //    prefixes (C0, E0 80, F5, ...) at once.
    for (std::size_t k = body_end; k < n; ++k) {
      if (state_.at_boundary()) char_start_ = offset_ + k;
      if (!state_.step(p[k])) return fail(k);
    }
    return advance(n);
  }

  // Call at the end of a message: an unfinished character is an error there.
  result finish() const noexcept {
    if (!failed_ && !state_.at_boundary()) return {status::incomplete, char_start_};
    return current();
  }

  result current() const noexcept {
    if (failed_) return {status::invalid, error_at_};
    if (!state_.at_boundary()) return {status::incomplete, char_start_};
    return {status::complete, offset_};
  }

  bool failed() const noexcept { return failed_; }
  bool at_boundary() const noexcept { return state_.at_boundary(); }

  void reset() noexcept {
    state_ = {};
    offset_ = char_start_ = error_at_ = 0;
    failed_ = false;
  }

 private:
  // Length of the longest prefix of p[0, n) that ends on a character
  // boundary, judging by the last (up to) four bytes.
  static std::size_t complete_prefix(const std::uint8_t* p, std::size_t n) noexcept {
    const std::size_t lookback = n < 4 ? n : 4;
    for (std::size_t back = 1; back <= lookback; ++back) {
      const std::uint8_t b = p[n - back];
      if ((b & 0xC0) == 0x80) continue;  // continuation: keep looking for its lead
      const std::size_t len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
      return len > back ? n - back : n;  // the lead's character is cut short
    }
    return n;  // only continuations: let the kernel reject them
  }

  result advance(std::size_t n) noexcept {
    offset_ += n;
    return current();
  }
  result fail(std::size_t index_in_chunk) noexcept {
    failed_ = true;
    error_at_ = offset_ + index_in_chunk;
    return current();
  }

  detail::validate_fn kernel_;
  detail::scalar_state state_{};
  std::size_t offset_ = 0;      // bytes fed before the current chunk
  std::size_t char_start_ = 0;  // where the open character started
  std::size_t error_at_ = 0;
  bool failed_ = false;
};

}  // namespace sigwire::core::utf8
