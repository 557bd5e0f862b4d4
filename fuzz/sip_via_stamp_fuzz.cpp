// libFuzzer: the Via stamp of sip/transport/via_stamp.hpp (received/rport on
// the raw bytes of a request as it arrives). Properties: it only inserts
// (the input is a subsequence of the output, in order), a second stamp with
// the same source changes nothing, and a request that parsed still parses
// with the same number of Via values and the same top branch, unless the
// added parameter is one more than sip::limits::max_params allows. And a
// parsed request whose top Via is moved to TCP (replace_via_sent_by, §18.1.1)
// still parses, with that Via's transport and sent-by and the same branch.
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/transport/via_stamp.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sip = sigwire::sip;

static bool is_subsequence(std::string_view in, std::string_view out) {
  std::size_t j = 0;
  for (std::size_t i = 0; i < out.size() && j < in.size(); ++i)
    if (out[i] == in[j]) ++j;
  return j == in.size();
}

static std::size_t via_count(const sip::message_view& m, std::string& top_branch) {
  std::size_t n = 0;
  for (const sip::header_field& h : m.headers())
    if (h.id == sip::header_id::via) ++n;
  if (const auto via = m.top_via()) top_branch = std::string(via->branch);
  return n;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool v6 = data[0] & 1;
  const unsigned port = data[1] * 251u;
  const std::string_view source = v6 ? "2001:db8::7" : "192.0.2.7";
  const std::string input(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string stamped = input;
  const bool changed = sip::transport::stamp_received(stamped, source, port);
  if (changed != (stamped != input)) abort();
  if (!is_subsequence(input, stamped)) abort();
  std::string again = stamped;
  if (sip::transport::stamp_received(again, source, port)) abort();  // idempotent for one source

  sip::message_view before, after;
  if (!sip::parse(input, before).complete() || !before.is_request()) return 0;
  if (const auto r = sip::parse(stamped, after); !r.complete()) {
    if (r.ec == sip::error::too_many_params) return 0;
    abort();
  }
  std::string branch_before, branch_after;
  if (via_count(before, branch_before) != via_count(after, branch_after)) abort();
  if (branch_before != branch_after) abort();

  // RFC 3261 §18.1.1: the top Via moved to TCP keeps its parameters.
  std::string moved = input;
  if (!sip::transport::replace_via_sent_by(moved, "SIP/2.0/TCP 192.0.2.9:5061")) {
    if (before.top_via()) abort();  // the scan missed a Via the parser found
    return 0;
  }
  sip::message_view moved_view;
  if (!sip::parse(moved, moved_view).complete()) abort();
  std::string branch_moved;
  if (via_count(moved_view, branch_moved) != via_count(before, branch_before) || branch_moved != branch_before) abort();
  const auto top = moved_view.top_via();
  if (!top || top->transport != "TCP" || top->host != "192.0.2.9" || top->port != 5061) abort();
  return 0;
}
