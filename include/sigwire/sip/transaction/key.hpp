// sigwire/sip/transaction/key.hpp - transaction matching keys.
//
// RFC 3261 §17.1.3 (client): a response matches the client transaction whose
//   request carried the same top Via branch, and the same CSeq method.
// RFC 3261 §17.2.3 (server, magic cookie z9hG4bK present): branch + sent-by
//   of the top Via + method, with ACK matching the INVITE it acknowledges.
// RFC 3261 §17.2.3 (RFC 2543 fallback, no cookie): Request-URI, To tag (not
//   for INVITE/ACK: the ACK carries the tag of our response), From tag,
//   Call-ID, CSeq number, method (ACK as INVITE) and the whole top Via.
// RFC 3261 §9.2: a CANCEL matches the INVITE it cancels by the same rules
//   with the method taken as INVITE (key_as_invite()).
// RFC 3261 §8.2.2.2: merge key = From tag, Call-ID, CSeq (requests with no
//   To tag only).
//
// Keys are flat strings: one hash table lookup, no per-field comparison.
// A record keeps its key, its merge key and (server) its request's bytes in
// one buffer: one allocation per transaction (core.hpp).
#pragma once

#include <sigwire/sip/message.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sigwire::sip::transaction {

namespace detail {
inline void append_u32(std::string& s, std::uint32_t n) {
  char buf[10];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  s.append(buf, r.ptr);
}

// Writes a key's pieces into room made once at the end of a string (no
// capacity check per piece); the string is cut to what was written when the
// writer goes. `room` must bound what is put.
class key_writer {
 public:
  key_writer(std::string& out, std::size_t room) : out_(out), start_(out.size()) {
    out.resize(start_ + room);
    at_ = out.data() + start_;
  }
  key_writer(const key_writer&) = delete;
  key_writer& operator=(const key_writer&) = delete;
  ~key_writer() { out_.resize(written_end()); }

  key_writer& put(std::string_view s) noexcept {
    if (s.empty()) return *this;  // an empty view may hold a null pointer, which memcpy must not get
    std::memcpy(at_, s.data(), s.size());
    at_ += s.size();
    return *this;
  }
  key_writer& put(char c) noexcept {
    *at_++ = c;
    return *this;
  }
  key_writer& put(std::uint32_t n) noexcept {
    at_ = std::to_chars(at_, at_ + max_u32_digits, n).ptr;
    return *this;
  }
  // sent-by as host:port, the default port compared as written (§17.2.3 compares sent-by).
  key_writer& put_sent_by(const via& v) noexcept { return put(v.host).put(':').put(v.has_port ? v.port : 0u); }
  static constexpr std::size_t max_u32_digits = 10;

 private:
  std::size_t written_end() const noexcept { return static_cast<std::size_t>(at_ - out_.data()); }
  std::string& out_;
  std::size_t start_;
  char* at_;
};

// ACK and CANCEL find the INVITE server transaction.
inline std::string_view matching_method(std::string_view m, bool as_invite) noexcept {
  return as_invite || m == "ACK" ? std::string_view{"INVITE"} : m;
}
}  // namespace detail

// Each key is appended to `out` (a record keeps its keys in one buffer);
// nothing is appended when the message lacks what the key needs. The
// functions below return them as strings.

// RFC 3261 §17.1.3: the key of the client transaction a response (or the
// request it sent) belongs to: top Via branch and CSeq method.
// The same from the branch and the CSeq method themselves.
inline void append_client_key(std::string& out, std::string_view branch, std::string_view cseq_method) {
  const std::string_view method = cseq_method == "ACK" ? std::string_view{"INVITE"} : cseq_method;  // our ACK is part of the INVITE tsx
  // Plain appends: GCC 12 at -O3 reports a false overflow in key_writer when
  // this is inlined into a caller whose method comes from a table.
  out.reserve(out.size() + 2 + branch.size() + method.size());
  out += 'c';
  out += branch;
  out += ' ';
  out += method;
}
inline void append_client_key(std::string& out, const message_view& m) {
  const via* v = m.top_via();
  const cseq* c = m.cseq();
  if (!v || !v->has_branch || !c) return;
  append_client_key(out, v->branch, c->method);
}

// RFC 3261 §17.2.3: the key of the server transaction a request belongs to.
// as_invite: the key of the INVITE a CANCEL cancels (§9.2).
inline void append_server_key(std::string& out, const message_view& m, bool as_invite = false) {
  const via* v = m.top_via();
  const cseq* c = m.cseq();
  if (!v || !c) return;
  constexpr std::size_t digits = detail::key_writer::max_u32_digits;
  const std::string_view method = detail::matching_method(m.method(), as_invite);
  if (v->rfc3261_branch()) {
    detail::key_writer(out, 4 + v->branch.size() + v->host.size() + digits + method.size())
        .put('s').put(v->branch).put(' ').put_sent_by(*v).put(' ').put(method);
    return;
  }
  // RFC 2543 fallback.
  const std::string_view to_tag = method != "INVITE" && m.to() ? m.to()->tag : std::string_view{};
  const std::string_view from_tag = m.from() ? m.from()->tag : std::string_view{};
  detail::key_writer(out, 11 + m.request_uri_text().size() + to_tag.size() + from_tag.size() + m.call_id().size() +
                              2 * digits + method.size() + v->transport.size() + v->host.size() + v->branch.size())
      .put('2').put(m.request_uri_text()).put(' ').put(to_tag).put(' ').put(from_tag).put(' ')
      .put(m.call_id()).put(' ').put(c->number).put(' ').put(method).put(' ')
      .put(v->transport).put(' ').put_sent_by(*v).put(' ').put(v->branch);
}

// RFC 3261 §8.2.2.2: requests without a To tag that share From tag, Call-ID
// and CSeq but match no transaction were merged on the way (forked and
// rejoined). Nothing when the request has a To tag (inside a dialog).
inline void append_merge_key(std::string& out, const message_view& m) {
  const cseq* c = m.cseq();
  if (!c || !m.from() || (m.to() && m.to()->has_tag)) return;
  const std::string_view from_tag = m.from()->tag;
  detail::key_writer(out, 4 + from_tag.size() + m.call_id().size() + detail::key_writer::max_u32_digits + c->method.size())
      .put('m').put(from_tag).put(' ').put(m.call_id()).put(' ').put(c->number).put(' ').put(c->method);
}

inline std::string client_key(const message_view& m) {
  std::string k;
  append_client_key(k, m);
  return k;
}
inline std::string server_key(const message_view& m, bool as_invite = false) {
  std::string k;
  append_server_key(k, m, as_invite);
  return k;
}
inline std::string merge_key(const message_view& m) {
  std::string k;
  append_merge_key(k, m);
  return k;
}

}  // namespace sigwire::sip::transaction
