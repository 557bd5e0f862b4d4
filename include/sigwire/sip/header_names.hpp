// sigwire/sip/header_names.hpp - the header-name registry as data: canonical
// long names, compact forms (RFC 3261 §7.3.3 and the IANA "Header Fields"
// registry of the SIP Parameters group), and which ones are single-valued.
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/sip/detail/ieq.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string_view>

namespace sigwire::sip {

enum class header_id : std::uint8_t {
  other = 0,
  accept, accept_contact, accept_encoding, accept_language, alert_info, allow, allow_events,
  authentication_info, authorization, call_id, call_info, contact, content_disposition,
  content_encoding, content_language, content_length, content_type, cseq, date, error_info,
  event, expires, from, identity, identity_info, in_reply_to, max_forwards, min_expires,
  mime_version, organization, priority, proxy_authenticate, proxy_authorization, proxy_require,
  record_route, refer_to, referred_by, reject_contact, reply_to, request_disposition, require,
  retry_after, route, server, session_expires, subject, supported, timestamp, to, unsupported,
  user_agent, via, warning, www_authenticate, count_
};

struct header_name_info {
  header_id id;
  std::string_view name;  // canonical spelling
  char compact;           // 0 when none
  bool single;            // at most one value per message (RFC 3261 §7.3.1 list semantics)
};

inline constexpr std::array<header_name_info, static_cast<std::size_t>(header_id::count_)> header_table{{
    {header_id::other, "", 0, false},
    {header_id::accept, "Accept", 0, false},
    {header_id::accept_contact, "Accept-Contact", 'a', false},      // RFC 3841
    {header_id::accept_encoding, "Accept-Encoding", 0, false},
    {header_id::accept_language, "Accept-Language", 0, false},
    {header_id::alert_info, "Alert-Info", 0, false},
    {header_id::allow, "Allow", 0, false},
    {header_id::allow_events, "Allow-Events", 'u', false},          // RFC 6665
    {header_id::authentication_info, "Authentication-Info", 0, true},
    {header_id::authorization, "Authorization", 0, false},
    {header_id::call_id, "Call-ID", 'i', true},
    {header_id::call_info, "Call-Info", 0, false},
    {header_id::contact, "Contact", 'm', false},
    {header_id::content_disposition, "Content-Disposition", 0, true},
    {header_id::content_encoding, "Content-Encoding", 'e', false},
    {header_id::content_language, "Content-Language", 0, false},
    {header_id::content_length, "Content-Length", 'l', true},
    {header_id::content_type, "Content-Type", 'c', true},
    {header_id::cseq, "CSeq", 0, true},
    {header_id::date, "Date", 0, true},
    {header_id::error_info, "Error-Info", 0, false},
    {header_id::event, "Event", 'o', true},                         // RFC 6665
    {header_id::expires, "Expires", 0, true},
    {header_id::from, "From", 'f', true},
    {header_id::identity, "Identity", 'y', false},                  // RFC 8224
    {header_id::identity_info, "Identity-Info", 'n', true},         // RFC 4474 (obsolete)
    {header_id::in_reply_to, "In-Reply-To", 0, false},
    {header_id::max_forwards, "Max-Forwards", 0, true},
    {header_id::min_expires, "Min-Expires", 0, true},
    {header_id::mime_version, "MIME-Version", 0, true},
    {header_id::organization, "Organization", 0, true},
    {header_id::priority, "Priority", 0, true},
    {header_id::proxy_authenticate, "Proxy-Authenticate", 0, false},
    {header_id::proxy_authorization, "Proxy-Authorization", 0, false},
    {header_id::proxy_require, "Proxy-Require", 0, false},
    {header_id::record_route, "Record-Route", 0, false},
    {header_id::refer_to, "Refer-To", 'r', true},                   // RFC 3515
    {header_id::referred_by, "Referred-By", 'b', true},             // RFC 3892
    {header_id::reject_contact, "Reject-Contact", 'j', false},      // RFC 3841
    {header_id::reply_to, "Reply-To", 0, true},
    {header_id::request_disposition, "Request-Disposition", 'd', false},  // RFC 3841
    {header_id::require, "Require", 0, false},
    {header_id::retry_after, "Retry-After", 0, true},
    {header_id::route, "Route", 0, false},
    {header_id::server, "Server", 0, true},
    {header_id::session_expires, "Session-Expires", 'x', true},     // RFC 4028
    {header_id::subject, "Subject", 's', true},
    {header_id::supported, "Supported", 'k', false},
    {header_id::timestamp, "Timestamp", 0, true},
    {header_id::to, "To", 't', true},
    {header_id::unsupported, "Unsupported", 0, false},
    {header_id::user_agent, "User-Agent", 0, true},
    {header_id::via, "Via", 'v', false},
    {header_id::warning, "Warning", 0, false},
    {header_id::www_authenticate, "WWW-Authenticate", 0, false},
}};

namespace detail {
constexpr std::array<header_id, 26> make_compact_table() noexcept {
  std::array<header_id, 26> t{};
  for (const auto& h : header_table)
    if (h.compact) t[static_cast<std::size_t>(h.compact - 'a')] = h.id;
  return t;
}
inline constexpr std::array<header_id, 26> compact_table = make_compact_table();

// A perfect multiplicative hash over (length, 1st, 3rd and last byte | 0x20)
// for the names of header_table (the multiplier was searched for offline);
// the one candidate it yields is then compared in full.
constexpr std::size_t name_hash(std::string_view n) noexcept {
  const auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(n[i]) | 0x20); };
  const std::uint32_t key = (static_cast<std::uint32_t>(n.size()) << 24) | (b(0) << 16) |
                            (b(n.size() > 2 ? 2 : 1) << 8) | b(n.size() - 1);
  return static_cast<std::uint32_t>(key * 0xee852867u) >> 24;
}
inline constexpr std::uint8_t hash_collision = 0xff;
constexpr std::array<std::uint8_t, 256> make_hash_table() noexcept {
  std::array<std::uint8_t, 256> t{};
  for (std::size_t i = 1; i < header_table.size(); ++i) {
    auto& slot = t[name_hash(header_table[i].name)];
    slot = slot == 0 ? static_cast<std::uint8_t>(i) : hash_collision;
  }
  return t;
}
inline constexpr std::array<std::uint8_t, 256> hash_table = make_hash_table();
constexpr bool hash_is_perfect() noexcept {
  for (auto v : hash_table)
    if (v == hash_collision) return false;
  return true;
}
static_assert(hash_is_perfect(), "header name hash has a collision: search a new multiplier");

// Lower-case copies of the canonical names, for ieq_lower.
struct lower_name {
  std::array<char, 32> text{};  // zero padded: 16-byte loads stay inside
  std::size_t size = 0;
  constexpr std::string_view view() const noexcept { return {text.data(), size}; }
};
constexpr std::array<lower_name, header_table.size()> make_lower_names() noexcept {
  std::array<lower_name, header_table.size()> t{};
  for (std::size_t i = 0; i < header_table.size(); ++i) {
    for (std::size_t k = 0; k < header_table[i].name.size(); ++k) t[i].text[k] = core::ascii::to_lower(header_table[i].name[k]);
    t[i].size = header_table[i].name.size();
  }
  return t;
}
inline constexpr std::array<lower_name, header_table.size()> lower_names = make_lower_names();
}  // namespace detail

constexpr const header_name_info& header_info(header_id id) noexcept {
  return header_table[static_cast<std::size_t>(id)];
}
constexpr std::string_view canonical_name(header_id id) noexcept { return header_info(id).name; }

namespace detail {
inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
// ieq_lower for a name of SIP token characters, 8 bytes at a time. OR-ing
// 0x20 folds case exactly for token bytes (no token byte maps onto another).
inline bool token_ieq_lower(std::string_view name, const lower_name& lower) noexcept {
  const std::size_t n = name.size();
  if (n != lower.size) return false;
  if (n < 8) {
    // Two overlapping loads cover 2..7 bytes without reading past the name.
    if (n >= 4) {
      std::uint32_t a, b, la, lb;
      std::memcpy(&a, name.data(), 4);
      std::memcpy(&b, name.data() + n - 4, 4);
      std::memcpy(&la, lower.text.data(), 4);
      std::memcpy(&lb, lower.text.data() + n - 4, 4);
      return ((a | 0x20202020u) ^ la) == 0 && ((b | 0x20202020u) ^ lb) == 0;
    }
    return ieq_lower(name, lower.view());
  }
  constexpr std::uint64_t fold = 0x2020202020202020ull;
  for (std::size_t i = 0; i + 8 <= n; i += 8)
    if ((load8(name.data() + i) | fold) != load8(lower.text.data() + i)) return false;
  return (load8(name.data() + n - 8) | fold) == load8(lower.text.data() + n - 8);  // overlapping tail
}
}  // namespace detail

namespace detail {
constexpr bool ids_follow_table() noexcept {
  for (std::size_t i = 0; i < header_table.size(); ++i)
    if (static_cast<std::size_t>(header_table[i].id) != i) return false;
  return true;
}
static_assert(ids_follow_table(), "header_table rows must be in header_id order");

// token_ieq_lower for a name at p when at least `avail` >= n bytes may be
// read from p: with 16 of them, one or two SSE2 compares of the folded bytes.
[[gnu::always_inline]] inline bool token_ieq_lower_at(const char* p, std::size_t n, std::size_t avail,
                                                      const lower_name& lower) noexcept {
  if (n != lower.size) return false;
#if defined(__SSE2__)
  if (avail >= 16) {
    const auto equal_bytes = [&](std::size_t at) {
      const __m128i v = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at)), _mm_set1_epi8(0x20));
      const __m128i l = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lower.text.data() + at));
      return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, l)));
    };
    if (n <= 16) {
      const unsigned want = (1u << n) - 1;
      return (equal_bytes(0) & want) == want;
    }
    return equal_bytes(0) == 0xffffu && equal_bytes(n - 16) == 0xffffu;  // n <= 32
  }
#else
  (void)avail;
#endif
  return token_ieq_lower({p, n}, lower);
}
}  // namespace detail

// Lookup for a name already known to be a SIP token (the indexer's case),
// `avail` >= name.size() bytes being readable from name.data().
[[gnu::always_inline]] inline header_id lookup_token_header(std::string_view name, std::size_t avail) noexcept {
  if (name.size() == 1) {
    const char c = core::ascii::to_lower(name[0]);
    return c >= 'a' && c <= 'z' ? detail::compact_table[static_cast<std::size_t>(c - 'a')] : header_id::other;
  }
  if (name.empty()) return header_id::other;
  // The hash is perfect over the table (static_assert above): one compare.
  const std::uint8_t slot = detail::hash_table[detail::name_hash(name)];
  return slot != 0 && detail::token_ieq_lower_at(name.data(), name.size(), avail, detail::lower_names[slot])
             ? static_cast<header_id>(slot)
             : header_id::other;
}
[[gnu::always_inline]] inline header_id lookup_token_header(std::string_view name) noexcept {
  return lookup_token_header(name, name.size());
}

// Case-insensitive lookup of a long or compact header name.
inline header_id lookup_header(std::string_view name) noexcept {
  if (!core::ascii::all_of_class(name, core::ascii::cls_sip_token)) return header_id::other;
  return lookup_token_header(name);
}

// Methods of RFC 3261 and its extensions (RFC 3262, 3265/6665, 3311, 3428,
// 3515, 3903, 6086): an unknown method is legal but a UAS answers 501.
inline constexpr std::array<std::string_view, 14> known_methods{
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
    "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"};

constexpr bool is_known_method(std::string_view m) noexcept {
  for (auto k : known_methods)
    if (k == m) return true;  // methods are case-sensitive (RFC 3261 §7.1)
  return false;
}

}  // namespace sigwire::sip
