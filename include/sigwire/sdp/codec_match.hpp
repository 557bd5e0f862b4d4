// sigwire/sdp/codec_match.hpp - RFC 3264 §6.1 format matching: encoding
// name (case-insensitive), clock rate, channels, and the fmtp parameters that
// change what the stream is (H.264 packetization-mode / profile, VP9
// profile-id, telephone-event events).
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sigwire/core/ascii.hpp>
#include <sigwire/sdp/attributes.hpp>

namespace sigwire::sdp {

// A format as both sides describe it: a payload type plus its rtpmap (from
// a=rtpmap, or from the RFC 3551 §6 static table) and its fmtp parameters.
struct format_desc {
  unsigned payload_type = 0;
  std::string_view encoding;
  std::uint32_t clock_rate = 0;
  std::uint32_t channels = 1;
  std::string_view fmtp;  // parameters only
};

// RFC 3551 §6 static payload types (Table 4 and 5).
constexpr std::optional<format_desc> static_format(unsigned pt) noexcept {
  switch (pt) {
    case 0: return format_desc{0, "PCMU", 8000, 1, {}};
    case 3: return format_desc{3, "GSM", 8000, 1, {}};
    case 4: return format_desc{4, "G723", 8000, 1, {}};
    case 5: return format_desc{5, "DVI4", 8000, 1, {}};
    case 6: return format_desc{6, "DVI4", 16000, 1, {}};
    case 7: return format_desc{7, "LPC", 8000, 1, {}};
    case 8: return format_desc{8, "PCMA", 8000, 1, {}};
    case 9: return format_desc{9, "G722", 8000, 1, {}};
    case 10: return format_desc{10, "L16", 44100, 2, {}};
    case 11: return format_desc{11, "L16", 44100, 1, {}};
    case 12: return format_desc{12, "QCELP", 8000, 1, {}};
    case 13: return format_desc{13, "CN", 8000, 1, {}};
    case 14: return format_desc{14, "MPA", 90000, 1, {}};
    case 15: return format_desc{15, "G728", 8000, 1, {}};
    case 18: return format_desc{18, "G729", 8000, 1, {}};
    case 25: return format_desc{25, "CelB", 90000, 1, {}};
    case 26: return format_desc{26, "JPEG", 90000, 1, {}};
    case 28: return format_desc{28, "nv", 90000, 1, {}};
    case 31: return format_desc{31, "H261", 90000, 1, {}};
    case 32: return format_desc{32, "MPV", 90000, 1, {}};
    case 33: return format_desc{33, "MP2T", 90000, 1, {}};
    case 34: return format_desc{34, "H263", 90000, 1, {}};
    default: return std::nullopt;
  }
}

namespace detail {

inline std::optional<std::string_view> fmtp_param(std::string_view params, std::string_view name) {
  return fmtp{{}, params}.param(name);
}

// RFC 6184 §8.1: packetization-mode defaults to 0 and must be equal.
// profile-level-id = profile_idc, profile-iop, level_idc (hex). The profile
// must be equal; for Baseline (0x42) constraint_set1 (0x40 in profile-iop)
// separates Constrained Baseline, which Baseline decoders cannot assume. The
// level may differ (the answerer may pick a lower one, RFC 6184 §8.2.2).
inline bool h264_compatible(std::string_view a, std::string_view b) {
  auto mode = [](std::string_view p) { return fmtp_param(p, "packetization-mode").value_or("0"); };
  if (mode(a) != mode(b)) return false;
  auto profile = [](std::string_view p) -> int {
    const auto v = fmtp_param(p, "profile-level-id").value_or("42000a");
    if (v.size() != 6) return -1;
    for (char c : v)
      if (!core::ascii::is_hex(c)) return -1;
    const int idc = core::ascii::hex_value(v[0]) * 16 + core::ascii::hex_value(v[1]);
    const int iop = core::ascii::hex_value(v[2]) * 16 + core::ascii::hex_value(v[3]);
    return idc == 0x42 ? (idc << 8) | (iop & 0x40) : idc << 8;
  };
  const int pa = profile(a), pb = profile(b);
  return pa >= 0 && pa == pb;
}

// VP9 profile-id (draft-ietf-payload-vp9 §6): default 0, must be equal.
inline bool vp9_compatible(std::string_view a, std::string_view b) {
  return fmtp_param(a, "profile-id").value_or("0") == fmtp_param(b, "profile-id").value_or("0");
}

// RFC 4733 §7.1.1 event list "0-15,66,70"; absent means 0-15.
inline std::bitset<256> dtmf_events(std::string_view params) {
  std::bitset<256> set;
  std::string_view list = params;
  if (list.find('=') != std::string_view::npos || list.find(';') != std::string_view::npos)
    list = fmtp_param(params, "events").value_or("");  // "events=0-15" form
  if (core::ascii::trim(list).empty()) list = "0-15";
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = core::ascii::trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    const auto dash = item.find('-');
    auto lo = to_uint<unsigned>(item.substr(0, dash), 255);
    auto hi = dash == std::string_view::npos ? lo : to_uint<unsigned>(item.substr(dash + 1), 255);
    if (!lo || !hi || *hi < *lo) continue;
    for (unsigned e = *lo; e <= *hi; ++e) set.set(e);
  }
  return set;
}

inline std::string format_events(const std::bitset<256>& set) {
  std::string out;
  for (unsigned e = 0; e < 256;) {
    if (!set.test(e)) {
      ++e;
      continue;
    }
    unsigned end = e;
    while (end + 1 < 256 && set.test(end + 1)) ++end;
    if (!out.empty()) out += ',';
    out += std::to_string(e);
    if (end != e) out += '-' + std::to_string(end);
    e = end + 1;
  }
  return out;
}

}  // namespace detail

// True when the two descriptions name the same codec configuration.
inline bool formats_match(const format_desc& a, const format_desc& b) {
  if (!core::ascii::iequals(a.encoding, b.encoding) || a.clock_rate != b.clock_rate || a.channels != b.channels)
    return false;
  if (core::ascii::iequals(a.encoding, "H264")) return detail::h264_compatible(a.fmtp, b.fmtp);
  if (core::ascii::iequals(a.encoding, "VP9")) return detail::vp9_compatible(a.fmtp, b.fmtp);
  if (core::ascii::iequals(a.encoding, "telephone-event"))
    return (detail::dtmf_events(a.fmtp) & detail::dtmf_events(b.fmtp)).any();
  return true;
}

}  // namespace sigwire::sdp
