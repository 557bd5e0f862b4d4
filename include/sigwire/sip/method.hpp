// sigwire/sip/method.hpp - SIP request methods as an enum (RFC 3261 §7.1, §27.4).
//
//   sip::method m = sip::parse_method(view.method());   // method::other if unknown
//   sip::text(sip::method::invite) == "INVITE"
//
// Methods are case-sensitive (RFC 3261 §7.1): "invite" is method::other.
// Extension methods named here: PRACK (RFC 3262), UPDATE (RFC 3311), INFO
// (RFC 6086), MESSAGE (RFC 3428), SUBSCRIBE/NOTIFY (RFC 6665), REFER
// (RFC 3515), PUBLISH (RFC 3903). Any other token is method::other; its
// text stays in the message.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sigwire::sip {

enum class method : std::uint8_t {
  invite, ack, bye, cancel, register_, options, prack, update, info, message, subscribe, notify, refer, publish, other
};

namespace detail {
inline constexpr std::array<std::string_view, 15> method_texts{
    "INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "UPDATE",
    "INFO", "MESSAGE", "SUBSCRIBE", "NOTIFY", "REFER", "PUBLISH", ""};
}  // namespace detail

// The method's token; "" for method::other (read the message's own text).
constexpr std::string_view text(method m) noexcept { return detail::method_texts[static_cast<std::size_t>(m)]; }

// Exact, case-sensitive match (RFC 3261 §7.1); method::other for any other token.
constexpr method parse_method(std::string_view token) noexcept {
  if (token.empty()) return method::other;
  for (std::size_t i = 0; i + 1 < detail::method_texts.size(); ++i)
    if (detail::method_texts[i] == token) return static_cast<method>(i);
  return method::other;
}

}  // namespace sigwire::sip
