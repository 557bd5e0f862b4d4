// sigwire/sip/uas.hpp - semantic checks on a well-formed request: the
// response a UAS owes before it processes the request (RFC 3261 §8.2.1 -
// §8.2.3, and the semantic cases of RFC 4475 §3.2 - §3.3).
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/sip/access.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/message.hpp>

#include <initializer_list>
#include <span>
#include <string_view>

namespace sigwire::sip {

struct uas_policy {
  std::span<const std::string_view> supported_extensions{};  // option tags this UAS implements
  std::span<const std::string_view> accepted_types{};        // body types; empty = default list
  bool accept_tel = true;      // tel: Request-URIs are routed (RFC 3966)
  bool authenticate = false;   // this UAS challenges requests (401 for unknown schemes)
};

namespace detail {
inline constexpr std::string_view default_types[] = {"application/sdp", "multipart/mixed",
                                                     "multipart/alternative", "text/plain"};
inline bool in_list(std::span<const std::string_view> list, std::string_view v) noexcept {
  for (auto s : list)
    if (core::ascii::iequals(s, v)) return true;
  return false;
}
inline bool type_accepted(std::span<const std::string_view> list, const media_type& t) noexcept {
  for (auto s : list) {
    const std::size_t slash = s.find('/');
    if (core::ascii::iequals(s.substr(0, slash), t.type) && core::ascii::iequals(s.substr(slash + 1), t.subtype))
      return true;
  }
  return false;
}
}  // namespace detail

// {0, ""} when nothing is owed and the request can be processed.
inline owed_response uas_check(const message_view& m, const uas_policy& policy = {}) {
  if (!m.is_request()) return {};
  // §8.1.1: mandatory headers (RFC 4475 §3.3.1). Max-Forwards is not
  // checked: RFC 2543 peers omit it (RFC 4475 §3.4.1).
  if (!m.top_via() || !m.from() || !m.to() || m.call_id().empty() || !m.cseq())
    return {400, "Missing Required Header"};
  // §7.3.1: single-valued headers repeated (RFC 4475 §3.3.8) are rejected by parse().
  // §8.2.2.1: Request-URI scheme (RFC 4475 §3.3.2, §3.3.3)
  const auto scheme = m.request_uri().scheme;
  if (!(m.request_uri().is_sip() || (scheme == uri_scheme::tel && policy.accept_tel)))
    return {416, "Unsupported URI Scheme"};
  // §8.2.1: unknown method (RFC 4475 §3.1.1.5)
  if (!is_known_method(m.method())) return {501, "Not Implemented"};
  // RFC 4475 §3.2.1: a branch that is only the magic cookie
  if (m.top_via()->has_branch && m.top_via()->branch == "z9hG4bK") return {400, "Bad Via Branch"};
  // §10.3: a registrar accepts only sip/sips addresses of record (RFC 4475 §3.3.4)
  if (m.method() == "REGISTER" && !m.to()->address.is_sip()) return {400, "Bad Address of Record"};
  // RFC 4475 §3.3.7: credentials in a scheme we cannot verify
  if (policy.authenticate) {
    auto a = auth(m, header_id::authorization);
    if (!a || !a->is_digest()) return {401, "Unauthorized"};
  }
  // §8.2.2.3: Require (RFC 4475 §3.3.5). CANCEL and ACK are exempt.
  if (m.method() != "ACK" && m.method() != "CANCEL") {
    bool unsupported = false;
    for_each_token(m, header_id::require, [&](std::string_view tag) {
      if (!detail::in_list(policy.supported_extensions, tag)) unsupported = true;
    });
    if (unsupported) return {420, "Bad Extension"};
  }
  const auto types = policy.accepted_types.empty() ? std::span<const std::string_view>(detail::default_types)
                                                   : policy.accepted_types;
  // §8.2.3: body type (RFC 4475 §3.3.6)
  if (!m.body().empty()) {
    auto ct = content_type(m);
    if (ct && !detail::type_accepted(types, ct.value)) return {415, "Unsupported Media Type"};
  }
  // §8.2.3/§21.4.7: the answer needs SDP but Accept excludes it (RFC 4475 §3.3.15)
  if (m.method() == "INVITE" && m.find(header_id::accept)) {
    bool sdp_ok = false;
    for_each_element(m, header_id::accept, error::bad_header_value, [&](std::string_view e, const header_field&) {
      auto t = parse_media_type(e);
      if (t && ((t->is("application", "sdp")) || (t->type == "*") ||
                (core::ascii::iequals(t->type, "application") && t->subtype == "*")))
        sdp_ok = true;
      return std::error_code{};
    });
    if (!sdp_ok) return {406, "Not Acceptable"};
  }
  return {};
}

// What a proxy owes before forwarding (RFC 3261 §16.3): 483 when
// Max-Forwards is 0 (RFC 4475 §3.3.11), 420 for an unsupported
// Proxy-Require (RFC 4475 §3.3.5). {0} when the request may be forwarded.
inline owed_response proxy_check(const message_view& m,
                                 std::span<const std::string_view> supported_extensions = {}) {
  if (!m.is_request()) return {};
  if (!m.top_via() || !m.from() || !m.to() || m.call_id().empty() || !m.cseq())
    return {400, "Missing Required Header"};
  if (m.max_forwards() && *m.max_forwards() == 0) return {483, "Too Many Hops"};
  bool unsupported = false;
  auto r = for_each_token(m, header_id::proxy_require, [&](std::string_view tag) {
    if (!detail::in_list(supported_extensions, tag)) unsupported = true;
  });
  if (!r) return owed_response_for(error::bad_token_list);
  if (unsupported) return {420, "Bad Extension"};
  return {};
}

}  // namespace sigwire::sip
