// sigwire/sdp/srtp.hpp - SDES-SRTP in offers and answers (RFC 4568): the
// suites we know, choosing an offered a=crypto line, and the master keys a
// negotiator keeps across re-negotiations.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sigwire/core/base64.hpp>
#include <sigwire/core/random.hpp>
#include <sigwire/sdp/capabilities.hpp>
#include <sigwire/sdp/view.hpp>

namespace sigwire::sdp {

// key||salt length of the SRTP suites of RFC 4568 §6.2, RFC 6188, RFC 7714;
// 0 for a suite we do not know.
constexpr std::size_t srtp_key_salt_size(std::string_view suite) noexcept {
  if (suite == "AES_CM_128_HMAC_SHA1_80" || suite == "AES_CM_128_HMAC_SHA1_32") return 30;
  if (suite == "AES_256_CM_HMAC_SHA1_80" || suite == "AES_256_CM_HMAC_SHA1_32") return 46;
  if (suite == "AEAD_AES_128_GCM") return 28;
  if (suite == "AEAD_AES_256_GCM") return 44;
  return 0;
}

// RFC 4568 §7.1.1: the answerer picks one offered crypto line it supports
// (the first, in the offerer's order of preference).
inline std::optional<crypto> choose_crypto(const media_view& m, const std::vector<std::string>& our_suites) {
  for (const auto& c : m.cryptos())
    if (srtp_key_salt_size(c.suite) && !c.inline_key().empty() &&
        std::find(our_suites.begin(), our_suites.end(), c.suite) != our_suites.end())
      return c;
  return std::nullopt;
}

// Our SDES master keys and salts (base64), one per slot: the answer to
// m-line i uses slot i, our offer's crypto line `tag` on the m-line with
// mid M uses offer_slot(M, tag). A slot keeps its key while its suite stays
// the same, so a re-offer or re-answer does not re-key the stream.
class sdes_keys {
 public:
  explicit sdes_keys(random_source random = {}) : random_(std::move(random)) {}

  static std::size_t answer_slot(std::size_t m_line) noexcept { return m_line; }
  static std::size_t offer_slot(std::string_view mid, unsigned tag) {
    auto n = detail::to_uint<std::size_t>(mid);
    return 1024 + (n ? *n : 0) * 8 + tag;  // after every answer slot
  }

  // The key of `slot` for `suite`, drawn from the random source when the
  // slot is new or its suite changed.
  const std::string& key(std::size_t slot, std::string_view suite) {
    auto& entry = keys_[slot];
    if (entry.suite != suite) {
      std::vector<std::byte> bytes(srtp_key_salt_size(suite));
      if (random_) random_(bytes);
      else core::random_bytes(bytes);
      entry = {std::string(suite), core::base64::encode(bytes)};
    }
    return entry.key;
  }

  const random_source& random() const noexcept { return random_; }

 private:
  struct slot_key {
    std::string suite, key;
  };
  random_source random_;  // empty: core::random_bytes (RAND_bytes)
  std::map<std::size_t, slot_key> keys_;
};

}  // namespace sigwire::sdp
