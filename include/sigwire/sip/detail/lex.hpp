// sigwire/sip/detail/lex.hpp - private lexical helpers over raw header values.
//
// Header values are views into the original bytes, folds included: the
// message indexer has already checked that every CR or LF inside a value is
// part of a fold (CRLF followed by SP/HT), so here CR and LF are simply
// linear whitespace (RFC 3261 §25.1 LWS).
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/sip/error.hpp>

#include <cstddef>
#include <string_view>

namespace sigwire::sip::detail {

namespace ascii = core::ascii;

constexpr bool is_lws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct cursor {
  std::string_view s;
  std::size_t i = 0;

  constexpr bool done() const noexcept { return i >= s.size(); }
  constexpr char peek() const noexcept { return i < s.size() ? s[i] : '\0'; }
  constexpr std::string_view rest() const noexcept { return s.substr(i < s.size() ? i : s.size()); }
  constexpr bool skip_lws() noexcept {  // returns true when something was skipped
    const std::size_t start = i;
    while (i < s.size() && is_lws(s[i])) ++i;
    return i != start;
  }
  constexpr bool eat(char c) noexcept {
    if (peek() != c || done()) return false;
    ++i;
    return true;
  }
  // SWS c SWS (RFC 3261 §25.1 SEMI, COLON, EQUAL, SLASH, COMMA)
  constexpr bool eat_sep(char c) noexcept {
    const std::size_t save = i;
    skip_lws();
    if (eat(c)) {
      skip_lws();
      return true;
    }
    i = save;
    return false;
  }
  template <class Pred>
  constexpr std::string_view take_while(Pred p) noexcept {
    const std::size_t start = i;
    while (i < s.size() && p(s[i])) ++i;
    return {s.data() + start, i - start};  // in range by construction: no substr check
  }
  constexpr std::string_view token() noexcept {
    return take_while([](char c) { return ascii::is_sip_token(c); });
  }
};

[[gnu::always_inline]] constexpr std::string_view trim_lws(std::string_view s) noexcept {
  std::size_t b = 0, e = s.size();
  while (b < e && is_lws(s[b])) ++b;
  while (e > b && is_lws(s[e - 1])) --e;
  return {s.data() + b, e - b};
}

// quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE (RFC 3261 §25.1).
// On entry s[i] == '"'. Returns the end (one past the closing quote) or npos.
// quoted-pair may escape any octet 0x00-0x09, 0x0B-0x0C, 0x0E-0x7F.
constexpr std::size_t skip_quoted(std::string_view s, std::size_t i) noexcept {
  ++i;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (i + 1 >= s.size()) return std::string_view::npos;
      const auto n = static_cast<unsigned char>(s[i + 1]);
      if (n == '\r' || n == '\n' || n > 0x7f) return std::string_view::npos;
      i += 2;
      continue;
    }
    i += 1;
  }
  return std::string_view::npos;
}

// Splits a header value into comma-separated elements (RFC 3261 §7.3.1),
// ignoring commas inside quoted strings and <...>. Empty elements are
// reported as empty views so that callers can reject them.
class comma_splitter {
 public:
  constexpr explicit comma_splitter(std::string_view value) noexcept : s_(value) {}

  // false when no element is left; sets `bad` on an unterminated quote/bracket.
  constexpr bool next(std::string_view& out, bool& bad) noexcept {
    if (finished_) return false;
    std::size_t i = pos_;
    bool in_angle = false;
    while (i < s_.size()) {
      const char c = s_[i];
      if (c == '"') {
        const std::size_t e = skip_quoted(s_, i);
        if (e == std::string_view::npos) {
          bad = true;
          return false;
        }
        i = e;
        continue;
      }
      if (c == '<') in_angle = true;
      else if (c == '>') in_angle = false;
      else if (c == ',' && !in_angle) break;
      ++i;
    }
    if (in_angle) {
      bad = true;
      return false;
    }
    out = trim_lws(s_.substr(pos_, i - pos_));
    if (i >= s_.size()) finished_ = true;
    pos_ = i + 1;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
  bool finished_ = false;
};

// generic-param value: token / host (incl. [IPv6]) / quoted-string.
constexpr bool is_param_value_char(char c) noexcept {
  return ascii::is_sip_token(c) || c == '[' || c == ']' || c == ':';
}

// Parses `*( SEMI generic-param )` from the cursor. Calls f(name, value)
// (value empty when absent, quoted values keep their quotes). Returns false
// on a syntax error or when more than max_params appear. Stops (true) at a
// character that cannot continue the list (',' or end).
template <class F>
constexpr bool parse_params(cursor& c, std::size_t max_params, bool& too_many, F&& f) {
  std::size_t n = 0;
  for (;;) {
    const std::size_t save = c.i;
    c.skip_lws();
    if (!c.eat(';')) {
      c.i = save;
      return true;
    }
    c.skip_lws();
    const std::string_view name = c.token();
    if (name.empty()) return false;
    std::string_view value{};
    if (c.eat_sep('=')) {
      if (c.peek() == '"') {
        const std::size_t e = skip_quoted(c.s, c.i);
        if (e == std::string_view::npos) return false;
        value = c.s.substr(c.i, e - c.i);
        c.i = e;
      } else {
        value = c.take_while(is_param_value_char);
        if (value.empty()) return false;
      }
    }
    if (++n > max_params) {
      too_many = true;
      return false;
    }
    f(name, value);
  }
}

}  // namespace sigwire::sip::detail
