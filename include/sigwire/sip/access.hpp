// sigwire/sip/access.hpp - lazily decoded headers of a parsed message.
//
// Nothing is cached: every call decodes the raw views again, so a malformed
// header yields its error on every access (never an exception). List
// headers are visited element by element across all their header lines, in
// order, bounded by limits::max_values.
//
//   sip::for_each_contact(m, [](const sip::name_addr& c) { use(c.address); });
//   if (auto ct = sip::content_type(m)) ct->is("application", "sdp");
#pragma once

#include <sigwire/sip/detail/lex.hpp>
#include <sigwire/sip/headers.hpp>
#include <sigwire/sip/message.hpp>

#include <cstdint>
#include <string_view>
#include <system_error>

namespace sigwire::sip {

// Visits every comma-separated element of every `id` header line.
// f(std::string_view element) -> void. Empty elements are errors.
template <class F>
result<std::size_t> for_each_element(const message_view& m, header_id id, error err, F&& f) {
  std::size_t n = 0;
  for (const auto& h : m.headers()) {
    if (h.id != id) continue;
    detail::comma_splitter sp(h.value);
    std::string_view e;
    bool bad = false;
    while (sp.next(e, bad)) {
      if (e.empty()) return result<std::size_t>::fail(err, h.value);
      if (++n > m.options().limits.max_values) return result<std::size_t>::fail(error::too_many_values, h.value);
      if (auto ec = f(e, h)) return {0, ec, h.value};
    }
    if (bad) return result<std::size_t>::fail(err, h.value);
  }
  return {n, {}, {}};
}

// Every Via value, topmost first. f(const via&).
template <class F>
result<std::size_t> for_each_via(const message_view& m, F&& f) {
  via v;
  return for_each_element(m, header_id::via, error::bad_via, [&](std::string_view e, const header_field&) {
    if (const error pe = parse_via_to(e, v, m.options().limits); pe != error{}) return make_error_code(pe);
    f(v);
    return std::error_code{};
  });
}

namespace detail {
template <class F>
result<std::size_t> for_each_name_addr(const message_view& m, header_id id, error err, bool star, F&& f) {
  name_addr na;
  return for_each_element(m, id, err, [&](std::string_view e, const header_field& h) {
    if (const error pe = parse_name_addr_to(e, na, err, m.options().limits, star); pe != error{}) return make_error_code(pe);
    // Contact: * stands alone (RFC 3261 §10.2.2).
    if (na.star && (m.count(id) != 1 || detail::trim_lws(h.value) != "*")) return make_error_code(err);
    f(na);
    return std::error_code{};
  });
}
}  // namespace detail

// Contact values (incl. "*"). f(const name_addr&).
template <class F>
result<std::size_t> for_each_contact(const message_view& m, F&& f) {
  return detail::for_each_name_addr(m, header_id::contact, error::bad_contact, true, f);
}
template <class F>
result<std::size_t> for_each_route(const message_view& m, F&& f) {
  return detail::for_each_name_addr(m, header_id::route, error::bad_route, false, f);
}
template <class F>
result<std::size_t> for_each_record_route(const message_view& m, F&& f) {
  return detail::for_each_name_addr(m, header_id::record_route, error::bad_record_route, false, f);
}

// Option tags / methods: Allow, Supported, Require, Proxy-Require, Unsupported,
// Allow-Events. f(std::string_view token).
template <class F>
result<std::size_t> for_each_token(const message_view& m, header_id id, F&& f) {
  // An empty Allow / Supported is legal (RFC 3261 §20.5, §20.37).
  for (const auto& h : m.headers())
    if (h.id == id && h.value.empty() && id != header_id::require && id != header_id::proxy_require && m.count(id) == 1)
      return {0, {}, {}};
  return for_each_element(m, id, error::bad_token_list, [&](std::string_view e, const header_field&) {
    if (!core::ascii::all_of_class(e, core::ascii::cls_sip_token)) return make_error_code(error::bad_token_list);
    f(e);
    return std::error_code{};
  });
}

inline result<media_type> content_type(const message_view& m) {
  const auto* h = m.find(header_id::content_type);
  if (!h) return result<media_type>::fail(error::header_not_found);
  return parse_media_type(h->value, m.options().limits);
}

inline result<std::uint32_t> expires(const message_view& m) {
  const auto* h = m.find(header_id::expires);
  if (!h) return result<std::uint32_t>::fail(error::header_not_found);
  return parse_number(h->value, error::bad_expires);
}

// The n-th WWW-Authenticate / Proxy-Authenticate / Authorization /
// Proxy-Authorization header (one challenge or credentials per header line).
inline result<auth_header> auth(const message_view& m, header_id id, std::size_t nth = 0) {
  for (const auto& h : m.headers())
    if (h.id == id && nth-- == 0) return parse_auth_header(h.value, m.options().limits);
  return result<auth_header>::fail(error::header_not_found);
}

// Decodes every header whose grammar this layer knows (what sip_inspect and
// a strict UAS do). Returns the first error; `where` names the header value.
inline result<std::size_t> validate_all(const message_view& m) {
  const auto& lim = m.options().limits;
  auto ignore = [](const auto&) {};
  if (auto r = for_each_via(m, ignore); !r) return r;
  if (auto r = for_each_contact(m, ignore); !r) return r;
  if (auto r = for_each_route(m, ignore); !r) return r;
  if (auto r = for_each_record_route(m, ignore); !r) return r;
  for (header_id id : {header_id::allow, header_id::supported, header_id::require, header_id::proxy_require,
                       header_id::unsupported, header_id::allow_events})
    if (auto r = for_each_token(m, id, ignore); !r) return r;
  std::size_t n = 0;
  for (const auto& h : m.headers()) {
    std::error_code ec;
    switch (h.id) {
      case header_id::content_type: ec = parse_media_type(h.value, lim).ec; break;
      case header_id::expires: ec = parse_number(h.value, error::bad_expires).ec; break;
      case header_id::min_expires: ec = parse_number(h.value, error::bad_expires).ec; break;
      case header_id::date: ec = check_date(h.value); break;
      case header_id::retry_after: ec = check_retry_after(h.value, lim); break;
      case header_id::www_authenticate:
      case header_id::proxy_authenticate:
      case header_id::authorization:
      case header_id::proxy_authorization: ec = parse_auth_header(h.value, lim).ec; break;
      case header_id::reply_to:
      case header_id::refer_to:
      case header_id::referred_by: ec = parse_name_addr(h.value, error::bad_header_value, lim).ec; break;
      case header_id::warning: {
        detail::comma_splitter sp(h.value);
        std::string_view e;
        bool bad = false;
        while (!ec && sp.next(e, bad)) ec = check_warning(e);
        if (bad) ec = make_error_code(error::bad_warning);
        break;
      }
      default: break;
    }
    if (ec) return {0, ec, h.value};
    ++n;
  }
  return {n, {}, {}};
}

}  // namespace sigwire::sip
