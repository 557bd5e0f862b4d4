// Header self-containment: sigwire/sdp/view.hpp compiles first in its own TU.
#include <sigwire/sdp/view.hpp>
#include <sigwire/sdp/view.hpp>  // and twice (include guard)

#include <doctest/doctest.h>

TEST_CASE("header sigwire/sdp/view.hpp is self-contained") { CHECK(sigwire::sdp::parse("v=0\r\n").error() == sigwire::sdp::error::missing_origin); }
