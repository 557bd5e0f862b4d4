// sigwire/sip/dialog/invite_session.hpp - one call: its state, its dialogs,
// its offer/answer, and the end-to-end retransmissions of RFC 3261 §13.
//
// Call states (PJSIP's pjsip_inv_state, same names and meanings):
//
//   UAC:  null --INVITE sent--> calling --1xx--> early --2xx--> connecting --ACK sent--> confirmed
//   UAS:  null --INVITE received--> incoming --1xx sent--> early --2xx sent--> connecting --ACK--> confirmed
//   any:  ... --non-2xx final, CANCEL, BYE (sent and answered, or received), timeout--> disconnected
//
// `last_status` / `reason` hold the last final status of the INVITE (or the
// cause of the end: 487 after CANCEL, 408 for a timeout or a missing ACK,
// 200 for a BYE). The session_layer (session_layer.hpp) drives the record
// below; users see it through call_state_event and the accessors there.
#pragma once

#include <sigwire/sdp/negotiator.hpp>
#include <sigwire/sip/dialog/dialog.hpp>
#include <sigwire/sip/owned_message.hpp>
#include <sigwire/sip/transaction/event.hpp>
#include <sigwire/sip/transaction/timers.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sigwire::sip::dialog {

enum class call_state : std::uint8_t { null, calling, incoming, early, connecting, confirmed, disconnected };

constexpr std::string_view text(call_state s) noexcept {
  constexpr std::string_view names[] = {"null", "calling", "incoming", "early", "connecting", "confirmed", "disconnected"};
  return names[static_cast<int>(s)];
}

// A call handle: slot + generation, so a stale handle never reaches a reused slot.
struct call_id {
  std::uint32_t slot = UINT32_MAX;
  std::uint32_t generation = 0;
  bool valid() const noexcept { return slot != UINT32_MAX; }
  friend bool operator==(const call_id&, const call_id&) = default;
};

namespace detail {

// The ACK sent for one dialog's 2xx, re-sent for each retransmission of that
// 2xx (RFC 3261 §13.2.2.4): one per answering UAS when the INVITE forked,
// and one for the last re-INVITE we sent.
struct sent_ack {
  std::string remote_tag;
  std::uint32_t cseq = 0;
  transaction::shared_bytes bytes;
};

struct call_record {
  bool live = false;
  std::uint32_t generation = 0;
  bool uac = true;
  call_state state = call_state::null;
  int last_status = 0;
  std::string reason;
  transaction::peer remote{};

  std::string call_id, local_tag;
  bool dialog_linked = false;      // in session_layer's index of calls by Call-ID and local tag,
  std::uint32_t dialog_hash = 0;   // under this hash
  std::vector<dialog> dialogs;     // UAC: one per To tag (forks); UAS: one
  int confirmed = -1;              // the dialog of the call once a 2xx was sent or received
  sip::message invite;             // UAS: the INVITE received; UAC: the INVITE sent, once a retry parsed it
  // UAC: the INVITE as sent, not parsed: its dialogs are made from where its
  // From value and Contact URI sit in it (origin()), and only a retry with
  // credentials or a longer Session-Expires parses it (into `invite`).
  std::string invite_text;
  std::uint32_t from_at = 0, from_size = 0, contact_at = 0, contact_size = 0, uri_size = 0;
  transaction::tsx_id invite_tsx{};
  std::uint32_t invite_cseq = 0;

  // Offer/answer (RFC 3264 through sdp::negotiator); absent without media capabilities.
  std::unique_ptr<sdp::negotiator> media;
  // A forked INVITE (RFC 3261 §13.2.2.1) has an offer/answer per early
  // dialog. Once an early dialog answers (a reliable 1xx), `media` serves
  // that dialog (`tag`); each other early dialog gets a copy of `at_invite`
  // (`media` as the INVITE left it) in `forks`. The 2xx's dialog's
  // negotiator becomes `media`, and the rest goes (session_layer::media_of).
  // Absent until needed: a call answered in its 2xx never has it.
  struct early_media {
    std::string tag;
    std::unique_ptr<sdp::negotiator> at_invite;
    std::vector<std::pair<std::string, std::unique_ptr<sdp::negotiator>>> forks;
  };
  std::unique_ptr<early_media> early;
  bool offer_in_invite = false;    // UAC: we offered in the INVITE; UAS: the INVITE carried the offer
  bool offer_in_2xx = false;       // late offer: the 2xx carries the offer, the ACK the answer

  // RFC 3262 (prack.hpp). UAS: the reliable 1xx awaiting its PRACK; UAC: the last RSeq per dialog.
  bool reliable_1xx = false;       // UAS: the peer supports 100rel and so do we
  std::uint32_t rseq = 0;          // UAS: RSeq of the last reliable 1xx sent
  transaction::shared_bytes unacked_1xx;
  transaction::duration rel_interval{0};
  transaction::instant rel_deadline{0};
  bool offer_in_1xx = false;       // UAS: our offer went in the reliable 1xx, the answer comes in the PRACK
  bool unacked_1xx_has_sdp = false;  // UAS: then a 2xx waits for its PRACK (RFC 3262 §3)
  struct deferred_answer {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::optional<deferred_answer> deferred_2xx;  // UAS: answer(2xx) made while such a 1xx was unacknowledged
  std::vector<std::pair<std::string, std::uint32_t>> rseqs;  // UAC: remote tag -> last RSeq

  // UAC
  std::vector<sent_ack> acks;      // UAS too: for its re-INVITEs
  bool hangup_requested = false;   // CANCEL waits for a provisional (§9.1), BYE follows a 2xx that crosses it
  bool cancel_sent = false;
  bool completed_elsewhere = false;  // hangup_cause::completed_elsewhere: the CANCEL says so (RFC 3326)

  // UAS: the 2xx to the INVITE or to a re-INVITE, re-sent until its ACK
  // (§13.3.1.4) through its server transaction, released then
  transaction::shared_bytes ok;
  transaction::tsx_id ok_tsx{};
  transaction::duration ok_interval{0};
  bool bye_after_ack = false;      // hangup() before the ACK: the BYE waits (§15)

  // In-dialog client transactions of this call: BYE, re-INVITE, UPDATE, INFO ...
  bool bye_sent = false;
  bool reinvite_pending = false;   // our re-INVITE or UPDATE offer is outstanding (glare: 491 to the peer's)
  bool peer_reinvite_pending = false;
  // RFC 3261 §14.1: what our last re-INVITE or UPDATE asked for; after a 491
  // it is asked again when the glare timer fires.
  struct modification {
    bool update = false;             // UPDATE (RFC 3311 §5.1 follows §14.1), else re-INVITE
    bool with_offer = true;          // an UPDATE without offer: a session refresh (RFC 4028)
    std::optional<sdp::direction> direction;
  };
  modification last_modification;
  std::optional<modification> glare_retry;  // waiting for the glare timer
  std::uint8_t glare_retries = 0;           // 491s in a row for the same modification
  std::uint8_t glare_postponed = 0;         // waits of 500 ms for an offer still out
  std::uint32_t glare_stamp = 0;            // the glare timer's own stamp

  // RFC 4028 (session_timer.hpp): the negotiated interval (0: none) and who refreshes.
  std::uint32_t session_interval = 0;
  bool we_refresh = false;
  bool peer_supports_timer = false;
  bool peer_allows_update = false;  // its INVITE or 2xx listed UPDATE in Allow: refreshes go by UPDATE
  bool refresh_update_pending = false;  // our UPDATE without offer (a refresh) awaits its final response
  std::uint32_t session_stamp = 0;  // the session timer's own heap stamp (refresh or expiry)

  std::uint32_t timer_stamp = 0;   // the call's one timer: 2xx retransmission and ACK wait, or reliable 1xx retransmission
  enum class timer_kind : std::uint8_t { none, retransmit_ok, retransmit_1xx } timer = timer_kind::none;
  transaction::instant ack_deadline{0};

  dialog* current() noexcept { return confirmed >= 0 ? &dialogs[static_cast<std::size_t>(confirmed)] : nullptr; }
  // UAC: what the INVITE said of our side, for dialog::create_uac. The
  // Request-URI follows "INVITE ". A UAC over TLS with a sips target would
  // set `secure`; the session layer does not know its transport's security.
  uac_origin origin() const noexcept {
    const std::string_view text = invite_text;
    if (text.size() < 7) return {call_id, local_tag, {}, invite_cseq, {}, {}, false};  // no INVITE kept: nothing to read
    return {call_id, local_tag, text.substr(from_at, from_size), invite_cseq, text.substr(7, uri_size),
            text.substr(contact_at, contact_size), false};
  }
  dialog* by_remote_tag(std::string_view tag) noexcept {
    for (dialog& d : dialogs)
      if (d.id().remote_tag == tag) return &d;
    return nullptr;
  }
  const sent_ack* ack_for(std::string_view tag, std::uint32_t cseq) const noexcept {
    for (const sent_ack& a : acks)
      if (a.remote_tag == tag && a.cseq == cseq) return &a;
    return nullptr;
  }
  // A re-INVITE's ACK replaces the previous re-INVITE's (its 2xx is answered).
  void remember_reinvite_ack(std::string_view tag, std::uint32_t cseq, transaction::shared_bytes bytes) {
    for (sent_ack& a : acks)
      if (a.remote_tag == tag && a.cseq != invite_cseq) {
        a.cseq = cseq;
        a.bytes = std::move(bytes);
        return;
      }
    acks.push_back({std::string(tag), cseq, std::move(bytes)});
  }
};

}  // namespace detail
}  // namespace sigwire::sip::dialog
