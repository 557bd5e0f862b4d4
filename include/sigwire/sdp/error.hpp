// sigwire/sdp/error.hpp - SDP errors (RFC 8866 syntax, RFC 3264 offer/answer)
// and the limits every peer-controlled count is checked against.
//
// Parse errors come with the 1-based line number where they were found
// (session_view::error_line()); negotiator errors name the misuse or the RFC
// 3264 rule the peer broke. Values are never renumbered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include <sigwire/core/error.hpp>

namespace sigwire::sdp {

enum class error {
  // --- syntax (RFC 8866 §5, §9) ---
  empty_input = 1,         // no lines at all
  line_too_long,           // a line longer than limits::max_line_bytes
  message_too_large,       // input larger than limits::max_bytes
  bad_line_syntax,         // not "<type>=<value>" (type is one lower-case letter)
  bad_character,           // NUL, CR without LF, or another control byte in a line
  unknown_line_type,       // a type letter RFC 8866 does not define
  line_out_of_order,       // violates v o s i u e p c b t r z k a m order (§5)
  duplicate_line,          // a line that may appear once appeared twice
  missing_version,         // first line is not v=
  bad_version,             // v= other than 0
  missing_origin,          // no o= line
  bad_origin,              // o= does not have 6 fields
  missing_session_name,    // no s= line
  missing_timing,          // no t= line
  bad_timing,              // t= or r= malformed
  bad_connection,          // c= malformed
  missing_connection,      // a media section has no c= and the session has none (§5.7)
  bad_bandwidth,           // b= malformed
  bad_media,               // m= malformed (media, port[/count], proto, formats)
  bad_attribute,           // a= with an empty name, or a known attribute with bad syntax
  too_many_media,          // more m= sections than limits::max_media
  too_many_attributes,     // more a= lines in one section than limits::max_attributes
  too_many_lines,          // more lines of one kind than limits::max_lines
  // --- offer/answer (RFC 3264) and negotiator usage ---
  invalid_state = 100,     // the call is not allowed in the negotiator's current state
  media_count_mismatch,    // answer m-line count differs from the offer (§6)
  media_type_mismatch,     // answer m-line media/proto differs from the offer (§6)
  no_common_codec,         // answer accepted a stream with no format from the offer (§6.1)
  no_media,                // nothing to offer: empty capability set
  bad_direction,           // the answer's direction contradicts the offer (§6.1)
  missing_fingerprint,     // DTLS proto without a=fingerprint (RFC 8842)
};

constexpr const char* error_category_name(error) noexcept { return "sigwire.sdp"; }

constexpr std::string_view error_message(error e) noexcept {
  switch (e) {
    case error::empty_input: return "empty SDP";
    case error::line_too_long: return "SDP line too long";
    case error::message_too_large: return "SDP too large";
    case error::bad_line_syntax: return "SDP line is not <type>=<value>";
    case error::bad_character: return "control character in SDP line";
    case error::unknown_line_type: return "unknown SDP line type";
    case error::line_out_of_order: return "SDP line out of order";
    case error::duplicate_line: return "SDP line repeated";
    case error::missing_version: return "SDP does not start with v=";
    case error::bad_version: return "SDP version is not 0";
    case error::missing_origin: return "SDP has no o= line";
    case error::bad_origin: return "malformed o= line";
    case error::missing_session_name: return "SDP has no s= line";
    case error::missing_timing: return "SDP has no t= line";
    case error::bad_timing: return "malformed t= or r= line";
    case error::bad_connection: return "malformed c= line";
    case error::missing_connection: return "media has no connection address";
    case error::bad_bandwidth: return "malformed b= line";
    case error::bad_media: return "malformed m= line";
    case error::bad_attribute: return "malformed a= line";
    case error::too_many_media: return "too many media sections";
    case error::too_many_attributes: return "too many attributes";
    case error::too_many_lines: return "too many SDP lines";
    case error::invalid_state: return "negotiator call not allowed in this state";
    case error::media_count_mismatch: return "answer has a different number of m-lines than the offer";
    case error::media_type_mismatch: return "answer m-line does not match the offered media";
    case error::no_common_codec: return "answer accepted a stream without a common format";
    case error::no_media: return "no media to offer";
    case error::bad_direction: return "answer direction contradicts the offer";
    case error::missing_fingerprint: return "DTLS media without a fingerprint";
  }
  return "unknown sigwire.sdp error";
}

inline std::error_code make_error_code(error e) noexcept { return core::make_error_code_for(e); }

// Every count a peer controls, with safe defaults. None is a fixed array size:
// browsers send 280+ attributes in one media section, so the defaults are far
// above that and every excess is a distinct error.
struct limits {
  std::size_t max_bytes = 256 * 1024;        // whole description
  std::size_t max_line_bytes = 16 * 1024;    // one line, without its line end
  std::size_t max_media = 256;               // m= sections
  std::size_t max_attributes = 4096;         // a= lines per section (session or media)
  std::size_t max_lines = 256;               // c=, b=, e=, p=, t=, r= lines per section
  std::size_t max_formats = 512;             // formats on one m= line

  bool operator==(const limits&) const = default;
};

// The coarse condition of each error (core/error.hpp): every value named.
constexpr core::condition coarse_condition(error e) noexcept {
  using core::condition;
  switch (e) {
    case error::line_too_long:
    case error::message_too_large:
    case error::too_many_media:
    case error::too_many_attributes:
    case error::too_many_lines: return condition::limit_exceeded;
    case error::empty_input:
    case error::bad_line_syntax:
    case error::bad_character:
    case error::unknown_line_type:
    case error::line_out_of_order:
    case error::duplicate_line:
    case error::missing_version:
    case error::bad_version:
    case error::missing_origin:
    case error::bad_origin:
    case error::missing_session_name:
    case error::missing_timing:
    case error::bad_timing:
    case error::bad_connection:
    case error::missing_connection:
    case error::bad_bandwidth:
    case error::bad_media:
    case error::bad_attribute:
    case error::media_count_mismatch:  // an answer that breaks RFC 3264 §6
    case error::media_type_mismatch:
    case error::bad_direction:
    case error::missing_fingerprint: return condition::malformed;
    case error::no_common_codec: return condition::rejected;
    case error::invalid_state:
    case error::no_media: return condition::invalid_use;
  }
  return condition::malformed;
}

}  // namespace sigwire::sdp

template <>
struct std::is_error_code_enum<sigwire::sdp::error> : std::true_type {};
