// sigwire/core/digest.hpp - message digests through OpenSSL 3 EVP.
// SHA-1 computes the WebSocket accept key (RFC 6455 §4.2.2); MD5 and SHA-256
// serve SIP digest authentication (RFC 2617, RFC 8760). Each EVP_MD is
// fetched once per process: an implicit fetch on every call costs as much as
// hashing a short input.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace sigwire::core {

enum class digest_algorithm { md5, sha1, sha256 };

constexpr std::size_t digest_size(digest_algorithm a) noexcept {
  switch (a) {
    case digest_algorithm::md5: return 16;
    case digest_algorithm::sha1: return 20;
    case digest_algorithm::sha256: return 32;
  }
  return 0;
}

namespace detail {
struct md_deleter {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
inline const EVP_MD* fetched_md(digest_algorithm a) noexcept {
  // Thread-safe one-time fetch (magic statics); freed at exit.
  static const std::unique_ptr<EVP_MD, md_deleter> md5{EVP_MD_fetch(nullptr, "MD5", nullptr)};
  static const std::unique_ptr<EVP_MD, md_deleter> sha1{EVP_MD_fetch(nullptr, "SHA1", nullptr)};
  static const std::unique_ptr<EVP_MD, md_deleter> sha256{EVP_MD_fetch(nullptr, "SHA256", nullptr)};
  switch (a) {
    case digest_algorithm::md5: return md5.get();
    case digest_algorithm::sha1: return sha1.get();
    case digest_algorithm::sha256: return sha256.get();
  }
  return nullptr;
}
struct ctx_deleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
}  // namespace detail

// Incremental hasher: update() any number of times, then final().
// A hasher is reusable after final() (it restarts).
template <digest_algorithm Algorithm>
class hasher {
 public:
  static constexpr std::size_t size = digest_size(Algorithm);
  using digest_type = std::array<unsigned char, size>;

  hasher() : ctx_(EVP_MD_CTX_new()) { reset(); }

  void reset() noexcept { EVP_DigestInit_ex(ctx_.get(), detail::fetched_md(Algorithm), nullptr); }

  hasher& update(const void* data, std::size_t n) noexcept {
    EVP_DigestUpdate(ctx_.get(), data, n);
    return *this;
  }
  hasher& update(std::string_view s) noexcept { return update(s.data(), s.size()); }
  hasher& update(std::span<const std::byte> s) noexcept { return update(s.data(), s.size()); }

  digest_type final() noexcept {
    digest_type out{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), out.data(), &n);
    reset();
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, detail::ctx_deleter> ctx_;
};

using md5_hasher = hasher<digest_algorithm::md5>;
using sha1_hasher = hasher<digest_algorithm::sha1>;
using sha256_hasher = hasher<digest_algorithm::sha256>;

// One-shot digests. EVP_Digest with a pre-fetched EVP_MD: no context kept.
template <digest_algorithm Algorithm>
inline std::array<unsigned char, digest_size(Algorithm)> digest(std::string_view data) noexcept {
  std::array<unsigned char, digest_size(Algorithm)> out{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, detail::fetched_md(Algorithm), nullptr);
  return out;
}
inline auto md5(std::string_view data) noexcept { return digest<digest_algorithm::md5>(data); }
inline auto sha1(std::string_view data) noexcept { return digest<digest_algorithm::sha1>(data); }
inline auto sha256(std::string_view data) noexcept { return digest<digest_algorithm::sha256>(data); }

// Lower-case hex, as SIP digest authentication writes hashes.
template <std::size_t N>
inline std::string to_hex(const std::array<unsigned char, N>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(N * 2, '\0');
  for (std::size_t i = 0; i < N; ++i) {
    s[2 * i] = digits[bytes[i] >> 4];
    s[2 * i + 1] = digits[bytes[i] & 15];
  }
  return s;
}

}  // namespace sigwire::core
