// Header self-containment: sigwire/sdp/codec_match.hpp compiles first in its own TU.
#include <sigwire/sdp/codec_match.hpp>
#include <sigwire/sdp/codec_match.hpp>  // and twice (include guard)

#include <doctest/doctest.h>

TEST_CASE("header sigwire/sdp/codec_match.hpp is self-contained") { CHECK(sigwire::sdp::static_format(8)->encoding == "PCMA"); }
