// sigwire/sip/builder.hpp - writes SIP messages into a caller buffer.
//
//   char buf[2048];
//   sip::builder b(buf, sdp);                  // body known up front
//   b.request_line("INVITE", "sip:bob@example.com");
//   b.header(sip::header_id::via, "SIP/2.0/UDP pc33.example.com;branch=" + sip::make_branch());
//   ...
//   auto out = b.finish();                    // Content-Length computed, body appended
//
// Names and values are checked for CR/LF (header injection). A
// Content-Length written by the caller is replaced by the real body size at
// the same position; without one, finish() adds it before the empty line.
// response_from_request() starts a response as RFC 3261 §8.2.6 says.
#pragma once

#include <sigwire/core/random.hpp>
#include <sigwire/core/scan.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/header_names.hpp>
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/result.hpp>

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace sigwire::sip {

// RFC 3261 §8.1.1.7: branch = magic cookie + unpredictable token.
inline std::string make_branch() { return "z9hG4bK" + core::random_token(16); }
// §19.3: tags need at least 32 random bits; 12 base-36 chars carry ~62.
inline std::string make_tag() { return core::random_token(12); }
// §8.1.1.4: Call-ID, globally unique; `host` optional.
inline std::string make_call_id(std::string_view host = {}) {
  std::string id = core::random_token(24);
  if (!host.empty()) id.append("@").append(host);
  return id;
}

// A header value without its CR and LF (unfolded, RFC 3261 §7.3.1): f(run)
// for each run between them, so a value is copied in pieces, not a byte at a time.
template <class F>
void for_each_unfolded_run(std::string_view value, F&& f) {
  for (std::size_t p = 0; p < value.size();) {
    const std::size_t q = core::scan::find(value, p, core::scan::any_of<'\r', '\n'>{});
    f(value.substr(p, q - p));
    p = q + 1;
  }
}

class builder {
 public:
  explicit builder(std::span<char> out, std::string_view body = {}) noexcept : out_(out), body_(body) {}

  builder& request_line(std::string_view method, std::string_view request_uri) noexcept {
    if (!core::ascii::all_of_class(method, core::ascii::cls_sip_token) || !clean(request_uri) ||
        request_uri.find(' ') != std::string_view::npos || request_uri.empty())
      return bad();
    return put(method).put(" ").put(request_uri).put(" SIP/2.0\r\n");
  }

  builder& status_line(int status, std::string_view reason) noexcept {
    if (status < 100 || status > 699 || !clean(reason)) return bad();
    const char code[3] = {static_cast<char>('0' + status / 100), static_cast<char>('0' + status / 10 % 10),
                          static_cast<char>('0' + status % 10)};
    return put("SIP/2.0 ").put(std::string_view(code, 3)).put(" ").put(reason).put("\r\n");
  }

  builder& header(std::string_view name, std::string_view value) noexcept {
    if (!core::ascii::all_of_class(name, core::ascii::cls_sip_token) || !clean(value)) return bad();
    if (lookup_header(name) == header_id::content_length) {
      put(name).put(": ").put_number(body_.size()).put("\r\n");
      wrote_length_ = true;
      return *this;
    }
    return put(name).put(": ").put(value).put("\r\n");
  }
  builder& header(header_id id, std::string_view value) noexcept { return header(canonical_name(id), value); }

  // A value taken from a parsed message: its folds (CRLF + WSP, validated by
  // the parser) are written unfolded, keeping the WSP (RFC 3261 §7.3.1).
  // `suffix` (e.g. ";tag=...") is appended after the value.
  builder& header_unfolded(std::string_view name, std::string_view value, std::string_view suffix = {}) noexcept {
    if (!core::ascii::all_of_class(name, core::ascii::cls_sip_token) || !clean(suffix)) return bad();
    if (lookup_header(name) == header_id::content_length) return header(name, value);
    put(name).put(": ");
    for_each_unfolded_run(value, [&](std::string_view run) { put(run); });
    return put(suffix).put("\r\n");
  }

  // A value written from pieces (no concatenation by the caller).
  builder& header(std::string_view name, std::initializer_list<std::string_view> parts) noexcept {
    if (!core::ascii::all_of_class(name, core::ascii::cls_sip_token) || lookup_header(name) == header_id::content_length)
      return bad();
    for (auto p : parts)
      if (!clean(p)) return bad();
    put(name).put(": ");
    for (auto p : parts) put(p);
    return put("\r\n");
  }

  // Ends the header section, writes the body; the whole message on success.
  result<std::string_view> finish() noexcept {
    if (!wrote_length_) put("Content-Length: ").put_number(body_.size()).put("\r\n");
    put("\r\n").put(body_);
    if (ec_) return {{}, ec_, {}};
    return {std::string_view(out_.data(), n_), {}, {}};
  }

  std::error_code error() const noexcept { return ec_; }
  std::size_t size() const noexcept { return n_; }

 private:
  // No CR or LF (one scan for both).
  static bool clean(std::string_view v) noexcept {
    return core::scan::find(v, 0, core::scan::any_of<'\r', '\n'>{}) >= v.size();
  }
  builder& bad() noexcept {
    if (!ec_) ec_ = make_error_code(error::bad_builder_input);
    return *this;
  }
  // Inlined: a message is written in some hundred pieces.
  [[gnu::always_inline]] builder& put(std::string_view s) noexcept {
    if (ec_) return *this;
    if (s.size() > out_.size() - n_) {
      ec_ = make_error_code(error::buffer_too_small);
      return *this;
    }
    if (!s.empty()) std::memcpy(out_.data() + n_, s.data(), s.size());
    n_ += s.size();
    return *this;
  }
  builder& put_number(std::size_t v) noexcept {
    char digits[24];
    std::size_t d = 0;
    do digits[d++] = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
    char out[24];
    for (std::size_t i = 0; i < d; ++i) out[i] = digits[d - 1 - i];
    return put(std::string_view(out, d));
  }

  std::span<char> out_;
  std::string_view body_;
  std::size_t n_ = 0;
  bool wrote_length_ = false;
  std::error_code ec_{};
};

// Starts a response to `req` (RFC 3261 §8.2.6.2): the Via values in order,
// From, To (with `to_tag` added when the request's To has none and the
// status is not 100), Call-ID, CSeq; a 100 also copies Timestamp
// (§8.2.6.1); 101-299 copy Record-Route (§12.1.1). The caller adds more
// headers (Contact, ...) and calls finish().
inline std::error_code response_from_request(builder& b, const message_view& req, int status, std::string_view reason,
                                             std::string_view to_tag = {}) {
  if (!req.is_request()) return make_error_code(error::bad_builder_input);
  b.status_line(status, reason);
  for (const auto& h : req.headers()) {
    switch (h.id) {
      case header_id::via:
      case header_id::from:
      case header_id::call_id:
      case header_id::cseq: b.header_unfolded(canonical_name(h.id), h.value); break;
      case header_id::to:
        if (req.to() && !req.to()->has_tag && status != 100 && !to_tag.empty()) {
          // to_tag must be a token (RFC 3261 §19.3): it is a builder input, not peer data
          if (!core::ascii::all_of_class(to_tag, core::ascii::cls_sip_token)) return make_error_code(error::bad_builder_input);
          char suffix[80];
          if (to_tag.size() > sizeof suffix - 5) return make_error_code(error::bad_builder_input);
          std::memcpy(suffix, ";tag=", 5);
          std::memcpy(suffix + 5, to_tag.data(), to_tag.size());
          b.header_unfolded(canonical_name(h.id), h.value, std::string_view(suffix, 5 + to_tag.size()));
        } else {
          b.header_unfolded(canonical_name(h.id), h.value);
        }
        break;
      case header_id::timestamp:
        if (status == 100) b.header_unfolded(canonical_name(h.id), h.value);
        break;
      case header_id::record_route:
        if (status > 100 && status < 300) b.header_unfolded(canonical_name(h.id), h.value);
        break;
      default: break;
    }
  }
  return b.error();
}

// Writes `m` again: same start line, headers in order (long names), body.
// Folded values are written as they are (folds are legal LWS).
inline result<std::string_view> rebuild(const message_view& m, std::span<char> out) {
  builder b(out, m.body());
  if (m.is_request()) b.request_line(m.method(), m.request_uri_text());
  else b.status_line(m.status(), m.reason());
  for (const auto& h : m.headers()) {
    const std::string_view name = h.id == header_id::other ? h.name : canonical_name(h.id);
    b.header_unfolded(name, h.value);
  }
  return b.finish();
}

}  // namespace sigwire::sip
