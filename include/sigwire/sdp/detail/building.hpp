// sigwire/sdp/detail/building.hpp - the pieces offers and answers share:
// the session skeleton, session-level attributes, connection lines and the
// ICE / DTLS transport attributes of an m-line.
//
// Offers are built as a model (session, media: what users edit into a
// re-offer); answers are written straight as text (line_writer), since an
// answer is sent as it is built and a model per answer was most of its
// cost. The attribute helpers take either sink.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sigwire/sdp/capabilities.hpp>
#include <sigwire/sdp/session.hpp>

namespace sigwire::sdp::detail {

// One part of a value: text, a character or a number.
template <class Part>
void append_part(std::string& out, const Part& p) {
  if constexpr (std::integral<Part> && !std::same_as<Part, char>) write_number(out, p);
  else out += p;
}

// Appends SDP lines to a text, CRLF-terminated (RFC 8866 §5). A value is
// given in parts, written one after the other: no string is built for it.
class line_writer {
 public:
  explicit line_writer(std::string& out) noexcept : out_(out) {}

  template <class... Parts>
  void add(std::string_view name, const Parts&... value) {
    out_ += "a=";
    out_ += name;
    out_ += ':';
    (append_part(out_, value), ...);
    out_ += "\r\n";
  }
  void add_flag(std::string_view name) {
    out_ += "a=";
    out_ += name;
    out_ += "\r\n";
  }
  // c=IN IP4|IP6 <address>
  void connection(std::string_view address) {
    out_ += "c=IN ";
    out_ += addrtype_name(address);
    out_ += ' ';
    out_ += address;
    out_ += "\r\n";
  }
  // m=<type> <port> <proto>, then the formats (format()), then end_line().
  void media_line(std::string_view type, std::uint16_t port, std::string_view proto) {
    out_ += "m=";
    out_ += type;
    out_ += ' ';
    write_number(out_, port);
    out_ += ' ';
    out_ += proto;
  }
  template <class Part>
  void format(const Part& f) {
    out_ += ' ';
    append_part(out_, f);
  }
  void end_line() { out_ += "\r\n"; }

 private:
  std::string& out_;
};

// The same interface over a model's attributes (offers).
class model_sink {
 public:
  explicit model_sink(std::vector<attribute>& attributes) noexcept : attributes_(attributes) {}

  template <class... Parts>
  void add(std::string_view name, const Parts&... value) {
    std::string joined;
    (append_part(joined, value), ...);
    attributes_.push_back({std::string(name), std::move(joined), true});
  }
  void add_flag(std::string_view name) { attributes_.push_back({std::string(name), {}, false}); }

 private:
  std::vector<attribute>& attributes_;
};

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
template <class Sink>
void add_session_attributes(Sink& s, const capabilities& caps, std::string_view bundle, bool trickle, bool mixed) {
  if (!bundle.empty()) s.add("group", bundle);
  if (trickle && caps.ice && caps.ice->trickle) s.add("ice-options", "trickle");
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
// mid).
template <class Sink>
void add_transport_head(Sink& head, const capabilities& caps, const transport_use& use) {
  if (use.ice && caps.ice) {
    head.add("ice-ufrag", caps.ice->ufrag);
    head.add("ice-pwd", caps.ice->pwd);
  }
  if (use.dtls && caps.dtls) {
    head.add("fingerprint", caps.dtls->hash_function, ' ', caps.dtls->fingerprint);
    head.add("setup", to_string(use.role));
  }
}

// The candidates, last in the m-line.
template <class Sink>
void add_candidates(Sink& m, const capabilities& caps, const transport_use& use) {
  if (!use.ice || !caps.ice) return;
  for (const auto& c : caps.ice->candidates) m.add("candidate", c);
  if (caps.ice->end_of_candidates) m.add_flag("end-of-candidates");
}

// Both, into an m-line model already built: the head before its mid (or first).
inline void add_transport(media& m, const capabilities& caps, const transport_use& use) {
  std::vector<attribute> head;
  model_sink head_sink(head);
  add_transport_head(head_sink, caps, use);
  auto mid = std::find_if(m.attributes.begin(), m.attributes.end(), [](const attribute& a) { return a.name == "mid"; });
  m.attributes.insert(mid == m.attributes.end() ? m.attributes.begin() : mid, head.begin(), head.end());
  model_sink tail(m.attributes);
  add_candidates(tail, caps, use);
}

}  // namespace sigwire::sdp::detail
