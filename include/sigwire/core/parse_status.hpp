// sigwire/core/parse_status.hpp - the one shape of an incremental parser's
// answer: "need more input" is a status, not an error (picohttpparser keeps
// "partial" apart from "failed" the same way). The HTTP head parser
// (http::parse_result), the WebSocket frame header decoder
// (ws::decode_result), the SIP message parser (sip::parse_result, need_more
// for stream input only) and the SIP stream framer (sip::frame) report it,
// with an error code only when failed. No layer has a "need more" error
// code.
#pragma once

namespace sigwire::core {

enum class parse_status {
  complete,   // a whole unit (head, frame header, message) was found
  need_more,  // valid so far; read more bytes and call again with all of them
  failed,     // the input violates the protocol: see the result's error code
};

}  // namespace sigwire::core
