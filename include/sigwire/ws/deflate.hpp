// sigwire/ws/deflate.hpp - permessage-deflate (RFC 7692): negotiation in
// both roles and the per-message codec over zlib.
//
//   ws::deflate_options opt{.enabled = true};          // our memory budget and wishes
//   std::string offer = ws::deflate_offer(opt);        // client: Sec-WebSocket-Extensions
//   auto params = ws::deflate_accept(request_exts, opt);    // server: choose an offer or decline
//   std::string reply = ws::deflate_response(*params);
//   auto r = ws::deflate_validate_response(response_exts, opt);  // client: check the 101
//
// Context takeover keeps the LZ77 window across messages with a sync flush
// per message (RFC 7692 §7.2.1), never a full flush, so a second SIP INVITE
// compresses against the first. Inflation is bounded: a message that would
// inflate past the limit fails with error::inflate_too_big (close 1009).
//
// Memory per direction (zlib's formulas, checked by the tests with a
// counting allocator): deflate (1 << (window_bits + 2)) + (1 << (mem_level
// + 9)) + ~6 KiB; inflate (1 << window_bits) + ~7 KiB. With
// no_context_takeover in a direction and keep_idle_codec = false the zlib
// stream is freed after each message, so an idle connection holds 0 bytes.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include <sigwire/core/ascii.hpp>
#include <sigwire/http/head.hpp>
#include <sigwire/ws/error.hpp>

namespace sigwire::ws {

inline constexpr std::string_view permessage_deflate = "permessage-deflate";

// Our side's configuration (both roles).
//
// The defaults are sized for signalling (SIP messages of a few hundred bytes
// to a few KiB, docs/ws.md "Memory per connection"): LZ77 windows of 4 KiB
// (12 bits) and memLevel 5 keep a connection's zlib state under 51 KiB with
// context takeover in both directions (about 20 KiB resident after a few
// messages), against 308 KiB for zlib's 15 / 8. Bulk transfers compress
// better with 15 / 8.
struct deflate_options {
  bool enabled = false;
  // Ask the peer (client: offer; server: respond) for these.
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  // The server's compressor window, 9..15 (zlib cannot deflate with 8). A
  // server uses it whatever the offer says, but names it in its response
  // only when the offer carried the parameter (RFC 7692 §7.1.2.1).
  int server_max_window_bits = 12;
  // The client's compressor window, 9..15. A server asks for it when the
  // client announced client_max_window_bits (§7.1.2.2).
  int client_max_window_bits = 12;
  int mem_level = 5;                // our compressor's memLevel, 1..9
  int level = 6;                    // zlib compression level, 0..9
  // false: with no context takeover in a direction, that direction's zlib
  // state is freed after each message (allocated again by the next one).
  bool keep_idle_codec = false;
  std::size_t min_compress_size = 0;  // shorter messages are sent uncompressed

  // The low-memory policy: ask for no context takeover in both directions
  // (a server may do so even when the client's offer did not, RFC 7692
  // §7.1.1.1-2), so zlib state exists only while a message is compressed or
  // inflated and an idle connection holds none.
  static deflate_options low_memory() {
    deflate_options o;
    o.enabled = true;
    o.server_no_context_takeover = true;
    o.client_no_context_takeover = true;
    o.keep_idle_codec = false;
    return o;
  }
};

// What was agreed for this connection.
struct deflate_params {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
  // Server: the offer carried server_max_window_bits, so the response
  // must name it (with the same or a smaller value, §7.1.2.1).
  bool server_max_window_bits_in_response = false;

  friend bool operator==(const deflate_params&, const deflate_params&) = default;
};

// --- extension header grammar (RFC 6455 §9.1) --------------------------------
struct extension_param {
  std::string_view name;
  std::string_view value;  // unquoted; empty when has_value is false
  bool has_value = false;
};

namespace detail {

// Splits one list element "name; p1; p2=v" and calls f(param) per parameter.
// Returns the extension name, or an empty view if malformed.
template <class F>
std::string_view parse_extension(std::string_view element, F&& on_param) {
  const std::size_t semi = element.find(';');
  const std::string_view name = core::ascii::trim(element.substr(0, semi));
  if (!core::ascii::is_token(name)) return {};
  std::string_view rest = semi == std::string_view::npos ? std::string_view{} : element.substr(semi + 1);
  while (true) {
    const std::size_t next = rest.find(';');  // quoted values are tokens here (§9.1)
    const std::string_view item = core::ascii::trim(rest.substr(0, next));
    if (semi != std::string_view::npos) {
      extension_param p;
      const std::size_t eq = item.find('=');
      p.name = core::ascii::trim(item.substr(0, eq));
      if (!core::ascii::is_token(p.name)) return {};
      if (eq != std::string_view::npos) {
        p.has_value = true;
        p.value = core::ascii::trim(item.substr(eq + 1));
        if (p.value.size() >= 2 && p.value.front() == '"' && p.value.back() == '"')
          p.value = p.value.substr(1, p.value.size() - 2);
        if (!core::ascii::is_token(p.value)) return {};
      }
      on_param(p);
    }
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  return name;
}

// A window-bits value: 1*DIGIT in 8..15 with no leading zero (RFC 7692 §7.1.2).
inline int window_bits(std::string_view v) noexcept {
  if (v.empty() || v.size() > 2 || v[0] == '0') return -1;
  const auto r = core::ascii::parse_uint<unsigned>(v, 99);
  return r && r.value >= 8 && r.value <= 15 ? static_cast<int>(r.value) : -1;
}

// Parsed permessage-deflate parameters of one offer or response.
struct pmd_params {
  bool ok = true;
  bool server_no_context_takeover = false, client_no_context_takeover = false;
  bool has_server_bits = false, has_client_bits = false;
  int server_bits = 0, client_bits = 0;  // 0: given without value
};

inline void set_param(pmd_params& r, const extension_param& p, bool offer) {
  auto once = [&](bool& flag) { r.ok = r.ok && !flag; flag = true; };
  if (p.name == "server_no_context_takeover") {
    once(r.server_no_context_takeover);
    r.ok = r.ok && !p.has_value;
  } else if (p.name == "client_no_context_takeover") {
    once(r.client_no_context_takeover);
    r.ok = r.ok && !p.has_value;
  } else if (p.name == "server_max_window_bits") {
    once(r.has_server_bits);
    r.server_bits = window_bits(p.value);
    r.ok = r.ok && p.has_value && r.server_bits > 0;
  } else if (p.name == "client_max_window_bits") {
    once(r.has_client_bits);
    // An offer may carry it without a value (§7.1.2.2); a response needs one.
    r.client_bits = p.has_value ? window_bits(p.value) : 0;
    r.ok = r.ok && (p.has_value ? r.client_bits > 0 : offer);
  } else {
    r.ok = false;  // unknown parameter: decline (server) / fail (client)
  }
}

// Appends "; name=value" (or "=value" when name is empty). Built piece by
// piece: GCC 12 warns (-Wrestrict, a false positive) on literal + to_string.
inline void append_window_bits(std::string& s, std::string_view name, int bits) {
  if (!name.empty()) {
    s += "; ";
    s += name;
  }
  s += '=';
  s += std::to_string(bits);
}

}  // namespace detail

// --- client: the offer --------------------------------------------------------
inline std::string deflate_offer(const deflate_options& o) {
  std::string s(permessage_deflate);
  if (o.server_no_context_takeover) s += "; server_no_context_takeover";
  if (o.client_no_context_takeover) s += "; client_no_context_takeover";
  if (o.server_max_window_bits < 15) detail::append_window_bits(s, "server_max_window_bits", o.server_max_window_bits);
  // Always announce client_max_window_bits: we can honour any value 9-15.
  s += "; client_max_window_bits";
  if (o.client_max_window_bits < 15) detail::append_window_bits(s, {}, o.client_max_window_bits);
  return s;
}

// --- server: accept one offer or decline all -----------------------------------
// Offers are tried in the client's order; an offer is declined (RFC 7692
// §7.1) when it has unknown, repeated or invalid parameters, or asks for
// server_max_window_bits=8, which zlib cannot produce.
inline std::optional<deflate_params> deflate_accept_offer(std::span<const extension_param> offer,
                                                          const deflate_options& o) {
  detail::pmd_params p;
  for (const auto& param : offer) detail::set_param(p, param, true);
  if (!p.ok) return std::nullopt;
  deflate_params r;
  r.server_no_context_takeover = p.server_no_context_takeover || o.server_no_context_takeover;
  r.client_no_context_takeover = o.client_no_context_takeover;
  r.server_max_window_bits = std::min(o.server_max_window_bits, p.has_server_bits ? p.server_bits : 15);
  r.server_max_window_bits_in_response = p.has_server_bits;
  if (r.server_max_window_bits < 9) return std::nullopt;
  // client_max_window_bits may be limited only if the client announced it.
  if (p.has_client_bits)
    r.client_max_window_bits = std::min(o.client_max_window_bits, p.client_bits ? p.client_bits : 15);
  return r;
}

inline std::optional<deflate_params> deflate_accept(const http::header_list& request, const deflate_options& o) {
  if (!o.enabled) return std::nullopt;
  std::optional<deflate_params> chosen;
  request.for_each_item("sec-websocket-extensions", [&](std::string_view element) {
    extension_param params[8];
    std::size_t n = 0;
    bool too_many = false;
    const auto name = detail::parse_extension(element, [&](const extension_param& p) {
      if (n < 8) params[n++] = p; else too_many = true;
    });
    if (name != permessage_deflate || too_many) return true;  // next element
    chosen = deflate_accept_offer(std::span(params, n), o);
    return !chosen;
  });
  return chosen;
}

// The response element for agreed parameters. Names server_max_window_bits
// whenever the offer did (§7.1.2.1: an offer with it is accepted only by a
// response with it), never otherwise (some clients, Firefox among them,
// fail on one they did not ask for); names client_max_window_bits only when
// it was limited (it was then offered, §7.1.2.2).
inline std::string deflate_response(const deflate_params& p) {
  std::string s(permessage_deflate);
  if (p.server_no_context_takeover) s += "; server_no_context_takeover";
  if (p.client_no_context_takeover) s += "; client_no_context_takeover";
  if (p.server_max_window_bits_in_response)
    detail::append_window_bits(s, "server_max_window_bits", p.server_max_window_bits);
  if (p.client_max_window_bits < 15) detail::append_window_bits(s, "client_max_window_bits", p.client_max_window_bits);
  return s;
}

// --- client: check the server's response ---------------------------------------
struct deflate_validation {
  std::optional<deflate_params> params;  // set when deflate was accepted
  std::error_code ec;
};

inline deflate_validation deflate_validate_response(const http::header_list& response, const deflate_options& o) {
  deflate_validation out;
  response.for_each_item("sec-websocket-extensions", [&](std::string_view element) {
    detail::pmd_params p;
    const auto name = detail::parse_extension(element, [&](const extension_param& e) { detail::set_param(p, e, false); });
    if (name != permessage_deflate || !o.enabled || out.params) {
      out.ec = make_error_code(error::unexpected_extension);  // not offered, or twice
      return false;
    }
    // §7.1.2.1: an offer with server_max_window_bits (deflate_offer makes
    // one below 15) is accepted only with it, at most what we asked;
    // §7.1.2.2: client_max_window_bits=8 we cannot honour with zlib.
    const bool asked_server_bits = o.server_max_window_bits < 15;
    if (!p.ok || (p.has_server_bits && p.server_bits > o.server_max_window_bits) ||
        (asked_server_bits && !p.has_server_bits) ||
        (p.has_client_bits && p.client_bits < 9) ||
        (o.server_no_context_takeover && !p.server_no_context_takeover)) {
      out.ec = make_error_code(error::bad_extension_response);
      return false;
    }
    deflate_params r;
    r.server_no_context_takeover = p.server_no_context_takeover;
    r.client_no_context_takeover = p.client_no_context_takeover || o.client_no_context_takeover;
    r.server_max_window_bits = p.has_server_bits ? p.server_bits : 15;
    r.server_max_window_bits_in_response = p.has_server_bits;
    r.client_max_window_bits = std::min(p.has_client_bits ? p.client_bits : 15, o.client_max_window_bits);
    out.params = r;
    return true;
  });
  if (out.ec) out.params.reset();
  return out;
}

// --- the codec --------------------------------------------------------------
namespace detail {

// zlib allocator that counts the bytes it holds (memory budget reporting).
struct zlib_memory {
  std::size_t in_use = 0;
  static void* alloc(void* opaque, uInt items, uInt size) {
    const std::size_t n = std::size_t{items} * size;
    auto* p = static_cast<std::size_t*>(std::malloc(n + sizeof(std::max_align_t)));
    if (!p) return Z_NULL;
    *p = n;
    static_cast<zlib_memory*>(opaque)->in_use += n;
    return reinterpret_cast<char*>(p) + sizeof(std::max_align_t);
  }
  static void free(void* opaque, void* ptr) {
    if (!ptr) return;
    auto* p = reinterpret_cast<std::size_t*>(static_cast<char*>(ptr) - sizeof(std::max_align_t));
    static_cast<zlib_memory*>(opaque)->in_use -= *p;
    std::free(p);
  }
};

inline constexpr unsigned char deflate_tail[4] = {0x00, 0x00, 0xFF, 0xFF};

}  // namespace detail

// Compresses whole messages (RFC 7692 §7.2.1).
class deflater {
 public:
  deflater() = default;
  deflater(int window_bits, int mem_level, int level, bool no_context_takeover, bool keep_idle)
      : bits_(window_bits), mem_level_(mem_level), level_(level), reset_each_(no_context_takeover), keep_idle_(keep_idle) {}
  ~deflater() { release(); }
  deflater(const deflater&) = delete;
  deflater& operator=(const deflater&) = delete;

  // Appends the compressed form of `in` (without the 00 00 FF FF tail) to out.
  std::error_code compress(std::span<const std::byte> in, std::string& out) {
    if (!open()) return make_error_code(error::deflate_failed);
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    const std::size_t start = out.size();
    while (true) {
      const std::size_t room = std::max<std::size_t>(64, in.size() / 2 + 64);
      const std::size_t before = out.size();
      out.resize(before + room);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      z_.avail_out = static_cast<uInt>(room);
      const int rc = ::deflate(&z_, Z_SYNC_FLUSH);
      out.resize(before + room - z_.avail_out);
      if (rc != Z_OK && rc != Z_BUF_ERROR) return make_error_code(error::deflate_failed);
      if (z_.avail_in == 0 && z_.avail_out != 0) break;
    }
    if (out.size() == start && in.empty()) {
      // Nothing new since the last sync flush, so zlib wrote nothing: an
      // empty message is sent as one empty stored block, 0x00 (§7.2.3.6).
      out.push_back('\0');
      end_message();
      return {};
    }
    // A sync flush ends with an empty stored block: 00 00 FF FF (§7.2.1 step 2).
    if (out.size() - start < 4) return make_error_code(error::deflate_failed);
    out.resize(out.size() - 4);
    end_message();
    return {};
  }

  std::size_t memory_in_use() const noexcept { return mem_.in_use; }

 private:
  bool open() {
    if (open_) return true;
    z_ = {};
    z_.zalloc = detail::zlib_memory::alloc;
    z_.zfree = detail::zlib_memory::free;
    z_.opaque = &mem_;
    open_ = deflateInit2(&z_, level_, Z_DEFLATED, -bits_, mem_level_, Z_DEFAULT_STRATEGY) == Z_OK;
    return open_;
  }
  void end_message() {
    if (!reset_each_) return;
    if (keep_idle_) deflateReset(&z_);
    else release();
  }
  void release() {
    if (open_) deflateEnd(&z_);
    open_ = false;
  }

  z_stream z_{};
  detail::zlib_memory mem_;
  int bits_ = 15, mem_level_ = 8, level_ = 6;
  bool reset_each_ = false, keep_idle_ = true, open_ = false;
};

// Decompresses messages piece by piece into a caller string, bounded.
class inflater {
 public:
  inflater() = default;
  inflater(int window_bits, bool no_context_takeover, bool keep_idle)
      : bits_(window_bits), reset_each_(no_context_takeover), keep_idle_(keep_idle) {}
  ~inflater() { release(); }
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  // Inflates a piece of a message's compressed payload, appending to out;
  // out may not grow past `limit` bytes.
  std::error_code feed(std::span<const std::byte> in, std::string& out, std::size_t limit) {
    if (!open()) return make_error_code(error::inflate_failed);
    return run(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out, limit);
  }
  // Ends the message: inflates the implicit 00 00 FF FF tail (§7.2.2).
  std::error_code finish(std::string& out, std::size_t limit) {
    if (!open()) return make_error_code(error::inflate_failed);
    auto ec = run(detail::deflate_tail, 4, out, limit);
    if (!ec) end_message();
    return ec;
  }
  // Drops a message in progress (after an error).
  void abandon() { release(); }

  std::size_t memory_in_use() const noexcept { return mem_.in_use; }

 private:
  std::error_code run(const unsigned char* p, std::size_t n, std::string& out, std::size_t limit) {
    if (stream_end_) return {};  // data after a final block: ignored (RFC 7692 §7.2.2)
    z_.next_in = const_cast<Bytef*>(p);
    z_.avail_in = static_cast<uInt>(n);
    while (true) {
      const std::size_t before = out.size();
      const std::size_t room = std::min<std::size_t>(std::max<std::size_t>(n * 4, 1024), 65536);
      const std::size_t grant = std::min(room, limit + 1 - std::min(limit + 1, before));
      if (grant == 0) return make_error_code(error::inflate_too_big);
      out.resize(before + grant);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      z_.avail_out = static_cast<uInt>(grant);
      const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
      out.resize(before + grant - z_.avail_out);
      if (out.size() > limit) return make_error_code(error::inflate_too_big);
      if (rc == Z_STREAM_END) { stream_end_ = true; return {}; }
      if (rc == Z_BUF_ERROR && z_.avail_in == 0) return {};
      if (rc != Z_OK && rc != Z_BUF_ERROR) return make_error_code(error::inflate_failed);
      if (z_.avail_in == 0 && z_.avail_out != 0) return {};
    }
  }
  bool open() {
    if (open_) return true;
    z_ = {};
    z_.zalloc = detail::zlib_memory::alloc;
    z_.zfree = detail::zlib_memory::free;
    z_.opaque = &mem_;
    open_ = inflateInit2(&z_, -bits_) == Z_OK;
    return open_;
  }
  void end_message() {
    // A peer that ended its stream (BFINAL) starts a fresh one next message.
    if (!reset_each_ && !stream_end_) return;
    stream_end_ = false;
    if (keep_idle_) inflateReset(&z_);
    else release();
  }
  void release() {
    if (open_) inflateEnd(&z_);
    open_ = false;
    stream_end_ = false;
  }

  z_stream z_{};
  detail::zlib_memory mem_;
  int bits_ = 15;
  bool reset_each_ = false, keep_idle_ = true, open_ = false, stream_end_ = false;
};

}  // namespace sigwire::ws
