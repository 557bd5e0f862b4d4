// Shared helpers for tests that read the RFC 4475 corpus in tests/sip/data
// (SIGWIRE_CORPUS_DIR, set by tests/meson.build). Missing data fails a test.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sipt {

inline std::filesystem::path corpus_dir() {
  const char* d = std::getenv("SIGWIRE_CORPUS_DIR");
  return d ? std::filesystem::path(d) / "rfc4475" : std::filesystem::path{};
}

inline bool have_corpus() {
  const auto d = corpus_dir();
  return !d.empty() && std::filesystem::exists(d / "manifest.tsv");
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

struct manifest_row {
  std::string file, section, name, verdict, handling, lenient_ok, reject_ok;
};

inline std::vector<manifest_row> manifest() {
  std::vector<manifest_row> rows;
  std::istringstream in(read_file(corpus_dir() / "manifest.tsv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cols;
    std::size_t start = 0;
    for (;;) {
      const auto tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() < 8) continue;
    rows.push_back({cols[0], cols[1], cols[2], cols[4], cols[5], cols[6], cols[7]});
  }
  return rows;
}

}  // namespace sipt
