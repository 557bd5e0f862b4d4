// sip_inspect - prints one JSON object per SIP message.
//
//   sip_inspect [--stream] [--lenient NAME]... [FILE...]    (stdin when no FILE)
//
// Each FILE (or stdin) holds one message, parsed as a UDP datagram unless
// --stream is given (then Content-Length is mandatory, RFC 3261 §18.3).
// Leniency NAMEs: bare-lf, version-case, missing-final-crlf,
// start-line-spaces, stream-missing-content-length.
//
// Output: kind, method or status, Request-URI parts, every header (canonical
// long name, raw value) in order, typed fields (Call-ID, CSeq, top Via, From
// and To URIs and tags, Contact URIs, Content-Length, body length).
// Exit 0 when every message and every header it decodes are well-formed;
// on a syntax error the object gets an "error" field (name, offending line
// or header, the response a UAS owes) and the exit status is 1. A
// well-formed request a UAS must still refuse gets a "uas_response" field.
//
// Build: c++ -std=c++20 -Iinclude sip_inspect.cpp -lcrypto
#include <sigwire/core/utf8.hpp>
#include <sigwire/sip.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace sip = sigwire::sip;

namespace {

// JSON string: escapes quotes, backslashes and controls; bytes of invalid
// UTF-8 are written as \u00XX (Latin-1) so the output is always valid JSON.
std::string json(std::string_view s) {
  const bool utf8 = sigwire::core::utf8::is_valid(s);
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string owed_json(const sip::owed_response& r) {
  if (r.status == 0) return "null";
  return "{\"status\":" + std::to_string(r.status) + ",\"reason\":" + json(r.reason) + "}";
}

std::string uri_json(const sip::uri& u) {
  std::string s = "{\"raw\":" + json(u.raw) + ",\"scheme\":" + json(u.scheme_name);
  if (u.is_sip()) {
    if (u.has_user) s += ",\"user\":" + json(sip::unescape(u.user));
    s += ",\"host\":" + json(u.host);
    if (u.has_port) s += ",\"port\":" + std::to_string(u.port);
    if (!u.params.empty()) s += ",\"params\":" + json(u.params);
    if (!u.headers.empty()) s += ",\"headers\":" + json(u.headers);
  }
  return s + "}";
}

std::string name_addr_json(const sip::name_addr& n) {
  if (n.star) return "{\"star\":true}";
  std::string s = "{\"uri\":" + json(n.address.raw);
  if (!n.display_name.empty()) s += ",\"display_name\":" + json(n.display_name_text());
  if (n.has_tag) s += ",\"tag\":" + json(n.tag);
  return s + "}";
}

struct options {
  sip::parse_options parse{};
  std::vector<std::string> files;
};

bool add_leniency(options& o, std::string_view name) {
  struct flag {
    std::string_view name;
    std::uint32_t bit;
  };
  static constexpr flag flags[] = {{"bare-lf", sip::lenient_bare_lf},
                                   {"version-case", sip::lenient_version_case},
                                   {"missing-final-crlf", sip::lenient_missing_final_crlf},
                                   {"start-line-spaces", sip::lenient_start_line_spaces},
                                   {"stream-missing-content-length", sip::lenient_stream_missing_content_length}};
  for (auto f : flags)
    if (f.name == name) {
      o.parse.lenient |= f.bit;
      return true;
    }
  return false;
}

// Prints the JSON object for one message; returns false on a syntax error.
bool inspect(std::string_view source, std::string_view data, const options& o) {
  std::vector<sip::header_field> arena(o.parse.limits.max_headers);
  sip::message_view m;
  std::string out = "{\"source\":" + json(source);
  const auto parsed = sip::parse(data, m, o.parse, arena);
  // A file holds whole messages: one that ends early (stream mode) is truncated.
  std::error_code ec = parsed.need_more() ? make_error_code(sip::error::truncated_message) : parsed.ec;
  std::string_view where = m.failure_where();
  const bool have_start = !ec || !m.start_line().empty();
  if (have_start && !m.start_line().empty()) {
    out += m.is_request() ? ",\"kind\":\"request\",\"method\":" + json(m.method())
                          : ",\"kind\":\"response\",\"status\":" + std::to_string(m.status()) +
                                ",\"reason\":" + json(m.reason());
  }
  if (!ec) {
    if (m.is_request()) out += ",\"request_uri\":" + uri_json(m.request_uri());
    out += ",\"headers\":[";
    bool first = true;
    for (const auto& h : m.headers()) {
      out += first ? "" : ",";
      first = false;
      out += "{\"name\":" + json(h.id == sip::header_id::other ? h.name : sip::canonical_name(h.id)) +
             ",\"value\":" + json(h.value) + "}";
    }
    out += "]";
    if (!m.call_id().empty()) out += ",\"call_id\":" + json(m.call_id());
    if (auto c = m.cseq()) out += ",\"cseq\":{\"number\":" + std::to_string(c->number) + ",\"method\":" + json(c->method) + "}";
    if (auto v = m.top_via()) {
      out += ",\"via\":{\"transport\":" + json(v->transport) + ",\"host\":" + json(v->host);
      if (v->has_port) out += ",\"port\":" + std::to_string(v->port);
      if (v->has_branch) out += ",\"branch\":" + json(v->branch);
      out += "}";
    }
    if (auto f = m.from()) out += ",\"from\":" + name_addr_json(*f);
    if (auto t = m.to()) out += ",\"to\":" + name_addr_json(*t);
    std::string contacts;
    auto cr = sip::for_each_contact(m, [&](const sip::name_addr& c) {
      if (!contacts.empty()) contacts += ',';
      contacts += name_addr_json(c);
    });
    if (cr && !contacts.empty()) out += ",\"contacts\":[" + contacts + "]";
    if (auto cl = m.content_length()) out += ",\"content_length\":" + std::to_string(*cl);
    out += ",\"body_length\":" + std::to_string(m.body().size());
    if (auto all = sip::validate_all(m); !all) {
      ec = all.ec;
      where = all.where;
    }
  }
  if (ec) {
    const auto owed = sip::owed_response_to(m, ec);
    const std::string name = ec.category() == sigwire::core::category_of<sip::error>()
                                 ? std::string(sip::error_name(static_cast<sip::error>(ec.value())))
                                 : ec.message();
    out += ",\"error\":{\"name\":" + json(name) + ",\"where\":" + json(where) + ",\"uas_response\":" + owed_json(owed) + "}";
  } else if (auto owed = sip::uas_check(m); owed.status) {
    out += ",\"uas_response\":" + owed_json(owed);
  }
  std::cout << out << "}\n";
  return !ec;
}

std::string slurp(std::istream& in) { return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}; }

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--stream") {
      o.parse.transport = sip::transport_kind::stream;
    } else if (a == "--lenient" && i + 1 < argc) {
      if (!add_leniency(o, argv[++i])) {
        std::cerr << "sip_inspect: unknown leniency " << argv[i] << "\n";
        return 2;
      }
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: sip_inspect [--stream] [--lenient NAME]... [FILE...]\n";
      return 0;
    } else {
      o.files.emplace_back(a);
    }
  }
  bool ok = true;
  if (o.files.empty()) {
    const std::string data = slurp(std::cin);
    ok = inspect("-", data, o);
  }
  for (const auto& f : o.files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::cerr << "sip_inspect: cannot read " << f << "\n";
      ok = false;
      continue;
    }
    const std::string data = slurp(in);
    ok = inspect(f, data, o) && ok;
  }
  return ok ? 0 : 1;
}
