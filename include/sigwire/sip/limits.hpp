// sigwire/sip/limits.hpp - every peer-controlled count has a limit, and
// every tolerance of broken peers is a named opt-in (strict by default).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sigwire::sip {

struct limits {
  std::size_t max_message_size = 65535;  // start line + headers + body (a UDP datagram's maximum)
  std::size_t max_header_line = 8192;    // one header field incl. folded continuation lines
  std::size_t max_headers = 256;         // header fields per message (inline array + arena)
  std::size_t max_body_size = 65535;     // Content-Length accepted
  std::size_t max_values = 64;           // comma-separated values in one decoded header (Via, Contact...)
  std::size_t max_params = 32;           // ;params on one header value or URI
};

// Tolerances real peers need. Each one widens what is accepted; the risk
// written next to it is why it is off by default (compare llhttp's
// llhttp_set_lenient_* flags).
enum leniency : std::uint32_t {
  strict = 0,
  // Accept LF alone as a line end. Risk: a front end that splits on CRLF and
  // a back end that splits on LF disagree on where headers end (request
  // smuggling between elements that parse differently).
  lenient_bare_lf = 1u << 0,
  // Accept "sip/2.0" in any letter case. RFC 3261 §7.1 says senders MUST use
  // upper case; accepting other spellings hides a broken or probing peer.
  lenient_version_case = 1u << 1,
  // Accept a message whose header section ends without the empty line
  // (e.g. RFC 4475 baddn.dat) when the datagram ends right after a header.
  // Risk: a truncated datagram is taken as complete.
  lenient_missing_final_crlf = 1u << 2,
  // Accept several SP between start-line elements and trailing SP
  // (RFC 4475 §3.1.2.9/10). Risk: an element that forwards the line as-is
  // passes on a malformed line; the Request-URI boundary becomes guesswork.
  lenient_start_line_spaces = 1u << 3,
  // Accept a missing Content-Length on a stream by assuming an empty body.
  // Risk: a body that follows is read as the next message (smuggling).
  lenient_stream_missing_content_length = 1u << 4,
};

enum class transport_kind : std::uint8_t {
  datagram,  // UDP: one message per datagram; trailing octets ignored (RFC 3261 §18.3)
  stream,    // TCP/TLS/WS after framing: Content-Length mandatory
};

struct parse_options {
  sip::limits limits{};  // named as in every layer (sdp::parse_options, ws::connection_options, transport options)
  std::uint32_t lenient = strict;
  transport_kind transport = transport_kind::datagram;
};

}  // namespace sigwire::sip
