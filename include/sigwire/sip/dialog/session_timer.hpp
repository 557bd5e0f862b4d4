// sigwire/sip/dialog/session_timer.hpp - session timers (RFC 4028): the
// Session-Expires and Min-SE values and the two deadlines, as small pure
// pieces the session layer drives (PJSIP keeps the same in sip_timer.c).
//
//   The refresher sends a refresh (re-INVITE) at half the interval; the other
//   side ends the session with BYE when no refresh came by
//   interval - min(32 s, interval / 3) (§10). A UAS refuses an interval below
//   its Min-SE with 422 carrying Min-SE (§8.1); the UAC retries with it (§7.4).
#pragma once

#include <sigwire/sip/access.hpp>
#include <sigwire/sip/dialog/prack.hpp>
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/transaction/timers.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sigwire::sip::dialog::session_timer {

inline constexpr std::string_view option_tag = "timer";

struct session_expires {
  std::uint32_t seconds = 0;
  enum class refresher : std::uint8_t { unspecified, uac, uas } who = refresher::unspecified;
};

// Session-Expires (compact form "x"): delta-seconds *( ";" se-params ).
inline std::optional<session_expires> parse_session_expires(const message_view& m) {
  const header_field* h = m.find(header_id::session_expires);
  if (!h) return std::nullopt;
  std::string_view v = h->value;
  const std::size_t semi = v.find(';');
  const auto seconds = prack::parse_u32(v.substr(0, semi));
  if (!seconds || *seconds == 0) return std::nullopt;
  session_expires se{*seconds};
  if (semi != std::string_view::npos) {
    const std::string_view params = v.substr(semi);
    if (params.find("refresher=uac") != std::string_view::npos) se.who = session_expires::refresher::uac;
    if (params.find("refresher=uas") != std::string_view::npos) se.who = session_expires::refresher::uas;
  }
  return se;
}

inline std::optional<std::uint32_t> parse_min_se(const message_view& m) {
  const header_field* h = m.find("Min-SE");
  if (!h) return std::nullopt;
  std::string_view v = h->value;
  return prack::parse_u32(v.substr(0, v.find(';')));
}

inline std::string value(std::uint32_t seconds, bool refresher_is_uac) {
  return std::to_string(seconds) + (refresher_is_uac ? ";refresher=uac" : ";refresher=uas");
}

// When the refresher refreshes (§10: half the interval is recommended).
inline transaction::duration refresh_after(std::uint32_t seconds) {
  return std::chrono::duration_cast<transaction::duration>(std::chrono::seconds(seconds)) / 2;
}
// When the other side gives up and sends BYE (§10).
inline transaction::duration expire_after(std::uint32_t seconds) {
  const auto interval = std::chrono::duration_cast<transaction::duration>(std::chrono::seconds(seconds));
  return interval - std::min<transaction::duration>(std::chrono::seconds(32), interval / 3);
}

}  // namespace sigwire::sip::dialog::session_timer
