// Every public SIP header compiles when included first (self-contained).
#include <doctest/doctest.h>

#include <string_view>

const char* first_sip();
const char* first_sip_access();
const char* first_sip_auth();
const char* first_sip_builder();
const char* first_sip_error();
const char* first_sip_framer();
const char* first_sip_header_names();
const char* first_sip_headers();
const char* first_sip_limits();
const char* first_sip_message();
const char* first_sip_result();
const char* first_sip_uas();
const char* first_sip_uri();
const char* first_sip_detail_lex();
const char* first_sip_detail_ieq();

TEST_CASE("every sip header is self-contained") {
  CHECK(std::string_view(first_sip()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_access()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_auth()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_builder()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_error()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_framer()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_header_names()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_headers()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_limits()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_message()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_result()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_uas()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_uri()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_detail_lex()) == "sigwire.sip");
  CHECK(std::string_view(first_sip_detail_ieq()) == "sigwire.sip");
}
