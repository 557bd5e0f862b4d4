// sigwire/sip/owned_message.hpp - a SIP message that owns its bytes.
//
//   auto m = sip::message::parse(std::move(datagram));   // result: message or error
//   if (m) { store(std::move(*m)); wire(m->bytes()); m->view().top_via()->branch; }
//
// sip::message_view points into a buffer it does not own; a transaction that
// stores a request to re-send it (RFC 3261 §17.1.1.2) needs the buffer and
// its parsed view kept together. sip::message owns one std::string and the
// message_view over it, plus an arena for messages with more headers than
// message_view holds inline. Moving keeps the view valid (re-parsed if the
// buffer moved, e.g. a short string held inline); copying is explicit
// (clone()), since it costs a parse.
#pragma once

#include <sigwire/sip/message.hpp>
#include <sigwire/sip/method.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace sigwire::sip {

namespace detail {

// A parsed view is about 2 KB: too large for malloc's per-thread cache, and
// value-initialised on creation. A session parses one per message (nine per
// call), so views freed on a thread are kept, up to a few, for the next
// message parsed on it. The flag is trivially destructible, so a message
// destroyed while the thread's objects are being destroyed still sees it.
inline thread_local bool spare_views_gone = false;

struct spare_views {
  static constexpr std::size_t max_kept = 16;
  std::vector<std::unique_ptr<message_view>> kept;
  spare_views() { kept.reserve(max_kept); }
  ~spare_views() { spare_views_gone = true; }
  spare_views(const spare_views&) = delete;
  spare_views& operator=(const spare_views&) = delete;

  static spare_views* of_this_thread() noexcept {
    if (spare_views_gone) return nullptr;
    thread_local spare_views views;
    return &views;
  }
};

inline std::unique_ptr<message_view> take_view() {
  spare_views* s = spare_views::of_this_thread();
  if (!s || s->kept.empty()) return std::make_unique<message_view>();
  std::unique_ptr<message_view> v = std::move(s->kept.back());
  s->kept.pop_back();
  return v;  // parse() resets every field it reads
}

inline void give_back_view(std::unique_ptr<message_view> v) noexcept {
  if (!v) return;
  spare_views* s = spare_views::of_this_thread();
  if (s && s->kept.size() < spare_views::max_kept) s->kept.push_back(std::move(v));  // reserved: no throw
}

}  // namespace detail

class message {
 public:
  // Parses `bytes` (taken over) with `opt`: one whole message (a datagram,
  // a WebSocket message, or what the framer cut from a stream). Returns the
  // error of sip::parse() on failure; bytes that end inside the message are
  // truncated_message whatever the transport (they cannot grow here).
  static std::error_code parse(std::string bytes, message& out, const parse_options& opt = {}) {
    out.bytes_ = std::move(bytes);
    return out.reparse(opt);
  }

  message() = default;
  message(message&& o) noexcept { take(std::move(o)); }
  message& operator=(message&& o) noexcept {
    if (this != &o) take(std::move(o));
    return *this;
  }
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  ~message() { detail::give_back_view(std::move(view_)); }

  // A copy with its own buffer (parses the copy, with the options this one was parsed with).
  message clone() const {
    message c;
    if (view_) (void)parse(bytes_, c, view_->options());
    return c;
  }

  const message_view& view() const noexcept { return view_ ? *view_ : empty_view(); }
  const message_view* operator->() const noexcept { return &view(); }
  // The stored bytes: what goes on the wire again when re-sent.
  std::string_view bytes() const noexcept { return bytes_; }
  // Gives the bytes away (the message is empty afterwards).
  std::string release_bytes() noexcept {
    std::string b = std::move(bytes_);
    clear();
    return b;
  }
  bool empty() const noexcept { return bytes_.empty(); }
  sip::method method() const noexcept { return parse_method(view().method()); }
  // Memory held beyond sizeof(message): the buffer, the parsed view and the header arena.
  std::size_t heap_bytes() const noexcept {
    return (bytes_.capacity() > 15 ? bytes_.capacity() + 1 : 0) + (view_ ? sizeof(message_view) : 0) +
           arena_size_ * sizeof(header_field);
  }

 private:
  static const message_view& empty_view() noexcept {
    static const message_view v{};
    return v;
  }
  // The options live in the view (message_view::options()), not here: a
  // message is 56 bytes, and the events and records that hold one with it.
  std::error_code reparse(const parse_options opt) {  // a copy: `opt` may be the view's own
    if (!view_) view_ = detail::take_view();
    auto r = sip::parse(bytes_, *view_, opt, arena_span());
    if (r.ec == error::too_many_headers && arena_size_ == 0) {
      arena_size_ = opt.limits.max_headers;
      arena_ = std::make_unique<header_field[]>(arena_size_);
      r = sip::parse(bytes_, *view_, opt, arena_span());
    }
    if (r.complete()) return {};
    clear();
    return r.need_more() ? make_error_code(error::truncated_message) : r.ec;
  }
  void clear() noexcept {
    bytes_.clear();
    detail::give_back_view(std::move(view_));
    arena_.reset();
    arena_size_ = 0;
  }
  std::span<header_field> arena_span() noexcept { return {arena_.get(), arena_size_}; }

  // The view lives on the heap, so a move hands over a pointer; it points
  // into the buffer, which moves with it (only a short string, held inline,
  // changes address: then the view is parsed again).
  void take(message&& o) noexcept {
    const char* old_data = o.bytes_.data();
    bytes_ = std::move(o.bytes_);
    arena_ = std::move(o.arena_);
    arena_size_ = std::exchange(o.arena_size_, 0);
    detail::give_back_view(std::move(view_));
    view_ = std::move(o.view_);
    o.clear();
    if (bytes_.data() != old_data && !bytes_.empty() && view_) (void)reparse(view_->options());
  }

  std::string bytes_{};
  std::unique_ptr<header_field[]> arena_{};
  std::size_t arena_size_ = 0;
  std::unique_ptr<message_view> view_{};
};

}  // namespace sigwire::sip
