#include <sigwire/core/digest.hpp>
#include <sigwire/core/random.hpp>
#include <sigwire/core/base64.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace sigwire::core;

TEST_CASE("MD5 known answers (RFC 1321 §A.5)") {
  CHECK(to_hex(md5("")) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(to_hex(md5("abc")) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(to_hex(md5("message digest")) == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(to_hex(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890")) ==
        "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("SHA-1 known answers (FIPS 180 examples)") {
  CHECK(to_hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(to_hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(to_hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST_CASE("SHA-256 known answers (FIPS 180 examples)") {
  CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("RFC 6455 §1.3 accept key is SHA-1 + base64") {
  const auto d = sha1("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  CHECK(base64::encode(std::as_bytes(std::span(d))) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("incremental hasher equals one-shot, and restarts after final") {
  sha256_hasher h;
  h.update("ab").update("c");
  CHECK(h.final() == sha256("abc"));
  h.update("abc");
  CHECK(h.final() == sha256("abc"));
  md5_hasher m;
  const std::string big(100000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 997) m.update(std::string_view(big).substr(i, 997));
  CHECK(m.final() == md5(big));
}

TEST_CASE("random bytes and tokens") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto t = random_token(16);
    CHECK(t.size() == 16);
    for (char c : t) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')));
    seen.insert(t);
  }
  CHECK(seen.size() == 100);
  const auto a = random_array<16>(), b = random_array<16>();
  CHECK(a != b);
}

TEST_CASE("random_stream: RAND_bytes numbers, refilled past its buffer, distinct between streams") {
  sigwire::core::random_stream s1, s2;
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(s1());  // three refills of 64
  CHECK(seen.size() == 200);
  for (int i = 0; i < 10; ++i) seen.insert(s2());  // another stream: its own draws, not a copy of s1's
  CHECK(seen.size() == 210);
  // Every bit position is set by some of the numbers and clear in others.
  std::uint64_t any_set = 0, any_clear = 0;
  for (std::uint64_t v : seen) any_set |= v, any_clear |= ~v;
  CHECK(any_set == ~std::uint64_t{0});
  CHECK(any_clear == ~std::uint64_t{0});
}
