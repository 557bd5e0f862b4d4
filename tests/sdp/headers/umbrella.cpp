// The umbrella headers compile alone and name the SDP error category.
#include <sigwire/sdp.hpp>
#include <sigwire/sigwire.hpp>

#include <doctest/doctest.h>

TEST_CASE("sdp errors are std::error_code values of category sigwire.sdp") {
  std::error_code ec = sigwire::sdp::error::line_out_of_order;
  CHECK(std::string(ec.category().name()) == "sigwire.sdp");
  CHECK(ec.message() == "SDP line out of order");
  CHECK(ec == sigwire::sdp::error::line_out_of_order);
}
