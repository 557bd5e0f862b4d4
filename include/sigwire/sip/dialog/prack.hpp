// sigwire/sip/dialog/prack.hpp - reliable provisional responses (RFC 3262):
// the option tag, RSeq and RAck, as small pure functions the session layer
// uses (PJSIP keeps the same concern in sip_100rel.c).
//
//   UAS: a 101-199 is sent reliably when the INVITE has 100rel in Supported
//        or Require: with "Require: 100rel" and "RSeq: N" (N + 1 for the next),
//        re-sent from T1 doubling until the PRACK; no PRACK in 64*T1: 5xx (§3).
//   UAC: a 1xx with "Require: 100rel" and an RSeq one above the last (or the
//        first of its dialog) gets a PRACK with "RAck: RSeq CSeq-number
//        INVITE" (§7.2); a retransmitted one is ignored (§4).
#pragma once

#include <sigwire/sip/access.hpp>
#include <sigwire/sip/message.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sigwire::sip::dialog::prack {

inline constexpr std::string_view option_tag = "100rel";

// Whether `m` lists `tag` in header `id` (Supported, Require, Allow): up to
// the first element that is not a token (sip::for_each_token stops there
// too), and no further than `tag` (asked several times of each message).
inline bool lists(const message_view& m, header_id id, std::string_view tag) {
  for (const header_field& h : m.headers()) {
    if (h.id != id) continue;
    sip::detail::comma_splitter values(h.value);
    std::string_view e;
    bool bad = false;
    while (values.next(e, bad)) {
      if (e == tag) return true;
      if (!core::ascii::all_of_class(e, core::ascii::cls_sip_token)) return false;  // "" too
    }
    if (bad) return false;
  }
  return false;
}

// RFC 3262 §3: the UAS may send a 1xx reliably when the UAC supports 100rel.
inline bool peer_supports(const message_view& invite) {
  return lists(invite, header_id::supported, option_tag) || lists(invite, header_id::require, option_tag);
}

// A 32-bit number between optional spaces (RSeq, RAck's parts, Session-Expires ...).
inline std::optional<std::uint32_t> parse_u32(std::string_view s) noexcept {
  const auto r = sip::detail::parse_u32(core::ascii::trim(s));
  return r ? std::optional<std::uint32_t>(r.value) : std::nullopt;
}

// §7.1 RSeq of a reliable provisional response (1..2^31-1), nullopt when the
// response is not one (no Require: 100rel, or no valid RSeq).
inline std::optional<std::uint32_t> rseq_of(const message_view& response) {
  if (!response.is_response() || response.status() <= 100 || response.status() >= 200) return std::nullopt;
  if (!lists(response, header_id::require, option_tag)) return std::nullopt;
  const header_field* h = response.find("RSeq");
  if (!h) return std::nullopt;
  const auto v = parse_u32(h->value);
  if (!v || *v == 0 || *v >= 0x80000000u) return std::nullopt;
  return v;
}

struct rack {
  std::uint32_t rseq = 0, cseq = 0;
  std::string_view method{};
};

// §7.2 RAck: response-num CSeq-num Method.
inline std::optional<rack> rack_of(const message_view& prack_request) {
  const header_field* h = prack_request.find("RAck");
  if (!h) return std::nullopt;
  std::string_view v = h->value;
  rack r;
  std::string_view parts[3];
  for (std::string_view& p : parts) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    const std::size_t end = std::min(v.find_first_of(" \t"), v.size());
    p = v.substr(0, end);
    v.remove_prefix(end);
  }
  const auto rseq = parse_u32(parts[0]);
  const auto cseq = parse_u32(parts[1]);
  if (!rseq || !cseq || parts[2].empty()) return std::nullopt;
  r.rseq = *rseq;
  r.cseq = *cseq;
  r.method = parts[2];
  return r;
}

inline std::string rack_value(std::uint32_t rseq, std::uint32_t invite_cseq) {
  return std::to_string(rseq) + " " + std::to_string(invite_cseq) + " INVITE";
}

}  // namespace sigwire::sip::dialog::prack
