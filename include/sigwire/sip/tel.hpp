// sigwire/sip/tel.hpp - tel: URIs (RFC 3966) as views: global and local
// numbers, ext / isub / phone-context and other parameters, and the §4
// equality rule. sip::parse_uri() keeps a tel: URI opaque; parse_tel()
// decodes that opaque part (or a whole "tel:..." text).
//
//   auto t = sip::parse_tel(uri.opaque);    // or sip::parse_tel("tel:+1-201-555-0123;ext=1234")
//   t->global; t->number;                   // true, "+1-201-555-0123" (visual separators kept)
//   t->digits(buf);                         // "+12015550123" into caller storage
//   t->extension; t->phone_context;          // views, empty when absent
//   sip::tel_equivalent(*a, *b);             // RFC 3966 §4
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/result.hpp>
#include <sigwire/sip/uri.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace sigwire::sip {

namespace detail::tel {
// One ";name[=value]" item of a parameter list, taken off the front of `rest`.
struct param_item {
  std::string_view item, name;
  std::optional<std::string_view> value;  // nullopt: no '='
};
inline param_item next_param(std::string_view& rest) noexcept {
  rest.remove_prefix(1);  // ';'
  param_item p;
  p.item = rest.substr(0, rest.find(';'));
  rest.remove_prefix(p.item.size());
  const std::size_t eq = p.item.find('=');
  p.name = p.item.substr(0, eq);
  if (eq != std::string_view::npos) p.value = p.item.substr(eq + 1);
  return p;
}
}  // namespace detail::tel

struct tel_uri {
  bool global = false;              // "+" number (global-number), else local-number
  std::string_view number{};        // as written, visual separators included
  std::string_view extension{};     // ";ext=" value; empty when absent
  std::string_view isdn_subaddress{};  // ";isub=" value (may hold %-escapes)
  std::string_view phone_context{};    // ";phone-context=" value (local numbers have one)
  std::string_view params{};        // every parameter, leading ';' included, as written

  // The number without visual separators ("-" "." "(" ")"), written into
  // `out` (RFC 3966 §5.1.1: they carry no meaning).
  std::string_view digits(std::string& out) const {
    out.clear();
    for (char c : number)
      if (!is_visual_separator(c)) out.push_back(c);
    return out;
  }

  // Value of parameter `name` (case-insensitive), nullopt when absent, an
  // empty view for a parameter without value.
  std::optional<std::string_view> param(std::string_view name) const noexcept {
    for (std::string_view rest = params; !rest.empty();) {
      const auto p = detail::tel::next_param(rest);
      if (core::ascii::iequals(p.name, name)) return p.value.value_or(std::string_view{});
    }
    return std::nullopt;
  }

  static constexpr bool is_visual_separator(char c) noexcept { return c == '-' || c == '.' || c == '(' || c == ')'; }
};

namespace detail::tel {
namespace ascii = core::ascii;

constexpr bool is_phonedigit(char c) noexcept { return ascii::is_digit(c) || tel_uri::is_visual_separator(c); }
constexpr bool is_phonedigit_hex(char c) noexcept {
  return ascii::is_hex(c) || c == '*' || c == '#' || tel_uri::is_visual_separator(c);
}
constexpr bool is_mark(char c) noexcept {
  return c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' || c == '(' || c == ')';
}
constexpr bool is_paramchar(char c) noexcept {  // param-unreserved / unreserved (escapes checked apart)
  return ascii::is_alnum(c) || is_mark(c) || c == '[' || c == ']' || c == '/' || c == ':' || c == '&' ||
         c == '+' || c == '$';
}
constexpr bool is_uric(char c) noexcept {  // RFC 2396 uric without escapes
  return ascii::is_alnum(c) || is_mark(c) || c == ';' || c == '/' || c == '?' || c == ':' || c == '@' ||
         c == '&' || c == '=' || c == '+' || c == '$' || c == ',';
}

// Every character passes `ok`, or is a well-formed %HH escape when allowed.
template <class Pred>
bool all_of(std::string_view s, Pred ok, bool escapes) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (ok(s[i])) continue;
    if (!escapes || s[i] != '%' || i + 2 >= s.size() || !ascii::is_hex(s[i + 1]) || !ascii::is_hex(s[i + 2]))
      return false;
    i += 2;
  }
  return true;
}

// global-number-digits = "+" *phonedigit DIGIT *phonedigit
inline bool is_global_number_digits(std::string_view s) noexcept {
  if (s.size() < 2 || s.front() != '+') return false;
  s.remove_prefix(1);
  bool digit = false;
  for (char c : s) {
    if (!is_phonedigit(c)) return false;
    digit = digit || ascii::is_digit(c);
  }
  return digit;
}

// local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex
inline bool is_local_number_digits(std::string_view s) noexcept {
  bool significant = false;
  for (char c : s) {
    if (!is_phonedigit_hex(c)) return false;
    significant = significant || !tel_uri::is_visual_separator(c);
  }
  return significant;
}

// domainname = *( domainlabel "." ) toplabel [ "." ]; toplabel starts with a letter.
inline bool is_domainname(std::string_view s) noexcept {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty()) return false;
  std::string_view last;
  for (std::string_view rest = s;;) {
    const std::size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || !ascii::is_alnum(label.front()) || !ascii::is_alnum(label.back())) return false;
    for (char c : label)
      if (!ascii::is_alnum(c) && c != '-') return false;
    last = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return ascii::is_alpha(last.front());
}

// True when the ";name[=value]..." list `params` has a parameter `name`.
inline bool names_param(std::string_view params, std::string_view name) noexcept {
  for (std::string_view rest = params; !rest.empty();)
    if (ascii::iequals(next_param(rest).name, name)) return true;
  return false;
}

// Checks one ";name[=value]" item and files ext / isub / phone-context.
inline error take_param(std::string_view name, std::optional<std::string_view> value, tel_uri& t) noexcept {
  if (name.empty() || !all_of(name, [](char c) { return ascii::is_alnum(c) || c == '-'; }, false))
    return error::bad_uri_params;
  auto once = [&](std::string_view& slot, bool ok) {
    if (!value || value->empty() || !ok || !slot.empty()) return error::bad_uri_params;
    slot = *value;
    return error{};
  };
  if (ascii::iequals(name, "ext")) return once(t.extension, value && all_of(*value, is_phonedigit, false));
  if (ascii::iequals(name, "isub")) return once(t.isdn_subaddress, value && all_of(*value, is_uric, true));
  if (ascii::iequals(name, "phone-context"))
    return once(t.phone_context, value && (is_global_number_digits(*value) || is_domainname(*value)));
  if (value && (value->empty() || !all_of(*value, is_paramchar, true))) return error::bad_uri_params;
  return error{};
}
}  // namespace detail::tel

// Parses "tel:..." or the part after "tel:" (as sip::uri::opaque holds it).
// RFC 3966 §3: a local number must carry a phone-context; ext, isub and
// phone-context appear at most once. (Their order, which §3 asks
// generators to keep, is not enforced on input.) A parameter name that
// appears twice is an error: §4 compares parameters as a set.
inline result<tel_uri> parse_tel(std::string_view in) {
  using R = result<tel_uri>;
  std::string_view s = in;
  if (s.size() >= 4 && core::ascii::iequals(s.substr(0, 4), "tel:")) s.remove_prefix(4);
  tel_uri t;
  const std::size_t semi = s.find(';');
  t.number = s.substr(0, semi);
  t.params = semi == std::string_view::npos ? std::string_view{} : s.substr(semi);
  t.global = !t.number.empty() && t.number.front() == '+';
  if (t.global ? !detail::tel::is_global_number_digits(t.number) : !detail::tel::is_local_number_digits(t.number))
    return R::fail(error::bad_uri_user, in);
  for (std::string_view rest = t.params; !rest.empty();) {
    const auto p = detail::tel::next_param(rest);
    if (const error e = detail::tel::take_param(p.name, p.value, t); e != error{}) return R::fail(e, in);
    // A parameter name appears once: §4 compares parameters as a set.
    const std::string_view before = t.params.substr(0, t.params.size() - rest.size() - p.item.size() - 1);
    if (detail::tel::names_param(before, p.name)) return R::fail(error::bad_uri_params, in);
  }
  if (!t.global && t.phone_context.empty()) return R::fail(error::bad_uri_params, in);
  return {t, {}, {}};
}

namespace detail::tel {
inline std::string without_separators(std::string_view s) {
  std::string out;
  tel_uri{.number = s}.digits(out);
  return out;
}
}  // namespace detail::tel

// RFC 3966 §4: both global or both local; numbers equal once visual
// separators are dropped (hex digits case-insensitive); the same parameters
// (names case-insensitive; phone-context compared without separators and,
// as a domain name, case-insensitive; other values as unescaped text,
// case-insensitive as §4 allows for all but isub).
inline bool tel_equivalent(const tel_uri& a, const tel_uri& b) {
  using detail::tel::without_separators;
  if (a.global != b.global) return false;
  if (!core::ascii::iequals(without_separators(a.number), without_separators(b.number))) return false;
  auto count = [](const tel_uri& t) {
    std::size_t n = 0;
    for (char c : t.params) n += c == ';';
    return n;
  };
  if (count(a) != count(b)) return false;
  for (std::string_view rest = a.params; !rest.empty();) {
    const auto p = detail::tel::next_param(rest);
    const std::string_view name = p.name;
    const auto other = b.param(name);
    if (!other) return false;
    const std::string_view mine = p.value.value_or(std::string_view{});
    if (core::ascii::iequals(name, "phone-context") || core::ascii::iequals(name, "ext")) {
      if (!core::ascii::iequals(without_separators(mine), without_separators(*other))) return false;
    } else if (!unescaped_equal(mine, *other, !core::ascii::iequals(name, "isub"))) {
      return false;
    }
  }
  return true;
}

}  // namespace sigwire::sip
