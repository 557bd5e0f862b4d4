// sigwire/sip/framer.hpp - cuts a TCP/TLS/WS byte stream into SIP messages
// by Content-Length (RFC 3261 §18.3), sans-IO.
//
// The caller owns the buffer: it appends what it reads and calls next() on
// the unconsumed bytes; on `complete` it hands frame.message to sip::parse()
// (transport_kind::stream) and drops frame.consumed() bytes. The framer
// remembers how far it scanned, so bytes are not rescanned when more arrive.
// Keep-alive CRLFs between messages (RFC 5626 §3.5.1 "ping" CRLFCRLF) are
// skipped and counted so that the caller can answer each ping with a CRLF
// "pong". A framing error (missing, bad or duplicated Content-Length, limits)
// is final: the stream cannot be resynchronised and must be closed.
#pragma once

#include <sigwire/core/parse_status.hpp>
#include <sigwire/core/scan.hpp>
#include <sigwire/sip/error.hpp>
#include <sigwire/sip/limits.hpp>
#include <sigwire/sip/message.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <system_error>

namespace sigwire::sip {

struct frame {
  using status = core::parse_status;
  status state = status::need_more;
  std::string_view message{};  // the whole message's bytes (state == complete)
  std::size_t skipped = 0;     // keep-alive CR/LF bytes before it
  std::size_t pings = 0;       // CRLFCRLF pings seen (answer each with CRLF, RFC 5626 §4.4.1)
  std::error_code ec{};

  std::size_t consumed() const noexcept { return skipped + message.size(); }
};

class framer {
 public:
  explicit framer(const limits& lim = {}, std::uint32_t lenient = strict) noexcept : lim_(lim), lenient_(lenient) {}

  // `buf` is every unconsumed byte, starting where the last consumed() ended
  // (the same prefix each call until a message is returned).
  frame next(std::string_view buf) noexcept {
    frame f;
    if (failed_) return fail(f, failed_ec_);
    // 1. keep-alive CR/LF before a message
    while (skip_ < buf.size() && (buf[skip_] == '\r' || buf[skip_] == '\n')) {
      crlf_run_ = buf[skip_] == '\n' ? crlf_run_ + 1 : crlf_run_;
      if (buf[skip_] == '\n' && crlf_run_ == 2) {
        ++pings_;
        crlf_run_ = 0;
      }
      ++skip_;
    }
    f.skipped = skip_;
    f.pings = pings_;
    if (skip_ == buf.size()) return f;
    crlf_run_ = 0;
    const std::string_view msg = buf.substr(skip_);
    // 2. end of the header section, resuming the search where it stopped
    if (head_end_ == 0) {
      const std::size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
      const std::size_t limit = msg.size() < lim_.max_message_size ? msg.size() : lim_.max_message_size;
      std::size_t found = std::string_view::npos;
      const std::string_view scanned = msg.substr(0, limit);
      for (std::size_t i = from; i < limit;) {
        const std::size_t nl = core::scan::find(scanned, i, core::scan::any_of<'\n'>{});
        if (nl == limit) break;
        if (nl + 2 < limit && msg[nl + 1] == '\r' && msg[nl + 2] == '\n') {
          found = nl + 3;
          break;
        }
        if ((lenient_ & lenient_bare_lf) && nl + 1 < limit && msg[nl + 1] == '\n') {
          found = nl + 2;
          break;
        }
        i = nl + 1;
      }
      if (found == std::string_view::npos) {
        scanned_ = limit;
        if (msg.size() >= lim_.max_message_size) return fail(f, make_error_code(error::message_too_large));
        return f;
      }
      head_end_ = found;
      // 3. the header section decides the body length
      message_view m;
      parse_options o;
      o.limits = lim_;
      o.limits.max_headers = SIZE_MAX;  // counted by parse(), not needed for framing
      o.lenient = lenient_;
      o.transport = transport_kind::stream;
      // The head alone: its body has not all arrived, so need_more is the
      // expected answer; Content-Length is indexed either way.
      const auto head = index_head(msg.substr(0, head_end_), m, o);
      if (head.failed()) return fail(f, head.ec);
      total_ = head_end_ + m.content_length().value_or(0);
      if (total_ > lim_.max_message_size) return fail(f, make_error_code(error::message_too_large));
    }
    if (msg.size() < total_) return f;
    f.state = frame::status::complete;
    f.message = msg.substr(0, total_);
    reset_message_state();
    return f;
  }

  bool failed() const noexcept { return failed_; }

  // After next() returned need_more with every byte of `buf` skipped as
  // keep-alive CR/LF: the caller may drop those bytes (this returns how many),
  // so a connection that only pings holds no buffer. A CRLF run split across
  // reads still counts as one ping; the ping count starts again at 0.
  std::size_t drop_keepalive() noexcept {
    const std::size_t n = head_end_ == 0 && scanned_ == 0 ? skip_ : 0;
    skip_ -= n;
    pings_ = 0;
    return n;
  }

 private:
  // Indexes only the head; a header index larger than the inline array is
  // fine here because the framer reads Content-Length only.
  parse_result index_head(std::string_view head, message_view& m, const parse_options& o) noexcept {
    std::array<header_field, 64> arena{};
    parse_options oo = o;
    // Content-Length may be anywhere: index through every header with a
    // rolling arena when the message has more than the inline headers.
    oo.limits.max_headers = message_view::inline_headers + arena.size();
    const auto r = index(head, m, oo, arena);
    if (r.ec == error::too_many_headers) return scan_content_length(head, m);
    return r;
  }
  // Fallback for very long header sections: look for Content-Length lines.
  parse_result scan_content_length(std::string_view head, message_view& m) noexcept {
    parse_options o;
    o.limits = lim_;
    o.transport = transport_kind::stream;
    o.lenient = lenient_ | lenient_stream_missing_content_length;
    // Build a synthetic view: start line + the Content-Length line(s) only.
    std::size_t pos = head.find('\n');
    std::size_t found = 0;
    std::uint32_t value = 0;
    while (pos != std::string_view::npos && pos + 1 < head.size()) {
      const std::size_t start = pos + 1;
      const std::size_t colon = head.find(':', start);
      const std::size_t eol = head.find('\n', start);
      if (colon != std::string_view::npos && colon < eol) {
        const std::string_view name = core::ascii::trim(head.substr(start, colon - start));
        if (lookup_header(name) == header_id::content_length) {
          const auto n = core::ascii::parse_uint<std::uint32_t>(detail::trim_lws(head.substr(colon + 1, eol - colon - 1)));
          if (!n || ++found > 1) return failure(n ? error::duplicate_header : error::bad_content_length);
          value = n.value;
        }
      }
      pos = eol;
    }
    if (!found && !(lenient_ & lenient_stream_missing_content_length)) return failure(error::missing_content_length);
    if (value > lim_.max_body_size) return failure(error::body_too_large);
    std::array<char, 64> synth{};
    const std::string_view sl = "OPTIONS sip:x SIP/2.0\r\nl:";
    std::memcpy(synth.data(), sl.data(), sl.size());
    std::size_t n = sl.size();
    char digits[12];
    std::size_t d = 0;
    do digits[d++] = static_cast<char>('0' + value % 10); while ((value /= 10) != 0);
    while (d) synth[n++] = digits[--d];
    synth[n++] = '\r', synth[n++] = '\n', synth[n++] = '\r', synth[n++] = '\n';
    return index(std::string_view(synth.data(), n), m, o);
  }
  static parse_result failure(error e) noexcept { return {parse_status::failed, make_error_code(e)}; }
  frame fail(frame& f, std::error_code ec) noexcept {
    failed_ = true;
    failed_ec_ = ec;
    f.state = frame::status::failed;
    f.ec = ec;
    return f;
  }
  void reset_message_state() noexcept { skip_ = scanned_ = head_end_ = total_ = pings_ = 0; }

  limits lim_;
  std::uint32_t lenient_;
  std::size_t skip_ = 0, scanned_ = 0, head_end_ = 0, total_ = 0, pings_ = 0, crlf_run_ = 0;
  bool failed_ = false;
  std::error_code failed_ec_{};
};

}  // namespace sigwire::sip
