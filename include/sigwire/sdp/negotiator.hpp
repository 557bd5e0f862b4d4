// sigwire/sdp/negotiator.hpp - the RFC 3264 offer/answer state machine, as
// a sans-IO object: SDP text in, SDP text and negotiated streams out.
//
// The state names are pjmedia_sdp_neg's (NULL, LOCAL_OFFER, REMOTE_OFFER,
// WAIT_NEGO, DONE), so PJSIP users can read the diagram; the transitions
// below are ours. Where they differ from pjmedia: our answer is built from
// capabilities by create_answer() (pjmedia's set_local_answer() takes one
// from the caller), cancel_offer() leaves LOCAL_OFFER only, and a failed
// negotiate() keeps the previous active descriptions.
//
//                                          modify_local_offer()
//      create_with_local_offer() +-------------+  send_local_offer()
//      create_offer()            |             |<------------------------+
//     +------------------------->| LOCAL_OFFER |                         |
//     |                          |             |--- cancel_offer() ---+  |
//     |                          +-------------+                      |  |
//     |                                 |                             |  |
//     |            set_remote_answer()  |                             v  |
//  +------+                      +-------------+   negotiate()      +------+
//  | NULL |                      |  WAIT_NEGO  |------------------->| DONE |
//  +------+                      +-------------+   (ok or failed)   +------+
//     |                                 ^                             |
//     |                create_answer()  |                             |
//     |                          +--------------+                     |
//     +------------------------->| REMOTE_OFFER |<--------------------+
//      create_with_remote_offer()+--------------+  set_remote_offer()
//
// cancel_offer() returns to DONE, or to NULL when nothing was ever
// negotiated. negotiate() that fails (the answer breaks RFC 3264) returns the
// error and goes back to DONE keeping the previous active descriptions (or to
// NULL when there were none). Any other call out of this order returns
// sdp::error::invalid_state and changes nothing.
//
// The pieces, each usable alone: capabilities.hpp (what we can do),
// offer_builder.hpp (our offers), answer_builder.hpp (answers, and checking
// an answer to our offer, RFC 3264 §6), negotiated.hpp (the agreed streams),
// srtp.hpp (SDES keys), codec_match.hpp (the codec table). This header
// includes them all.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sigwire/core/random.hpp>
#include <sigwire/sdp/answer_builder.hpp>
#include <sigwire/sdp/capabilities.hpp>
#include <sigwire/sdp/codec_match.hpp>
#include <sigwire/sdp/error.hpp>
#include <sigwire/sdp/negotiated.hpp>
#include <sigwire/sdp/offer_builder.hpp>
#include <sigwire/sdp/session.hpp>
#include <sigwire/sdp/srtp.hpp>
#include <sigwire/sdp/view.hpp>

namespace sigwire::sdp {

// Sets port 0 (RFC 3264 §8.2 removal / §6 rejection).
inline void disable(media& m) { m.port = 0; }

class negotiator {
 public:
  enum class state : std::uint8_t { null, local_offer, remote_offer, wait_nego, done };

  explicit negotiator(capabilities caps, parse_options opts = {}, random_source random = {})
      : negotiator(std::make_shared<const capabilities>(std::move(caps)), opts, std::move(random)) {}
  // Capabilities shared by many negotiators (one per call): never copied,
  // and never changed while a negotiator holds them. `caps` must not be null.
  explicit negotiator(std::shared_ptr<const capabilities> caps, parse_options opts = {}, random_source random = {})
      : caps_(std::move(caps)),
        opts_(shared_options(opts)),
        keys_(std::move(random)),
        session_id_(new_session_id()) {}

  state current_state() const noexcept { return state_; }
  const capabilities& local_capabilities() const noexcept { return *caps_; }

  // --- NULL -> LOCAL_OFFER ----------------------------------------------------------
  std::error_code create_offer() {
    if (state_ != state::null) return error::invalid_state;
    auto offer = offer_builder(*caps_, keys_).build();
    if (offer.media.empty()) return error::no_media;
    return create_with_local_offer(std::move(offer));
  }
  std::error_code create_with_local_offer(session offer) {
    if (state_ != state::null) return error::invalid_state;
    set_pending_local(std::move(offer));
    remote_is_offer_ = false;
    state_ = state::local_offer;
    return {};
  }

  // --- DONE -> LOCAL_OFFER (re-INVITE / UPDATE) ------------------------------------
  // `offer` is usually a copy of active_local() with edits: a changed
  // direction (hold), streams added, removed (port 0) or slots reused (§8).
  std::error_code modify_local_offer(session offer) {
    if (state_ != state::done) return error::invalid_state;
    // RFC 3264 §8: m-lines are never removed from a re-offer, only disabled.
    if (offer.media.size() < parse(active_local_.view(), own_parse_options()).media.size())
      return error::media_count_mismatch;
    set_pending_local(std::move(offer));
    remote_is_offer_ = false;
    state_ = state::local_offer;
    return {};
  }
  // Re-offers the active local description unchanged (same o= version).
  std::error_code send_local_offer() {
    if (state_ != state::done) return error::invalid_state;
    set_pending_local(*active_local());
    remote_is_offer_ = false;
    state_ = state::local_offer;
    return {};
  }

  // --- LOCAL_OFFER -> WAIT_NEGO / DONE ------------------------------------------------
  std::error_code set_remote_answer(std::string_view answer) {
    if (state_ != state::local_offer) return error::invalid_state;
    auto parsed = parsed_sdp::make(answer, *opts_);
    if (!parsed->view) return parsed->view.error();
    pending_remote_ = std::move(parsed);
    state_ = state::wait_nego;
    return {};
  }
  std::error_code cancel_offer() {
    if (state_ != state::local_offer) return error::invalid_state;
    pending_local_ = {};
    state_ = active_local_ ? state::done : state::null;
    if (active_local_) version_ = active_version_;
    return {};
  }

  // --- NULL / DONE -> REMOTE_OFFER -> WAIT_NEGO ---------------------------------------
  std::error_code create_with_remote_offer(std::string_view offer) {
    if (state_ != state::null) return error::invalid_state;
    return take_remote_offer(offer);
  }
  std::error_code set_remote_offer(std::string_view offer) {
    if (state_ != state::done) return error::invalid_state;
    return take_remote_offer(offer);
  }
  std::error_code create_answer() {
    if (state_ != state::remote_offer) return error::invalid_state;
    // Written as text with the active version (RFC 3264 §8: unchanged
    // answers keep it), then given the next one if it differs.
    const std::uint64_t version = active_local_ ? active_version_ : 1;
    auto answer = answer_builder(*caps_, keys_, offered_directions_).build(pending_remote_->view, our_origin(version));
    pending_streams_ = std::move(answer.streams);
    version_ = version;
    if (active_local_ && answer.text != active_local_.view()) {
      version_ = active_version_ + 1;
      replace_origin_line(answer.text, our_origin(version_));
    }
    pending_local_ = shared_text(answer.text);
    state_ = state::wait_nego;
    return {};
  }

  // --- WAIT_NEGO -> DONE -----------------------------------------------------------------
  std::error_code negotiate() {
    if (state_ != state::wait_nego) return error::invalid_state;
    if (remote_is_offer_) {
      // We answered: the answer builder stated the streams it agreed to.
      streams_ = std::move(pending_streams_);
      pending_streams_.clear();
      commit();
      return {};
    }
    // We offered: our offer is parsed only here, to be compared with the
    // answer (a negotiator keeps its own SDP as text, not views). We wrote
    // it, so its attribute syntax needs no checking, and the limits set for
    // the peer's input are not for it.
    const session_view offer = parse(pending_local_.view(), own_parse_options());
    if (auto ec = check_answer(offer, pending_remote_->view)) {
      pending_local_ = {};
      pending_remote_.reset();
      if (active_local_) version_ = active_version_;
      state_ = active_local_ ? state::done : state::null;
      return ec;
    }
    remember_offered_directions(offer);
    streams_ = compute_streams(offer, pending_remote_->view, true);
    commit();
    return {};
  }

  // --- results -------------------------------------------------------------------------
  // Once negotiated, a negotiator keeps both descriptions as text only (what
  // a call holds for its whole life; the model of a 200-byte SDP is over a
  // kilobyte and its views more): the models below are built on each call.

  // The local SDP to send now (pending offer/answer), else the active one.
  std::optional<session> local() const {
    if (pending_local_) return own_session(pending_local_.view());
    return active_local();
  }
  std::string local_sdp() const {
    if (pending_local_) return std::string(pending_local_.view());
    return std::string(active_local_.view());
  }
  // Our active description, as a model to edit into a re-offer (RFC 3264 §8).
  std::optional<session> active_local() const {
    if (!active_local_) return std::nullopt;
    return own_session(active_local_.view());
  }
  // The peer's active description. Its views point into the text this
  // negotiator keeps: valid until the next successful negotiate() or the
  // negotiator's end.
  std::optional<session_view> active_remote() const {
    if (!active_remote_) return std::nullopt;
    return parse(active_remote_.view(), *opts_);
  }
  std::string_view active_remote_sdp() const noexcept { return active_remote_.view(); }
  const std::vector<stream_result>& streams() const noexcept { return streams_; }
  bool was_offerer() const noexcept { return !remote_is_offer_; }

  // An m-line for capability `cap` (for adding a stream in a re-offer).
  // Not const: an SDES m-line gets a new key.
  media build_media(const media_capability& cap, std::string_view mid) {
    return offer_builder(*caps_, keys_).build_media(cap, mid);
  }

 private:
  // A text shared by copies of a negotiator (a fork's) that outlives its
  // pending state (negotiate() keeps the text alone): one allocation of
  // exactly its size (a std::string through make_shared is two, and keeps
  // whatever capacity it was built with).
  class shared_text {
   public:
    shared_text() = default;
    explicit shared_text(std::string_view t) : size_(t.size()) {
      auto chars = std::make_shared_for_overwrite<char[]>(t.size());
      if (!t.empty()) std::memcpy(chars.get(), t.data(), t.size());
      chars_ = std::move(chars);
    }
    std::string_view view() const noexcept { return chars_ ? std::string_view(chars_.get(), size_) : std::string_view{}; }
    explicit operator bool() const noexcept { return chars_ != nullptr; }

   private:
    std::shared_ptr<const char[]> chars_;
    std::size_t size_ = 0;
  };

  // The peer's pending SDP: its text and views into it (a shared buffer, so
  // moving or copying the negotiator never invalidates the views).
  struct parsed_sdp {
    shared_text text;
    session_view view;
    static std::shared_ptr<const parsed_sdp> make(std::string_view t, const parse_options& opts) {
      auto p = std::make_shared<parsed_sdp>();
      p->text = shared_text(t);
      p->view = parse(p->text.view(), opts);
      return p;
    }
  };
  // The defaults, which most negotiators keep, are one object for all of
  // them (a copy each would be 56 bytes per call).
  static std::shared_ptr<const parse_options> shared_options(const parse_options& o) {
    static const auto defaults = std::make_shared<const parse_options>();
    return o == *defaults ? defaults : std::make_shared<const parse_options>(o);
  }

  std::error_code take_remote_offer(std::string_view offer) {
    auto parsed = parsed_sdp::make(offer, *opts_);
    if (!parsed->view) return parsed->view.error();
    if (parsed->view.media.empty()) return error::no_media;
    pending_remote_ = std::move(parsed);
    remote_is_offer_ = true;
    state_ = state::remote_offer;
    return {};
  }

  // o= handling (RFC 3264 §8): same session id forever; the version goes up
  // by one only when the description differs from the active one.
  origin our_origin(std::uint64_t version) const {
    origin o;
    o.username = caps_->username.empty() ? "-" : caps_->username;
    o.session_id = std::to_string(session_id_);
    o.session_version = std::to_string(version);
    o.address = caps_->address;
    o.addrtype = addrtype_of(caps_->address);
    return o;
  }
  void set_pending_local(session s) {
    const origin ours = our_origin(0);
    s.origin.session_id = ours.session_id;
    s.origin.username = ours.username;
    if (s.origin.address == "0.0.0.0" || s.origin.address.empty()) {
      s.origin.address = ours.address;
      s.origin.addrtype = ours.addrtype;
    }
    version_ = 1;
    if (active_local_) {
      // Unchanged: the same text as the active one once given its version.
      s.origin.session_version = std::to_string(active_version_);
      const bool changed = s.to_string() != active_local_.view();
      version_ = changed ? active_version_ + 1 : active_version_;
    }
    s.origin.session_version = std::to_string(version_);
    // Rendered into a buffer reused by every negotiator of the thread, then
    // copied at its exact size: the text is kept for the call's life.
    thread_local std::string rendered;
    rendered.clear();
    s.write_to(rendered);
    pending_local_ = shared_text(rendered);
  }

  // Rewrites the o= line (the second line: RFC 8866 §5) of a text we wrote.
  static void replace_origin_line(std::string& text, const origin& o) {
    const std::size_t start = text.find("\r\no=");
    if (start == std::string::npos) return;
    const std::size_t end = text.find("\r\n", start + 2);
    if (end == std::string::npos) return;
    std::string line;
    detail::write_origin(line, o);
    text.replace(start + 2, end + 2 - (start + 2), line);
  }

  // RFC 3264 §8.4: a stream we put on hold (our last accepted offer said
  // sendonly or inactive) stays held when the peer re-offers: their hold of
  // a stream we hold makes it inactive, not recvonly. A new offer of ours
  // (resume) lifts it; streams we never offered are not limited.
  void remember_offered_directions(const session_view& ours) {
    offered_directions_.clear();
    for (const auto& m : ours.media) offered_directions_.push_back(stated_direction(ours, m));
  }

  // The pending descriptions become the active ones, as texts only.
  void commit() {
    active_local_ = pending_local_;
    active_remote_ = pending_remote_->text;
    pending_local_ = {};
    pending_remote_.reset();
    active_version_ = version_;
    state_ = state::done;
  }

  // 31 random bits, odd so never 0: fits every parser's integer (some read it as signed).
  std::uint32_t new_session_id() {
    std::uint32_t v = 0;
    if (const auto& random = keys_.random()) {
      std::array<std::byte, 4> b{};
      random(b);
      for (std::byte x : b) v = v << 8 | std::to_integer<std::uint32_t>(x);
    } else {
      v = static_cast<std::uint32_t>(core::unique_u64());
    }
    return (v & 0x7fffffffu) | 1u;
  }

  std::shared_ptr<const capabilities> caps_;
  std::shared_ptr<const parse_options> opts_;  // for the peer's SDP; never null
  sdes_keys keys_;  // holds the random source (empty: see random_source); before session_id_
  state state_ = state::null;
  bool remote_is_offer_ = false;  // beside state_ and session_id_: the three share 8 bytes
  std::uint32_t session_id_ = 0;  // o= sess-id (kept as a number: a string would be 32 bytes per call)
  std::uint64_t version_ = 0, active_version_ = 0;
  shared_text pending_local_;  // our offer or answer as sent; shared by copies (a fork's negotiator)
  std::shared_ptr<const parsed_sdp> pending_remote_;
  shared_text active_local_, active_remote_;
  std::vector<stream_result> streams_;
  std::vector<stream_result> pending_streams_;  // stated by the answer builder, until negotiate()
  std::vector<direction> offered_directions_;  // per m-line, of our last offer that was answered
};

constexpr std::string_view to_string(negotiator::state s) noexcept {
  switch (s) {
    case negotiator::state::null: return "NULL";
    case negotiator::state::local_offer: return "LOCAL_OFFER";
    case negotiator::state::remote_offer: return "REMOTE_OFFER";
    case negotiator::state::wait_nego: return "WAIT_NEGO";
    case negotiator::state::done: return "DONE";
  }
  return "?";
}

}  // namespace sigwire::sdp
