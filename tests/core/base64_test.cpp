#include <sigwire/core/base64.hpp>

#include <doctest/doctest.h>

#include <random>
#include <string>

using namespace sigwire::core;

TEST_CASE("RFC 4648 §10 test vectors") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& vector : vectors) {
    const std::string plain = vector.first, encoded = vector.second;
    CAPTURE(plain);
    CHECK(base64::encode(std::string_view(plain)) == encoded);
    std::error_code ec;
    CHECK(base64::decode(encoded, ec) == plain);
    CHECK_FALSE(ec);
  }
}

TEST_CASE("RFC 6455 §1.3 key decodes to 16 bytes") {
  std::error_code ec;
  CHECK(base64::decode("dGhlIHNhbXBsZSBub25jZQ==", ec) == "the sample nonce");
  CHECK_FALSE(ec);
}

TEST_CASE("strict decode rejects bad characters and padding") {
  auto fails = [](std::string_view in, error expected, std::size_t position) {
    std::string out(64, '\0');
    const auto r = base64::decode(in, reinterpret_cast<std::byte*>(out.data()));
    CAPTURE(in);
    CHECK(r.ec == expected);
    CHECK(r.position == position);
  };
  fails("Zg=", error::bad_padding, 3);       // length not a multiple of 4
  fails("Zg", error::bad_padding, 2);
  fails("Z===", error::bad_padding, 1);      // padding too early
  fails("====", error::bad_padding, 0);
  fails("Zg==Zg==", error::bad_padding, 2);  // padding in the middle
  fails("Zm=v", error::bad_padding, 3);      // data after padding
  fails("Zh==", error::bad_padding, 1);      // non-zero pad bits (RFC 4648 §3.5)
  fails("Zm9=", error::bad_padding, 2);
  fails("Zm9v\n", error::bad_padding, 5);
  fails("Zm 9", error::invalid_character, 2);
  fails("Zm-v", error::invalid_character, 2);  // base64url alphabet is not accepted
  fails("Zm_v", error::invalid_character, 2);
  fails("Zm\xC3\xA9", error::invalid_character, 2);
}

TEST_CASE("random round trips") {
  std::mt19937 rng(42);
  for (int n = 0; n < 200; ++n) {
    std::string data(static_cast<std::size_t>(n), '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    const std::string enc = base64::encode(std::string_view(data));
    CHECK(enc.size() == base64::encoded_size(data.size()));
    std::error_code ec;
    CHECK(base64::decode(enc, ec) == data);
    CHECK_FALSE(ec);
  }
}

#include "../support/guarded_buffer.hpp"

TEST_CASE("decode never reads past the end of its input") {
  struct guarded_case {
    std::string_view input;
    bool ok;
    std::size_t size;  // bytes written (before the error, for bad input)
  };
  const guarded_case cases[] = {{"", true, 0},          {"Zg==", true, 1},     {"Zm9vYmFy", true, 6},
                                {"Zm9vYmE", false, 0},  {"Zm9v====", false, 3}, {"Zh==", false, 0}};
  sigwire::test::guarded_buffer g;
  for (const auto& c : cases) {
    std::string out(16, '\0');
    const auto r = base64::decode(g.place(c.input), reinterpret_cast<std::byte*>(out.data()));
    CHECK(static_cast<bool>(r) == c.ok);
    CHECK(r.size == c.size);
  }
}
