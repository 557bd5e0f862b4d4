// sigwire/sip/dialog/registrar.hpp - a registrar and its location service
// (RFC 3261 §10.3), with the flows of RFC 5626 outbound and of WebSocket
// clients (RFC 7118 §5), as a sans-IO usage.
//
//   sip::dialog::registrar reg({.min_expires = 60});
//   auto reply = reg.handle_register(request.view(), from_flow, now);   // a REGISTER
//   layer.respond(tsx, request, reply.status, now, reply.reason, reply.lines());
//   for (const auto* b : reg.lookup("sip:bob@example.com", now)) call(b->contact, b->flow);
//
// What a REGISTER does (§10.3, steps 5 to 8): the address-of-record is the
// To URI in canonical form (no parameters, unescaped user, lower-case host);
// each Contact adds, refreshes or (expires 0) removes a binding, matched by
// URI equivalence (§19.1.4) or, for an outbound registration, by its
// +sip.instance and reg-id (RFC 5626 §6); "Contact: *" with "Expires: 0"
// removes them all. A binding is only updated by a request with another
// Call-ID or a higher CSeq than the one that made it; an expiry below
// min_expires is refused with 423 and Min-Expires; every change of one
// REGISTER is made, or none is. The 200 lists every binding of the
// address-of-record with its remaining expiry.
//
// Where a binding is reached: a Contact whose host ends in ".invalid", that
// names a WebSocket transport, or that registered with outbound (reg-id and
// +sip.instance) is reachable only over the flow its REGISTER came on
// (RFC 7118 §5, RFC 5626 §5.3); flow_failed() removes those. Every other
// binding is reached at its Contact URI.
//
// Authentication (§10.3 steps 3-4, §22; RFC 8760), on when a realm is
// configured: a REGISTER without valid credentials gets 401 with a digest
// challenge per algorithm, most preferred first (RFC 8760 §2.4): SHA-256,
// then MD5. Clients choose differently: ours takes the strongest, JsSIP
// 3.13 and SIP.js 0.21 the last one (they know only MD5), sipp 3.6 the
// first (it knows only MD5 too: give it algorithms = {md5}). The nonce is stateless (its time and a SHA-256 over a secret),
// fresh for nonce_lifetime, after which the 401 says stale=true; credentials
// that do not verify get a new 401; an authenticated user may change only
// the bindings of the addresses-of-record may_register allows (default: the
// AOR's user part is the user name), else 403.
//
// Replays (RFC 7616 §3.4, §5.6): the challenges offer qop=auth, and the
// registrar remembers, per nonce it has accepted, the highest nonce count
// used with it (a response without qop counts as count 0: such a nonce
// serves once). Credentials that repeat a count are a replay and get a new
// 401. What is remembered goes with the nonce's lifetime and is bounded by
// max_tracked_nonces (full: 503 until entries age out).
//
// The 200 carries a Date (§10.3 step 8, RFC 1123 form, §20.17) when a wall
// clock is configured; the default reads std::chrono::system_clock.
//
// Domains (§10.3 steps 1 and 5), when registrar_config::domains lists them:
// the Request-URI must name one, and the To (the AOR) the same; else 404.
//
// Path (RFC 3327 §5.3): the Path of a REGISTER (the proxies between the
// registrar and the client, nearest the registrar first) is kept with each
// binding it makes or refreshes, and a request to that binding goes through
// it as a preloaded route set (binding::path; the user agent sends to the
// first one). The 200 repeats the Path when the client's Supported lists
// "path"; a client that does not list it is still served (what Kamailio
// and OpenSIPS call "lazy" mode). A binding reached through a Path is not
// bound to the REGISTER's flow: the proxy is what reaches the client.
//
// RFC 5626 outbound: the 200 to an outbound registration says Require:
// outbound, and Flow-Timer when registrar_config::flow_timer is set (the
// user agent answers STUN keep-alives on its UDP ports: transport/hub.hpp).
//
// Not here: GRUU (RFC 5627).
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/core/random.hpp>
#include <sigwire/sip/auth.hpp>
#include <sigwire/sip/access.hpp>
#include <sigwire/sip/dialog/dialog.hpp>
#include <sigwire/sip/dialog/prack.hpp>
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/transaction/event.hpp>
#include <sigwire/sip/transaction/timers.hpp>
#include <sigwire/sip/uri.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sigwire::sip::dialog {

struct registrar_config {
  std::uint32_t default_expires = 3600;  // §10.3 step 7: no expires parameter and no (or a malformed) Expires header
  std::uint32_t min_expires = 60;        // a shorter non-zero expiry: 423 Interval Too Brief
  std::uint32_t max_expires = 86400;     // a longer one is granted this
  std::size_t max_bindings_per_aor = 16;  // more: 503 (memory stays bounded whatever peers send)
  std::size_t max_bindings = 100000;      // in all
  std::chrono::seconds sweep_interval{60};  // a REGISTER this long after the last sweep sweeps expired bindings first
  // §10.3 steps 1 and 5: the domains whose bindings this registrar keeps
  // (hosts, compared case-insensitively). A REGISTER whose Request-URI names
  // another, or whose To is in another domain than its Request-URI, gets 404
  // (this registrar is no proxy to forward it). Empty: any domain, any To.
  std::vector<std::string> domains{};

  // Digest authentication, on when `realm` is set (see the top of this file).
  std::string realm{};
  // The password of a user name; nullopt: no such user (answered as a wrong password).
  std::function<std::optional<std::string>(std::string_view user)> password_for{};
  // Whether authenticated `user` may change the bindings of `aor` (canonical);
  // unset: when the AOR's user part is the user name.
  std::function<bool(std::string_view user, std::string_view aor)> may_register{};
  std::vector<digest_algorithm> algorithms{digest_algorithm::sha256, digest_algorithm::md5};
  std::chrono::seconds nonce_lifetime{300};
  std::string nonce_secret{};  // what nonces are signed with; empty: 32 random bytes per registrar
  std::size_t max_tracked_nonces = 100000;  // nonces whose last count is remembered (replay detection)
  // RFC 5626 §4.4.1: a Flow-Timer in the 200 to an outbound registration
  // asks its client for keep-alives at most this many seconds apart
  // (without one each client picks its own). Advertised only: flows are not
  // closed sooner for it. 0: none.
  std::uint32_t flow_timer = 0;

  // The wall clock the 200's Date header shows (§10.3 step 8); empty: no Date.
  std::function<std::chrono::system_clock::time_point()> wall_clock = [] { return std::chrono::system_clock::now(); };
};

// "Tue, 08 Dec 2026 01:30:00 GMT": an RFC 1123 date, as SIP's Date header
// has it (RFC 3261 §20.17: always GMT). Written without the C locale.
inline std::string rfc1123_date(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss time(secs - day);
  constexpr std::string_view weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char out[40];
  const int n = std::snprintf(out, sizeof out, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                              weekdays[weekday(day).c_encoding()].data(), static_cast<unsigned>(ymd.day()),
                              months[static_cast<unsigned>(ymd.month()) - 1].data(), static_cast<int>(ymd.year()),
                              static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                              static_cast<int>(time.seconds().count()));
  return std::string(out, static_cast<std::size_t>(n));
}

struct binding {
  std::string contact;   // the Contact URI as registered ("sip:a@b.invalid;transport=ws")
  std::string instance;  // RFC 5626 +sip.instance, as written (quotes included); empty when none
  std::uint32_t reg_id = 0;  // RFC 5626 reg-id; 0 when none
  std::uint16_t q = 1000;    // the Contact's q, times 1000 (RFC 3261 §20.10); 1000 when none
  std::string call_id;       // of the REGISTER that made or refreshed it (§10.3 step 7)
  std::uint32_t cseq = 0;
  transaction::instant expires_at{};
  transaction::instant registered_at{};
  transaction::peer flow{};  // where that REGISTER came from
  bool flow_only = false;    // reachable only over `flow` (see the top of this file)
  std::vector<std::string> path{};  // RFC 3327: the REGISTER's Path, each a name-addr, nearest us first

  bool outbound() const noexcept { return reg_id != 0 && !instance.empty(); }
};

// The answer to a REGISTER: its status and the header lines it carries.
struct register_reply {
  int status = 200;
  std::string_view reason{};  // empty: the status's default phrase
  std::string aor{};          // canonical; empty when the To was not usable
  std::vector<std::pair<std::string_view, std::string>> headers{};

  // The lines for session_layer::respond(); valid while this reply lives.
  std::vector<header_line> lines() const {
    std::vector<header_line> out;
    out.reserve(headers.size());
    for (const auto& [name, value] : headers) out.push_back({name, value});
    return out;
  }
};

// RFC 3261 §10.3 step 5: the address-of-record of a SIP URI, as an index:
// no parameters or headers, the user unescaped, the host in lower case.
// Empty for anything else (a tel: URI cannot be registered here).
inline std::string canonical_aor(const uri& u) {
  if (!u.is_sip() || u.host.empty()) return {};
  std::string out = u.scheme == uri_scheme::sips ? "sips:" : "sip:";
  if (u.has_user) out.append(unescape(u.user)).push_back('@');
  for (char c : u.host) out.push_back(core::ascii::to_lower(c));
  if (u.has_port) out.append(":").append(std::to_string(u.port));
  return out;
}
inline std::string canonical_aor(std::string_view uri_text) {
  const auto u = parse_uri(uri_text);
  return u ? canonical_aor(*u) : std::string{};
}

class registrar {
 public:
  explicit registrar(registrar_config cfg = {}) : cfg_(std::move(cfg)) {
    if (cfg_.nonce_secret.empty()) {
      std::array<unsigned char, 32> key{};
      core::random_bytes(std::as_writable_bytes(std::span(key)));
      cfg_.nonce_secret = core::to_hex(key);
    }
  }

  // Serves a REGISTER that came over `from` (§10.3 steps 5-8).
  register_reply handle_register(const message_view& request, transaction::peer from, transaction::instant now) {
    register_reply reply;
    added_ = 0;
    if (total_ >= cfg_.max_bindings || now - last_sweep_ >= cfg_.sweep_interval) sweep(now);
    const name_addr* to = request.to();
    if (!to || (reply.aor = canonical_aor(to->address)).empty()) return fail(reply, 404, "Not Found");  // step 5
    if (!serves(request.request_uri().host)) return fail(reply, 404, "Domain Not Served");             // step 1
    if (!cfg_.domains.empty() && !core::ascii::iequals(to->address.host, request.request_uri().host))
      return fail(reply, 404, "Not Found");  // step 5: the AOR is not of the Request-URI's domain
    if (!request.cseq()) return fail(reply, 400, "Missing CSeq");
    if (!authorized(request, now, reply)) return reply;  // steps 3-4
    std::vector<std::string> path;
    if (!read_path(request, path)) return fail(reply, 400, "Bad Path");
    std::optional<std::uint32_t> header_expires;
    if (const header_field* e = request.find(header_id::expires))  // §10.2.1.1: a malformed one counts as 3600
      header_expires = parse_expires(e->value).value_or(cfg_.default_expires);
    std::vector<contact_update> updates;
    bool star = false;
    const auto contacts = for_each_contact(request, [&](const name_addr& c) {
      if (c.star) {
        star = true;
        return;
      }
      updates.push_back(update_from(c, header_expires));
    });
    if (!contacts) return fail(reply, 400, "Bad Contact");
    std::vector<binding> next = bindings_of(reply.aor, now);  // committed only if every update succeeds
    if (star) {
      // Step 6: "*" only with Expires 0, and alone (for_each_contact checked that).
      if (header_expires != 0u) return fail(reply, 400, "Invalid Wildcard");
      for (const binding& b : next)
        if (!may_update(b, request)) return fail(reply, 500, "Out Of Order Request");
      next.clear();
    }
    for (const contact_update& u : updates) {
      if (!u.valid) return fail(reply, 400, "Bad Contact");
      if (u.expires != 0 && u.expires < cfg_.min_expires) {  // step 7
        reply.headers.emplace_back("Min-Expires", std::to_string(cfg_.min_expires));
        return fail(reply, 423, "Interval Too Brief");
      }
      if (const auto e = apply(next, u, request, from, path, now); e != 0)
        return fail(reply, e, e == 503 ? "Too Many Registered Contacts" : "Out Of Order Request");
    }
    commit(reply.aor, std::move(next));
    write_contacts(reply, now, std::any_of(updates.begin(), updates.end(), [](const contact_update& u) { return u.outbound(); }));
    if (!path.empty() && prack::lists(request, header_id::supported, "path"))  // RFC 3327 §5.3
      reply.headers.emplace_back("Path", join(path));
    if (cfg_.wall_clock) reply.headers.emplace_back("Date", rfc1123_date(cfg_.wall_clock()));
    return reply;
  }

  // The live bindings of `aor` (any SIP URI naming it), best first: highest
  // q, then the most recently registered.
  std::vector<const binding*> lookup(std::string_view aor, transaction::instant now) {
    std::vector<const binding*> out;
    const auto it = by_aor_.find(canonical_aor(aor));
    if (it == by_aor_.end()) return out;
    for (const binding& b : it->second)
      if (b.expires_at > now) out.push_back(&b);
    std::stable_sort(out.begin(), out.end(), [](const binding* a, const binding* b) {
      return a->q != b->q ? a->q > b->q : a->registered_at > b->registered_at;
    });
    return out;
  }

  // The first of lookup(aor, now) without building the list: nullptr when
  // `aor` has no live binding.
  const binding* best(std::string_view aor, transaction::instant now) const {
    const auto it = by_aor_.find(canonical_aor(aor));
    if (it == by_aor_.end()) return nullptr;
    const binding* found = nullptr;
    for (const binding& b : it->second) {
      if (b.expires_at <= now) continue;
      // Ties keep the earlier one, as lookup's stable sort does.
      if (!found || b.q > found->q || (b.q == found->q && b.registered_at > found->registered_at)) found = &b;
    }
    return found;
  }

  // A flow closed: the bindings reachable only over it are gone (RFC 5626
  // §6). Only the addresses-of-record that registered over it are visited.
  void flow_failed(transaction::peer flow) {
    const auto found = aors_by_flow_.find(flow.id);
    if (found == aors_by_flow_.end()) return;
    for (const std::string& aor : found->second) {
      const auto it = by_aor_.find(aor);
      if (it == by_aor_.end()) continue;
      total_ -= std::erase_if(it->second, [&](const binding& b) { return b.flow_only && b.flow == flow; });
      if (it->second.empty()) by_aor_.erase(it);
    }
    aors_by_flow_.erase(found);
  }

  // Forgets every binding that has expired (lookups skip them anyway; this
  // gives their memory back). A REGISTER sweeps first when the table is
  // full or the last sweep is sweep_interval old, so memory follows the
  // live bindings while REGISTERs come; a timer may call it too.
  void sweep(transaction::instant now) {
    last_sweep_ = now;
    forget_old_nonces(now);
    for (auto it = by_aor_.begin(); it != by_aor_.end();) {
      total_ -= std::erase_if(it->second, [&](const binding& b) { return b.expires_at <= now; });
      it = it->second.empty() ? by_aor_.erase(it) : std::next(it);
    }
    aors_by_flow_.clear();  // rebuilt from what is left: entries of gone bindings go with it
    for (const auto& [aor, list] : by_aor_)
      for (const binding& b : list)
        if (b.flow_only) aors_by_flow_[b.flow.id].insert(aor);
  }

  std::size_t size() const noexcept { return total_; }  // bindings held, expired ones not yet swept included
  std::size_t aors() const noexcept { return by_aor_.size(); }
  const registrar_config& config() const noexcept { return cfg_; }

 private:
  // One Contact of a REGISTER, read.
  struct contact_update {
    bool valid = true;
    std::string contact, instance;
    std::uint32_t reg_id = 0, expires = 0;
    std::uint16_t q = 1000;
    bool outbound() const noexcept { return reg_id != 0 && !instance.empty(); }
  };

  // §10.3 steps 3-4: true when authentication is off or the request carries
  // credentials for our realm that verify, from a user who may register
  // reply.aor; else `reply` is the 401 or 403 to send.
  bool authorized(const message_view& request, transaction::instant now, register_reply& reply) {
    if (cfg_.realm.empty()) return true;
    bool stale = false;
    for (const header_field& h : request.headers()) {
      if (h.id != header_id::authorization) continue;
      const auto a = parse_auth_header(h.value);
      if (!a || !a->is_digest() || a->param("realm") != std::optional<std::string_view>(cfg_.realm)) continue;
      const auto user = a->param("username"), nonce = a->param("nonce"), uri = a->param("uri");
      if (!user || !nonce || !uri || !nonce_signed(*nonce)) break;
      if (!nonce_fresh(*nonce, now)) {
        stale = true;  // RFC 2617 §3.2.1: the client may retry with the new nonce without asking its user
        break;
      }
      const auto password = cfg_.password_for ? cfg_.password_for(*user) : std::nullopt;
      // RFC 2617 §3.2.2.5: the digest-uri is the Request-URI.
      if (!password || *uri != request.request_uri_text() || verify(h.value, "REGISTER", *password, cfg_.realm, *nonce)) break;
      const nonce_use use = count_use(*nonce, a->param("nc"), now);
      if (use == nonce_use::replayed) break;  // challenged below with a new nonce, not stale: these were seen
      if (use == nonce_use::table_full) {
        fail(reply, 503, "Service Unavailable");
        reply.headers.emplace_back("Retry-After", std::to_string(cfg_.nonce_lifetime.count()));
        return false;
      }
      if (!may_register(*user, reply.aor)) {
        fail(reply, 403, "Forbidden");
        return false;
      }
      return true;
    }
    const std::string nonce = new_nonce(now);
    for (const digest_algorithm alg : cfg_.algorithms)
      reply.headers.emplace_back("WWW-Authenticate", challenge_value(cfg_.realm, nonce, alg, {}, stale));
    fail(reply, 401, "Unauthorized");
    return false;
  }
  bool serves(std::string_view domain) const {
    if (cfg_.domains.empty()) return true;
    return std::any_of(cfg_.domains.begin(), cfg_.domains.end(),
                       [&](const std::string& d) { return core::ascii::iequals(d, domain); });
  }
  bool may_register(std::string_view user, std::string_view aor) const {
    if (cfg_.may_register) return cfg_.may_register(user, aor);
    const auto colon = aor.find(':'), at = aor.find('@');
    return at != std::string_view::npos && aor.substr(colon + 1, at - colon - 1) == user;
  }

  // A nonce: the time it was made (hex milliseconds), '.', and the first 32
  // hex digits of SHA-256(secret ":" time). Checked without any state.
  std::string nonce_signature(std::string_view time) const {
    return core::to_hex(core::sha256(cfg_.nonce_secret + ":" + std::string(time))).substr(0, 32);
  }
  std::string new_nonce(transaction::instant now) const {
    char time[17];
    const int n = std::snprintf(time, sizeof time, "%llx", static_cast<unsigned long long>(now.count()));
    const std::string_view t(time, static_cast<std::size_t>(n));
    return std::string(t) + "." + nonce_signature(t);
  }
  bool nonce_signed(std::string_view nonce) const {
    const auto dot = nonce.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot > 16) return false;
    const std::string expected = nonce_signature(nonce.substr(0, dot));
    return nonce.substr(dot + 1) == expected;
  }
  bool nonce_fresh(std::string_view nonce, transaction::instant now) const {
    std::uint64_t made = 0;
    for (char c : nonce.substr(0, nonce.find('.'))) {
      if (!core::ascii::is_hex(c)) return false;
      made = made << 4 | static_cast<unsigned>(core::ascii::hex_value(c));
    }
    const auto at = transaction::instant(static_cast<transaction::instant::rep>(made));
    return at <= now && now - at <= cfg_.nonce_lifetime;
  }

  // RFC 7616 §3.4: a nonce count must grow with every use of a nonce; a
  // count seen before is a replay. No qop (RFC 2069 form): count 0, so such
  // a nonce serves once. Verified credentials only reach this, so entries
  // are made only by users who know their password.
  enum class nonce_use : std::uint8_t { fresh, replayed, table_full };
  nonce_use count_use(std::string_view nonce, std::optional<std::string_view> nc_text, transaction::instant now) {
    std::uint32_t count = 0;
    if (nc_text) {  // verify() checked it is eight characters
      for (char c : *nc_text) {
        if (!core::ascii::is_hex(c)) return nonce_use::replayed;
        count = count << 4 | static_cast<unsigned>(core::ascii::hex_value(c));
      }
    }
    auto it = nonce_counts_.find(std::string(nonce));
    if (it != nonce_counts_.end()) {
      if (count <= it->second) return nonce_use::replayed;
      it->second = count;
      return nonce_use::fresh;
    }
    if (nonce_counts_.size() >= cfg_.max_tracked_nonces) forget_old_nonces(now);
    if (nonce_counts_.size() >= cfg_.max_tracked_nonces) return nonce_use::table_full;
    nonce_counts_.emplace(std::string(nonce), count);
    return nonce_use::fresh;
  }
  // Counts of nonces past their lifetime are not needed: such a nonce is stale.
  void forget_old_nonces(transaction::instant now) {
    std::erase_if(nonce_counts_, [&](const auto& entry) { return !nonce_fresh(entry.first, now); });
  }

  static register_reply& fail(register_reply& r, int status, std::string_view reason) {
    r.status = status;
    r.reason = reason;
    return r;
  }

  // A delta-seconds value (§20.19); one larger than 2^32-1 counts as 2^32-1.
  static std::optional<std::uint32_t> parse_expires(std::string_view v) {
    v = core::ascii::trim(v);
    if (v.empty() || v.size() > 20 || !std::all_of(v.begin(), v.end(), core::ascii::is_digit)) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : v) n = std::min<std::uint64_t>(n * 10 + static_cast<unsigned>(c - '0'), UINT32_MAX);
    return static_cast<std::uint32_t>(n);
  }
  // "0.5" -> 500 (RFC 3261 §20.10; the header parser checked the syntax).
  static std::uint16_t parse_q(std::string_view q) {
    if (q.empty()) return 1000;
    unsigned value = q[0] == '1' ? 1000 : 0, scale = 100;
    for (std::size_t i = 2; i < q.size() && scale; ++i, scale /= 10) value += static_cast<unsigned>(q[i] - '0') * scale;
    return static_cast<std::uint16_t>(std::min(value, 1000u));
  }

  contact_update update_from(const name_addr& c, std::optional<std::uint32_t> header_expires) const {
    contact_update u;
    u.contact = std::string(c.address.raw);
    u.q = parse_q(c.q);
    if (!c.expires.empty()) {
      const auto e = parse_expires(c.expires);
      if (!e) u.valid = false;
      u.expires = e.value_or(0);
    } else {
      u.expires = header_expires.value_or(cfg_.default_expires);
    }
    u.expires = std::min(u.expires, cfg_.max_expires);
    if (const auto inst = c.param("+sip.instance")) u.instance = std::string(*inst);
    if (const auto id = c.param("reg-id")) {
      const auto n = parse_expires(*id);  // RFC 5626 §4.2: reg-id = 1*DIGIT, 1 to 2^31-1
      if (!n || *n == 0 || *n > INT32_MAX) u.valid = false;
      u.reg_id = n.value_or(0);
    }
    return u;
  }

  // §10.3 step 7: another Call-ID, or the same with a higher CSeq.
  static bool may_update(const binding& b, const message_view& request) {
    return b.call_id != request.call_id() || request.cseq()->number > b.cseq;
  }

  // RFC 3327 §5.3: the Path header values in order, each one bracketed SIP
  // name-addr (as a Route entry must be); false when one is not.
  static bool read_path(const message_view& m, std::vector<std::string>& out) {
    for (const header_field& h : m.headers()) {
      if (h.id != header_id::other || !core::ascii::iequals(h.name, "Path")) continue;
      sip::detail::comma_splitter values(h.value);
      std::string_view e;
      bool bad = false;
      while (values.next(e, bad)) {
        name_addr na;
        if (out.size() >= m.options().limits.max_values ||
            parse_name_addr_to(e, na, error::bad_route, m.options().limits) != error{} || !na.bracketed || !na.address.is_sip())
          return false;
        out.emplace_back(sip::detail::trim_lws(e));
      }
      if (bad) return false;
    }
    return true;
  }
  static std::string join(const std::vector<std::string>& values) {
    std::string out;
    for (const std::string& v : values) out.append(out.empty() ? "" : ", ").append(v);
    return out;
  }

  // Applies one Contact to `list`: 0, or the status that fails the request.
  int apply(std::vector<binding>& list, const contact_update& u, const message_view& request, transaction::peer from,
            const std::vector<std::string>& path, transaction::instant now) {
    const auto contact = parse_uri(u.contact);
    if (!contact) return 400;
    auto same = std::find_if(list.begin(), list.end(), [&](const binding& b) {
      if (u.outbound()) return b.instance == u.instance && b.reg_id == u.reg_id;  // RFC 5626 §6
      if (b.outbound()) return false;
      const auto stored = parse_uri(b.contact);
      return stored && equivalent(*stored, *contact);
    });
    if (same != list.end() && !may_update(*same, request)) return 500;
    if (u.expires == 0) {
      if (same != list.end()) list.erase(same);
      return 0;
    }
    if (same == list.end()) {
      if (list.size() >= cfg_.max_bindings_per_aor || total_ + added_ >= cfg_.max_bindings) return 503;
      same = list.insert(list.end(), binding{});
      ++added_;
    }
    binding& b = *same;
    b.contact = u.contact;
    b.instance = u.instance;
    b.reg_id = u.reg_id;
    b.q = u.q;
    b.call_id = std::string(request.call_id());
    b.cseq = request.cseq()->number;
    b.expires_at = now + std::chrono::seconds(u.expires);
    b.registered_at = now;
    b.flow = from;
    b.path = path;
    b.flow_only = path.empty() && (u.outbound() || needs_flow(*contact));  // with a Path, its proxies reach the client
    return 0;
  }

  // RFC 7118 §5: a WebSocket client cannot be connected to, and its Contact
  // host ends in ".invalid" when it has no address of its own.
  static bool needs_flow(const uri& contact) {
    const std::string_view host = contact.host;
    if (host.size() >= 8 && core::ascii::iequals(host.substr(host.size() - 8), ".invalid")) return true;
    const auto t = contact.transport();
    return t && (core::ascii::iequals(*t, "ws") || core::ascii::iequals(*t, "wss"));
  }

  std::vector<binding> bindings_of(const std::string& aor, transaction::instant now) const {
    const auto it = by_aor_.find(aor);
    if (it == by_aor_.end()) return {};
    std::vector<binding> live;
    for (const binding& b : it->second)
      if (b.expires_at > now) live.push_back(b);
    return live;
  }

  void commit(const std::string& aor, std::vector<binding> next) {
    auto it = by_aor_.find(aor);
    const std::size_t before = it == by_aor_.end() ? 0 : it->second.size();
    total_ = total_ - before + next.size();
    if (next.empty()) {
      if (it != by_aor_.end()) by_aor_.erase(it);
      return;
    }
    if (it == by_aor_.end()) it = by_aor_.emplace(aor, std::vector<binding>{}).first;
    it->second = std::move(next);
    for (const binding& b : it->second)
      if (b.flow_only) aors_by_flow_[b.flow.id].insert(aor);
  }

  // §10.3 step 8: every current binding, each with its remaining expiry;
  // RFC 5626 §6: Require: outbound when an outbound registration was served.
  void write_contacts(register_reply& reply, transaction::instant now, bool outbound) const {
    const auto it = by_aor_.find(reply.aor);
    if (it != by_aor_.end()) {
      for (const binding& b : it->second) {
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(b.expires_at - now).count();
        std::string v = "<" + b.contact + ">;expires=" + std::to_string(std::max<long long>(left, 0));
        if (b.q != 1000) v += ";q=" + q_text(b.q);
        if (b.outbound()) v += ";+sip.instance=" + b.instance + ";reg-id=" + std::to_string(b.reg_id);
        reply.headers.emplace_back("Contact", std::move(v));
      }
    }
    if (outbound) reply.headers.emplace_back("Require", "outbound");
    if (outbound && cfg_.flow_timer) reply.headers.emplace_back("Flow-Timer", std::to_string(cfg_.flow_timer));
  }
  static std::string q_text(std::uint16_t q) {
    std::string s = q >= 1000 ? "1." : "0.";
    const unsigned frac = q % 1000;
    s += static_cast<char>('0' + frac / 100);
    s += static_cast<char>('0' + frac / 10 % 10);
    s += static_cast<char>('0' + frac % 10);
    return s;
  }

  registrar_config cfg_;
  std::unordered_map<std::string, std::vector<binding>> by_aor_;
  // The addresses-of-record with flow-only bindings, by flow id (for
  // flow_failed); an entry may outlive its binding until that flow fails or
  // a sweep.
  std::unordered_map<std::uint64_t, std::unordered_set<std::string>> aors_by_flow_;
  std::size_t total_ = 0;  // bindings in by_aor_
  transaction::instant last_sweep_{};
  std::size_t added_ = 0;  // new bindings of the REGISTER being served
  std::unordered_map<std::string, std::uint32_t> nonce_counts_;  // accepted nonce -> highest count used
};

}  // namespace sigwire::sip::dialog
