// sigwire/sip/dialog/session_layer.hpp - calls (INVITE sessions, RFC 3261
// §13-15) over dialogs (§12) over one transaction layer (§17), sans-IO.
//
//   sip::dialog::session_layer ua({.via = "SIP/2.0/UDP 192.0.2.1:5060", .contact = "sip:alice@192.0.2.1:5060",
//                                  .media = caps}, rng);
//   auto call = ua.make_call("sip:bob@192.0.2.2", "<sip:alice@example.com>", peer{7, false}, now);
//   ua.receive(std::move(datagram), peer{7, false}, now);   // from the wire
//   ua.answer(incoming, 200, now);  ua.hangup(call, now);
//   ua.on_timer(now); auto at = ua.next_deadline();
//   for (auto& e : ua.take_events()) std::visit(handler, e);   // send / call state / incoming / ...
//
// What it does by itself, as a UA must: 2xx ACKed by the dialog and the ACK
// re-sent for every retransmitted 2xx (§13.2.2.4); extra 2xx of a forked
// INVITE ACKed and ended with BYE (one call); the UAS's 2xx re-sent from T1
// doubling to T2 until the ACK, and BYE when none came in 64*T1
// (§13.3.1.4); CANCEL delayed until a provisional (§9.1) and BYE when the 2xx
// crosses it; 487 to a cancelled INVITE (§9.2); 481 for requests outside any
// dialog, 500 for an out-of-order CSeq (§12.2.2), 491 for a re-INVITE that
// meets ours (§14.2), 420 with Unsupported for a Require we lack (§8.2.2.3);
// offer/answer through sdp::negotiator in the INVITE/2xx, the 2xx/ACK (late
// offer) and re-INVITEs (488 keeps the call on the previous session).
//
// 401/407 to an INVITE are answered from session_config::credentials
// (auth_client.hpp: strongest algorithm, nonce count, no second try with
// credentials already refused).
//
// Registrations (registration.hpp) run on the same transaction layer:
// add_registration() / unregister(), registration_event for each change.
//
// Reliable provisionals (RFC 3262, prack.hpp): our 1xx are reliable when the
// caller supports 100rel, re-sent until the PRACK (500 after 64*T1); a
// reliable 1xx we get is PRACKed, per early dialog, with offer/answer in the
// 1xx and the PRACK. UPDATE (RFC 3311) in early and confirmed dialogs, 491
// while an offer is outstanding.
//
// Session timers (RFC 4028, session_timer.hpp): Session-Expires and Min-SE
// in our INVITEs, 422 answered and retried, a UAS starts one when the caller
// asked for none; the refresher refreshes at half the interval (UPDATE when
// the peer allows it, else re-INVITE), the other side sends BYE when no
// refresh came.
//
// Glare (§14.1): a re-INVITE or UPDATE of ours answered 491 is sent again
// after a random wait (2.1-4 s when we chose the Call-ID, else 0-2 s).
//
// Not yet: one negotiator per early dialog (forks with different answers:
// the first wins). docs/sip-dialog.md lists them with the PJSIP mapping.
#pragma once

#include <sigwire/core/hash.hpp>
#include <sigwire/core/slot_index.hpp>
#include <sigwire/core/slots.hpp>
#include <sigwire/sdp/negotiator.hpp>
#include <sigwire/sip/dialog/auth_client.hpp>
#include <sigwire/sip/dialog/dialog.hpp>
#include <sigwire/sip/dialog/invite_session.hpp>
#include <sigwire/sip/dialog/prack.hpp>
#include <sigwire/sip/dialog/registration.hpp>
#include <sigwire/sip/dialog/session_timer.hpp>
#include <sigwire/sip/transaction/layer.hpp>
#include <sigwire/sip/uas.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace sigwire::sip::dialog {

using transaction::instant;
using transaction::peer;

// Our Via (without branch) and Contact URI toward one peer: a UA with several
// transports (sip/transport/hub.hpp) gives each peer those of its transport.
struct local_address {
  std::string_view via;
  std::string_view contact;
};

struct session_config {
  transaction::layer_config transactions{};
  std::string via{};      // this transport's Via without branch: "SIP/2.0/UDP 192.0.2.1:5060;rport"
  std::string contact{};  // our Contact URI: "sip:alice@192.0.2.1:5060"
  std::function<local_address(const peer&)> local_for{};  // set: overrides via and contact per peer
  // The flow a registration's next REGISTER goes on, given the one it used
  // (set: a connection that has closed is replaced by a new one to the
  // registrar, so a refresh does not fail on it); unset: always the same.
  std::function<peer(const registration_config&, const peer& last)> registrar_flow{};
  std::optional<sdp::capabilities> media{};  // offer/answer through sdp::negotiator; none: bodies are ignored
  sdp::random_source media_random{};          // the negotiators' session ids and SDES keys; empty: RAND_bytes
  // RFC 3261 §20.5: sent in our INVITEs, their 2xx and every 405. An
  // in-dialog request whose method it does not list is answered 405 (§8.2.1);
  // INVITE, ACK, CANCEL and BYE are always accepted, and PRACK with use_100rel.
  std::string allow = "INVITE, ACK, CANCEL, BYE, PRACK, OPTIONS, INFO, MESSAGE, UPDATE";
  std::vector<credential> credentials{};     // answers 401/407 to our INVITEs (auth_client.hpp)
  bool use_100rel = true;  // RFC 3262: Supported: 100rel in our INVITEs; our 1xx reliable when the caller supports it
  // RFC 4028 (session_timer.hpp): the interval we ask for in our INVITEs (0: no session timer
  // asked; one the caller asks for is still honoured) and the smallest we accept (below: 422).
  std::uint32_t session_expires = 1800;
  std::uint32_t min_se = 90;
  // RFC 4028 §9: a UAS whose caller asked for no session timer starts one
  // itself (interval session_expires; the caller refreshes when it said it
  // supports "timer", else we do). false: only the caller's request is honoured.
  bool uas_starts_session_timer = true;
  // RFC 4028 §7.4: the refresher refreshes with an UPDATE without body when
  // the peer allows UPDATE (no offer/answer, no ACK), else with a re-INVITE
  // offering the same session.
  bool refresh_by_update = true;
};

// --- events for the user ------------------------------------------------------
struct call_state_event {
  call_id call;
  call_state from, to;
  int last_status = 0;
  std::string reason;
};
struct incoming_call_event {  // a new INVITE: answer() it (180, 200, 486 ...)
  call_id call;
  const sip::message* invite;  // valid until the next call into the layer
};
struct in_dialog_request_event {  // INFO, MESSAGE, OPTIONS, UPDATE inside a call: answered 200 already
  call_id call;
  sip::message request;
};
struct media_event {  // an offer/answer exchange completed (RFC 3264): read negotiator_of(call)
  call_id call;
  bool ok = true;   // false: the answer broke RFC 3264 (the call ends, or a re-INVITE was refused)
};
struct request_event {  // a request outside any call (OPTIONS, MESSAGE, REGISTER ...): respond()
  transaction::tsx_id tsx;
  sip::message request;
  peer from;
};
struct request_result_event {  // the final answer to send_outside_dialog()'s request (408/503: no answer)
  transaction::tsx_id tsx;
  int status = 0;
  std::string reason;
};
struct registration_id {
  std::uint32_t index = UINT32_MAX;
  bool valid() const noexcept { return index != UINT32_MAX; }
  friend bool operator==(const registration_id&, const registration_id&) = default;
};
struct registration_event {  // a registration changed state (registration.hpp)
  registration_id reg;
  registration_state state;
  int last_status = 0;
  std::uint32_t expires = 0;  // granted, when registered
  std::string contact;        // the Contact registered (rewritten when the registrar saw another address)
  // RFC 5626: the registrar confirmed our outbound registration (Require:
  // outbound): `flow` needs keep-alives (§4.4), at most `flow_timer` seconds
  // apart when the registrar sent Flow-Timer (0: none; §4.4.1's defaults).
  bool outbound = false;
  std::uint32_t flow_timer = 0;
  peer flow{};  // the flow the registration is on
};
using session_event = std::variant<transaction::send_event, call_state_event, incoming_call_event,
                                   in_dialog_request_event, media_event, request_event,
                                   transaction::stray_response_event, transaction::overloaded_event,
                                   registration_event, request_result_event>;

enum class call_error : std::uint8_t { ok, unknown_call, wrong_state, bad_input, transaction_failed, media_failed };

// Why hangup() ends a call: normal, or another branch of a forked call answered.
enum class hangup_cause : std::uint8_t { normal, completed_elsewhere };

constexpr std::string_view text(call_error e) noexcept {
  constexpr std::string_view names[] = {"ok", "unknown_call", "wrong_state", "bad_input", "transaction_failed",
                                        "media_failed"};
  return names[static_cast<int>(e)];
}

// What a request outside a dialog (an INVITE, a MESSAGE ...) carries besides
// its target and From.
struct outside_request_options {
  // To, when not the target: a registered Contact as Request-URI, the
  // address-of-record in To (RFC 3261 §16.5).
  std::string_view to_uri{};
  // A preloaded route set (§8.1.1.1), each a name-addr
  // ("<sip:proxy.example.com;lr>"), written as Route headers: an outbound
  // proxy, or a registered binding's Path (RFC 3327 §5.3). The request is
  // then sent to the first route's address (the caller's `to`).
  std::span<const std::string> route{};
  // More header lines (pjsua's msg_data: "X-Account", "P-Preferred-Identity"
  // ...). Not those the layer writes itself (Via, Max-Forwards, From, To,
  // Call-ID, CSeq, Contact, Route, Record-Route, Content-Type,
  // Content-Length), nor a name or value that would not make one header line.
  std::span<const header_line> headers{};
};

struct make_call_result {
  call_id call{};
  call_error error = call_error::ok;
  explicit operator bool() const noexcept { return error == call_error::ok; }
};

class session_layer {
 public:
  using random_source = std::function<std::uint64_t()>;

  session_layer(session_config cfg, random_source random)
      : cfg_(std::move(cfg)),
        media_caps_(cfg_.media ? std::make_shared<const sdp::capabilities>(*cfg_.media) : nullptr),
        random_(random),
        tl_(cfg_.transactions, random),
        auth_(cfg_.credentials, std::move(random)) {}

  // --- UAC --------------------------------------------------------------------
  // INVITE `target` (a URI) from `from` (a From value without tag, e.g.
  // "\"Alice\" <sip:alice@example.com>"), To = <target> (or <o.to_uri>);
  // with an SDP offer from the negotiator when media capabilities are set
  // and `late_offer` is false. A preloaded route (o.route) is repeated by
  // the CANCEL, the ACK of a non-2xx and a retry with credentials (§9.1,
  // §17.1.1.3, §22.2); the dialog's route set comes from Record-Route alone
  // (§12.1.2). o.headers go into the INVITE and its retries.
  make_call_result make_call(std::string_view target, std::string_view from, peer to, instant now,
                             bool late_offer = false, const outside_request_options& o = {}) {
    const call_id id = new_call();
    detail::call_record& c = calls_[id.slot];
    c.uac = true;
    c.remote = to;
    c.call_id = token(20) + "@sigwire";
    c.local_tag = token(10);
    c.invite_cseq = 1;
    std::string body;
    if (cfg_.media) {
      c.media = new_negotiator();
      if (!late_offer) {
        if (c.media->create_offer()) return fail(id, call_error::media_failed);
        body = c.media->local_sdp();
        c.offer_in_invite = true;
      }
    }
    // What the INVITE carries from the caller is checked here; the rest we
    // write, so the INVITE is not parsed (the call keeps its text).
    if (!parse_uri(target, false) || !parse_name_addr(from, error::bad_from) || (!o.to_uri.empty() && !parse_uri(o.to_uri, false)) ||
        !valid_route(o.route) || !valid_extra_headers(o.headers))
      return fail(id, call_error::bad_input);
    const auto branch = tl_.new_branch();
    std::string invite = build_invite(c, target, from, body, branch, o);
    if (invite.empty()) return fail(id, call_error::bad_input);
    c.invite_text = invite;  // a copy of its size: the built buffer keeps the estimate's slack
    auto sent = tl_.send_request(std::move(invite), method::invite, branch, to, now);
    if (!sent) return fail(id, call_error::transaction_failed);
    c.invite_tsx = sent.id;
    track(sent.id, id, method::invite);
    link_dialog(c, id);
    drain(now);  // the INVITE goes out, then the state changes (as for every state below)
    set_state(id, call_state::calling, 0, {});
    return {id, call_error::ok};
  }

  // --- UAS --------------------------------------------------------------------
  // Answers an incoming call: 101-199 (early), 2xx (connecting; confirmed
  // with the ACK), 300-699 (disconnected). A 2xx carries the SDP answer (or
  // the offer, when the INVITE had none); when the offer cannot be answered
  // the call is refused with 488 instead.
  // `headers`: more header lines (a 401's WWW-Authenticate, a 3xx's Contact ...).
  call_error answer(call_id id, int status, instant now, std::string_view reason = {},
                    std::span<const header_line> headers = {}) {
    detail::call_record* c = find(id);
    if (!c || c->uac) return call_error::unknown_call;
    if (c->state != call_state::incoming && c->state != call_state::early) return call_error::wrong_state;
    if (status < 101 || status > 699) return call_error::bad_input;
    const bool reliable = status > 100 && status < 200 && c->reliable_1xx;
    if (reliable && c->unacked_1xx) return call_error::wrong_state;  // RFC 3262 §3: one unacknowledged at a time
    if (status >= 200 && status < 300 && c->unacked_1xx && c->unacked_1xx_has_sdp) {
      defer_2xx(*c, status, reason, headers);  // RFC 3262 §3: MUST NOT send it before that 1xx's PRACK
      return call_error::ok;
    }
    std::string body;
    bool negotiated_now = false;
    if (c->media && (reliable || (status >= 200 && status < 300))) {
      if (!answer_media(*c, body, negotiated_now, status >= 200)) {
        status = 488;
        reason = "Not Acceptable Here";
        emit(media_event{id, false});
      }
    }
    if (reason.empty()) reason = default_reason(status);
    dialog& d = c->dialogs.front();
    std::string response;
    std::vector<header_line> lines(headers.begin(), headers.end());
    const std::string rseq = reliable ? std::to_string(c->rseq + 1) : std::string{};
    if (reliable && status != 488) {
      lines.push_back({"Require", prack::option_tag});
      lines.push_back({"RSeq", rseq});
    }
    if (status >= 200 && status < 300) lines.push_back({"Allow", cfg_.allow});
    std::string se_value;
    if (status >= 200 && status < 300)
      for (const header_line& h : session_timer_lines(*c, false, false, se_value)) lines.push_back(h);
    if (status >= 200 && status < 300 && cfg_.use_100rel) lines.push_back({"Supported", prack::option_tag});
    const response_options o{body.empty() ? std::string_view{} : "application/sdp", body, lines};
    if (d.create_response(c->invite.view(), status, reason, o, response) != dialog_error::ok) return call_error::bad_input;
    transaction::shared_bytes bytes = transaction::share(std::move(response));
    if (tl_.send_response(c->invite_tsx, *bytes, now) != transaction::layer_error::ok) return call_error::transaction_failed;
    drain(now);
    if (negotiated_now) emit(media_event{id, true});  // late offer: at the ACK or the PRACK
    if (status < 200) {
      if (reliable) start_1xx_retransmission(*c, id, std::move(bytes), !body.empty(), now);
      set_state(id, call_state::early, status, reason);
    } else if (status < 300) {
      c->confirmed = 0;
      d.confirm();
      start_ok_retransmission(*c, id, c->invite_tsx, std::move(bytes), now);
      start_session_timer(*c, id, now);
      set_state(id, call_state::connecting, status, reason);
    } else {
      d.terminate();
      disconnect(id, status, reason);
    }
    return call_error::ok;
  }

  // Ends the call in whatever state it is: CANCEL (UAC before a final; sent
  // once a provisional arrived, §9.1), a final response (UAS before
  // answering: 603), BYE (after a 2xx; a UAS waits for the ACK first, §15).
  // `cause` completed_elsewhere: the CANCEL carries RFC 3326's
  // `Reason: SIP;cause=200;text="Call completed elsewhere"` (another branch
  // of a forked call answered: phones then show no missed call).
  call_error hangup(call_id id, instant now, hangup_cause cause = hangup_cause::normal) {
    detail::call_record* c = find(id);
    if (!c) return call_error::unknown_call;
    switch (c->state) {
      case call_state::calling:
      case call_state::early:
        if (c->uac) {
          c->hangup_requested = true;
          c->completed_elsewhere = cause == hangup_cause::completed_elsewhere;
          send_cancel(*c, now);
          drain(now);
          return call_error::ok;
        }
        return answer(id, 603, now, "Decline");
      case call_state::incoming: return answer(id, 603, now, "Decline");
      case call_state::connecting:
        c->bye_after_ack = true;
        return call_error::ok;
      case call_state::confirmed:
        if (c->bye_sent) return call_error::ok;  // one BYE per call
        send_bye(*c, id, *c->current(), now);
        drain(now);
        return call_error::ok;
      default: return call_error::wrong_state;
    }
  }

  // A re-INVITE with an offer (RFC 3261 §14.1); `direction` changes every
  // stream's direction (hold: sendonly, resume: sendrecv; RFC 3264 §8.4).
  // `with_offer` false: a re-INVITE without SDP; the peer offers in its 2xx
  // and our answer goes in the ACK (§14.1).
  call_error reinvite(call_id id, instant now, std::optional<sdp::direction> direction = std::nullopt,
                      bool with_offer = true) {
    detail::call_record* c = find(id);
    if (!c) return call_error::unknown_call;
    if (c->state != call_state::confirmed || c->reinvite_pending || c->bye_sent) return call_error::wrong_state;
    std::string body;
    if (c->media && with_offer) {
      std::optional<sdp::session> offer = c->media->active_local();
      if (!offer) return call_error::media_failed;
      if (direction)
        for (sdp::media& m : offer->media)
          if (m.port != 0) set_direction(m, *direction);
      if (c->media->modify_local_offer(std::move(*offer))) return call_error::media_failed;
      body = c->media->local_sdp();
    }
    std::string se_value;
    std::vector<header_line> lines = session_timer_lines(*c, true, true, se_value);
    if (!lines.empty()) lines.push_back({"Allow", cfg_.allow});
    send_in_dialog(*c, id, *c->current(), method::invite, body, now, "application/sdp", lines);
    c->reinvite_pending = true;
    c->last_modification = {.update = false, .with_offer = with_offer, .direction = direction};
    drain(now);
    return call_error::ok;
  }

  // RFC 3311: an UPDATE with a new offer, in the early dialog (once the
  // first offer/answer is done, e.g. through a reliable 1xx) or the confirmed one.
  call_error update(call_id id, instant now, std::optional<sdp::direction> direction = std::nullopt) {
    detail::call_record* c = find(id);
    if (!c) return call_error::unknown_call;
    if (!c->media || c->reinvite_pending || c->bye_sent) return call_error::wrong_state;
    dialog* d = c->current();
    if (!d && c->state == call_state::early && !c->dialogs.empty()) d = &c->dialogs.front();
    if (!d || d->state() == dialog_state::terminated) return call_error::wrong_state;
    sdp::negotiator& n = *media_of(*c, *d);
    std::optional<sdp::session> offer = n.active_local();
    if (!offer) return call_error::wrong_state;
    if (direction)
      for (sdp::media& m : offer->media)
        if (m.port != 0) set_direction(m, *direction);
    if (n.modify_local_offer(std::move(*offer))) return call_error::media_failed;
    send_in_dialog(*c, id, *d, method::update, n.local_sdp(), now);
    c->reinvite_pending = true;
    c->last_modification = {.update = true, .with_offer = true, .direction = direction};
    drain(now);
    return call_error::ok;
  }

  // INFO / MESSAGE / OPTIONS inside the call; the response comes back as a
  // stray-free response through the transaction layer (answered in the log).
  call_error send_request(call_id id, method m, std::string_view content_type, std::string_view body, instant now) {
    detail::call_record* c = find(id);
    if (!c) return call_error::unknown_call;
    if (m != method::info && m != method::message && m != method::options) return call_error::bad_input;
    if (c->state != call_state::confirmed) return call_error::wrong_state;
    send_in_dialog(*c, id, *c->current(), m, body, now, content_type);
    drain(now);
    return call_error::ok;
  }

  // A response to a request outside any call (request_event).
  transaction::layer_error respond(transaction::tsx_id tsx, const sip::message& request, int status, instant now,
                                   std::string_view reason = {}, std::span<const header_line> headers = {}) {
    std::string r = stateless_response(request.view(), status, reason.empty() ? default_reason(status) : reason, headers);
    const auto e = tl_.send_response(tsx, std::move(r), now);
    drain(now);
    return e;
  }

  // A request outside any dialog (MESSAGE, OPTIONS, INFO ... RFC 3261 §8.1.1;
  // RFC 3428 for MESSAGE): To <target> (or <o.to_uri>), a new Call-ID and From tag, CSeq 1,
  // through o.route, with o.headers (outside_request_options).
  // request_result_event reports its final status (408/503 when none came)
  // with the id returned here; a 401/407 is answered once from
  // session_config::credentials first (§22.2: CSeq + 1, a new transaction).
  transaction::send_result send_outside_dialog(method m, std::string_view target, std::string_view from, peer to,
                                               std::string_view content_type, std::string_view body, instant now,
                                               const outside_request_options& o = {}) {
    if (m == method::invite || m == method::ack || m == method::cancel || m == method::other)
      return {{}, transaction::layer_error::not_allowed};
    if (!valid_route(o.route) || !valid_extra_headers(o.headers)) return {{}, transaction::layer_error::bad_message};
    const std::string_view via = via_for(to), name = text(m);
    const std::string call = token(20) + "@sigwire", tag = token(10);
    const auto branch = tl_.new_branch();
    const std::string cseq = "1 " + std::string(name);
    std::string buffer(target.size() + o.to_uri.size() + from.size() + via.size() + content_type.size() + body.size() +
                           extra_size(o) + 256,
                       '\0');
    builder b(buffer, body);
    write_request_head(b, name, target, via, branch, from, tag, call, cseq, nullptr, o.to_uri, o.route);
    for (const header_line& h : o.headers) b.header(h.name, h.value);
    if (!body.empty()) b.header(header_id::content_type, content_type);
    const auto done = b.finish();
    sip::message msg;
    if (!done) return {{}, transaction::layer_error::bad_message};
    buffer.resize(done.value.size());
    if (sip::message::parse(std::move(buffer), msg)) return {{}, transaction::layer_error::bad_message};
    std::optional<sip::message> kept;  // for a challenge, when we have credentials to answer it with
    const auto sent = auth_.empty() ? tl_.send_request(std::move(msg), to, now) : tl_.send_request(msg, to, now);
    if (!auth_.empty()) kept = std::move(msg);
    if (sent) {
      tsx_.set(sent.id, {outside_dialog, 0, m});
      if (kept) outside_[tsx_key(sent.id)] = {std::move(*kept), sent.id, to};
    }
    drain(now);
    return sent;
  }

  // A response without a transaction: the 503 an overloaded_event asks for
  // (RFC 3261 §21.5.4). Never to an ACK (§17.1.1.3: ACKs get no response).
  void respond_stateless(const sip::message& request, peer to, int status, std::string_view reason = {}) {
    if (request.view().method() == "ACK") return;
    std::string r = stateless_response(request.view(), status, reason.empty() ? default_reason(status) : reason);
    if (!r.empty()) emit(transaction::send_event{{}, to, transaction::share(std::move(r))});
  }

  // --- registrations (registration.hpp) ---------------------------------------
  // Registers cfg.contact at cfg.registrar (sent to `registrar`) and keeps it
  // refreshed; registration_event reports each change. cfg.via and cfg.contact
  // default to ours toward `registrar`.
  registration_id add_registration(registration_config cfg, peer registrar, instant now) {
    if (cfg.via.empty()) cfg.via = via_for(registrar);
    if (cfg.contact.empty())  // a SIPS registrar gets a SIPS binding, as an INVITE to a SIPS URI a SIPS Contact
      cfg.contact = is_sips(cfg.registrar) ? secure_contact(contact_for(registrar)) : std::string(contact_for(registrar));
    const registration_id id{static_cast<std::uint32_t>(registrations_.size())};
    registrations_.push_back({std::make_unique<registration>(std::move(cfg), random_), registrar});
    std::string out;
    registrations_.back().usage->start(now, tl_.new_branch(), out);
    send_register(id, std::move(out), now);
    drain(now);
    report(id);
    return id;
  }
  call_error unregister(registration_id id, instant now) {
    if (id.index >= registrations_.size()) return call_error::unknown_call;
    std::string out;
    registrations_[id.index].usage->stop(tl_.new_branch(), out);
    send_register(id, std::move(out), now);
    drain(now);
    report(id);
    return call_error::ok;
  }
  const registration* registration_of(registration_id id) const noexcept {
    return id.index < registrations_.size() ? registrations_[id.index].usage.get() : nullptr;
  }
  // A flow closed under registrations (RFC 5626 §4.4.1): each one registered
  // over it registers again now, over the flow registrar_flow gives it, so
  // the registrar's binding (and an outbound flow) is back at once rather
  // than at the next refresh.
  void registrar_flow_failed(peer flow, instant now) {
    for (std::uint32_t i = 0; i < registrations_.size(); ++i) {
      registration_slot& slot = registrations_[i];
      std::string out;
      if (slot.registrar != flow || !slot.usage->refresh_now(tl_.new_branch(), out)) continue;
      send_register({i}, std::move(out), now);
      drain(now);
      report({i});
    }
  }

  // --- from the wire and the clock -------------------------------------------------
  transaction::layer_error receive(std::string bytes, peer from, instant now) {
    const auto e = tl_.receive(std::move(bytes), from, now);
    drain(now);
    return e;
  }
  transaction::layer_error receive(sip::message m, peer from, instant now) {
    const auto e = tl_.receive(std::move(m), from, now);
    drain(now);
    return e;
  }
  // A send_event's bytes could not be sent (a connection refused or broken):
  // its transaction ends as RFC 3261 §17.1.4 / §17.2.4 say, and the call or
  // registration with it. Stateless sends (invalid tsx) have nothing to end.
  void transport_error(transaction::tsx_id tsx, instant now) {
    if (!tsx.valid()) return;
    (void)tl_.transport_error(tsx, now);
    drain(now);
  }
  // The flow to `remote` failed (transaction::layer::flow_failed): its
  // transactions end by transport error, and the calls, registrations and
  // requests that waited on them as transport_error() says.
  void flow_failed(transaction::peer remote, instant now) {
    (void)tl_.flow_failed(remote, now);
    drain(now);
  }
  void on_timer(instant now) {
    tl_.on_timer(now);
    drain(now);
    for (std::uint32_t i = 0; i < registrations_.size(); ++i) {  // refreshes (§10.2.4)
      std::string out;
      if (registrations_[i].usage->on_timer(now, tl_.new_branch(), out) == registration::action::send) {
        send_register({i}, std::move(out), now);
        drain(now);
        report({i});
      }
    }
    while (!timers_.empty() && timers_.front().at <= now) {
      const timer_entry t = timers_.front();
      std::pop_heap(timers_.begin(), timers_.end(), later);
      timers_.pop_back();
      detail::call_record& c = calls_[t.slot];
      if (timer_valid(t)) {
        const call_id id{t.slot, c.generation};
        switch (t.which) {
          case call_timer::call: on_call_timer(c, id, t.at); break;
          case call_timer::session: on_session_timer(c, id, t.at); break;
          case call_timer::glare: on_glare_timer(c, id, t.at); break;
        }
      }
      drain(now);
    }
  }
  std::optional<instant> next_deadline() {
    while (!timers_.empty() && !timer_valid(timers_.front())) {
      std::pop_heap(timers_.begin(), timers_.end(), later);
      timers_.pop_back();
    }
    std::optional<instant> t = tl_.next_deadline();
    if (!timers_.empty() && (!t || timers_.front().at < *t)) t = timers_.front().at;
    for (const registration_slot& r : registrations_)
      if (const auto at = r.usage->next_deadline(); at && (!t || *at < *t)) t = at;
    return t;
  }
  std::vector<session_event> take_events() { return std::exchange(out_, {}); }
  // Gives back the working buffers a burst grew: the event vectors keep
  // their capacity from one step to the next (so a step allocates nothing),
  // and after 10,000 calls set up in one step they held 700 bytes per call.
  // For a quiet moment; the next burst grows them again.
  void shrink_buffers() {
    std::vector<std::vector<transaction::event>>().swap(spare_batches_);
    if (out_.empty()) std::vector<session_event>().swap(out_);
    tl_.shrink_buffers();
  }
  void take_events(std::vector<session_event>& into) {
    into.clear();
    into.swap(out_);
  }

  // --- what users read -------------------------------------------------------------
  call_state state_of(call_id id) noexcept {
    const detail::call_record* c = find(id);
    return c ? c->state : call_state::disconnected;
  }
  int last_status(call_id id) noexcept {
    const detail::call_record* c = find(id);
    return c ? c->last_status : 0;
  }
  const dialog* dialog_of(call_id id) noexcept {
    detail::call_record* c = find(id);
    if (!c) return nullptr;
    if (dialog* d = c->current()) return d;
    return c->dialogs.empty() ? nullptr : &c->dialogs.front();
  }
  std::size_t dialog_count(call_id id) noexcept {
    const detail::call_record* c = find(id);
    return c ? c->dialogs.size() : 0;
  }
  // The flow of a call's messages: where its INVITE came from or went to.
  std::optional<peer> peer_of(call_id id) noexcept {
    const detail::call_record* c = find(id);
    return c ? std::optional<peer>(c->remote) : std::nullopt;
  }
  const sdp::negotiator* negotiator_of(call_id id) noexcept {
    const detail::call_record* c = find(id);
    return c ? c->media.get() : nullptr;
  }
  std::size_t calls() const noexcept { return live_calls_; }
  transaction::layer& transactions() noexcept { return tl_; }
  const session_config& config() const noexcept { return cfg_; }

 private:
  // --- call table ---------------------------------------------------------------
  call_id new_call() {
    const std::uint32_t slot = calls_.take();
    detail::call_record& c = calls_[slot];
    c.live = true;
    ++live_calls_;
    return {slot, c.generation};
  }
  detail::call_record* find(call_id id) noexcept {
    if (id.slot >= calls_.size()) return nullptr;
    detail::call_record& c = calls_[id.slot];
    return c.live && c.generation == id.generation ? &c : nullptr;
  }
  make_call_result fail(call_id id, call_error e) {
    release(id);
    return {{}, e};
  }
  // The record is reset and its slot reused; the handle dies with its generation.
  void release(call_id id) {
    detail::call_record& c = calls_[id.slot];
    if (c.dialog_linked) by_dialog_.erase(id.slot, c.dialog_hash);
    // The timer stamp outlives the slot's reuse: heap entries of the old call stay stale.
    const std::uint32_t generation = c.generation + 1, stamp = c.timer_stamp + 1, session = c.session_stamp + 1,
                        glare = c.glare_stamp + 1;
    c = detail::call_record{};
    c.generation = generation;
    c.timer_stamp = stamp;
    c.session_stamp = session;
    c.glare_stamp = glare;
    calls_.release(id.slot);
    --live_calls_;
  }
  // Calls by Call-ID and local tag (what identifies our side of the dialogs
  // of a call, forks included): the index keeps slots, the keys stay in the
  // records.
  static std::uint32_t dialog_hash(std::string_view call_id_text, std::string_view local_tag) noexcept {
    const std::uint64_t h = core::hash_text(local_tag, core::hash_text(call_id_text));
    return static_cast<std::uint32_t>(h ^ (h >> 32));
  }
  void link_dialog(detail::call_record& c, call_id id) {
    if (c.dialog_linked) by_dialog_.erase(id.slot, c.dialog_hash);
    c.dialog_hash = dialog_hash(c.call_id, c.local_tag);
    by_dialog_.insert(id.slot, c.dialog_hash);
    c.dialog_linked = true;
  }
  detail::call_record* find_by_dialog(std::string_view call_id_text, std::string_view local_tag, call_id& id) {
    const std::uint32_t slot = by_dialog_.find(dialog_hash(call_id_text, local_tag), [&](std::uint32_t s) {
      return calls_[s].call_id == call_id_text && calls_[s].local_tag == local_tag;
    });
    if (slot == core::slot_index::none) return nullptr;
    id = {slot, calls_[slot].generation};
    return &calls_[slot];
  }

  static constexpr std::uint32_t outside_dialog = UINT32_MAX;  // tsx_use::slot of send_outside_dialog()'s requests
  struct tsx_use {
    std::uint32_t slot;        // call slot, or registration index for REGISTER
    std::uint32_t generation;
    method m;
  };
  static std::uint64_t tsx_key(transaction::tsx_id t) noexcept {
    return (static_cast<std::uint64_t>(t.slot) << 32) | t.generation;
  }
  // Which call (or registration, or request outside a dialog) each live
  // transaction serves, indexed by the transaction's slot: the transaction
  // layer reuses slots, so the table stays as long as the most transactions
  // ever live at once, and a lookup is an index, not a hash-map node (an
  // allocation per transaction, four per call).
  class tsx_table {
   public:
    void set(transaction::tsx_id t, tsx_use use) {
      if (t.slot >= entries_.size()) entries_.resize(std::max<std::size_t>(t.slot + 1, 2 * entries_.size()));
      entries_[t.slot] = {t.generation, true, use};
    }
    tsx_use* find(transaction::tsx_id t) noexcept {
      if (t.slot >= entries_.size()) return nullptr;
      entry& e = entries_[t.slot];
      return e.used && e.generation == t.generation ? &e.use : nullptr;
    }
    void erase(transaction::tsx_id t) noexcept {
      if (find(t)) entries_[t.slot].used = false;
    }

   private:
    struct entry {
      std::uint32_t generation = 0;
      bool used = false;
      tsx_use use{};
    };
    std::vector<entry> entries_;
  };
  void track(transaction::tsx_id t, call_id id, method m) { tsx_.set(t, {id.slot, id.generation, m}); }

  // --- output -----------------------------------------------------------------------
  template <class E>
  void emit(E&& e) {
    out_.emplace_back(std::in_place_type<std::decay_t<E>>, std::forward<E>(e));
  }
  void set_state(call_id id, call_state to, int status, std::string_view reason) {
    drain(now_);
    detail::call_record& c = calls_[id.slot];
    const call_state from = c.state;
    if (from == to) return;
    c.state = to;
    if (status >= 100 || to == call_state::disconnected) {  // provisionals too, as pjsua reports "EARLY (180 Ringing)"
      c.last_status = status;
      c.reason = reason;
    }
    emit(call_state_event{id, from, to, c.last_status, c.reason});
  }
  // Disconnected: reported, then the record is released (its transactions run on alone).
  void disconnect(call_id id, int status, std::string_view reason) {
    set_state(id, call_state::disconnected, status, reason);
    release(id);
  }

  std::unique_ptr<sdp::negotiator> new_negotiator() const {
    return std::make_unique<sdp::negotiator>(media_caps_, sdp::parse_options{}, cfg_.media_random);
  }
  // The negotiator of dialog `d`: a UAC's early dialogs each have their own
  // (call_record::early_media); otherwise the call's one.
  sdp::negotiator* media_of(detail::call_record& c, const dialog& d) {
    if (!c.media || !c.uac || c.confirmed >= 0) return c.media.get();
    const std::string& tag = d.id().remote_tag;
    if (!c.early) {  // the first early dialog to need one: keep the INVITE's state for the others
      c.early = std::make_unique<detail::call_record::early_media>();
      c.early->tag = tag;
      c.early->at_invite = std::make_unique<sdp::negotiator>(*c.media);
    }
    if (tag == c.early->tag) return c.media.get();
    for (auto& [fork_tag, n] : c.early->forks)
      if (fork_tag == tag) return n.get();
    c.early->forks.emplace_back(tag, std::make_unique<sdp::negotiator>(*c.early->at_invite));
    return c.early->forks.back().second.get();
  }
  // The 2xx on dialog `d` makes the call: its negotiator becomes the call's.
  void adopt_media(detail::call_record& c, const dialog& d) {
    if (!c.media || !c.early) return;  // no early dialog answered: `media` is the 2xx's
    const std::string& tag = d.id().remote_tag;
    if (tag != c.early->tag) {
      auto& forks = c.early->forks;
      auto fork = std::find_if(forks.begin(), forks.end(), [&](const auto& f) { return f.first == tag; });
      if (fork != forks.end()) std::swap(c.media, fork->second);
      else c.media = std::move(c.early->at_invite);  // no offer/answer on this dialog yet
    }
    c.early.reset();
  }

  // The transaction layer's events, turned into the calls' behaviour. Called
  // again from set_state(), so what a step sent is reported before the state
  // it led to (the transaction layer queues its sends; states go out at once).
  void drain(instant now) {
    now_ = now;
    for (;;) {
      std::vector<transaction::event> batch = spare_batch();
      tl_.take_events(batch);
      if (batch.empty()) return keep_batch(std::move(batch));
      for (transaction::event& e : batch) std::visit([&](auto& ev) { on_tsx_event(ev, now); }, e);
      keep_batch(std::move(batch));
    }
  }
  // drain() re-enters itself, so each level takes its own vector; emptied
  // ones are kept, and the vectors swapped with the transaction layer keep
  // their capacity (a fresh one per drain cost 9 allocations per call).
  std::vector<transaction::event> spare_batch() {
    if (spare_batches_.empty()) return {};
    std::vector<transaction::event> v = std::move(spare_batches_.back());
    spare_batches_.pop_back();
    return v;
  }
  void keep_batch(std::vector<transaction::event>&& v) {
    v.clear();
    spare_batches_.push_back(std::move(v));
  }

  void on_tsx_event(transaction::send_event& e, instant) { emit(std::move(e)); }
  void on_tsx_event(transaction::overloaded_event& e, instant) { emit(std::move(e)); }
  void on_tsx_event(transaction::state_event& e, instant now) {
    if (e.to != transaction::state::terminated) return;
    const tsx_use* found = tsx_.find(e.id);
    if (!found) return;
    const tsx_use use = *found;
    tsx_.erase(e.id);
    if (e.cause != transaction::cause::timeout && e.cause != transaction::cause::transport_error) return;
    // RFC 3261 §8.1.3.1: a timeout is a 408, a transport failure a 503.
    const bool transport = e.cause == transaction::cause::transport_error;
    const int status = transport ? 503 : 408;
    const std::string_view reason = transport ? "Service Unavailable" : "Request Timeout";
    if (use.slot == outside_dialog) return emit(request_result_event{first_of_outside(e.id), status, std::string(reason)});
    if (use.m == method::register_) {
      registrations_[use.slot].usage->on_failure(now, status);
      report({use.slot});
      return;
    }
    const call_id id{use.slot, use.generation};
    detail::call_record* c = find(id);
    if (!c) return;
    // RFC 5057 §3.2: a timeout counts as 408; BYE, INVITE (initial) or any usage-ending request ends the call.
    if (use.m == method::bye || (use.m == method::invite && c->state != call_state::confirmed)) {
      disconnect(id, status, reason);
      return;
    }
    if (use.m == method::invite) c->reinvite_pending = false;
    if (dialog* d = c->current()) {
      d->transaction_timed_out(use.m);
      if (d->state() == dialog_state::terminated) disconnect(id, status, reason);
    }
    (void)now;
  }
  void on_tsx_event(transaction::stray_response_event& e, instant now) {
    // A 2xx retransmission after the INVITE (or re-INVITE) client transaction
    // ended (Timer M) still gets its ACK.
    const message_view& r = e.msg.view();
    if (r.is_response() && r.status() >= 200 && r.status() < 300 && r.cseq() && r.cseq()->method == "INVITE" &&
        r.from() && r.to()) {
      call_id id;
      detail::call_record* c = find_by_dialog(r.call_id(), r.from()->tag, id);
      if (c && resend_ack(*c, r)) return;
    }
    (void)now;
    emit(std::move(e));
  }
  void on_tsx_event(transaction::response_event& e, instant now) {
    const tsx_use* found = tsx_.find(e.id);
    if (!found) return;
    const tsx_use use = *found;
    if (use.slot == outside_dialog) {
      const int status = e.msg.view().status();
      if (status < 200 || ((status == 401 || status == 407) && retry_outside(e, now))) return;
      emit(request_result_event{first_of_outside(e.id), status, std::string(e.msg.view().reason())});
      return;
    }
    if (use.m == method::register_) return on_register_response(use.slot, e.msg, now);
    const call_id id{use.slot, use.generation};
    detail::call_record* c = find(id);
    if (!c) return;
    if (use.m == method::invite && e.id == c->invite_tsx)
      on_invite_response(*c, id, e.msg, now);
    else if (use.m == method::invite && e.retransmission)  // RFC 6026 §8.4: a re-INVITE's 2xx again
      (void)resend_ack(*c, e.msg.view());
    else
      on_in_dialog_response(*c, id, use.m, e.msg, now);
  }
  void on_tsx_event(transaction::request_event& e, instant now) {
    const message_view& r = e.msg.view();
    const method m = e.msg.method();
    if (!e.id.valid()) {  // an ACK for a 2xx (§17.1.1.3: no transaction)
      on_ack(e.msg, now);
      return;
    }
    if (m == method::cancel) return on_cancel(e, now);
    if (r.to() && r.to()->has_tag) return on_in_dialog_request(e, now);
    if (m == method::invite) return on_new_invite(e, now);
    emit(request_event{e.id, std::move(e.msg), e.from});
  }

  // --- registrations ------------------------------------------------------------------
  struct registration_slot {
    std::unique_ptr<registration> usage;
    peer registrar;
    bool reported = false;
    registration_state last_state = registration_state::unregistered;
    std::string last_contact{};
    peer last_flow{};
  };
  void send_register(registration_id id, std::string bytes, instant now) {
    sip::message m;
    if (bytes.empty() || sip::message::parse(std::move(bytes), m)) return;
    registration_slot& slot = registrations_[id.index];
    if (cfg_.registrar_flow) slot.registrar = cfg_.registrar_flow(slot.usage->config(), slot.registrar);
    const auto sent = tl_.send_request(std::move(m), slot.registrar, now);
    if (sent) tsx_.set(sent.id, {id.index, 0, method::register_});
  }
  void on_register_response(std::uint32_t index, const sip::message& msg, instant now) {
    if (msg->status() < 200) return;
    registration& r = *registrations_[index].usage;
    std::string out;
    if (r.on_response(msg.view(), now, tl_.new_branch(), out) == registration::action::send)
      send_register({index}, std::move(out), now);
    report({index});
  }
  void report(registration_id id) {  // only what changed
    registration_slot& slot = registrations_[id.index];
    const registration& r = *slot.usage;
    if (slot.reported && slot.last_state == r.state() && slot.last_contact == r.contact() && slot.last_flow == slot.registrar)
      return;
    slot.reported = true;
    slot.last_state = r.state();
    slot.last_contact = r.contact();
    slot.last_flow = slot.registrar;
    emit(registration_event{id, r.state(), r.last_status(), r.granted_expires(), r.contact(), r.outbound_confirmed(),
                            r.flow_timer(), slot.registrar});
  }

  // --- UAC: the INVITE's responses --------------------------------------------------
  void on_invite_response(detail::call_record& c, call_id id, const sip::message& msg, instant now) {
    const message_view& r = msg.view();
    const int status = r.status();
    if (status == 100) return;
    if (status < 200) return on_provisional(c, id, r, now);
    if (status < 300) return on_2xx(c, id, r, now);
    if ((status == 401 || status == 407) && !c.hangup_requested && retry_with_credentials(c, id, r, now)) return;
    if (status == 422 && !c.hangup_requested && retry_with_interval(c, id, r, now)) return;
    // §13.2.2.3: a non-2xx final ends every early dialog and the call (the transaction ACKs it).
    for (dialog& d : c.dialogs) d.terminate();
    disconnect(id, status, r.reason());
  }

  // The id send_outside_dialog() returned for the request `id` answers (a
  // retry with credentials has its own transaction); forgets the request.
  transaction::tsx_id first_of_outside(transaction::tsx_id id) {
    const auto it = outside_.find(tsx_key(id));
    if (it == outside_.end()) return id;
    const transaction::tsx_id first = it->second.first;
    outside_.erase(it);
    return first;
  }
  // RFC 3261 §22.2 for a request outside a dialog: sent again with
  // credentials (CSeq + 1, a new branch) in a new transaction.
  bool retry_outside(const transaction::response_event& e, instant now) {
    const auto it = outside_.find(tsx_key(e.id));
    if (it == outside_.end()) return false;
    std::string retry;
    if (auth_.answer(it->second.request.view(), e.msg.view(), tl_.new_branch(), retry) != auth_result::retry) return false;
    sip::message request;
    if (sip::message::parse(std::move(retry), request)) return false;
    const auto sent = tl_.send_request(request, it->second.to, now);
    if (!sent) return false;
    outside_request next{std::move(request), it->second.first, it->second.to};
    outside_.erase(it);
    const tsx_use* first = tsx_.find(e.id);
    tsx_.set(sent.id, {outside_dialog, 0, first ? first->m : method::other});
    outside_[tsx_key(sent.id)] = std::move(next);
    return true;
  }

  // RFC 3261 §22.2: the INVITE again with credentials, CSeq + 1, a new
  // branch, in a new transaction; the call stays in its state.
  bool retry_with_credentials(detail::call_record& c, call_id id, const message_view& r, instant now) {
    std::string retry;
    const message_view* challenged = sent_invite(c);
    if (!challenged || auth_.answer(*challenged, r, tl_.new_branch(), retry) != auth_result::retry) return false;
    sip::message invite;
    if (sip::message::parse(std::move(retry), invite)) return false;
    auto sent = tl_.send_request(invite, c.remote, now);
    if (!sent) return false;
    c.invite = std::move(invite);
    std::string().swap(c.invite_text);  // from now on `invite` is the one sent
    c.invite_cseq = c.invite->cseq()->number;
    c.invite_tsx = sent.id;
    c.dialogs.clear();  // early dialogs belonged to the challenged INVITE
    c.cancel_sent = false;
    track(sent.id, id, method::invite);
    return true;
  }

  // RFC 4028 §7.4: 422: the INVITE again asking for at least the peer's Min-SE.
  bool retry_with_interval(detail::call_record& c, call_id id, const message_view& r, instant now) {
    const auto min = session_timer::parse_min_se(r);
    const message_view* refused = sent_invite(c);
    if (!refused) return false;
    const message_view& sent = *refused;
    const auto asked = session_timer::parse_session_expires(sent);
    if (!min || (asked && *min <= asked->seconds)) return false;  // nothing new to ask for: give up
    std::string buffer(sent.size() + 128, '\0');
    builder b(buffer, sent.body());
    b.request_line(sent.method(), sent.request_uri_text());
    const auto branch = tl_.new_branch();
    const std::string se = std::to_string(*min);
    const std::string cseq = std::to_string(sent.cseq()->number + 1) + " INVITE";
    for (const header_field& h : sent.headers()) {
      const std::string_view name = h.id == header_id::other ? h.name : canonical_name(h.id);
      if (h.id == header_id::via && sent.top_via()) b.header(name, {via_for(c.remote), ";branch=", branch});
      else if (h.id == header_id::cseq) b.header(name, cseq);
      else if (h.id == header_id::session_expires || core::ascii::iequals(name, "Min-SE")) b.header(name, se);
      else b.header_unfolded(name, h.value);
    }
    const auto done = b.finish();
    sip::message invite;
    if (!done || sip::message::parse(std::string(done.value), invite)) return false;
    auto sent_again = tl_.send_request(invite, c.remote, now);
    if (!sent_again) return false;
    c.invite = std::move(invite);
    std::string().swap(c.invite_text);
    c.invite_cseq = c.invite->cseq()->number;
    c.invite_tsx = sent_again.id;
    c.dialogs.clear();
    track(sent_again.id, id, method::invite);
    return true;
  }

  void on_provisional(detail::call_record& c, call_id id, const message_view& r, instant now) {
    if (r.to() && r.to()->has_tag && !r.to()->tag.empty() && !c.by_remote_tag(r.to()->tag)) {
      dialog d;  // §12.1.2; a 1xx without a To tag creates no dialog
      const dialog_error e = c.dialogs.empty() ? create_uac(c, r, d)
                                               : c.dialogs.front().fork(r, d);
      if (e == dialog_error::ok) c.dialogs.push_back(std::move(d));
    }
    if (const auto rseq = prack::rseq_of(r); rseq && cfg_.use_100rel) on_reliable_provisional(c, id, r, *rseq, now);
    if (c.state == call_state::calling) set_state(id, call_state::early, r.status(), r.reason());
    if (c.hangup_requested) send_cancel(c, now);
  }

  // RFC 3262 §4: PRACK the next reliable 1xx of each early dialog (a
  // retransmission or one out of order is dropped); its SDP is the answer to
  // our offer, or the offer when the INVITE had none (then the PRACK answers).
  void on_reliable_provisional(detail::call_record& c, call_id id, const message_view& r, std::uint32_t rseq, instant now) {
    dialog* d = r.to() ? c.by_remote_tag(r.to()->tag) : nullptr;
    if (!d) return;
    auto last = std::find_if(c.rseqs.begin(), c.rseqs.end(), [&](const auto& p) { return p.first == d->id().remote_tag; });
    if (last != c.rseqs.end() && rseq != last->second + 1) return;
    if (last == c.rseqs.end()) c.rseqs.emplace_back(d->id().remote_tag, rseq);
    else last->second = rseq;
    std::string body;
    if (c.media && !r.body().empty()) {
      sdp::negotiator& n = *media_of(c, *d);
      using st = sdp::negotiator::state;
      bool ok = true, exchanged = false;
      if (n.current_state() == st::local_offer) {
        exchanged = true;
        ok = !n.set_remote_answer(r.body()) && !n.negotiate();
      } else if (n.current_state() == st::null && !c.offer_in_invite) {
        exchanged = true;
        ok = !n.create_with_remote_offer(r.body()) && !n.create_answer();
        if (ok) body = n.local_sdp();
        ok = ok && !n.negotiate();
      }
      if (exchanged) emit(media_event{id, ok});
    }
    const std::string rack = prack::rack_value(rseq, c.invite_cseq);
    const header_line lines[] = {{"RAck", rack}};
    send_in_dialog(c, id, *d, method::prack, body, now, "application/sdp", lines);
  }

  void on_2xx(detail::call_record& c, call_id id, const message_view& r, instant now) {
    if (!r.to() || !r.to()->has_tag || r.to()->tag.empty()) {
      // §12.1.2: a 2xx without a To tag cannot make a dialog: no ACK or BYE can
      // be addressed to it. The call ends here with the status it got.
      for (dialog& d : c.dialogs) d.terminate();
      disconnect(id, 500, "2xx without To tag");
      return;
    }
    if (resend_ack(c, r)) return;  // a retransmission: the same ACK again
    dialog* d = c.by_remote_tag(r.to()->tag);
    if (d && d->state() == dialog_state::terminated) {  // an early dialog ended (e.g. by a failed request): the 2xx makes it anew
      dialog fresh;
      if (create_uac(c, r, fresh) == dialog_error::ok) *d = std::move(fresh);
    }
    if (!d) {
      dialog fresh;
      const dialog_error e = c.dialogs.empty() ? create_uac(c, r, fresh)
                                               : c.dialogs.front().fork(r, fresh);
      if (e != dialog_error::ok) {
        disconnect_if_first(c, id, 500, "bad 2xx");
        return;
      }
      c.dialogs.push_back(std::move(fresh));
      d = &c.dialogs.back();
    }
    d->confirm();
    const bool first = c.confirmed < 0;
    if (first) adopt_media(c, *d);
    // Late offer: the 2xx carries the offer and the ACK the answer.
    std::string ack_body;
    bool media_ok = true;
    // Negotiated already when a reliable 1xx carried the answer (RFC 3262 §5): nothing new to report.
    const bool media_news = first && c.media && c.media->current_state() != sdp::negotiator::state::done;
    if (first && c.media) media_ok = take_2xx_media(c, r, ack_body);
    send_ack(c, *d, ack_body);
    if (!first) {  // an extra fork: one call
      send_bye(c, id, *d, now);
      return;
    }
    c.confirmed = static_cast<int>(d - c.dialogs.data());
    c.peer_allows_update = prack::lists(r, header_id::allow, "UPDATE");
    if (const auto se = session_timer::parse_session_expires(r)) {  // RFC 4028 §7.2
      c.session_interval = se->seconds;
      c.we_refresh = se->who != session_timer::session_expires::refresher::uas;
      start_session_timer(c, id, now);
    }
    if (c.hangup_requested) {  // the 2xx crossed our CANCEL (§9.1): end it; the BYE's answer disconnects
      send_bye(c, id, *d, now);
      return;
    }
    if (media_news) emit(media_event{id, media_ok});
    set_state(id, call_state::connecting, r.status(), r.reason());
    set_state(id, call_state::confirmed, r.status(), r.reason());
    // The other early dialogs stay until the INVITE transaction ends: a 2xx
    // may still come on them (§13.2.2.4), and is ACKed and ended with BYE.
    if (!media_ok) send_bye(c, id, *c.current(), now);  // RFC 3261 §13.2.2.4: a bad answer ends the call
  }
  void disconnect_if_first(detail::call_record& c, call_id id, int status, std::string_view reason) {
    if (c.confirmed < 0) disconnect(id, status, reason);
  }

  bool take_2xx_media(detail::call_record& c, const message_view& r, std::string& ack_body) {
    sdp::negotiator& n = *c.media;
    if (n.current_state() == sdp::negotiator::state::done) return true;  // answered in a reliable 1xx (RFC 3262 §5)
    if (c.offer_in_invite) return !r.body().empty() && !n.set_remote_answer(r.body()) && !n.negotiate();
    // Late offer (RFC 3261 §13.2.1): answer in the ACK.
    if (r.body().empty() || n.create_with_remote_offer(r.body()) || n.create_answer()) return false;
    ack_body = n.local_sdp();
    return !n.negotiate();
  }

  void send_ack(detail::call_record& c, const dialog& d, std::string_view body) {
    std::string ack;
    const auto branch = tl_.new_branch();
    const request_options o{via_for(c.remote), branch, body.empty() ? std::string_view{} : "application/sdp", body};
    if (d.create_ack(c.invite_cseq, o, ack) != dialog_error::ok) return;
    transaction::shared_bytes bytes = transaction::share(std::move(ack));
    c.acks.push_back({d.id().remote_tag, c.invite_cseq, bytes});
    emit(transaction::send_event{{}, c.remote, std::move(bytes)});
  }

  void send_cancel(detail::call_record& c, instant now) {
    if (c.cancel_sent) return;
    std::string cancel;
    constexpr std::string_view elsewhere = "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n";  // RFC 3326
    if (tl_.create_cancel(c.invite_tsx, cancel, c.completed_elsewhere ? elsewhere : std::string_view{}) !=
        transaction::layer_error::ok)
      return;  // no provisional yet: later
    c.cancel_sent = true;
    sip::message m;
    if (sip::message::parse(std::move(cancel), m)) return;
    (void)tl_.send_request(std::move(m), c.remote, now);
  }

  // May release the call (its dialog already ended): callers return right after.
  void send_bye(detail::call_record& c, call_id id, dialog& d, instant now) {
    if (d.state() == dialog_state::terminated) {  // nothing to say BYE in: the call is over
      if (&d == c.current()) disconnect(id, c.last_status, "Dialog Terminated");
      return;
    }
    send_in_dialog(c, id, d, method::bye, {}, now);
    if (&d == c.current()) c.bye_sent = true;
  }

  void send_in_dialog(detail::call_record& c, call_id id, dialog& d, method m, std::string_view body, instant now,
                      std::string_view content_type = "application/sdp", std::span<const header_line> headers = {}) {
    std::string request;
    const auto branch = tl_.new_branch();
    const header_line allow[] = {{"Allow", cfg_.allow}};
    request_options o{via_for(c.remote), branch, body.empty() ? std::string_view{} : content_type, body};
    if (m == method::invite) o.headers = allow;
    if (!headers.empty()) o.headers = headers;
    if (d.create_request(m, o, request) != dialog_error::ok) return;
    // Built here with `branch` and `m`: its key needs no parse.
    const auto sent = tl_.send_request(std::move(request), m, branch, c.remote, now);
    if (sent) track(sent.id, id, m);
  }

  // --- UAC and UAS: responses inside the dialog --------------------------------
  void on_in_dialog_response(detail::call_record& c, call_id id, method m, const sip::message& msg, instant now) {
    const message_view& r = msg.view();
    const bool ends_call = m == method::bye && r.status() >= 200;
    dialog* d = c.by_remote_tag(r.to() ? r.to()->tag : std::string_view{});
    // A peer without a tag in its From (RFC 2543) tags its responses anyway:
    // the request went out in the call's dialog, so its answer belongs there.
    if (!d) d = c.current() ? c.current() : (c.dialogs.empty() ? nullptr : &c.dialogs.front());
    if (!d) {
      if (ends_call) disconnect(id, 200, "BYE");
      return;
    }
    // A PRACK's failure concerns that PRACK only: the INVITE's own final response decides the call.
    if (m != method::prack) (void)d->receive_response(m, r);
    if (m == method::invite && r.status() >= 200) on_reinvite_final(c, id, *d, r, now);
    if (m == method::update && r.status() >= 200) on_update_final(c, id, *d, r, now);
    // A UAS's one dialog is the call's even before its 2xx; a UAC's early forks are not.
    const bool the_calls = &*d == c.current() || (!c.uac && c.confirmed < 0);
    if (!the_calls) return;  // an extra fork's BYE
    if (ends_call) return disconnect(id, 200, "BYE");
    if (d->state() != dialog_state::terminated) return;
    // RFC 5057: the response ended the dialog, so the call: an INVITE still unanswered gets its final response.
    if (!c.uac && (c.state == call_state::incoming || c.state == call_state::early))
      (void)answer(id, 500, now, "Dialog Terminated");
    else
      disconnect(id, r.status(), r.reason());
  }

  void on_update_final(detail::call_record& c, call_id id, const dialog& d, const message_view& r, instant now) {
    c.reinvite_pending = false;
    const bool was_refresh = std::exchange(c.refresh_update_pending, false);
    if (r.status() == 491) start_glare_timer(c, id, now);
    else c.glare_retries = 0;
    if (r.status() < 300) start_session_timer(c, id, now);  // RFC 4028 §10: a refresh
    // A peer that listed UPDATE but refuses it as a refresh (501, 405, ...)
    // is refreshed by re-INVITE from now on; 408 and 481 end the dialog
    // (RFC 5057) and 491 is retried after the glare wait.
    const int status = r.status();
    if (was_refresh && status >= 300 && status != 491 && status != 408 && status != 481) {
      c.peer_allows_update = false;
      refresh_session(c, id, now);
      return;
    }
    // An UPDATE without offer (a session refresh) has no answer to take.
    sdp::negotiator* media = media_of(c, d);
    if (!media || media->current_state() != sdp::negotiator::state::local_offer) return;
    sdp::negotiator& n = *media;
    if (r.status() >= 300) {  // RFC 3311 §5.1: the session stays as it was
      (void)n.cancel_offer();
      return;
    }
    const bool ok = !r.body().empty() && !n.set_remote_answer(r.body()) && !n.negotiate();
    emit(media_event{id, ok});
  }

  // The ACK we sent for this 2xx, again (§13.2.2.4: once per retransmission);
  // false when we sent none for it.
  bool resend_ack(const detail::call_record& c, const message_view& r) {
    const detail::sent_ack* a = r.to() && r.cseq() ? c.ack_for(r.to()->tag, r.cseq()->number) : nullptr;
    if (a) emit(transaction::send_event{{}, c.remote, a->bytes});
    return a != nullptr;
  }

  void on_reinvite_final(detail::call_record& c, call_id id, dialog& d, const message_view& r, instant now) {
    c.reinvite_pending = false;
    if (r.status() == 491) start_glare_timer(c, id, now);
    else c.glare_retries = 0;
    if (r.status() < 300) start_session_timer(c, id, now);  // RFC 4028 §10: a refresh
    if (r.status() >= 300) {  // RFC 3261 §14.1: the session stays as it was
      if (c.media) (void)c.media->cancel_offer();
      return;
    }
    std::string ack_body;
    bool ok = true;
    if (c.media) {
      sdp::negotiator& n = *c.media;
      if (n.current_state() == sdp::negotiator::state::local_offer)
        ok = !r.body().empty() && !n.set_remote_answer(r.body()) && !n.negotiate();
      else if (!r.body().empty() && !n.set_remote_offer(r.body()) && !n.create_answer()) {
        ack_body = n.local_sdp();  // our re-INVITE had no offer: the answer goes in the ACK
        ok = !n.negotiate();
      }
      emit(media_event{id, ok});
    }
    std::string ack;
    const auto branch = tl_.new_branch();
    const request_options o{via_for(c.remote), branch, ack_body.empty() ? std::string_view{} : "application/sdp", ack_body};
    if (d.create_ack(r.cseq() ? r.cseq()->number : 0, o, ack) == dialog_error::ok) {
      transaction::shared_bytes bytes = transaction::share(std::move(ack));
      c.remember_reinvite_ack(d.id().remote_tag, r.cseq() ? r.cseq()->number : 0, bytes);
      emit(transaction::send_event{{}, c.remote, std::move(bytes)});
    }
    if (!ok) send_bye(c, id, d, now);
  }

  // --- UAS: a new INVITE -------------------------------------------------------------
  void on_new_invite(transaction::request_event& e, instant now) {
    const message_view& r = e.msg.view();
    if (e.merged) return reject(e.id, r, 482, "Loop Detected", now);  // §8.2.2.2
    static constexpr std::string_view with_100rel[] = {session_timer::option_tag, prack::option_tag};
    uas_policy policy;
    policy.supported_extensions = std::span<const std::string_view>(with_100rel).first(cfg_.use_100rel ? 2 : 1);
    if (const owed_response owed = uas_check(r, policy); owed.status != 0) {
      if (owed.status == 420) return reject_unsupported(e.id, r, now);
      return reject(e.id, r, owed.status, owed.reason, now);
    }
    const call_id id = new_call();
    detail::call_record& c = calls_[id.slot];
    c.uac = false;
    c.remote = e.from;
    c.invite_tsx = e.id;
    c.call_id = r.call_id();
    c.local_tag = token(10);
    c.invite_cseq = r.cseq()->number;
    c.reliable_1xx = cfg_.use_100rel && prack::peer_supports(r);
    c.peer_supports_timer = prack::lists(r, header_id::supported, session_timer::option_tag) ||
                            prack::lists(r, header_id::require, session_timer::option_tag);
    if (const auto se = session_timer::parse_session_expires(r)) {
      if (se->seconds < cfg_.min_se) {  // RFC 4028 §8.1: too small: 422 with our Min-SE
        release(id);
        const std::string min = std::to_string(cfg_.min_se);
        const header_line lines[] = {{"Min-SE", min}};
        (void)tl_.send_response(e.id, stateless_response(r, 422, "Session Interval Too Small", lines), now);
        return;
      }
      // §9: the UAS keeps the caller's choice of refresher, else asks it to refresh when it can.
      c.session_interval = se->seconds;
      using who = session_timer::session_expires::refresher;
      c.we_refresh = se->who == who::uas || (se->who == who::unspecified && !c.peer_supports_timer);
    } else if (cfg_.session_expires != 0 && cfg_.uas_starts_session_timer) {
      // §9: the caller asked for none; we start one. A caller that supports
      // "timer" is asked to refresh, else we refresh (refresher=uas, no Require).
      c.session_interval = std::max(cfg_.session_expires, cfg_.min_se);
      c.we_refresh = !c.peer_supports_timer;
    }
    c.peer_allows_update = prack::lists(r, header_id::allow, "UPDATE");
    c.rseq = static_cast<std::uint32_t>(random_() % 0x3fffffffu);  // RFC 3262 §3: any start below 2^31
    dialog d;
    if (dialog::create_uas(r, c.local_tag, contact_for(e.from), d) != dialog_error::ok) {
      release(id);
      return reject(e.id, r, 400, "Bad Request", now);
    }
    c.dialogs.push_back(std::move(d));
    if (cfg_.media) {
      c.media = new_negotiator();
      c.offer_in_invite = !r.body().empty();
      if (c.offer_in_invite && c.media->create_with_remote_offer(r.body())) {
        release(id);
        emit(media_event{{}, false});
        return reject(e.id, r, 488, "Not Acceptable Here", now);
      }
    }
    c.invite = std::move(e.msg);
    track(e.id, id, method::invite);
    link_dialog(c, id);
    set_state(id, call_state::incoming, 0, {});
    emit(incoming_call_event{id, &c.invite});
  }

  // The SDP of a 2xx or reliable 1xx: the answer to the INVITE's offer, or
  // our offer when it had none (late offer); nothing when a reliable 1xx
  // already carried it (RFC 3262 §5, RFC 6337 §3.1).
  bool answer_media(detail::call_record& c, std::string& body, bool& negotiated_now, bool final_response) {
    sdp::negotiator& n = *c.media;
    using st = sdp::negotiator::state;
    if (n.current_state() == st::done || n.current_state() == st::local_offer) return true;  // sent before
    if (!c.offer_in_invite) {
      if (n.current_state() == st::null && n.create_offer()) return false;
      (final_response ? c.offer_in_2xx : c.offer_in_1xx) = true;
      body = n.local_sdp();
      return true;
    }
    if (n.create_answer()) return false;
    body = n.local_sdp();
    negotiated_now = true;
    return !n.negotiate();
  }

  // RFC 3262 §3: the reliable 1xx again from T1, doubling, until its PRACK;
  // none within 64*T1: the INVITE is refused with a 5xx.
  void start_1xx_retransmission(detail::call_record& c, call_id id, transaction::shared_bytes bytes, bool has_sdp,
                                instant now) {
    ++c.rseq;
    c.unacked_1xx = std::move(bytes);
    c.unacked_1xx_has_sdp = has_sdp;
    c.rel_interval = tl_.timers().t1;
    c.rel_deadline = now + 64 * tl_.timers().t1;
    arm(c, id, detail::call_record::timer_kind::retransmit_1xx, now + c.rel_interval);
  }

  static void defer_2xx(detail::call_record& c, int status, std::string_view reason, std::span<const header_line> headers) {
    detail::call_record::deferred_answer a{status, std::string(reason), {}};
    for (const header_line& h : headers) a.headers.emplace_back(h.name, h.value);
    c.deferred_2xx = std::move(a);
  }
  // The 2xx that waited for the PRACK of a reliable 1xx with SDP, now.
  void send_deferred_2xx(detail::call_record& c, call_id id, instant now) {
    if (!c.deferred_2xx) return;
    const detail::call_record::deferred_answer a = std::move(*c.deferred_2xx);
    c.deferred_2xx.reset();
    std::vector<header_line> lines;
    for (const auto& [name, value] : a.headers) lines.push_back({name, value});
    (void)answer(id, a.status, now, a.reason, lines);
  }

  void start_ok_retransmission(detail::call_record& c, call_id id, transaction::tsx_id tsx,
                               transaction::shared_bytes ok, instant now) {
    c.unacked_1xx.reset();  // the final response ends the reliable 1xx's retransmission
    c.ok = std::move(ok);
    c.ok_tsx = tsx;
    c.ok_interval = tl_.timers().t1;
    c.ack_deadline = now + 64 * tl_.timers().t1;
    arm(c, id, detail::call_record::timer_kind::retransmit_ok, now + c.ok_interval);
  }

  void on_ack(const sip::message& msg, instant now) {
    const message_view& r = msg.view();
    if (!r.to() || !r.from()) return;
    call_id id;
    detail::call_record* c = find_by_dialog(r.call_id(), r.to()->tag, id);
    // An ACK for nothing we know is dropped (§17.2.3: ACKs are not answered).
    // The caller gets ACKs too: for re-INVITEs the callee sent it and it answered.
    if (!c) return;
    dialog* d = c->current();
    if (!d || d->receive_request(r) != dialog_error::ok) return;
    if (c->state == call_state::connecting) {
      disarm(*c);
      c->ok.reset();  // §13.3.1.4: retransmissions cease with the ACK (the INVITE's are absorbed: RFC 6026 §7.1)
      bool media_ok = true;
      if (c->offer_in_2xx && c->media) {  // late offer: the answer is in the ACK (§13.2.1)
        sdp::negotiator& n = *c->media;
        media_ok = !r.body().empty() && !n.set_remote_answer(r.body()) && !n.negotiate();
        c->offer_in_2xx = false;
        emit(media_event{id, media_ok});
      }
      set_state(id, call_state::confirmed, c->last_status, c->reason);
      if (!media_ok || c->bye_after_ack) send_bye(*c, id, *d, now);
      return;
    }
    if (c->peer_reinvite_pending) {  // the ACK of a re-INVITE we answered
      c->peer_reinvite_pending = false;
      disarm(*c);
      c->ok.reset();
      if (c->media && c->offer_in_2xx) {
        sdp::negotiator& n = *c->media;
        const bool ok = !r.body().empty() && !n.set_remote_answer(r.body()) && !n.negotiate();
        c->offer_in_2xx = false;
        emit(media_event{id, ok});
        if (!ok) send_bye(*c, id, *d, now);
      }
    }
  }

  void on_cancel(transaction::request_event& e, instant now) {
    const message_view& r = e.msg.view();
    // §9.2: 481 when the CANCEL matches no INVITE, else 200 to the CANCEL and 487 to the INVITE.
    if (!e.cancels.valid()) return reject(e.id, r, 481, "Call/Transaction Does Not Exist", now);
    reject(e.id, r, 200, "OK", now);
    const tsx_use* cancelled = tsx_.find(e.cancels);
    if (!cancelled) return;
    const call_id id{cancelled->slot, cancelled->generation};
    detail::call_record* c = find(id);
    if (!c || (c->state != call_state::incoming && c->state != call_state::early)) return;
    std::string response;
    if (c->dialogs.front().create_response(c->invite.view(), 487, "Request Terminated", {}, response) == dialog_error::ok)
      (void)tl_.send_response(c->invite_tsx, std::move(response), now);
    c->dialogs.front().terminate();
    disconnect(id, 487, "Request Terminated");
  }

  // --- requests inside a dialog -------------------------------------------------------
  void on_in_dialog_request(transaction::request_event& e, instant now) {
    const message_view& r = e.msg.view();
    const method m = e.msg.method();
    if (!accepts(m)) return reject(e.id, r, 405, "Method Not Allowed", now);
    call_id id;
    detail::call_record* c = find_by_dialog(r.call_id(), r.to()->tag, id);
    dialog* d = c ? c->by_remote_tag(r.from() ? r.from()->tag : std::string_view{}) : nullptr;
    // §12.2.2: a request for a dialog we do not have gets 481.
    if (!d || d->state() == dialog_state::terminated) return reject(e.id, r, 481, "Call/Transaction Does Not Exist", now);
    if (m == method::invite && (c->reinvite_pending || c->peer_reinvite_pending))  // §14.2 glare
      return reject(e.id, r, 491, "Request Pending", now);
    switch (d->receive_request(r)) {
      case dialog_error::ok: break;
      case dialog_error::out_of_order: return reject(e.id, r, 500, "Server Internal Error", now);  // §12.2.2
      default: return reject(e.id, r, 400, "Bad Request", now);
    }
    switch (m) {
      case method::bye:
        respond_in_dialog(*d, e.id, r, 200, "OK", {}, now);
        d->terminate();
        disarm(*c);
        disconnect(id, 200, "BYE");
        return;
      case method::invite: return on_reinvite(*c, id, *d, e, now);
      case method::prack: return on_prack(*c, id, *d, e, now);
      case method::update: return on_update(*c, id, *d, e, now);
      case method::info:
      case method::message:
      case method::options:
        respond_in_dialog(*d, e.id, r, 200, "OK", {}, now);
        emit(in_dialog_request_event{id, std::move(e.msg)});
        return;
      default: return reject(e.id, r, 405, "Method Not Allowed", now);  // a method we list but have no use for
    }
  }
  // RFC 3261 §8.2.1 for requests inside a dialog: what cfg_.allow lists, and
  // what a UA that makes calls cannot refuse.
  bool accepts(method m) const noexcept {
    switch (m) {
      case method::invite:
      case method::ack:
      case method::cancel:
      case method::bye: return true;
      case method::prack:
        if (cfg_.use_100rel) return true;
        break;
      case method::other: return false;
      default: break;
    }
    sip::detail::comma_splitter tokens(cfg_.allow);
    std::string_view token;
    bool bad = false;
    while (tokens.next(token, bad))
      if (token == text(m)) return true;
    return false;
  }

  // RFC 3262 §3: the PRACK of our reliable 1xx (RAck matches): its
  // retransmission stops; when that 1xx carried our offer, the PRACK answers it.
  void on_prack(detail::call_record& c, call_id id, dialog& d, transaction::request_event& e, instant now) {
    const message_view& r = e.msg.view();
    const auto rack = prack::rack_of(r);
    if (c.uac || !rack || rack->rseq != c.rseq || rack->cseq != c.invite_cseq || rack->method != "INVITE")
      return reject(e.id, r, 481, "Call/Transaction Does Not Exist", now);
    if (!c.unacked_1xx) return respond_in_dialog(d, e.id, r, 200, "OK", {}, now);  // late: the 2xx went out already
    disarm(c);
    c.unacked_1xx.reset();
    std::string body;
    if (c.offer_in_1xx && c.media) {
      c.offer_in_1xx = false;
      sdp::negotiator& n = *c.media;
      const bool ok = !r.body().empty() && !n.set_remote_answer(r.body()) && !n.negotiate();
      emit(media_event{id, ok});
      if (!ok) {
        c.deferred_2xx.reset();
        respond_in_dialog(d, e.id, r, 488, "Not Acceptable Here", {}, now);
        (void)answer(id, 488, now);
        return;
      }
    } else if (c.media && !r.body().empty()) {
      // RFC 6337 §2.1 pattern 5: after the offer/answer of the INVITE and the
      // reliable 1xx, a PRACK may carry a new offer; its 200 the answer. A
      // refused offer leaves the session (and the INVITE) as they were.
      if (const int refused = take_new_offer(c, id, d, r, body)) {
        respond_in_dialog(d, e.id, r, refused, reason_of_refusal(refused), {}, now);
        send_deferred_2xx(c, id, now);
        return;
      }
    }
    respond_in_dialog(d, e.id, r, 200, "OK", body, now);
    send_deferred_2xx(c, id, now);
  }

  // A new offer in an UPDATE or a PRACK (RFC 3311 §5.2, RFC 3262 §5): 491
  // while an offer of ours (or an unanswered one) is outstanding, 488 when it
  // cannot be answered (the session stays as it was); else 0 and the answer.
  int take_new_offer(detail::call_record& c, call_id id, const dialog& d, const message_view& r, std::string& answer) {
    sdp::negotiator& n = *media_of(c, d);
    if (c.reinvite_pending || n.current_state() != sdp::negotiator::state::done) return 491;
    bool ok = !n.set_remote_offer(r.body()) && !n.create_answer();
    if (ok) answer = n.local_sdp();
    ok = ok && !n.negotiate();
    if (n.current_state() != sdp::negotiator::state::done) (void)n.negotiate();
    emit(media_event{id, ok});
    return ok ? 0 : 488;
  }
  static std::string_view reason_of_refusal(int status) noexcept {
    return status == 491 ? "Request Pending" : "Not Acceptable Here";
  }

  // RFC 3311 §5.2: an UPDATE with an offer, early or confirmed: 491 while an
  // offer of ours (or an unanswered one) is outstanding, else 200 with the
  // answer or 488 keeping the session as it was.
  void on_update(detail::call_record& c, call_id id, dialog& d, transaction::request_event& e, instant now) {
    const message_view& r = e.msg.view();
    std::string body;
    if (c.media && !r.body().empty())
      if (const int refused = take_new_offer(c, id, d, r, body))
        return respond_in_dialog(d, e.id, r, refused, reason_of_refusal(refused), {}, now);
    std::string se_value;
    const std::vector<header_line> lines = session_timer_lines(c, false, false, se_value);
    respond_in_dialog(d, e.id, r, 200, "OK", body, now, lines);
    if (c.state == call_state::confirmed) start_session_timer(c, id, now);  // RFC 4028 §10: the peer refreshed
    emit(in_dialog_request_event{id, std::move(e.msg)});
  }

  // RFC 3261 §14.2: a re-INVITE with an offer gets 200 with the answer, or
  // 488 and the session stays as it was; without an offer, 200 with ours
  // and the answer in the ACK.
  void on_reinvite(detail::call_record& c, call_id id, dialog& d, transaction::request_event& e, instant now) {
    const message_view& r = e.msg.view();
    std::string body;
    if (c.media) {
      sdp::negotiator& n = *c.media;
      if (!r.body().empty()) {
        if (n.set_remote_offer(r.body()) || n.create_answer()) {
          if (n.current_state() != sdp::negotiator::state::done) (void)n.negotiate();  // back to the active session
          emit(media_event{id, false});
          return respond_in_dialog(d, e.id, r, 488, "Not Acceptable Here", {}, now);
        }
        body = n.local_sdp();
        const bool ok = !n.negotiate();
        emit(media_event{id, ok});
        if (!ok) return respond_in_dialog(d, e.id, r, 488, "Not Acceptable Here", {}, now);
      } else if (!n.send_local_offer()) {
        body = n.local_sdp();
        c.offer_in_2xx = true;
      }
    }
    c.peer_reinvite_pending = true;
    std::string se_value;
    const std::vector<header_line> lines = session_timer_lines(c, false, false, se_value);
    std::string response;
    const response_options o{body.empty() ? std::string_view{} : "application/sdp", body, lines};
    if (d.create_response(r, 200, "OK", o, response) != dialog_error::ok) return;
    transaction::shared_bytes ok = transaction::share(std::move(response));
    (void)tl_.send_response(e.id, *ok, now);
    start_ok_retransmission(c, id, e.id, std::move(ok), now);  // §13.3.1.4 holds for a re-INVITE's 2xx too
    start_session_timer(c, id, now);  // the peer's re-INVITE refreshed the session
  }

  void respond_in_dialog(const dialog& d, transaction::tsx_id tsx, const message_view& r, int status,
                         std::string_view reason, std::string_view body, instant now,
                         std::span<const header_line> headers = {}) {
    std::string response;
    const response_options o{body.empty() ? std::string_view{} : "application/sdp", body, headers};
    if (d.create_response(r, status, reason, o, response) == dialog_error::ok)
      (void)tl_.send_response(tsx, std::move(response), now);
  }

  void reject(transaction::tsx_id tsx, const message_view& r, int status, std::string_view reason, instant now) {
    const header_line allow[] = {{"Allow", cfg_.allow}};  // §8.2.1: a 405 MUST list what we allow
    (void)tl_.send_response(tsx, stateless_response(r, status, reason, status == 405 ? allow : std::span<const header_line>{}), now);
  }
  void reject_unsupported(transaction::tsx_id tsx, const message_view& r, instant now) {
    std::string unsupported;  // §8.2.2.3: list what we do not support (we support no option tags yet)
    for_each_token(r, header_id::require, [&](std::string_view tag) {
      if (!unsupported.empty()) unsupported += ", ";
      unsupported += tag;
    });
    std::string buffer(r.size() + unsupported.size() + 256, '\0');
    builder b(buffer);
    if (response_from_request(b, r, 420, "Bad Extension", token(10))) return;
    b.header(header_id::unsupported, unsupported);
    const auto done = b.finish();
    if (!done) return;
    buffer.resize(done.value.size());
    (void)tl_.send_response(tsx, std::move(buffer), now);
  }
  std::string stateless_response(const message_view& r, int status, std::string_view reason,
                                 std::span<const header_line> headers = {}) {
    std::size_t size = r.size() + 128;
    for (const header_line& h : headers) size += h.name.size() + h.value.size() + 4;
    std::string buffer(size, '\0');
    builder b(buffer);
    if (response_from_request(b, r, status, reason, status > 100 ? token(10) : std::string{})) return {};
    for (const header_line& h : headers) b.header(h.name, h.value);
    const auto done = b.finish();
    if (!done) return {};
    buffer.resize(done.value.size());
    return buffer;
  }

  // --- the call timers (§13.3.1.4, §9.1) -------------------------------------------
  // A call has three timers, each with its own stamp: the call timer (2xx or
  // reliable 1xx retransmission), the session timer (RFC 4028) and the glare
  // timer (§14.1).
  enum class call_timer : std::uint8_t { call, session, glare };
  struct timer_entry {
    instant at;
    std::uint32_t slot;
    std::uint32_t stamp;
    call_timer which = call_timer::call;
  };
  static bool later(const timer_entry& a, const timer_entry& b) noexcept { return a.at > b.at; }
  static std::uint32_t& stamp_of(detail::call_record& c, call_timer which) noexcept {
    switch (which) {
      case call_timer::session: return c.session_stamp;
      case call_timer::glare: return c.glare_stamp;
      case call_timer::call: break;
    }
    return c.timer_stamp;
  }
  bool timer_valid(const timer_entry& t) noexcept {
    detail::call_record& c = calls_[t.slot];
    return c.live && stamp_of(c, t.which) == t.stamp;
  }
  void push_timer(detail::call_record& c, call_id id, call_timer which, instant at) {
    timers_.push_back({at, id.slot, ++stamp_of(c, which), which});
    std::push_heap(timers_.begin(), timers_.end(), later);
  }
  void arm(detail::call_record& c, call_id id, detail::call_record::timer_kind kind, instant at) {
    c.timer = kind;
    push_timer(c, id, call_timer::call, at);
  }
  void disarm(detail::call_record& c) noexcept {
    ++c.timer_stamp;
    c.timer = detail::call_record::timer_kind::none;
  }

  // RFC 4028 §10: (re)started by every successful INVITE/re-INVITE/UPDATE.
  void start_session_timer(detail::call_record& c, call_id id, instant now) {
    if (c.session_interval == 0) return;
    const instant at = now + (c.we_refresh ? session_timer::refresh_after(c.session_interval)
                                           : session_timer::expire_after(c.session_interval));
    push_timer(c, id, call_timer::session, at);
  }
  void on_session_timer(detail::call_record& c, call_id id, instant at) {
    if (c.state != call_state::confirmed || c.bye_sent) return;
    if (!c.we_refresh) {  // no refresh came: the session is over (§10)
      c.reason = "Session Timer Expired";
      send_bye(c, id, *c.current(), at);
      return;
    }
    if (c.reinvite_pending) {  // an offer of ours is out: try again a little later
      push_timer(c, id, call_timer::session, at + std::chrono::seconds(1));
      return;
    }
    refresh_session(c, id, at);
  }
  // The refresh (RFC 4028 §7.4): an UPDATE without body when the peer allows
  // UPDATE, else a re-INVITE offering the same session again.
  void refresh_session(detail::call_record& c, call_id id, instant now) {
    if (!cfg_.refresh_by_update || !c.peer_allows_update) {
      (void)reinvite(id, now);
      return;
    }
    std::string se_value;
    const std::vector<header_line> lines = session_timer_lines(c, true, true, se_value);
    send_in_dialog(c, id, *c.current(), method::update, {}, now, {}, lines);
    c.refresh_update_pending = true;
    c.last_modification = {.update = true, .with_offer = false, .direction = std::nullopt};
    drain(now);
  }

  // RFC 3261 §14.1 (and RFC 3311 §5.1 for UPDATE): after a 491 the UAC waits
  // T, "randomly chosen between 2.1 and 4 seconds in units of 10 ms" when it
  // owns the Call-ID (it chose it: the caller), "between 0 and 2 seconds in
  // units of 10 ms" when it does not, then sends the request again. After
  // max_glare_retries 491s in a row the modification is given up (the call
  // stays as it was).
  static constexpr std::uint8_t max_glare_retries = 5, max_glare_postponements = 64;
  void start_glare_timer(detail::call_record& c, call_id id, instant now) {
    if (++c.glare_retries > max_glare_retries) {
      c.glare_retries = 0;
      return;
    }
    const std::uint64_t tens_of_ms = c.uac ? 210 + random_() % 191 : random_() % 201;
    c.glare_retry = c.last_modification;
    push_timer(c, id, call_timer::glare, now + std::chrono::milliseconds(10 * tens_of_ms));
  }
  void on_glare_timer(detail::call_record& c, call_id id, instant at) {
    if (!c.glare_retry || c.state != call_state::confirmed || c.bye_sent) return;
    if (c.reinvite_pending || c.peer_reinvite_pending) {  // an offer is still out either way: a little later
      if (++c.glare_postponed > max_glare_postponements) {  // for 32 s: the change is given up
        c.glare_retry.reset();
        c.glare_retries = c.glare_postponed = 0;
        return;
      }
      push_timer(c, id, call_timer::glare, at + std::chrono::milliseconds(500));
      return;
    }
    c.glare_postponed = 0;
    const detail::call_record::modification m = *std::exchange(c.glare_retry, std::nullopt);
    if (m.update && !m.with_offer) refresh_session(c, id, at);
    else if (m.update) (void)update(id, at, m.direction);
    else (void)reinvite(id, at, m.direction, m.with_offer);
  }
  // Session-Expires and Supported/Require: timer for a 2xx or a request we send.
  std::vector<header_line> session_timer_lines(const detail::call_record& c, bool request, bool we_are_uac,
                                               std::string& value) const {
    std::vector<header_line> lines;
    if (c.session_interval == 0) return lines;
    value = session_timer::value(c.session_interval, c.we_refresh == we_are_uac);
    lines.push_back({"Session-Expires", value});
    if (!request && c.peer_supports_timer) lines.push_back({"Require", session_timer::option_tag});
    if (request) lines.push_back({"Supported", session_timer::option_tag});
    return lines;
  }

  void on_call_timer(detail::call_record& c, call_id id, instant at) {
    using kind = detail::call_record::timer_kind;
    if (c.timer == kind::retransmit_1xx) return on_1xx_timer(c, id, at);
    if (c.timer != kind::retransmit_ok) return;
    if (at >= c.ack_deadline) {  // §13.3.1.4: no ACK in 64*T1: confirmed, then ended with BYE
      disarm(c);
      c.ok.reset();
      set_state(id, call_state::confirmed, c.last_status, c.reason);
      send_bye(c, id, *c.current(), at);
      return;
    }
    if (tl_.send_response(c.ok_tsx, *c.ok, at) != transaction::layer_error::ok)
      emit(transaction::send_event{{}, c.remote, c.ok});  // Timer L ended the transaction
    c.ok_interval = std::min(2 * c.ok_interval, tl_.timers().t2);
    arm(c, id, kind::retransmit_ok, std::min(at + c.ok_interval, c.ack_deadline));
  }

  void on_1xx_timer(detail::call_record& c, call_id id, instant at) {
    if (!c.unacked_1xx) return;
    if (at >= c.rel_deadline) {  // RFC 3262 §3: no PRACK: refuse the INVITE
      disarm(c);
      c.unacked_1xx.reset();
      c.deferred_2xx.reset();
      (void)answer(id, 500, at, "Reliable Provisional Not Acknowledged");
      return;
    }
    (void)tl_.send_response(c.invite_tsx, *c.unacked_1xx, at);
    c.rel_interval = 2 * c.rel_interval;
    arm(c, id, detail::call_record::timer_kind::retransmit_1xx, std::min(at + c.rel_interval, c.rel_deadline));
  }

  // --- building ----------------------------------------------------------------------
  std::string_view via_for(const peer& p) const { return cfg_.local_for ? cfg_.local_for(p).via : cfg_.via; }
  std::string_view contact_for(const peer& p) const { return cfg_.local_for ? cfg_.local_for(p).contact : cfg_.contact; }
  // The start of a request outside any dialog (RFC 3261 §8.1.1): To <target>, no To tag.
  static void write_request_head(builder& b, std::string_view method_name, std::string_view target, std::string_view via,
                                 std::string_view branch, std::string_view from, std::string_view from_tag,
                                 std::string_view call_id, std::string_view cseq, std::size_t* from_value_at = nullptr,
                                 std::string_view to_uri = {}, std::span<const std::string> route = {}) {
    b.request_line(method_name, target);
    b.header(canonical_name(header_id::via), {via, ";branch=", branch});
    b.header(header_id::max_forwards, "70");
    for (const std::string& r : route) b.header(header_id::route, r);  // §8.1.1.1: the preloaded route set, in order
    if (from_value_at) *from_value_at = b.size() + canonical_name(header_id::from).size() + 2;  // "From: "
    b.header(canonical_name(header_id::from), {from, ";tag=", from_tag});
    b.header(canonical_name(header_id::to), {"<", to_uri.empty() ? target : to_uri, ">"});
    b.header(header_id::call_id, call_id);
    b.header(header_id::cseq, cseq);
  }
  // A preloaded route set: each entry one name-addr whose URI is a SIP URI
  // (a loose router's has `lr`; RFC 3261 §16.4 proxies are loose routers).
  static bool valid_route(std::span<const std::string> route) {
    for (const std::string& r : route) {
      name_addr na;
      if (parse_name_addr_to(r, na, error::bad_route) != error{} || !na.bracketed || !na.address.is_sip()) return false;
    }
    return true;
  }
  // Extra header lines a caller gives: none that the layer writes itself
  // (a second Via or CSeq would break the request). Names and values that
  // would not make one header line are the builder's to refuse.
  static bool valid_extra_headers(std::span<const header_line> headers) noexcept {
    for (const header_line& h : headers) {
      switch (lookup_header(h.name)) {
        case header_id::via: case header_id::max_forwards: case header_id::from: case header_id::to:
        case header_id::call_id: case header_id::cseq: case header_id::contact: case header_id::route:
        case header_id::record_route: case header_id::content_type: case header_id::content_length:
          return false;
        default: break;
      }
    }
    return true;
  }
  // Room the route set and the extra headers take.
  static std::size_t extra_size(const outside_request_options& o) noexcept {
    std::size_t n = detail::route_bytes(o.route);
    for (const header_line& h : o.headers) n += h.name.size() + h.value.size() + 4;  // ": " CRLF
    return n;
  }
  // §12.1.2: a dialog of our INVITE, from what we wrote into it, or from the
  // INVITE a retry parsed.
  static dialog_error create_uac(const detail::call_record& c, const message_view& r, dialog& out) {
    return c.invite.empty() ? dialog::create_uac(c.origin(), r, out) : dialog::create_uac(c.invite.view(), r, out);
  }
  // UAC: the INVITE as sent, parsed on first need (a retry copies its headers).
  static const message_view* sent_invite(detail::call_record& c) {
    if (c.invite.empty() && (c.invite_text.empty() || sip::message::parse(c.invite_text, c.invite))) return nullptr;
    return &c.invite.view();
  }

  // The INVITE of a new call; where its From value, Request-URI and Contact
  // URI sit goes into `c` (call_record::origin()).
  std::string build_invite(detail::call_record& c, std::string_view target, std::string_view from, std::string_view body,
                           std::string_view branch, const outside_request_options& o) {
    const std::string_view to_uri = o.to_uri.empty() ? target : o.to_uri;
    const std::string_view via = via_for(c.remote);
    std::string_view contact = contact_for(c.remote);
    std::string secure;  // RFC 3261 §8.1.1.8: a SIPS Request-URI needs a SIPS Contact
    if (is_sips(target)) contact = secure = secure_contact(contact);
    std::string buffer(target.size() + to_uri.size() + from.size() + c.call_id.size() + via.size() + contact.size() +
                           cfg_.allow.size() + body.size() + extra_size(o) + 320,
                       '\0');
    builder b(buffer, body);
    std::size_t from_at = 0;
    write_request_head(b, "INVITE", target, via, branch, from, c.local_tag, c.call_id, "1 INVITE", &from_at, to_uri, o.route);
    const std::size_t contact_at = b.size() + canonical_name(header_id::contact).size() + 3;  // "Contact: <"
    b.header(canonical_name(header_id::contact), {"<", contact, ">"});
    b.header("Allow", cfg_.allow);
    if (cfg_.use_100rel && cfg_.session_expires) b.header(header_id::supported, "100rel, timer");
    else if (cfg_.use_100rel) b.header(header_id::supported, prack::option_tag);
    else if (cfg_.session_expires) b.header(header_id::supported, session_timer::option_tag);
    if (cfg_.session_expires) {
      const std::string se = std::to_string(std::max(cfg_.session_expires, cfg_.min_se));
      const std::string min = std::to_string(cfg_.min_se);
      b.header(header_id::session_expires, se).header("Min-SE", min);
    }
    for (const header_line& h : o.headers) b.header(h.name, h.value);
    if (!body.empty()) b.header(header_id::content_type, "application/sdp");
    const auto done = b.finish();
    if (!done) return {};
    buffer.resize(done.value.size());
    c.from_at = static_cast<std::uint32_t>(from_at);
    c.from_size = static_cast<std::uint32_t>(from.size() + 5 + c.local_tag.size());  // from ";tag=" tag
    c.contact_at = static_cast<std::uint32_t>(contact_at);
    c.contact_size = static_cast<std::uint32_t>(contact.size());
    c.uri_size = static_cast<std::uint32_t>(target.size());
    return buffer;
  }

  std::string token(std::size_t n) {
    static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string t;
    t.reserve(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i % 12 == 0) v = random_();
      t += alphabet[v % 36];
      v /= 36;
    }
    return t;
  }

  static void set_direction(sdp::media& m, sdp::direction d) {
    std::erase_if(m.attributes, [](const sdp::attribute& a) {
      return a.name == "sendrecv" || a.name == "sendonly" || a.name == "recvonly" || a.name == "inactive";
    });
    m.attributes.push_back({std::string(sdp::to_string(d)), {}, false});
  }

  static std::string_view default_reason(int status) noexcept {
    switch (status) {
      case 100: return "Trying";
      case 180: return "Ringing";
      case 181: return "Call Is Being Forwarded";
      case 182: return "Queued";
      case 183: return "Session Progress";
      case 200: return "OK";
      case 401: return "Unauthorized";
      case 407: return "Proxy Authentication Required";
      case 486: return "Busy Here";
      case 487: return "Request Terminated";
      case 488: return "Not Acceptable Here";
      case 603: return "Decline";
      default: return status < 200 ? "Progress" : status < 300 ? "OK" : "Failed";
    }
  }

  session_config cfg_;
  std::shared_ptr<const sdp::capabilities> media_caps_;  // cfg_.media, shared by every call's negotiator
  random_source random_;
  transaction::layer tl_;
  auth_client auth_;
  core::slot_table<detail::call_record, 6> calls_;  // chunks of 64 calls (34 KB)
  std::size_t live_calls_ = 0;
  core::slot_index by_dialog_;                                // Call-ID + local tag -> call slot
  tsx_table tsx_;                                             // client / server tsx -> call
  struct outside_request {  // send_outside_dialog()'s request, kept to answer a challenge
    sip::message request;
    transaction::tsx_id first;  // the id the user got
    peer to;
  };
  std::unordered_map<std::uint64_t, outside_request> outside_;
  std::vector<timer_entry> timers_;
  std::vector<registration_slot> registrations_;
  instant now_{0};
  std::vector<session_event> out_;
  std::vector<std::vector<transaction::event>> spare_batches_;  // for drain()
};

}  // namespace sigwire::sip::dialog
