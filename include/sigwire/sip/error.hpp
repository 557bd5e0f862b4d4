// sigwire/sip/error.hpp - every way a SIP message, URI, header, stream or
// digest exchange can be malformed, and the response a UAS owes for each
// (RFC 3261 §8.2, §21). Values are never renumbered once published.
#pragma once

#include <sigwire/core/error.hpp>

#include <string_view>
#include <system_error>

namespace sigwire::sip {

enum class error {
  // framing / size -------------------------------------------------------
  // 1 was need_more: an input that ends before the message does is now a
  // status (sip::parse_result, core::parse_status::need_more), not an error.
  message_too_large = 2,   // limits::max_message_size
  header_line_too_long,    // limits::max_header_line
  too_many_headers,        // limits::max_headers, or the arena is full
  body_too_large,          // limits::max_body_size
  too_many_values,         // limits::max_values (Via entries, Contacts, list items)
  too_many_params,         // limits::max_params
  // start line -----------------------------------------------------------
  bad_start_line,          // not "Method SP URI SP Version" / "Version SP Code SP Reason"
  bad_method,              // method is not a token
  bad_request_uri,         // Request-URI does not parse
  uri_headers_in_request_uri,  // RFC 3261 §19.1.1: headers not allowed in a Request-URI
  bad_version,             // SIP-Version syntax
  version_not_supported,   // well-formed but not SIP/2.0 (505)
  bad_status_code,         // not exactly 3 digits in 100..699
  bad_reason_phrase,       // control characters in the reason phrase
  // header section -------------------------------------------------------
  bad_header_name,         // not a token
  bad_header_line,         // no colon, or stray CR/LF
  bad_line_ending,         // bare LF or bare CR (strict mode)
  bad_folding,             // a continuation line with no header before it
  duplicate_header,        // a single-valued routing header appears twice
  // routing headers (validated by parse()) ------------------------------
  bad_via,
  bad_from,
  bad_to,
  bad_call_id,
  bad_cseq,
  cseq_method_mismatch,    // RFC 3261 §8.1.1.5: CSeq method == request method
  bad_max_forwards,
  bad_content_length,
  content_length_mismatch,   // RFC 3261 §18.3: datagram shorter than Content-Length
  missing_content_length,    // RFC 3261 §18.3: mandatory on streams
  // lazily decoded headers ----------------------------------------------
  bad_contact,
  bad_route,
  bad_record_route,
  bad_content_type,
  bad_expires,
  bad_token_list,            // Allow, Supported, Require, Proxy-Require, Unsupported
  bad_auth_header,           // WWW-/Proxy-Authenticate, (Proxy-)Authorization
  bad_date,
  bad_retry_after,
  bad_warning,
  bad_header_value,          // any other header with a known grammar
  header_not_found,          // an accessor asked for a header that is absent
  // URIs -----------------------------------------------------------------
  bad_uri,                   // generic URI syntax
  bad_uri_scheme,
  bad_uri_user,
  bad_uri_host,
  bad_uri_port,
  bad_uri_params,
  bad_uri_headers,
  bad_escape,                // % not followed by two hex digits
  // stream framer --------------------------------------------------------
  framer_failed,             // the framer already failed; the connection must close
  // builder ---------------------------------------------------------------
  buffer_too_small,
  bad_builder_input,         // CR/LF injected into a name or value
  // digest authentication ----------------------------------------------------
  unsupported_auth_scheme,
  unsupported_algorithm,
  unsupported_qop,
  missing_auth_param,
  auth_realm_mismatch,
  auth_nonce_mismatch,
  auth_response_mismatch,
  truncated_message,         // a datagram (or a message handed over whole) ends inside its header section
};

constexpr const char* error_category_name(error) noexcept { return "sigwire.sip"; }

constexpr std::string_view error_name(error e) noexcept {
  switch (e) {
#define SIGWIRE_SIP_E(x) case error::x: return #x;
    SIGWIRE_SIP_E(message_too_large) SIGWIRE_SIP_E(header_line_too_long)
    SIGWIRE_SIP_E(too_many_headers) SIGWIRE_SIP_E(body_too_large) SIGWIRE_SIP_E(too_many_values)
    SIGWIRE_SIP_E(too_many_params) SIGWIRE_SIP_E(bad_start_line) SIGWIRE_SIP_E(bad_method)
    SIGWIRE_SIP_E(bad_request_uri) SIGWIRE_SIP_E(uri_headers_in_request_uri) SIGWIRE_SIP_E(bad_version)
    SIGWIRE_SIP_E(version_not_supported) SIGWIRE_SIP_E(bad_status_code) SIGWIRE_SIP_E(bad_reason_phrase)
    SIGWIRE_SIP_E(bad_header_name) SIGWIRE_SIP_E(bad_header_line) SIGWIRE_SIP_E(bad_line_ending)
    SIGWIRE_SIP_E(bad_folding) SIGWIRE_SIP_E(duplicate_header) SIGWIRE_SIP_E(bad_via)
    SIGWIRE_SIP_E(bad_from) SIGWIRE_SIP_E(bad_to) SIGWIRE_SIP_E(bad_call_id) SIGWIRE_SIP_E(bad_cseq)
    SIGWIRE_SIP_E(cseq_method_mismatch) SIGWIRE_SIP_E(bad_max_forwards) SIGWIRE_SIP_E(bad_content_length)
    SIGWIRE_SIP_E(content_length_mismatch) SIGWIRE_SIP_E(missing_content_length) SIGWIRE_SIP_E(bad_contact)
    SIGWIRE_SIP_E(bad_route) SIGWIRE_SIP_E(bad_record_route) SIGWIRE_SIP_E(bad_content_type)
    SIGWIRE_SIP_E(bad_expires) SIGWIRE_SIP_E(bad_token_list) SIGWIRE_SIP_E(bad_auth_header)
    SIGWIRE_SIP_E(bad_date) SIGWIRE_SIP_E(bad_retry_after) SIGWIRE_SIP_E(bad_warning)
    SIGWIRE_SIP_E(bad_header_value) SIGWIRE_SIP_E(header_not_found) SIGWIRE_SIP_E(bad_uri)
    SIGWIRE_SIP_E(bad_uri_scheme) SIGWIRE_SIP_E(bad_uri_user) SIGWIRE_SIP_E(bad_uri_host)
    SIGWIRE_SIP_E(bad_uri_port) SIGWIRE_SIP_E(bad_uri_params) SIGWIRE_SIP_E(bad_uri_headers)
    SIGWIRE_SIP_E(bad_escape) SIGWIRE_SIP_E(framer_failed) SIGWIRE_SIP_E(buffer_too_small)
    SIGWIRE_SIP_E(bad_builder_input) SIGWIRE_SIP_E(unsupported_auth_scheme)
    SIGWIRE_SIP_E(unsupported_algorithm) SIGWIRE_SIP_E(unsupported_qop) SIGWIRE_SIP_E(missing_auth_param)
    SIGWIRE_SIP_E(auth_realm_mismatch) SIGWIRE_SIP_E(auth_nonce_mismatch)
    SIGWIRE_SIP_E(auth_response_mismatch) SIGWIRE_SIP_E(truncated_message)
#undef SIGWIRE_SIP_E
  }
  return "unknown";
}

constexpr std::string_view error_message(error e) noexcept { return error_name(e); }

inline std::error_code make_error_code(error e) noexcept { return core::make_error_code_for(e); }

// The final response a UAS (or a stateless element) owes a request that
// failed with `e`. The reason phrase names the construct, as RFC 3261 §21.4.1
// suggests ("the reason phrase SHOULD identify the syntax problem").
struct owed_response {
  int status = 0;            // 0: nothing to send (the connection or datagram is dropped)
  std::string_view reason{};
};

constexpr owed_response owed_response_for(error e) noexcept {
  switch (e) {
    case error::message_too_large: return {513, "Message Too Large"};
    case error::header_line_too_long: return {513, "Message Too Large (header line)"};
    case error::too_many_headers: return {513, "Message Too Large (too many headers)"};
    case error::body_too_large: return {513, "Message Too Large (body)"};
    case error::too_many_values: return {513, "Message Too Large (too many header values)"};
    case error::too_many_params: return {513, "Message Too Large (too many parameters)"};
    case error::bad_start_line: return {400, "Bad Request Line"};
    case error::bad_method: return {400, "Bad Method"};
    case error::bad_request_uri: return {400, "Bad Request-URI"};
    case error::uri_headers_in_request_uri: return {400, "Bad Request-URI (headers not allowed)"};
    case error::bad_version: return {400, "Bad SIP-Version"};
    case error::version_not_supported: return {505, "Version Not Supported"};
    case error::bad_status_code: return {0, {}};  // a response: discard
    case error::bad_reason_phrase: return {0, {}};
    case error::bad_header_name: return {400, "Bad Header Name"};
    case error::bad_header_line: return {400, "Bad Header Line"};
    case error::bad_line_ending: return {400, "Bad Line Ending"};
    case error::bad_folding: return {400, "Bad Header Folding"};
    case error::duplicate_header: return {400, "Duplicate Single-Valued Header"};
    case error::bad_via: return {400, "Bad Via Header"};
    case error::bad_from: return {400, "Bad From Header"};
    case error::bad_to: return {400, "Bad To Header"};
    case error::bad_call_id: return {400, "Bad Call-ID Header"};
    case error::bad_cseq: return {400, "Bad CSeq Header"};
    case error::cseq_method_mismatch: return {400, "CSeq Method Does Not Match Request Method"};
    case error::bad_max_forwards: return {400, "Bad Max-Forwards Header"};
    case error::bad_content_length: return {400, "Bad Content-Length Header"};
    case error::content_length_mismatch: return {400, "Content-Length Larger Than Body"};
    case error::missing_content_length: return {400, "Missing Content-Length"};
    case error::bad_contact: return {400, "Bad Contact Header"};
    case error::bad_route: return {400, "Bad Route Header"};
    case error::bad_record_route: return {400, "Bad Record-Route Header"};
    case error::bad_content_type: return {400, "Bad Content-Type Header"};
    case error::bad_expires: return {400, "Bad Expires Header"};
    case error::bad_token_list: return {400, "Bad Option-Tag List"};
    case error::bad_auth_header: return {400, "Bad Authorization Header"};
    case error::bad_date: return {400, "Bad Date Header"};
    case error::bad_retry_after: return {400, "Bad Retry-After Header"};
    case error::bad_warning: return {400, "Bad Warning Header"};
    case error::bad_header_value: return {400, "Bad Header Value"};
    case error::header_not_found: return {400, "Missing Header"};
    case error::bad_uri: return {400, "Bad URI"};
    case error::bad_uri_scheme: return {416, "Unsupported URI Scheme"};
    case error::bad_uri_user: return {400, "Bad URI User"};
    case error::bad_uri_host: return {400, "Bad URI Host"};
    case error::bad_uri_port: return {400, "Bad URI Port"};
    case error::bad_uri_params: return {400, "Bad URI Parameters"};
    case error::bad_uri_headers: return {400, "Bad URI Headers"};
    case error::bad_escape: return {400, "Bad Escape in URI"};
    case error::framer_failed: return {0, {}};
    case error::buffer_too_small: return {500, "Server Internal Error"};
    case error::bad_builder_input: return {500, "Server Internal Error"};
    case error::unsupported_auth_scheme: return {401, "Unauthorized"};
    case error::unsupported_algorithm: return {401, "Unauthorized"};
    case error::unsupported_qop: return {401, "Unauthorized"};
    case error::missing_auth_param: return {400, "Bad Authorization Header"};
    case error::auth_realm_mismatch: return {401, "Unauthorized"};
    case error::auth_nonce_mismatch: return {401, "Unauthorized"};
    case error::auth_response_mismatch: return {403, "Forbidden"};
    case error::truncated_message: return {400, "Truncated Message"};
  }
  return {400, "Bad Request"};
}

// The coarse condition of each error (core/error.hpp): every value named.
constexpr core::condition coarse_condition(error e) noexcept {
  using core::condition;
  switch (e) {
    case error::message_too_large:
    case error::header_line_too_long:
    case error::too_many_headers:
    case error::body_too_large:
    case error::too_many_values:
    case error::too_many_params:
    case error::buffer_too_small: return condition::limit_exceeded;
    case error::bad_start_line:
    case error::bad_method:
    case error::bad_request_uri:
    case error::uri_headers_in_request_uri:
    case error::bad_version:
    case error::bad_status_code:
    case error::bad_reason_phrase:
    case error::bad_header_name:
    case error::bad_header_line:
    case error::bad_line_ending:
    case error::bad_folding:
    case error::duplicate_header:
    case error::bad_via:
    case error::bad_from:
    case error::bad_to:
    case error::bad_call_id:
    case error::bad_cseq:
    case error::cseq_method_mismatch:
    case error::bad_max_forwards:
    case error::bad_content_length:
    case error::content_length_mismatch:
    case error::missing_content_length:
    case error::bad_contact:
    case error::bad_route:
    case error::bad_record_route:
    case error::bad_content_type:
    case error::bad_expires:
    case error::bad_token_list:
    case error::bad_auth_header:
    case error::bad_date:
    case error::bad_retry_after:
    case error::bad_warning:
    case error::bad_header_value:
    case error::header_not_found:  // a header the message needs is absent
    case error::bad_uri:
    case error::bad_uri_scheme:
    case error::bad_uri_user:
    case error::bad_uri_host:
    case error::bad_uri_port:
    case error::bad_uri_params:
    case error::bad_uri_headers:
    case error::bad_escape:
    case error::missing_auth_param:
    case error::truncated_message: return condition::malformed;
    case error::version_not_supported:
    case error::unsupported_auth_scheme:
    case error::unsupported_algorithm:
    case error::unsupported_qop: return condition::unsupported;
    case error::auth_realm_mismatch:
    case error::auth_nonce_mismatch:
    case error::auth_response_mismatch: return condition::rejected;
    case error::framer_failed:
    case error::bad_builder_input: return condition::invalid_use;
  }
  return condition::malformed;
}

}  // namespace sigwire::sip

template <>
struct std::is_error_code_enum<sigwire::sip::error> : std::true_type {};
