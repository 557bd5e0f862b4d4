// sigwire/sip/transport/via_stamp.hpp - what a server adds to the top Via of
// a request it receives (RFC 3261 §18.2.1, RFC 3581 §4), sans-IO.
//
//   std::string bytes = ...;               // a request as received
//   stamp_received(bytes, "192.0.2.4", 5062);
//
// `received` is added when the Via's sent-by host is not the packet's source
// address, or when the Via asks for `rport`; an empty `rport` is filled with
// the source port. Responses then reach the address the request came from
// (§18.2.2) and the client learns the address the server saw (RFC 3581,
// registration.hpp rewrites its Contact from it).
//
// It edits the raw bytes before the parse, so the message keeps one buffer:
// the top Via is found by a line scan (compact form `v:` included), its first
// value ends at a comma outside quotes or at the end of the (unfolded) line.
// A top Via that already has sip::limits::max_params parameters fails the
// parse once stamped (too_many_params), as it would with one more of its own.
#pragma once

#include <sigwire/sip/detail/ieq.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace sigwire::sip::transport {

namespace detail {

struct via_span {
  std::size_t begin = 0, end = 0;  // the first Via value, [begin, end)
  bool found = false;
};

inline bool is_via_name(std::string_view name) noexcept {
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  return sip::detail::ieq_lower(name, "via") || sip::detail::ieq_lower(name, "v");
}

// The first value of the first Via header field in the head of `m`.
inline via_span find_top_via(std::string_view m) noexcept {
  std::size_t line = m.find('\n');
  while (line != std::string_view::npos && line + 1 < m.size()) {
    const std::size_t start = line + 1;
    if (m[start] == '\r' || m[start] == '\n') break;  // end of the header section
    const std::size_t colon = m.find(':', start);
    const std::size_t eol = m.find('\n', start);
    if (colon != std::string_view::npos && colon < eol && is_via_name(m.substr(start, colon - start))) {
      std::size_t v = colon + 1;
      while (v < m.size() && (m[v] == ' ' || m[v] == '\t')) ++v;
      std::size_t e = v;
      bool quoted = false;
      for (; e < m.size(); ++e) {
        if (m[e] == '\r' || m[e] == '\n') {  // the line ends, unless folded (a line starting with SP/HT)
          const std::size_t lf = m[e] == '\r' && e + 1 < m.size() && m[e + 1] == '\n' ? e + 1 : e;
          if (lf + 1 < m.size() && (m[lf + 1] == ' ' || m[lf + 1] == '\t')) {
            e = lf;
            continue;
          }
          break;
        }
        if (m[e] == '"') quoted = !quoted;
        if (m[e] == ',' && !quoted) break;
      }
      while (e > v && (m[e - 1] == ' ' || m[e - 1] == '\t' || m[e - 1] == '\r' || m[e - 1] == '\n')) --e;
      return {v, e, true};
    }
    line = eol;
  }
  return {};
}

// The host of "SIP/2.0/UDP host:port;params" ("[v6]" brackets removed).
inline std::string_view sent_by_host(std::string_view via) noexcept {
  std::size_t p = 0;
  for (int slashes = 0; p < via.size() && slashes < 2; ++p) slashes += via[p] == '/';
  while (p < via.size() && via[p] != ' ' && via[p] != '\t') ++p;  // the transport
  while (p < via.size() && (via[p] == ' ' || via[p] == '\t')) ++p;
  const std::string_view rest = via.substr(p);
  if (!rest.empty() && rest[0] == '[') return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find_first_of(":; \t"));
}

// The value of parameter `name` in "...;a=1;name=v;...": {found, value}.
struct param_found {
  bool found = false;
  std::size_t name_begin = 0, value_end = 0;  // offsets into the via value
  bool has_value = false;
};
inline param_found find_param(std::string_view via, std::string_view name) noexcept {
  for (std::size_t p = via.find(';'); p != std::string_view::npos; p = via.find(';', p + 1)) {
    std::size_t b = p + 1;
    while (b < via.size() && (via[b] == ' ' || via[b] == '\t')) ++b;
    std::size_t e = b;
    while (e < via.size() && via[e] != '=' && via[e] != ';' && via[e] != ' ' && via[e] != '\t') ++e;
    if (!sip::detail::ieq_lower(via.substr(b, e - b), name)) continue;
    param_found f{true, b, e, false};
    std::size_t v = e;
    while (v < via.size() && (via[v] == ' ' || via[v] == '\t')) ++v;
    if (v < via.size() && via[v] == '=') {
      f.has_value = true;
      f.value_end = via.find(';', v);
      if (f.value_end == std::string_view::npos) f.value_end = via.size();
    }
    return f;
  }
  return {};
}

}  // namespace detail

// Stamps the top Via of a request (responses and messages without a Via are
// left alone). Returns true when it changed the bytes.
inline bool stamp_received(std::string& message, std::string_view source_address, unsigned source_port) {
  if (message.starts_with("SIP/")) return false;  // a response: its Via is ours
  const detail::via_span top = detail::find_top_via(message);
  if (!top.found) return false;
  const std::string_view via(message.data() + top.begin, top.end - top.begin);
  const detail::param_found rport = detail::find_param(via, "rport");
  const bool add_received =
      !detail::find_param(via, "received").found && (rport.found || detail::sent_by_host(via) != source_address);
  const bool fill_rport = rport.found && !rport.has_value;
  if (!add_received && !fill_rport) return false;
  std::string insert;
  if (fill_rport) insert = "=" + std::to_string(source_port);
  const std::size_t rport_at = top.begin + rport.value_end;
  if (fill_rport) message.insert(rport_at, insert);
  if (add_received) message.insert(top.end + insert.size(), ";received=" + std::string(source_address));
  return true;
}

// Replaces the transport and sent-by of a request's top Via
// ("SIP/2.0/UDP host:port;branch=..." -> "SIP/2.0/TCP host2:port2;branch=...")
// with `sent_by` ("SIP/2.0/TCP host2:port2"), as RFC 3261 §18.1.1 requires
// when a request changes transport; the parameters stay. False when the
// message has no Via.
inline bool replace_via_sent_by(std::string& message, std::string_view sent_by) {
  const detail::via_span top = detail::find_top_via(message);
  if (!top.found) return false;
  const std::string_view via(message.data() + top.begin, top.end - top.begin);
  const std::size_t params = std::min(via.find(';'), via.size());
  message.replace(top.begin, params, sent_by);
  return true;
}

}  // namespace sigwire::sip::transport
