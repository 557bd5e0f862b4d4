// Header self-containment: sigwire/sdp/negotiator.hpp compiles first in its own TU.
#include <sigwire/sdp/negotiator.hpp>
#include <sigwire/sdp/negotiator.hpp>  // and twice (include guard)

#include <doctest/doctest.h>

TEST_CASE("header sigwire/sdp/negotiator.hpp is self-contained") { CHECK(sigwire::sdp::negotiator(sigwire::sdp::capabilities{}).current_state() == sigwire::sdp::negotiator::state::null); }
