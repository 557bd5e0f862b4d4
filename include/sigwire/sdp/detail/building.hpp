// sigwire/sdp/detail/building.hpp - the pieces offers and answers share:
// the session skeleton, session-level attributes, connection lines and the
// ICE / DTLS transport attributes of an m-line.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <sigwire/sdp/capabilities.hpp>
#include <sigwire/sdp/session.hpp>

namespace sigwire::sdp::detail {

inline session base_session(const capabilities& caps) {
  session s;
  s.name = caps.session_name;
  s.origin.address = caps.address;
  s.origin.addrtype = addrtype_of(caps.address);
  return s;
}

inline void add_connection(media& m, const capabilities& caps) {
  m.connections.push_back({"IN", addrtype_of(caps.address), caps.address});
}

// a=group:BUNDLE (empty `bundle`: none), ice-options, extmap-allow-mixed.
inline void add_session_attributes(session& s, const capabilities& caps, const std::string& bundle, bool mixed) {
  if (!bundle.empty()) s.add("group", bundle);
  if (caps.ice && caps.ice->trickle) s.add("ice-options", "trickle");
  if (mixed) s.add_flag("extmap-allow-mixed");
}

// Which transport attributes an m-line carries: ICE and DTLS each when the
// m-line uses it and our capabilities have it.
struct transport_use {
  setup_role role = setup_role::actpass;
  bool ice = false;
  bool dtls = false;
};

// ICE credentials, then DTLS fingerprint and setup (JSEP's order: before the
// mid), appended to `head`.
inline void append_transport_head(std::vector<attribute>& head, const capabilities& caps, const transport_use& use) {
  if (use.ice && caps.ice) {
    head.push_back({"ice-ufrag", caps.ice->ufrag, true});
    head.push_back({"ice-pwd", caps.ice->pwd, true});
  }
  if (use.dtls && caps.dtls) {
    head.push_back({"fingerprint", caps.dtls->hash_function + ' ' + caps.dtls->fingerprint, true});
    head.push_back({"setup", std::string(to_string(use.role)), true});
  }
}

// The candidates, last in the m-line.
inline void add_candidates(media& m, const capabilities& caps, const transport_use& use) {
  if (!use.ice || !caps.ice) return;
  for (const auto& c : caps.ice->candidates) m.add("candidate", c);
  if (caps.ice->end_of_candidates) m.add_flag("end-of-candidates");
}

// Both, into an m-line already built: the head before its mid (or first).
inline void add_transport(media& m, const capabilities& caps, const transport_use& use) {
  std::vector<attribute> head;
  append_transport_head(head, caps, use);
  auto mid = std::find_if(m.attributes.begin(), m.attributes.end(), [](const attribute& a) { return a.name == "mid"; });
  m.attributes.insert(mid == m.attributes.end() ? m.attributes.begin() : mid, head.begin(), head.end());
  add_candidates(m, caps, use);
}

}  // namespace sigwire::sdp::detail
