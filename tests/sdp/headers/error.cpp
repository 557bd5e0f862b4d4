// Header self-containment: sigwire/sdp/error.hpp compiles first in its own TU.
#include <sigwire/sdp/error.hpp>
#include <sigwire/sdp/error.hpp>  // and twice (include guard)

#include <doctest/doctest.h>

TEST_CASE("header sigwire/sdp/error.hpp is self-contained") { CHECK(sigwire::sdp::make_error_code(sigwire::sdp::error::bad_media).message() == "malformed m= line"); }
