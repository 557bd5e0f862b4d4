// sigwire/sip/dialog/registration.hpp - the REGISTER client (RFC 3261 §10.2),
// what PJSIP calls pjsip_regc, as a sans-IO usage.
//
//   sip::dialog::registration reg({.registrar = "sip:example.com", .aor = "<sip:alice@example.com>",
//                                  .contact = "sip:alice@192.0.2.1:5060", .via = "SIP/2.0/UDP 192.0.2.1:5060;rport"},
//                                 rng);
//   std::string out;
//   reg.start(now, branch, out);                 // send `out` as a client transaction
//   reg.on_response(final_response, now, branch, out) == registration::action::send   // again: send `out`
//   reg.next_deadline(); reg.on_timer(now, branch, out);   // the refresh
//
// States:  unregistered --start--> registering --2xx--> registered --refresh due--> registering ...
//          any --stop--> unregistering --2xx--> unregistered;  a failure --> failed (last_status says why)
//          failed --retry due (a failure that may pass)--> registering ...
//
// What it does by itself: one Call-ID and a growing CSeq for every REGISTER
// to this registrar (§10.2.4); the refresh at the expiry the registrar granted
// (the Contact's expires, else Expires, else what we asked) minus a margin;
// 401/407 answered through auth_client; 423 Interval Too Brief retried with
// its Min-Expires (§10.2.8); and contact rewriting (pjsua's
// contact_rewrite): when the registrar saw us at another address than our
// Contact says (Via `received` / `rport`, RFC 3581), the Contact is rewritten
// to that address and registered again, the old one removed in the same
// REGISTER (expires=0).
#pragma once

#include <sigwire/sip/access.hpp>
#include <sigwire/sip/builder.hpp>
#include <sigwire/sip/dialog/auth_client.hpp>
#include <sigwire/sip/dialog/prack.hpp>
#include <sigwire/sip/owned_message.hpp>
#include <sigwire/sip/transaction/timers.hpp>
#include <sigwire/sip/uri.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sigwire::sip::dialog {

struct registration_config {
  std::string registrar{};  // Request-URI: "sip:example.com"
  std::string aor{};        // To and From (without tag): "<sip:alice@example.com>"
  std::string contact{};    // our Contact URI: "sip:alice@192.0.2.1:5060"
  std::string via{};        // the transport's Via without branch: "SIP/2.0/UDP 192.0.2.1:5060;rport"
  std::uint32_t expires = 600;
  transaction::duration refresh_margin{5000};  // refresh this long before the granted expiry (PJSIP: 5 s)
  // After a failure that may pass (no answer, a transport error, 408, 480,
  // 3xx, 5xx, 6xx: see retryable()), register again this long
  // later, then twice as long each time up to 8 times it (pjsua's
  // reg_retry_interval; RFC 5626 §4.5 backs off the same way). Zero: a
  // failed registration stays failed.
  transaction::duration retry_interval{60000};
  bool rewrite_contact = true;  // not for outbound registrations: their flow is what reaches them
  std::vector<credential> credentials{};
  // RFC 5626 outbound: with both set, the Contact carries +sip.instance and
  // reg-id and Supported says outbound, so a registrar that does outbound
  // reaches us over the flow this REGISTER goes on. `instance` is the URN
  // without quotes ("<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"), the
  // same across restarts (§4.1).
  std::string instance{};
  std::uint32_t reg_id = 0;
  // A preloaded route set (RFC 3261 §8.1.1.1), each a name-addr: the
  // outbound proxy the REGISTER goes through ("<sip:proxy.example.com;lr>").
  std::vector<std::string> route{};

  bool outbound() const noexcept { return !instance.empty() && reg_id != 0; }
};

enum class registration_state : std::uint8_t { unregistered, registering, registered, unregistering, failed };

constexpr std::string_view text(registration_state s) noexcept {
  constexpr std::string_view names[] = {"unregistered", "registering", "registered", "unregistering", "failed"};
  return names[static_cast<int>(s)];
}

namespace detail {
// What a preloaded route set takes in a request: a "Route: " line per entry.
inline std::size_t route_bytes(std::span<const std::string> route) noexcept {
  std::size_t n = 0;
  for (const std::string& r : route) n += r.size() + 9;  // "Route: " CRLF
  return n;
}
}  // namespace detail

class registration {
 public:
  using random_source = std::function<std::uint64_t()>;
  enum class action : std::uint8_t { none, send };  // send: `out` holds the next REGISTER

  registration(registration_config cfg, random_source random)
      : cfg_(std::move(cfg)), random_(std::move(random)), auth_(cfg_.credentials, random_) {
    call_id_ = token(20) + "@sigwire";
    from_tag_ = token(10);
    contact_ = cfg_.contact;
    requested_ = cfg_.expires;
  }

  // REGISTER with our Contact and the configured expiry.
  void start(transaction::instant now, std::string_view branch, std::string& out) {
    requested_ = cfg_.expires;
    state_ = registration_state::registering;
    refresh_at_.reset();
    (void)now;
    build(branch, {}, out);
  }
  // REGISTER with expires=0 for our Contact (§10.2.2).
  void stop(std::string_view branch, std::string& out) {
    requested_ = 0;
    state_ = registration_state::unregistering;
    refresh_at_.reset();
    build(branch, {}, out);
  }

  // The final response to the last REGISTER (1xx are not for us).
  action on_response(const message_view& r, transaction::instant now, std::string_view branch, std::string& out) {
    last_status_ = r.status();
    if (r.status() < 200) return action::none;
    now_ = now;
    if (r.status() < 300) return on_success(r, now, branch, out);
    if (r.status() == 401 || r.status() == 407) {
      sip::message sent;
      if (!sip::message::parse(last_request_, sent) &&
          auth_.answer(sent.view(), r, branch, out) == auth_result::retry) {
        last_request_ = out;
        cseq_ = sent->cseq()->number + 1;  // auth_client's retry took the next CSeq
        return action::send;
      }
      return fail();
    }
    if (r.status() == 423) return on_interval_too_brief(r, branch, out);
    return fail();
  }
  // RFC 5057 §3.2 / RFC 3261 §17.1.2: the transaction timed out or the transport failed.
  void on_failure(transaction::instant now, int status = 408) {
    last_status_ = status;
    now_ = now;
    (void)fail();
  }

  std::optional<transaction::instant> next_deadline() const noexcept { return refresh_at_; }
  // The refresh, or the retry after a failure, when due (§10.2.4).
  action on_timer(transaction::instant now, std::string_view branch, std::string& out) {
    if (!refresh_at_ || *refresh_at_ > now) return action::none;
    refresh_at_.reset();
    if (state_ == registration_state::failed) requested_ = cfg_.expires;  // a retry asks afresh
    state_ = registration_state::registering;
    build(branch, {}, out);
    return action::send;
  }

  // Registers again at once (RFC 5626 §4.4.1, after the flow failed): true,
  // with the REGISTER in `out`, when registered; false otherwise.
  bool refresh_now(std::string_view branch, std::string& out) {
    if (state_ != registration_state::registered) return false;
    refresh_at_.reset();
    state_ = registration_state::registering;
    build(branch, {}, out);
    return true;
  }

  const registration_config& config() const noexcept { return cfg_; }
  registration_state state() const noexcept { return state_; }
  int last_status() const noexcept { return last_status_; }
  std::uint32_t granted_expires() const noexcept { return granted_; }
  const std::string& contact() const noexcept { return contact_; }
  const std::string& call_id() const noexcept { return call_id_; }
  // RFC 5626: the last 200 required outbound (our registration is an
  // outbound one and the registrar does it); then the flow needs keep-alives,
  // at most flow_timer() seconds apart when the registrar sent Flow-Timer (0: none).
  bool outbound_confirmed() const noexcept { return outbound_confirmed_; }
  std::uint32_t flow_timer() const noexcept { return flow_timer_; }

 private:
  // Failed; a retry is armed when the failure may pass and we were not
  // unregistering (an unregistration that fails is not retried).
  action fail() {
    const bool unregistering = requested_ == 0;
    state_ = registration_state::failed;
    refresh_at_.reset();
    if (unregistering || cfg_.retry_interval.count() <= 0 || !retryable(last_status_)) return action::none;
    const transaction::duration wait = cfg_.retry_interval * (1 << std::min(retries_, 3u));
    ++retries_;
    refresh_at_ = now_ + wait;
    return action::none;
  }
  // What may pass: no answer (408), a transport error or an overloaded or
  // restarting registrar (5xx), 480, and what a redirect or 6xx we do not
  // follow says. Not: rejected credentials (401/407 again), 403, 404 and
  // the like, which only the user can mend.
  static bool retryable(int status) noexcept {
    return status == 408 || status == 480 || status >= 500 || (status >= 300 && status < 400);
  }

  action on_success(const message_view& r, transaction::instant now, std::string_view branch, std::string& out) {
    if (requested_ == 0) {
      state_ = registration_state::unregistered;
      granted_ = 0;
      return action::none;
    }
    if (cfg_.rewrite_contact && !cfg_.outbound()) {
      if (std::string seen = address_seen_by_registrar(r); !seen.empty() && seen != contact_) {
        const std::string old = std::exchange(contact_, std::move(seen));
        build(branch, old, out);  // register the new Contact, remove the old one (pjsua's contact rewrite)
        return action::send;
      }
    }
    granted_ = granted_expiry(r);
    state_ = registration_state::registered;
    // RFC 5626 §4.2.1 / §4.4.1: the registrar does outbound when its 200 requires it,
    // and may say how often it wants keep-alives.
    outbound_confirmed_ = cfg_.outbound() && prack::lists(r, header_id::require, "outbound");
    flow_timer_ = 0;
    if (const header_field* ft = r.find("Flow-Timer"); ft && outbound_confirmed_) (void)parse_u32(ft->value, flow_timer_);
    retries_ = 0;
    const transaction::duration granted{std::chrono::seconds(granted_)};
    const transaction::duration lead = granted > 2 * cfg_.refresh_margin ? cfg_.refresh_margin : granted / 2;
    refresh_at_ = now + granted - lead;
    return action::none;
  }

  // §10.2.8: 423 with Min-Expires: ask again for at least that much, once per value.
  action on_interval_too_brief(const message_view& r, std::string_view branch, std::string& out) {
    const header_field* h = r.find(header_id::min_expires);
    std::uint32_t min = 0;
    if (!h || !parse_u32(h->value, min) || min <= requested_) return fail();
    requested_ = min;
    build(branch, {}, out);
    return action::send;
  }

  // The expiry granted to our Contact: its expires parameter, else Expires, else what we asked (§10.2.4).
  std::uint32_t granted_expiry(const message_view& r) const {
    std::optional<std::uint32_t> from_contact;
    const auto ours = parse_uri(contact_);
    (void)for_each_contact(r, [&](const name_addr& c) {
      std::uint32_t v = 0;
      if (!from_contact && ours && equivalent(c.address, ours.value) && parse_u32(c.expires, v)) from_contact = v;
    });
    if (from_contact) return *from_contact;
    if (const auto e = expires(r)) return e.value;
    return requested_;
  }

  // RFC 3581 / §18.2.1: where the registrar saw our REGISTER come from, as a
  // Contact URI (our user part, their host and port); empty when it says nothing new.
  std::string address_seen_by_registrar(const message_view& r) const {
    const via* v = r.top_via();
    if (!v) return {};
    const auto received = v->param("received");
    const auto rport = v->param("rport");
    if (!received && (!rport || rport->empty())) return {};
    const auto ours = parse_uri(contact_);
    if (!ours) return {};
    const std::string_view host = received && !received->empty() ? *received : ours->host;
    std::uint32_t port = ours->has_port ? ours->port : 5060;
    if (rport && !rport->empty() && !parse_u32(*rport, port)) return {};
    const std::uint32_t old_port = ours->has_port ? ours->port : 5060;
    if (host == ours->host && port == old_port) return {};
    std::string u(ours->scheme_name);
    u += ':';
    if (ours->has_user) u.append(ours->user).append("@");
    const bool v6 = host.find(':') != std::string_view::npos && !host.starts_with('[');
    u.append(v6 ? "[" : "").append(host).append(v6 ? "]" : "").append(":").append(std::to_string(port));
    u.append(ours->params);
    return u;
  }

  static bool parse_u32(std::string_view s, std::uint32_t& out) noexcept {  // the one in prack.hpp, as out-parameter
    const auto v = prack::parse_u32(s);
    if (v) out = *v;
    return v.has_value();
  }

  // REGISTER: same Call-ID and From tag each time, CSeq + 1 (§10.2.4);
  // `removed`: an old Contact to remove in the same request.
  void build(std::string_view branch, std::string_view removed, std::string& out) {
    const std::string expires_text = std::to_string(requested_);
    const std::string cseq = std::to_string(++cseq_) + " REGISTER";
    std::string buffer(cfg_.registrar.size() + cfg_.aor.size() * 2 + contact_.size() + removed.size() + cfg_.instance.size() +
                           cfg_.via.size() + branch.size() + call_id_.size() + detail::route_bytes(cfg_.route) + 320,
                       '\0');
    builder b(buffer);
    b.request_line("REGISTER", cfg_.registrar);
    b.header(canonical_name(header_id::via), {cfg_.via, ";branch=", branch});
    b.header(header_id::max_forwards, "70");
    for (const std::string& r : cfg_.route) b.header(header_id::route, r);
    b.header(canonical_name(header_id::from), {cfg_.aor, ";tag=", from_tag_});
    b.header(header_id::to, cfg_.aor);
    b.header(header_id::call_id, call_id_);
    b.header(header_id::cseq, cseq);
    if (cfg_.outbound())  // RFC 5626 §4.2
      b.header(canonical_name(header_id::contact),
               {"<", contact_, ">;+sip.instance=\"", cfg_.instance, "\";reg-id=", std::to_string(cfg_.reg_id)});
    else if (removed.empty())
      b.header(canonical_name(header_id::contact), {"<", contact_, ">"});
    else
      b.header(canonical_name(header_id::contact), {"<", contact_, ">, <", removed, ">;expires=0"});
    if (cfg_.outbound()) b.header(header_id::supported, "path, outbound");
    b.header(header_id::expires, expires_text);
    const auto done = b.finish();
    if (!done) {
      out.clear();
      return;
    }
    buffer.resize(done.value.size());
    last_request_ = buffer;
    out = std::move(buffer);
  }

  std::string token(std::size_t n) {
    static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string t;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i % 12 == 0) v = random_ ? random_() : core::random_u32();
      t += alphabet[v % 36];
      v /= 36;
    }
    return t;
  }

  registration_config cfg_;
  random_source random_;
  auth_client auth_;
  registration_state state_ = registration_state::unregistered;
  std::string call_id_, from_tag_, contact_;
  std::uint32_t cseq_ = 0;
  std::uint32_t requested_ = 0;
  std::uint32_t granted_ = 0;
  bool outbound_confirmed_ = false;
  std::uint32_t flow_timer_ = 0;
  int last_status_ = 0;
  std::optional<transaction::instant> refresh_at_{};
  transaction::instant now_{};  // of the last response or failure, for the retry's deadline
  unsigned retries_ = 0;        // failed attempts since the last success (the back-off)
  std::string last_request_;
};

}  // namespace sigwire::sip::dialog
