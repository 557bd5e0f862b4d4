// sigwire/sdp/session.hpp - owning, editable SDP model and its writer.
//
//   auto s = sigwire::sdp::session::from(sigwire::sdp::parse(text));
//   s.media[0].set_direction(sigwire::sdp::direction::sendonly);   // hold
//   std::string out = s.to_string();                                // CRLF, RFC 8866 §5 order
//
// Every line keeps its text: write(parse(x)) reproduces x line for line,
// with CRLF line ends (RFC 8866 §5), except the lines the caller edited.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sigwire/sdp/view.hpp>

namespace sigwire::sdp {

struct attribute {
  std::string name;
  std::string value;
  bool has_value = false;
};

struct origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string nettype = "IN";
  std::string addrtype = "IP4";
  std::string address = "0.0.0.0";
};

struct connection {
  std::string nettype = "IN";
  std::string addrtype = "IP4";
  std::string address = "0.0.0.0";
};

struct bandwidth {
  std::string type;
  std::uint64_t value = 0;
};

struct timing {
  std::string start = "0";
  std::string stop = "0";
  std::vector<std::string> repeats;
};

// "IP6" for addresses containing ':', else "IP4" (RFC 8866 §5.7).
constexpr std::string_view addrtype_name(std::string_view address) noexcept {
  return address.find(':') != std::string_view::npos ? "IP6" : "IP4";
}
inline std::string addrtype_of(std::string_view address) { return std::string(addrtype_name(address)); }

class attribute_list {
 public:
  std::vector<attribute> attributes;

  attribute_list& add(std::string name, std::string value) {
    attributes.push_back({std::move(name), std::move(value), true});
    return *this;
  }
  attribute_list& add_flag(std::string name) {
    attributes.push_back({std::move(name), {}, false});
    return *this;
  }
  // Replaces the first a=name (keeping its position) or appends.
  attribute_list& set(std::string_view name, std::string value) {
    for (auto& a : attributes)
      if (a.name == name) {
        a.value = std::move(value);
        a.has_value = true;
        return *this;
      }
    return add(std::string(name), std::move(value));
  }
  std::size_t remove(std::string_view name) {
    return std::erase_if(attributes, [&](const attribute& a) { return a.name == name; });
  }
  const attribute* find(std::string_view name) const noexcept {
    for (const auto& a : attributes)
      if (a.name == name) return &a;
    return nullptr;
  }
  bool has(std::string_view name) const noexcept { return find(name) != nullptr; }

  // Direction (RFC 3264 §5.1): replaces any direction attribute in place,
  // or appends one.
  void set_direction(sdp::direction d) {
    for (auto& a : attributes)
      if (!a.has_value && direction_from_name(a.name)) {
        a.name = std::string(to_string(d));
        std::erase_if(attributes, [&](const attribute& x) {
          return &x != &a && !x.has_value && direction_from_name(x.name);
        });
        return;
      }
    add_flag(std::string(to_string(d)));
  }
  std::optional<sdp::direction> direction() const noexcept {
    std::optional<sdp::direction> d;
    for (const auto& a : attributes)
      if (auto x = direction_from_name(a.name); x && !a.has_value) d = x;
    return d;
  }

 protected:
  void copy_attributes(const attribute_set& v) {
    attributes.reserve(v.attributes.size());
    for (const auto& a : v.attributes)
      attributes.push_back({std::string(a.name), std::string(a.value), a.has_value});
  }
  // Sized once, then copied piece by piece: no capacity check per piece (a
  // WebRTC m-line has over a hundred attributes).
  void write_attributes(std::string& out) const {
    std::size_t size = 0;
    for (const auto& a : attributes) size += 4 + a.name.size() + (a.has_value ? 1 + a.value.size() : 0);
    const std::size_t start = out.size();
    out.resize(start + size);
    char* at = out.data() + start;
    auto put = [&at](const char* text, std::size_t n) {
      std::memcpy(at, text, n);
      at += n;
    };
    for (const auto& a : attributes) {
      put("a=", 2);
      put(a.name.data(), a.name.size());
      if (a.has_value) {
        *at++ = ':';
        put(a.value.data(), a.value.size());
      }
      put("\r\n", 2);
    }
  }
};

namespace detail {
inline void write_line(std::string& out, char type, std::string_view value) {
  out += type;
  out += '=';
  out += value;
  out += "\r\n";
}
inline void write_number(std::string& out, std::uint64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}
// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> (RFC 8866 §5.2)
inline void write_origin(std::string& out, const origin& o) {
  out += "o=";
  for (const std::string* f : {&o.username, &o.session_id, &o.session_version, &o.nettype, &o.addrtype}) {
    out += *f;
    out += ' ';
  }
  out += o.address;
  out += "\r\n";
}
inline void write_connection(std::string& out, const connection& c) {
  out += "c=";
  out += c.nettype;
  out += ' ';
  out += c.addrtype;
  out += ' ';
  out += c.address;
  out += "\r\n";
}
inline void write_bandwidths(std::string& out, const std::vector<bandwidth>& bs) {
  for (const auto& b : bs) {
    out += "b=";
    out += b.type;
    out += ':';
    write_number(out, b.value);
    out += "\r\n";
  }
}
inline connection to_owned(const connection_view& c) {
  return {std::string(c.nettype), std::string(c.addrtype), std::string(c.address)};
}
inline bandwidth to_owned(const bandwidth_view& b) { return {std::string(b.type), b.value}; }
}  // namespace detail

class media : public attribute_list {
 public:
  std::string type = "audio";
  std::uint16_t port = 9;
  std::uint32_t port_count = 0;  // 0: no "/<n>" on the m= line
  std::string proto = "RTP/AVP";
  std::vector<std::string> formats;
  std::string title;
  std::vector<connection> connections;
  std::vector<bandwidth> bandwidths;
  std::string key;

  static media from(const media_view& v) {
    media m;
    m.type = std::string(v.type);
    m.port = v.port;
    m.port_count = v.port_count;
    m.proto = std::string(v.proto);
    m.formats.assign(v.formats.begin(), v.formats.end());
    m.title = std::string(v.title);
    for (const auto& c : v.connections) m.connections.push_back(detail::to_owned(c));
    for (const auto& b : v.bandwidths) m.bandwidths.push_back(detail::to_owned(b));
    m.key = std::string(v.key);
    m.copy_attributes(v);
    return m;
  }

  void write_to(std::string& out) const {
    out += "m=";
    out += type;
    out += ' ';
    detail::write_number(out, port);
    if (port_count) {
      out += '/';
      detail::write_number(out, port_count);
    }
    out += ' ';
    out += proto;
    for (const auto& f : formats) {
      out += ' ';
      out += f;
    }
    out += "\r\n";
    if (!title.empty()) detail::write_line(out, 'i', title);
    for (const auto& c : connections) detail::write_connection(out, c);
    detail::write_bandwidths(out, bandwidths);
    if (!key.empty()) detail::write_line(out, 'k', key);
    write_attributes(out);
  }
};

class session : public attribute_list {
 public:
  sdp::origin origin;
  std::string name = "-";
  std::string info, uri;
  std::vector<std::string> emails, phones;
  std::optional<sdp::connection> connection;
  std::vector<bandwidth> bandwidths;
  std::vector<timing> times{timing{}};
  std::string zone, key;
  std::vector<sdp::media> media;
  bool fragment = false;  // RFC 8840 fragment: written without v/o/s/t

  static session from(const session_view& v) {
    session s;
    s.fragment = v.fragment;
    const auto& o = v.origin;
    s.origin = {std::string(o.username), std::string(o.session_id), std::string(o.session_version),
                std::string(o.nettype), std::string(o.addrtype), std::string(o.address)};
    s.name = std::string(v.name);
    s.info = std::string(v.info);
    s.uri = std::string(v.uri);
    s.emails.assign(v.emails.begin(), v.emails.end());
    s.phones.assign(v.phones.begin(), v.phones.end());
    if (v.connection) s.connection = detail::to_owned(*v.connection);
    for (const auto& b : v.bandwidths) s.bandwidths.push_back(detail::to_owned(b));
    s.times.clear();
    for (const auto& t : v.times) {
      timing tt{std::string(t.start), std::string(t.stop), {}};
      tt.repeats.assign(t.repeats.begin(), t.repeats.end());
      s.times.push_back(std::move(tt));
    }
    s.zone = std::string(v.zone);
    s.key = std::string(v.key);
    s.copy_attributes(v);
    s.media.reserve(v.media.size());
    for (const auto& m : v.media) s.media.push_back(media::from(m));
    return s;
  }

  // RFC 8866 §5 order, CRLF line ends.
  void write_to(std::string& out) const {
    if (fragment) return write_fragment(out);
    out += "v=0\r\n";
    detail::write_origin(out, origin);
    detail::write_line(out, 's', name);  // kept as parsed, even "s=" (RFC 3264 §10)
    if (!info.empty()) detail::write_line(out, 'i', info);
    if (!uri.empty()) detail::write_line(out, 'u', uri);
    for (const auto& e : emails) detail::write_line(out, 'e', e);
    for (const auto& p : phones) detail::write_line(out, 'p', p);
    if (connection) detail::write_connection(out, *connection);
    detail::write_bandwidths(out, bandwidths);
    for (const auto& t : times) {
      out += "t=";
      out += t.start;
      out += ' ';
      out += t.stop;
      out += "\r\n";
      for (const auto& r : t.repeats) detail::write_line(out, 'r', r);
    }
    if (times.empty()) out += "t=0 0\r\n";  // t= is mandatory (§5.9)
    if (!zone.empty()) detail::write_line(out, 'z', zone);
    if (!key.empty()) detail::write_line(out, 'k', key);
    write_attributes(out);
    for (const auto& m : media) m.write_to(out);
  }

  // RFC 8840 §9: session attributes, then each m= section.
  void write_fragment(std::string& out) const {
    if (!info.empty()) detail::write_line(out, 'i', info);
    if (!uri.empty()) detail::write_line(out, 'u', uri);
    for (const auto& e : emails) detail::write_line(out, 'e', e);
    for (const auto& p : phones) detail::write_line(out, 'p', p);
    if (connection) detail::write_connection(out, *connection);
    detail::write_bandwidths(out, bandwidths);
    if (!zone.empty()) detail::write_line(out, 'z', zone);
    if (!key.empty()) detail::write_line(out, 'k', key);
    write_attributes(out);
    for (const auto& m : media) m.write_to(out);
  }

  std::string to_string() const {
    std::string out;
    out.reserve(256 + media.size() * 512);
    write_to(out);
    return out;
  }
};

// How to parse an SDP we wrote ourselves (our offer or answer): its
// attribute syntax needs no checking, and the limits set for a peer's input
// are not for it.
inline parse_options own_parse_options() noexcept {
  parse_options own{};
  own.check_attributes = false;
  return own;
}
// The editable model of an SDP we wrote.
inline session own_session(std::string_view text) { return session::from(parse(text, own_parse_options())); }

// write(parse(x)) in one call, for callers holding a view.
inline std::string write(const session_view& v) { return session::from(v).to_string(); }
inline std::string write(const session& s) { return s.to_string(); }

}  // namespace sigwire::sdp
