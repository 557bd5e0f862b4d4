// Every layer's errors compare equal to exactly one of core's coarse
// conditions (core/error.hpp), so users can branch on a few.
#include <sigwire/core/error.hpp>
#include <sigwire/http/error.hpp>
#include <sigwire/sdp/error.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/ws/error.hpp>

#include <doctest/doctest.h>

#include <array>
#include <system_error>

namespace {

using sigwire::core::condition;
constexpr std::array all_conditions{condition::malformed, condition::limit_exceeded, condition::unsupported,
                                    condition::rejected,  condition::invalid_use,    condition::failed};

// How many coarse conditions `ec` compares equal to.
int matches(std::error_code ec) {
  int n = 0;
  for (condition c : all_conditions) n += ec == c;
  return n;
}

template <class Enum>
void each_has_one_condition(int first, int last) {
  for (int v = first; v <= last; ++v) {
    const std::error_code ec = make_error_code(static_cast<Enum>(v));
    CAPTURE(ec.category().name());
    CAPTURE(ec.message());
    CHECK(matches(ec) == 1);
  }
}

}  // namespace

TEST_CASE("every error of every layer compares equal to exactly one coarse condition") {
  namespace sw = sigwire;
  each_has_one_condition<sw::core::error>(1, static_cast<int>(sw::core::error::crypto_failure));
  each_has_one_condition<sw::sip::error>(static_cast<int>(sw::sip::error::message_too_large),
                                         static_cast<int>(sw::sip::error::truncated_message));
  each_has_one_condition<sw::sdp::error>(1, static_cast<int>(sw::sdp::error::too_many_lines));
  each_has_one_condition<sw::sdp::error>(static_cast<int>(sw::sdp::error::invalid_state),
                                         static_cast<int>(sw::sdp::error::missing_fingerprint));
  each_has_one_condition<sw::http::error>(1, static_cast<int>(sw::http::error::bad_line_ending));
  each_has_one_condition<sw::ws::error>(1, static_cast<int>(sw::ws::error::closed_abnormally));
}

TEST_CASE("the same kind of fault is the same condition in every layer") {
  namespace sw = sigwire;
  using std::error_code;
  // Limits.
  CHECK(error_code(sw::sip::error::too_many_headers) == condition::limit_exceeded);
  CHECK(error_code(sw::sdp::error::too_many_media) == condition::limit_exceeded);
  CHECK(error_code(sw::http::error::head_too_large) == condition::limit_exceeded);
  CHECK(error_code(sw::ws::error::message_too_big) == condition::limit_exceeded);
  // Syntax.
  CHECK(error_code(sw::sip::error::bad_via) == condition::malformed);
  CHECK(error_code(sw::sdp::error::bad_media) == condition::malformed);
  CHECK(error_code(sw::http::error::bad_request_line) == condition::malformed);
  CHECK(error_code(sw::ws::error::reserved_opcode) == condition::malformed);
  CHECK(error_code(sw::core::error::overflow) == condition::malformed);
  // A message cut short where more cannot come is a fault (more input to
  // come is a status, core::parse_status::need_more, never an error).
  CHECK(error_code(sw::sip::error::truncated_message) == condition::malformed);
  // Understood but not done, or refused.
  CHECK(error_code(sw::sip::error::version_not_supported) == condition::unsupported);
  CHECK(error_code(sw::sip::error::unsupported_algorithm) == condition::unsupported);
  CHECK(error_code(sw::ws::error::bad_version) == condition::unsupported);
  CHECK(error_code(sw::sip::error::auth_response_mismatch) == condition::rejected);
  CHECK(error_code(sw::sdp::error::no_common_codec) == condition::rejected);
  CHECK(error_code(sw::ws::error::origin_rejected) == condition::rejected);
  // The caller's mistake, and failures below.
  CHECK(error_code(sw::sdp::error::invalid_state) == condition::invalid_use);
  CHECK(error_code(sw::ws::error::closed) == condition::invalid_use);
  CHECK(error_code(sw::ws::error::timeout) == condition::failed);
  CHECK(error_code(sw::core::error::crypto_failure) == condition::failed);
}

TEST_CASE("a layer's own conditions still hold beside the coarse ones") {
  namespace ws = sigwire::ws;
  const std::error_code ec = ws::error::message_too_big;
  CHECK(ec == ws::condition::limit_exceeded);
  CHECK(ec == condition::limit_exceeded);
  CHECK(ec != ws::condition::protocol_violation);
  CHECK(std::error_code(ws::error::bad_key) == ws::condition::handshake_failed);
  CHECK(std::error_code(ws::error::bad_key) == condition::malformed);
  // A condition has a category and a message of its own.
  const std::error_condition c = condition::rejected;
  CHECK(std::string(c.category().name()) == "sigwire.condition");
  CHECK(c.message() == "rejected");
}
