// sigwire/http/error.hpp - errors of the HTTP/1.1 upgrade-head parser.
// Values are never renumbered once published.
#pragma once

#include <string_view>
#include <system_error>

#include <sigwire/core/error.hpp>

namespace sigwire::http {

enum class error {
  head_too_large = 1,   // the head exceeds limits::max_head_bytes
  too_many_headers,     // more than limits::max_headers header fields
  bad_request_line,     // not "METHOD SP request-target SP HTTP-version CRLF"
  bad_method,           // method is not a token
  bad_target,           // request-target empty or containing CTL/SP
  bad_version,          // not "HTTP/1.x"
  bad_status_line,      // not "HTTP-version SP 3DIGIT SP reason CRLF"
  bad_status_code,      // status code not three digits
  bad_header_name,      // field name empty or not a token
  bad_header_value,     // CTL (other than HT) in a field value
  obsolete_folding,     // obs-fold (RFC 7230 §3.2.4: a server rejects it)
  bad_line_ending,      // bare CR, or LF without CR
};

constexpr const char* error_category_name(error) noexcept { return "sigwire.http"; }

constexpr std::string_view error_message(error e) noexcept {
  switch (e) {
    case error::head_too_large: return "HTTP head too large";
    case error::too_many_headers: return "too many HTTP header fields";
    case error::bad_request_line: return "malformed HTTP request line";
    case error::bad_method: return "malformed HTTP method";
    case error::bad_target: return "malformed HTTP request target";
    case error::bad_version: return "unsupported HTTP version";
    case error::bad_status_line: return "malformed HTTP status line";
    case error::bad_status_code: return "malformed HTTP status code";
    case error::bad_header_name: return "malformed HTTP header name";
    case error::bad_header_value: return "malformed HTTP header value";
    case error::obsolete_folding: return "obsolete HTTP header line folding";
    case error::bad_line_ending: return "malformed HTTP line ending";
  }
  return "unknown sigwire.http error";
}

inline std::error_code make_error_code(error e) noexcept { return core::make_error_code_for(e); }

// The coarse condition of each error (core/error.hpp): every value named.
constexpr core::condition coarse_condition(error e) noexcept {
  using core::condition;
  switch (e) {
    case error::head_too_large:
    case error::too_many_headers: return condition::limit_exceeded;
    case error::bad_request_line:
    case error::bad_method:
    case error::bad_target:
    case error::bad_version:
    case error::bad_status_line:
    case error::bad_status_code:
    case error::bad_header_name:
    case error::bad_header_value:
    case error::obsolete_folding:
    case error::bad_line_ending: return condition::malformed;
  }
  return condition::malformed;
}

}  // namespace sigwire::http

template <>
struct std::is_error_code_enum<sigwire::http::error> : std::true_type {};
