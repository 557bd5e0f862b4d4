// sigwire/http/head.hpp - zero-copy HTTP/1.1 request and response heads, as
// the WebSocket upgrade needs them (RFC 7230 §3). Not a general HTTP server:
// no bodies, no chunked coding, no pipelining beyond "bytes consumed".
//
//   http::request_head req;
//   auto r = http::parse_request(buffer, req);   // views into `buffer`
//   if (r.need_more()) read more; if (r.failed()) reject r.ec;
//   req.path / req.query / req.header("host") / req.has_token("connection", "upgrade")
//
// Contract (picohttpparser's): every view points into the caller's buffer,
// which must outlive the head; a parse either completes (consumed = head
// size including the blank line), needs more bytes, or fails with an error
// naming the violation. Strict: CRLF only, no obs-fold, token names.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/parse_status.hpp>
#include <sigwire/core/scan.hpp>
#include <sigwire/http/error.hpp>

namespace sigwire::http {

struct limits {
  std::size_t max_head_bytes = 8192;  // request/status line + headers + blank line
  std::size_t max_headers = 64;
};

struct header {
  std::string_view name;   // as received; compare with core::ascii::iequals
  std::string_view value;  // OWS trimmed
};

// Header fields in arrival order; repeated names stay separate entries.
class header_list {
 public:
  std::vector<header> fields;

  // The first field named `name` (case-insensitive), if any.
  std::optional<std::string_view> find(std::string_view name) const noexcept {
    for (const auto& h : fields)
      if (core::ascii::iequals(h.name, name)) return h.value;
    return std::nullopt;
  }
  std::size_t count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (const auto& h : fields) n += core::ascii::iequals(h.name, name) ? 1 : 0;
    return n;
  }
  // Calls f(value) for every field named `name`.
  template <class F>
  void for_each(std::string_view name, F&& f) const {
    for (const auto& h : fields)
      if (core::ascii::iequals(h.name, name)) f(h.value);
  }
  // Calls f(item) for every element of the comma-separated lists in all
  // fields named `name` (RFC 7230 §7: empty elements are skipped, OWS
  // trimmed, commas inside quoted-strings do not split). f returns false to stop.
  template <class F>
  void for_each_item(std::string_view name, F&& f) const;

  // True when some list element of `name` equals `token` case-insensitively
  // (e.g. has_token("connection", "upgrade") for "keep-alive, Upgrade").
  bool has_token(std::string_view name, std::string_view token) const {
    bool found = false;
    for_each_item(name, [&](std::string_view item) {
      found = core::ascii::iequals(item, token);
      return !found;
    });
    return found;
  }
  void clear() noexcept { fields.clear(); }
};

// Splits a comma list, honouring quoted-strings; f(item) -> bool (false stops).
// Returns false when f stopped the walk.
template <class F>
bool for_each_list_item(std::string_view list, F&& f) {
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i < list.size()) {
      const char c = list[i];
      if (quoted && c == '\\') { ++i; continue; }
      if (c == '"') quoted = !quoted;
      if (c != ',' || quoted) continue;
    }
    const std::string_view item = core::ascii::trim(list.substr(start, i - start));
    start = i + 1;
    if (!item.empty() && !f(item)) return false;
  }
  return true;
}

template <class F>
void header_list::for_each_item(std::string_view name, F&& f) const {
  for (const auto& h : fields)
    if (core::ascii::iequals(h.name, name) && !for_each_list_item(h.value, f)) return;
}

struct request_head {
  std::string_view method;
  std::string_view target;  // as sent: "/socket.io/?transport=websocket"
  std::string_view path;    // target before '?'
  std::string_view query;   // after '?', without it; empty when absent
  int version_minor = 1;    // HTTP/1.x
  header_list headers;

  std::optional<std::string_view> header(std::string_view name) const noexcept { return headers.find(name); }
  bool has_token(std::string_view name, std::string_view token) const { return headers.has_token(name, token); }
};

struct response_head {
  int version_minor = 1;
  unsigned status = 0;
  std::string_view reason;
  header_list headers;

  std::optional<std::string_view> header(std::string_view name) const noexcept { return headers.find(name); }
  bool has_token(std::string_view name, std::string_view token) const { return headers.has_token(name, token); }
};

using parse_status = core::parse_status;

struct parse_result {
  parse_status status = parse_status::need_more;
  std::size_t consumed = 0;  // complete: bytes of the head, blank line included
  std::error_code ec;        // failed: the violation

  bool complete() const noexcept { return status == parse_status::complete; }
  bool need_more() const noexcept { return status == parse_status::need_more; }
  bool failed() const noexcept { return status == parse_status::failed; }
};

// Value of `name` in a query string "a=1&b=2" (no percent-decoding).
inline std::optional<std::string_view> query_param(std::string_view query, std::string_view name) noexcept {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

namespace detail {

inline parse_result fail(error e) noexcept { return {parse_status::failed, 0, make_error_code(e)}; }

// Finds the end of the head ("\r\n\r\n"); rejects bare CR/LF on the way.
// Returns the offset just past the blank line, 0 when absent, or an error.
inline std::size_t find_head_end(std::string_view buf, std::error_code& ec) noexcept {
  constexpr core::scan::any_of<'\r', '\n'> line_end;
  for (std::size_t i = core::scan::find(buf, 0, line_end); i < buf.size(); i = core::scan::find(buf, i + 1, line_end)) {
    const char c = buf[i];
    if (c == '\n') {
      if (i == 0 || buf[i - 1] != '\r') { ec = make_error_code(error::bad_line_ending); return 0; }
      if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') return i + 1;
    } else if (c == '\r' && i + 1 < buf.size() && buf[i + 1] != '\n') {
      ec = make_error_code(error::bad_line_ending);
      return 0;
    }
  }
  return 0;
}

// "HTTP/1.x" -> x (0 or 1), else -1.
inline int parse_version(std::string_view v) noexcept {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1.") return -1;
  if (v[7] != '0' && v[7] != '1') return -1;
  return v[7] - '0';
}

// Header lines between the start line and the blank line; `lines` has no
// trailing CRLF of the blank line.
inline std::error_code parse_fields(std::string_view lines, header_list& out, const limits& lim) {
  out.clear();
  while (!lines.empty()) {
    const std::size_t eol = lines.find("\r\n");
    const std::string_view line = lines.substr(0, eol);
    lines.remove_prefix(eol == std::string_view::npos ? lines.size() : eol + 2);
    if (!line.empty() && core::ascii::is_space(line[0])) return make_error_code(error::obsolete_folding);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return make_error_code(error::bad_header_name);
    const std::string_view name = line.substr(0, colon);
    if (!core::ascii::is_token(name)) return make_error_code(error::bad_header_name);
    const std::string_view value = core::ascii::trim(line.substr(colon + 1));
    for (char c : value)
      if (core::ascii::is_ctl(c) && c != '\t') return make_error_code(error::bad_header_value);
    if (out.fields.size() >= lim.max_headers) return make_error_code(error::too_many_headers);
    out.fields.push_back({name, value});
  }
  return {};
}

// Common framing: locate the head, split off the start line.
struct split_head {
  parse_result early;  // need_more / failed when start_line is unset
  std::string_view start_line;
  std::string_view fields;
  std::size_t size = 0;
};

inline split_head split(std::string_view buf, const limits& lim) noexcept {
  split_head s;
  std::error_code ec;
  const std::size_t end = find_head_end(buf.substr(0, lim.max_head_bytes), ec);
  if (ec) { s.early = {parse_status::failed, 0, ec}; return s; }
  if (end == 0) {
    if (buf.size() >= lim.max_head_bytes) s.early = fail(error::head_too_large);
    return s;
  }
  s.size = end;
  const std::string_view head = buf.substr(0, end - 2);  // keep the last header's CRLF
  const std::size_t first_eol = head.find("\r\n");
  s.start_line = head.substr(0, first_eol);
  s.fields = head.substr(first_eol + 2);
  if (!s.fields.empty()) s.fields.remove_suffix(2);
  s.early.status = parse_status::complete;
  return s;
}

}  // namespace detail

inline parse_result parse_request(std::string_view buf, request_head& out, const limits& lim = {}) {
  const auto s = detail::split(buf, lim);
  if (!s.early.complete()) return s.early;
  const std::string_view line = s.start_line;
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return detail::fail(error::bad_request_line);
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!core::ascii::is_token(out.method)) return detail::fail(error::bad_method);
  if (out.target.empty()) return detail::fail(error::bad_target);
  for (char c : out.target)
    if (!core::ascii::is_vchar(c)) return detail::fail(error::bad_target);
  out.version_minor = detail::parse_version(line.substr(sp2 + 1));
  if (out.version_minor < 0) return detail::fail(error::bad_version);
  const std::size_t q = out.target.find('?');
  out.path = out.target.substr(0, q);
  out.query = q == std::string_view::npos ? std::string_view{} : out.target.substr(q + 1);
  if (auto ec = detail::parse_fields(s.fields, out.headers, lim)) return {parse_status::failed, 0, ec};
  return {parse_status::complete, s.size, {}};
}

inline parse_result parse_response(std::string_view buf, response_head& out, const limits& lim = {}) {
  const auto s = detail::split(buf, lim);
  if (!s.early.complete()) return s.early;
  const std::string_view line = s.start_line;
  // status-line = HTTP-version SP status-code SP reason-phrase (reason may be empty)
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' '))
    return detail::fail(error::bad_status_line);
  out.version_minor = detail::parse_version(line.substr(0, 8));
  if (out.version_minor < 0) return detail::fail(error::bad_version);
  const std::string_view code = line.substr(9, 3);
  if (!core::ascii::all_of_class(code, core::ascii::cls_digit)) return detail::fail(error::bad_status_code);
  out.status = static_cast<unsigned>((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
  out.reason = line.size() > 13 ? line.substr(13) : std::string_view{};
  for (char c : out.reason)
    if (core::ascii::is_ctl(c) && c != '\t') return detail::fail(error::bad_status_line);
  if (auto ec = detail::parse_fields(s.fields, out.headers, lim)) return {parse_status::failed, 0, ec};
  return {parse_status::complete, s.size, {}};
}

// Appends a head to a caller-owned string (reuse it to avoid allocations):
//   http::head_builder b(out);
//   b.request_line("GET", "/chat").header("Host", "example.com").end();
class head_builder {
 public:
  explicit head_builder(std::string& out) noexcept : out_(out) {}

  head_builder& request_line(std::string_view method, std::string_view target) {
    out_.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    return *this;
  }
  head_builder& status_line(unsigned status, std::string_view reason) {
    char code[3] = {static_cast<char>('0' + status / 100 % 10), static_cast<char>('0' + status / 10 % 10),
                    static_cast<char>('0' + status % 10)};
    out_.append("HTTP/1.1 ").append(code, 3).append(" ").append(reason).append("\r\n");
    return *this;
  }
  head_builder& header(std::string_view name, std::string_view value) {
    out_.append(name).append(": ").append(value).append("\r\n");
    return *this;
  }
  head_builder& header(std::string_view name, std::size_t value) { return header(name, std::string_view(std::to_string(value))); }
  // Ends the head (blank line); `body` follows it verbatim.
  void end(std::string_view body = {}) { out_.append("\r\n").append(body); }

 private:
  std::string& out_;
};

// Reason phrases for the statuses the upgrade uses.
constexpr std::string_view reason_phrase(unsigned status) noexcept {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Unknown";
}

}  // namespace sigwire::http
