// Header self-containment: sigwire/sdp/attributes.hpp compiles first in its own TU.
#include <sigwire/sdp/attributes.hpp>
#include <sigwire/sdp/attributes.hpp>  // and twice (include guard)

#include <doctest/doctest.h>

TEST_CASE("header sigwire/sdp/attributes.hpp is self-contained") { CHECK(sigwire::sdp::parse_rtpmap("0 PCMU/8000")->clock_rate == 8000); }
