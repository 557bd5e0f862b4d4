// A self-signed certificate and key for TLS tests, made with the openssl
// command line in a fresh temporary folder (cert.pem, key.pem). A missing
// openssl fails the test (REQUIRE), it never skips it.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace sigwire::test {

// subject_alt_names as openssl's -addext takes it, e.g. "DNS:localhost,IP:127.0.0.1".
inline std::filesystem::path make_test_cert(const char* tag, const char* subject_alt_names = "DNS:localhost") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sigwire_" + std::string(tag) + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext subjectAltName=" +
                          std::string(subject_alt_names) + " -keyout " + (dir / "key.pem").string() + " -out " +
                          (dir / "cert.pem").string() + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return dir;
}

}  // namespace sigwire::test
