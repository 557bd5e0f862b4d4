// sigwire/sip/transaction/layer.hpp - the sans-IO transaction layer.
//
//   sip::transaction::layer tl({}, [&] { return rng(); });
//   tl.receive(std::move(datagram), peer{7, false}, now);     // from the wire
//   auto sent = tl.send_request(std::move(invite), peer{7, false}, now);
//   tl.send_response(id, std::move(ringing), now);
//   tl.on_timer(now); auto at = tl.next_deadline();            // arm one timer there
//   for (auto& e : tl.take_events()) std::visit(handler, e);   // send / to the TU
//
// No sockets, clocks or threads: messages, transport errors and time go in;
// bytes to send, deadlines and events for the transaction user come out.
// Mapping to PJSIP's module callbacks: request_event without a matching
// transaction = on_rx_request, response_event / stray_response_event =
// on_rx_response, state_event = on_tsx_state.
#pragma once

#include <sigwire/sip/transaction/client_invite.hpp>
#include <sigwire/sip/transaction/client_non_invite.hpp>
#include <sigwire/sip/transaction/core.hpp>
#include <sigwire/sip/transaction/event.hpp>
#include <sigwire/sip/transaction/key.hpp>
#include <sigwire/sip/transaction/server_invite.hpp>
#include <sigwire/sip/transaction/server_non_invite.hpp>
#include <sigwire/sip/transaction/timers.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sigwire::sip::transaction {

struct layer_config {
  timer_config timers{};
  std::size_t max_transactions = 1'000'000;  // beyond it: layer_error::table_full / overloaded_event (503)
  parse_options parse{};
};

enum class layer_error : std::uint8_t {
  ok,
  table_full,           // the pending limit: answer 503 (RFC 3261 §21.5.4)
  bad_message,          // no top Via branch / CSeq, or does not parse
  duplicate,            // a transaction with this key already exists
  unknown_transaction,  // the id names no live transaction
  not_allowed,          // e.g. a response in Completed, or ACK as a transaction
  no_provisional_yet,   // RFC 3261 §9.1: CANCEL only after a provisional response
};

constexpr std::string_view text(layer_error e) noexcept {
  constexpr std::string_view names[] = {"ok", "table_full", "bad_message", "duplicate",
                                        "unknown_transaction", "not_allowed", "no_provisional_yet"};
  return names[static_cast<int>(e)];
}

struct send_result {
  tsx_id id{};
  layer_error error = layer_error::ok;
  explicit operator bool() const noexcept { return error == layer_error::ok; }
};

// A branch new_branch() made: "z9hG4bK" and 32 hex digits, held in place
// (three per call: a string each was three allocations). Reads as a
// std::string_view; converts to a std::string.
class branch_id {
 public:
  static constexpr std::size_t length = 39;
  std::string_view view() const noexcept { return {text_, length}; }
  operator std::string_view() const noexcept { return view(); }
  operator std::string() const { return std::string(view()); }

 private:
  friend class layer;
  char text_[length];
};

// The machines work on the core; the user sees only the layer's API.
class layer : private core {
 public:
  using core::timer_entries;
  using core::max_transactions;
  using core::next_deadline;
  using core::size;
  using core::timers;

  using random_source = std::function<std::uint64_t()>;

  layer(layer_config cfg, random_source random)
      : core(cfg.timers, cfg.max_transactions), parse_(cfg.parse), random_(std::move(random)) {}

  // RFC 3261 §8.1.1.7: a branch with the magic cookie, from the injected random source.
  branch_id new_branch() {
    static constexpr char hex[] = "0123456789abcdef";
    static constexpr std::string_view cookie = "z9hG4bK";
    branch_id b;
    cookie.copy(b.text_, cookie.size());
    char* out = b.text_ + cookie.size();
    for (int word = 0; word < 2; ++word) {
      std::uint64_t v = random_();
      for (int i = 0; i < 16; ++i, v >>= 4) *out++ = hex[v & 15];
    }
    return b;
  }

  // --- from the wire --------------------------------------------------------
  // A message that does not parse is not the transaction layer's (the caller
  // may answer 400 with sip::owed_response_to before handing it here).
  layer_error receive(std::string bytes, peer from, instant now) {
    set_now(now);
    sip::message m;
    parse_options opt = parse_;
    opt.transport = from.reliable ? transport_kind::stream : transport_kind::datagram;
    if (sip::message::parse(std::move(bytes), m, opt)) return layer_error::bad_message;
    return dispatch(std::move(m), from);
  }
  // The same for a message the transport has parsed already (a stream
  // framer, or a datagram checked for the 400 of RFC 3261 §8.2).
  layer_error receive(sip::message m, peer from, instant now) {
    set_now(now);
    if (m.empty()) return layer_error::bad_message;
    return dispatch(std::move(m), from);
  }

  // --- from the user --------------------------------------------------------
  // A client transaction for `request` (its top Via must carry the branch, e.g. new_branch()).
  send_result send_request(sip::message&& request, peer to, instant now) {
    return start_client(request.view(), [&] { return request.release_bytes(); }, to, now);
  }
  // The same for a request the caller keeps (the INVITE a call stores, a
  // request kept to answer a challenge): its bytes are copied, not parsed again.
  send_result send_request(const sip::message& request, peer to, instant now) {
    return start_client(request.view(), [&] { return std::string(request.bytes()); }, to, now);
  }
  // A request the caller built itself, so knows the top Via branch and the
  // method of (a user agent's BYE, re-INVITE, ...): its key is made from
  // them, and the bytes are not parsed. They must say what the caller says,
  // or responses will not match (sent as they are, they are checked nowhere).
  send_result send_request(std::string bytes, method m, std::string_view branch, peer to, instant now) {
    set_now(now);
    if (bytes.empty() || branch.empty() || m == method::other) return {{}, layer_error::bad_message};
    std::string keys;
    append_client_key(keys, branch, text(m));
    return start_client(std::move(keys), m, [&] { return std::move(bytes); }, to);
  }
  // The TU's response on server transaction `id`.
  layer_error send_response(tsx_id id, std::string response, instant now) {
    set_now(now);
    record* r = find(id);
    if (!r) return layer_error::unknown_transaction;
    const int status = status_of(response);
    if (status < 100) return layer_error::bad_message;
    bool ok = false;
    if (r->role == role::server_invite)
      ok = server_invite::on_tu_response(*this, *r, std::move(response), status);
    else if (r->role == role::server_non_invite)
      ok = server_non_invite::on_tu_response(*this, *r, std::move(response), status);
    return ok ? layer_error::ok : layer_error::not_allowed;
  }

  // Outside any transaction: a stateless response, an ACK to a 2xx, a 503.
  void send_stateless(std::string bytes, peer to) { emit(send_event{{}, to, share(std::move(bytes))}); }

  // RFC 3261 §9.1: the CANCEL for INVITE client transaction `id` (send it with
  // send_request; it is a non-INVITE transaction of its own). `extra_lines`:
  // whole header lines it carries too ("Reason: ...\r\n", RFC 3326).
  layer_error create_cancel(tsx_id id, std::string& out, std::string_view extra_lines = {}) {
    record* r = find(id);
    if (!r) return layer_error::unknown_transaction;
    if (r->role != role::client_invite) return layer_error::not_allowed;
    if (!r->provisional_seen) return layer_error::no_provisional_yet;
    if (r->state != state::proceeding) return layer_error::not_allowed;  // a final response arrived
    if (!with_request(*r, [&](const message_view& invite) { out = build_cancel(invite, extra_lines); }))
      return layer_error::bad_message;
    return layer_error::ok;
  }

  // RFC 3261 §17.1.4 / §17.2.4: the transport failed for transaction `id`.
  layer_error transport_error(tsx_id id, instant now) {
    set_now(now);
    record* r = find(id);
    if (!r) return layer_error::unknown_transaction;
    end_by_transport_error(*r);
    return layer_error::ok;
  }

  // The flow to `remote` failed after requests left over it (a connection
  // reset or closed by the peer, a keep-alive unanswered): their responses
  // cannot come back over it, and a reliable transport retransmits nothing
  // that could recover, so every client transaction on that flow still
  // awaiting a final response ends as §17.1.4 says for a transport error
  // (without this it would wait for Timer B or F: a 408 after 32 s). Server
  // transactions are left alone: their next send fails and reports itself,
  // and one that already answered has nothing left to lose. A walk over the
  // table: flows fail rarely. Returns how many transactions it ended.
  std::size_t flow_failed(peer remote, instant now) {
    set_now(now);
    std::size_t ended = 0;
    for (std::uint32_t slot = 0; slot < slot_count(); ++slot) {
      record& r = at(slot);
      if (!r.live || r.remote != remote || !awaits_final_response(r)) continue;
      end_by_transport_error(r);
      ++ended;
    }
    return ended;
  }

  // --- time -------------------------------------------------------------------
  void on_timer(instant now) {
    set_now(now);
    due_timer due{};
    while (pop_due(now, due)) {
      record& r = at(due.slot);
      switch (r.role) {
        case role::client_invite: client_invite::on_timer(*this, r, due.which); break;
        case role::client_non_invite: client_non_invite::on_timer(*this, r, due.which); break;
        case role::server_invite: server_invite::on_timer(*this, r, due.which); break;
        case role::server_non_invite: server_non_invite::on_timer(*this, r, due.which); break;
      }
    }
  }

  std::vector<event> take_events() { return std::exchange(events(), {}); }
  // The same into the caller's vector (cleared first): two vectors swapped
  // back and forth keep their capacity, so draining allocates nothing.
  void take_events(std::vector<event>& into) {
    into.clear();
    into.swap(events());
  }

  // Gives back the capacity of the event vector when it is empty (a burst
  // of a million Timer E expiries leaves a vector of a million events).
  void shrink_buffers() {
    if (events().empty()) std::vector<event>().swap(events());
  }

  // The state of transaction `id`; terminated once it has ended (or never was).
  state state_of(tsx_id id) noexcept {
    const record* r = find(id);
    return r ? r->state : state::terminated;
  }

  // RFC 3261 §9.1: the CANCEL takes To from the INVITE.
  static std::string build_cancel(const message_view& invite, std::string_view extra_lines = {}) {
    const header_field* to = invite.find(header_id::to);
    return client_invite::request_from_invite("CANCEL", invite, to ? to->value : std::string_view{}, extra_lines);
  }

 private:
  static bool awaits_final_response(const record& r) noexcept {
    const bool client = r.role == role::client_invite || r.role == role::client_non_invite;
    return client && (r.state == state::calling || r.state == state::trying || r.state == state::proceeding);
  }
  void end_by_transport_error(record& r) {
    switch (r.role) {
      case role::client_invite: client_invite::on_transport_error(*this, r); break;
      case role::client_non_invite: client_non_invite::on_transport_error(*this, r); break;
      case role::server_invite: server_invite::on_transport_error(*this, r); break;
      case role::server_non_invite: server_non_invite::on_transport_error(*this, r); break;
    }
  }

  static int status_of(std::string_view response) noexcept {
    if (response.size() < 12 || response.substr(0, 8) != "SIP/2.0 ") return 0;
    int s = 0;
    for (std::size_t i = 8; i < 11; ++i) {
      if (response[i] < '0' || response[i] > '9') return 0;
      s = s * 10 + (response[i] - '0');
    }
    return s;
  }

  // RFC 3261 §17.1.3; no match: a stray response for the TU (a proxy forwards it, §16.7).
  // The key comes from the parsed view; the record keeps only the bytes,
  // which take_bytes() hands over once the key is made.
  template <class TakeBytes>
  send_result start_client(const message_view& request, TakeBytes&& take_bytes, peer to, instant now) {
    set_now(now);
    if (request.bytes().empty() || !request.is_request()) return {{}, layer_error::bad_message};
    const method m = parse_method(request.method());
    std::string keys;
    append_client_key(keys, request);
    return start_client(std::move(keys), m, std::forward<TakeBytes>(take_bytes), to);
  }
  template <class TakeBytes>
  send_result start_client(std::string keys, method m, TakeBytes&& take_bytes, peer to) {
    if (m == method::ack) return {{}, layer_error::not_allowed};  // ACK to a 2xx: send_stateless (§17.1.1.3)
    if (keys.empty()) return {{}, layer_error::bad_message};
    const hashed_key key = hashed(keys);
    if (find_key(key)) return {{}, layer_error::duplicate};
    record* r = create(m == method::invite ? role::client_invite : role::client_non_invite, to, std::move(keys),
                       key.text.size(), key.hash);
    if (!r) return {{}, layer_error::table_full};
    r->request = share(take_bytes());
    if (m == method::invite)
      client_invite::start(*this, *r);
    else
      client_non_invite::start(*this, *r);
    return {id_of(*r), layer_error::ok};
  }

  layer_error dispatch(sip::message&& m, peer from) {
    return m->is_response() ? receive_response(std::move(m), from) : receive_request(std::move(m), from);
  }
  layer_error receive_response(sip::message&& m, peer from) {
    response_key_.clear();  // keeps its capacity: a lookup allocates nothing
    append_client_key(response_key_, m.view());
    record* r = find_key(response_key_);
    if (!r) {
      emit(stray_response_event{std::move(m), from});
      return layer_error::ok;
    }
    if (r->role == role::client_invite)
      client_invite::on_response(*this, *r, std::move(m));
    else
      client_non_invite::on_response(*this, *r, std::move(m));
    return layer_error::ok;
  }

  layer_error receive_request(sip::message&& m, peer from) {
    if (!m->top_via() || !m->cseq()) return layer_error::bad_message;
    const method me = m.method();
    std::string keys;  // the key, and if this request starts a transaction its merge key and bytes (core.hpp)
    keys.reserve(2 * key_room + m.bytes().size());
    append_server_key(keys, m.view());
    const hashed_key key = hashed(keys);
    if (record* r = find_key(key)) {  // a retransmission, or the ACK of a non-2xx (§17.2.3)
      if (me == method::ack) {
        if (r->role == role::server_invite && r->state != state::accepted) {
          server_invite::on_ack(*this, *r);
          return layer_error::ok;
        }
      } else {
        if (r->role == role::server_invite) server_invite::on_request_retransmission(*this, *r);
        if (r->role == role::server_non_invite) server_non_invite::on_request_retransmission(*this, *r);
        return layer_error::ok;
      }
    }
    if (me == method::ack) {  // an ACK to a 2xx: the TU's (§17.1.1.3), no transaction
      emit(request_event{{}, std::move(m), from, {}, false});
      return layer_error::ok;
    }
    return start_server(std::move(m), std::move(keys), key.hash, me, from);
  }

  // Room reserved for a key beyond the request's bytes: enough for the usual
  // branch, sent-by and Call-ID, so the buffer is allocated once.
  static constexpr std::size_t key_room = 160;

  // `keys` holds the request's transaction key (§17.2.3), hashed as `key_hash`.
  layer_error start_server(sip::message&& m, std::string keys, std::size_t key_hash, method me, peer from) {
    if (full()) {
      emit(overloaded_event{std::move(m), from});
      return layer_error::table_full;
    }
    tsx_id cancels{};
    if (me == method::cancel)  // §9.2: the INVITE this CANCEL matches
      if (record* inv = find_key(server_key(m.view(), true)); inv && inv->role == role::server_invite)
        cancels = id_of(*inv);
    const std::size_t key_size = keys.size();
    append_merge_key(keys, m.view());
    const hashed_key merge = hashed(std::string_view(keys).substr(key_size));
    const bool merged = find_merge(merge) != nullptr;  // §8.2.2.2: another branch of this request
    const std::size_t merge_hash = merge.hash;
    if (merged) keys.resize(key_size);  // the first branch stays the one linked
    const std::size_t merge_size = keys.size() - key_size;
    keys.append(m.bytes());  // a copy of the bytes for the 100 Trying: the parsed message goes to the TU
    record* r = create(me == method::invite ? role::server_invite : role::server_non_invite, from, std::move(keys),
                       key_size, key_hash);
    link_merge(*r, merge_size, merge_hash);
    if (me == method::invite)
      server_invite::start(*this, *r);
    else
      server_non_invite::start(*this, *r);
    emit(request_event{id_of(*r), std::move(m), from, cancels, merged});
    return layer_error::ok;
  }

  parse_options parse_;
  random_source random_;
  std::string response_key_;  // receive_response()'s lookup key, reused
};

}  // namespace sigwire::sip::transaction
