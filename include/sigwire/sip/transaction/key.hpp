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
#pragma once

#include <sigwire/sip/message.hpp>

#include <charconv>
#include <string>
#include <string_view>

namespace sigwire::sip::transaction {

namespace detail {
inline void append_u32(std::string& s, std::uint32_t n) {
  char buf[10];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  s.append(buf, r.ptr);
}
inline void append_sent_by(std::string& s, const via& v) {
  s.append(v.host);
  s += ':';
  append_u32(s, v.has_port ? v.port : 0);  // default port compared as written (§17.2.3 compares sent-by)
}
// ACK and CANCEL find the INVITE server transaction.
inline std::string_view matching_method(std::string_view m, bool as_invite) noexcept {
  return as_invite || m == "ACK" ? std::string_view{"INVITE"} : m;
}
}  // namespace detail

// RFC 3261 §17.1.3: the key of the client transaction a response (or the
// request it sent) belongs to. Empty when the message lacks Via/branch/CSeq.
inline std::string client_key(const message_view& m) {
  std::string k;
  const via* v = m.top_via();
  const cseq* c = m.cseq();
  if (!v || !v->has_branch || !c) return k;
  k.reserve(v->branch.size() + c->method.size() + 3);
  k += 'c';
  k.append(v->branch);
  k += ' ';
  k.append(c->method == "ACK" ? std::string_view{"INVITE"} : c->method);  // our ACK is part of the INVITE tsx
  return k;
}

// RFC 3261 §17.2.3: the key of the server transaction a request belongs to.
// as_invite: the key of the INVITE a CANCEL cancels (§9.2).
inline std::string server_key(const message_view& m, bool as_invite = false) {
  std::string k;
  const via* v = m.top_via();
  const cseq* c = m.cseq();
  if (!v || !c) return k;
  const std::string_view method = detail::matching_method(m.method(), as_invite);
  if (v->rfc3261_branch()) {
    k.reserve(v->branch.size() + v->host.size() + method.size() + 16);
    k += 's';
    k.append(v->branch);
    k += ' ';
    detail::append_sent_by(k, *v);
    k += ' ';
    k.append(method);
    return k;
  }
  // RFC 2543 fallback.
  k += '2';
  k.append(m.request_uri_text());
  k += ' ';
  if (method != "INVITE" && m.to()) k.append(m.to()->tag);
  k += ' ';
  if (m.from()) k.append(m.from()->tag);
  k += ' ';
  k.append(m.call_id());
  k += ' ';
  detail::append_u32(k, c->number);
  k += ' ';
  k.append(method);
  k += ' ';
  k.append(v->transport);
  k += ' ';
  detail::append_sent_by(k, *v);
  k += ' ';
  k.append(v->branch);
  return k;
}

// RFC 3261 §8.2.2.2: requests without a To tag that share From tag, Call-ID
// and CSeq but match no transaction were merged on the way (forked and
// rejoined). Empty when the request has a To tag (inside a dialog).
inline std::string merge_key(const message_view& m) {
  std::string k;
  const cseq* c = m.cseq();
  if (!c || !m.from() || (m.to() && m.to()->has_tag)) return k;
  k += 'm';
  k.append(m.from()->tag);
  k += ' ';
  k.append(m.call_id());
  k += ' ';
  detail::append_u32(k, c->number);
  k += ' ';
  k.append(c->method);
  return k;
}

}  // namespace sigwire::sip::transaction
