// sigwire/sdp/codec_match.hpp - RFC 3264 §6.1 format matching: encoding
// name (case-insensitive), clock rate, channels, and the fmtp parameters that
// change what the stream is. Every codec-specific rule the offer/answer code
// applies is one row of `codec_rules` below (H.264 profile-level-id and
// packetization-mode, VP9 profile-id, rtx with apt, telephone-event events,
// the supporting formats CN, red and ulpfec); the builders never test a codec
// name themselves.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <sigwire/core/ascii.hpp>
#include <sigwire/sdp/attributes.hpp>
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/view.hpp>

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
// The key packs the profile and the mode; nullopt when either is malformed
// (such a format matches nothing). One pass over the parameters.
inline std::optional<std::uint64_t> h264_configuration(std::string_view params) {
  std::string_view mode = "0", level_id = "42000a";
  bool mode_seen = false, level_seen = false;
  fmtp{{}, params}.for_each_param([&](std::string_view name, std::string_view value) {
    if (!mode_seen && core::ascii::iequals(name, "packetization-mode")) {
      mode = value;
      mode_seen = true;
    } else if (!level_seen && core::ascii::iequals(name, "profile-level-id")) {
      level_id = value;
      level_seen = true;
    }
    return !(mode_seen && level_seen);
  });
  const auto mode_number = to_uint<std::uint32_t>(mode);
  if (!mode_number || level_id.size() != 6) return std::nullopt;
  for (char ch : level_id)
    if (!core::ascii::is_hex(ch)) return std::nullopt;
  const int idc = core::ascii::hex_value(level_id[0]) * 16 + core::ascii::hex_value(level_id[1]);
  const int iop = core::ascii::hex_value(level_id[2]) * 16 + core::ascii::hex_value(level_id[3]);
  const auto profile = static_cast<std::uint64_t>(idc == 0x42 ? (idc << 8) | (iop & 0x40) : idc << 8);
  return profile << 32 | *mode_number;
}

// VP9 profile-id (RFC 9628 §6): default 0, must be equal.
inline std::optional<std::uint64_t> vp9_configuration(std::string_view params) {
  return to_uint<std::uint64_t>(fmtp_param(params, "profile-id").value_or("0"));
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
    write_number(out, e);
    if (end != e) {
      out += '-';
      write_number(out, end);
    }
    e = end + 1;
  }
  return out;
}

// RFC 4733 §7.1.1: two telephone-event formats describe the same stream
// when they share at least one event.
inline bool dtmf_events_overlap(std::string_view a, std::string_view b) {
  return (dtmf_events(a) & dtmf_events(b)).any();
}

}  // namespace detail

// --- the codec table ---------------------------------------------------------------

// What a format is for. Only `media` carries a stream by itself: an answer
// whose only common formats are DTMF, comfort noise, FEC or retransmission
// rejects the m-line (RFC 3264 §6.1: no usable codec).
enum class codec_role { media, dtmf, comfort_noise, redundancy, retransmission };

// What our answer's a=fmtp says for an accepted format.
enum class answer_fmtp {
  ours,              // the parameters we receive with (codec_capability::fmtp)
  echo_offer,        // the offer's: they describe the stream itself
  intersect_events,  // telephone-event: the events both sides support
};

struct codec_rule {
  std::string_view encoding;  // compared case-insensitively
  codec_role role;
  // The fmtp parameters that must be equal for two formats to be the same
  // codec configuration, packed into one number (nullopt: malformed, equal
  // to nothing). A key is read once per format and compared many times.
  std::optional<std::uint64_t> (*configuration)(std::string_view fmtp);
  // For a codec whose formats agree when their parameters overlap rather
  // than when they are equal (telephone-event's event lists).
  bool (*overlapping)(std::string_view fmtp_a, std::string_view fmtp_b);
  // Neither: name, rate and channels decide.
  sdp::answer_fmtp answer_fmtp;
};

inline constexpr std::array codec_rules{
    // RFC 6184 §8.1, §8.2.2: profile and packetization-mode define the stream.
    codec_rule{"H264", codec_role::media, detail::h264_configuration, nullptr, answer_fmtp::echo_offer},
    // VP9 RTP payload (RFC 9628 §6): profile-id defines the stream.
    codec_rule{"VP9", codec_role::media, detail::vp9_configuration, nullptr, answer_fmtp::echo_offer},
    // RFC 4588 §8.6: apt names the associated payload type; paired through it.
    codec_rule{"rtx", codec_role::retransmission, nullptr, nullptr, answer_fmtp::echo_offer},
    // RFC 4733 §7.1.1: events are negotiated as an intersection.
    codec_rule{"telephone-event", codec_role::dtmf, nullptr, detail::dtmf_events_overlap,
               answer_fmtp::intersect_events},
    codec_rule{"CN", codec_role::comfort_noise, nullptr, nullptr, answer_fmtp::ours},   // RFC 3389
    codec_rule{"red", codec_role::redundancy, nullptr, nullptr, answer_fmtp::ours},     // RFC 2198
    codec_rule{"ulpfec", codec_role::redundancy, nullptr, nullptr, answer_fmtp::ours},  // RFC 5109
};

// Every other codec: a media codec matched by name, rate and channels, our
// own fmtp in answers (opus, G.711, G.722, VP8, AV1 ...).
inline constexpr codec_rule default_codec_rule{{}, codec_role::media, nullptr, nullptr, answer_fmtp::ours};

inline const codec_rule& rule_for(std::string_view encoding) noexcept {
  for (const auto& r : codec_rules)
    if (core::ascii::iequals(r.encoding, encoding)) return r;
  return default_codec_rule;
}

// A format ready to be compared many times: its rule found and its
// configuration key read once (an answer compares every offered format with
// each of our codecs; a WebRTC offer has a dozen H.264 formats).
struct prepared_format {
  format_desc desc;
  const codec_rule* rule = &default_codec_rule;
  // rule->configuration's key, when it has one and the fmtp is well-formed
  // (two plain fields: GCC 12 sees an optional here as maybe uninitialized).
  std::uint64_t key = 0;
  bool has_key = false;

  prepared_format() = default;
  explicit prepared_format(const format_desc& d) : desc(d), rule(&rule_for(d.encoding)) {
    if (!rule->configuration) return;
    const auto k = rule->configuration(d.fmtp);
    has_key = k.has_value();
    key = k.value_or(0);
  }
  // Same name, clock rate and channels: the codec (not yet its configuration).
  bool same_codec(const format_desc& o) const noexcept {
    return desc.clock_rate == o.clock_rate && desc.channels == o.channels && core::ascii::iequals(desc.encoding, o.encoding);
  }
};

// True when the two descriptions name the same codec configuration.
inline bool formats_match(const prepared_format& a, const prepared_format& b) {
  if (!a.same_codec(b.desc)) return false;
  if (a.rule->configuration) return a.has_key && b.has_key && a.key == b.key;
  return !a.rule->overlapping || a.rule->overlapping(a.desc.fmtp, b.desc.fmtp);
}
inline bool formats_match(const format_desc& a, const format_desc& b) {
  if (a.clock_rate != b.clock_rate || a.channels != b.channels || !core::ascii::iequals(a.encoding, b.encoding))
    return false;
  return formats_match(prepared_format(a), prepared_format(b));
}

// The associated payload type of an rtx format (RFC 4588 §8.6), if valid.
inline std::optional<unsigned> rtx_apt(const format_desc& f) {
  auto apt = detail::fmtp_param(f.fmtp, "apt");
  return apt ? detail::to_uint<unsigned>(*apt, 127) : std::nullopt;
}

// Formats of an m-line with their rtpmap (or the static table) and fmtp.
// One pass indexes the rtpmap and fmtp lines by payload type (a WebRTC video
// m-line has some 40 formats and 150 attributes: a search per format was
// quadratic); a line the index cannot use falls back to the search, so the
// result is rtpmap_for()'s and fmtp_for()'s exactly. `keep(desc)` sees each
// format before its fmtp is looked up (desc.fmtp empty) and leaves out those
// it returns false for: an answerer skips the codecs it does not have.
template <class Keep>
std::vector<format_desc> describe_formats(const media_view& m, Keep&& keep) {
  std::array<std::uint16_t, 128> rtpmap_at{}, fmtp_at{};  // 1 + attribute index; 0: none
  for (std::size_t i = 0; i < m.attributes.size() && i < 0xffff; ++i) {
    const attribute_view& a = m.attributes[i];
    const attribute_kind kind = a.resolved_kind();
    const bool is_rtpmap = kind == attribute_kind::rtpmap;
    if (!is_rtpmap && kind != attribute_kind::fmtp) continue;
    auto& table = is_rtpmap ? rtpmap_at : fmtp_at;
    if (const auto pt = a.leading_payload_type(); pt && !table[*pt]) table[*pt] = static_cast<std::uint16_t>(i + 1);
  }
  std::vector<format_desc> out;
  out.reserve(m.formats.size());
  for (auto f : m.formats) {
    auto pt = detail::to_uint<unsigned>(f, 127);
    if (!pt) continue;
    std::optional<rtpmap> r;
    if (rtpmap_at[*pt]) r = parse_rtpmap(m.attributes[rtpmap_at[*pt] - 1].value);
    if (rtpmap_at[*pt] && !r) r = m.rtpmap_for(*pt);  // the first one is malformed: a later one may serve
    format_desc d;
    if (r) {
      d = {*pt, r->encoding, r->clock_rate, r->channels(), {}};
    } else if (auto st = static_format(*pt)) {
      d = *st;
    } else {
      continue;  // dynamic PT without rtpmap: unusable (RFC 8866 §6.6)
    }
    if (!keep(std::as_const(d))) continue;
    std::optional<fmtp> p;
    if (fmtp_at[*pt]) p = parse_fmtp(m.attributes[fmtp_at[*pt] - 1].value);
    if (fmtp_at[*pt] && (!p || p->format != f)) p = m.fmtp_for(f);  // "096" or malformed: search as before
    if (p) d.fmtp = p->params;
    out.push_back(d);
  }
  return out;
}
inline std::vector<format_desc> describe_formats(const media_view& m) {
  return describe_formats(m, [](const format_desc&) { return true; });
}

}  // namespace sigwire::sdp
