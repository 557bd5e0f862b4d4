// Header self-containment: sigwire/sdp/session.hpp compiles first in its own TU.
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/session.hpp>  // and twice (include guard)

#include <doctest/doctest.h>

TEST_CASE("header sigwire/sdp/session.hpp is self-contained") { CHECK(sigwire::sdp::session{}.to_string().starts_with("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")); }
