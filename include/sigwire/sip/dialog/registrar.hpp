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
// Not here: authentication (answer the REGISTER with a challenge before
// handing it in), the Request-URI's domain check (§10.3 step 1), Path
// (RFC 3327) and GRUU (RFC 5627), and the Date header of the 200.
#pragma once

#include <sigwire/core/ascii.hpp>
#include <sigwire/sip/access.hpp>
#include <sigwire/sip/dialog/dialog.hpp>
#include <sigwire/sip/message.hpp>
#include <sigwire/sip/transaction/event.hpp>
#include <sigwire/sip/transaction/timers.hpp>
#include <sigwire/sip/uri.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
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
};

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
  explicit registrar(registrar_config cfg = {}) : cfg_(cfg) {}

  // Serves a REGISTER that came over `from` (§10.3 steps 5-8).
  register_reply handle_register(const message_view& request, transaction::peer from, transaction::instant now) {
    register_reply reply;
    added_ = 0;
    if (total_ >= cfg_.max_bindings) sweep(now);
    const name_addr* to = request.to();
    if (!to || (reply.aor = canonical_aor(to->address)).empty()) return fail(reply, 404, "Not Found");  // step 5
    if (!request.cseq()) return fail(reply, 400, "Missing CSeq");
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
      if (const auto e = apply(next, u, request, from, now); e != 0) return fail(reply, e, e == 503 ? "Too Many Registered Contacts" : "Out Of Order Request");
    }
    commit(reply.aor, std::move(next));
    write_contacts(reply, now, std::any_of(updates.begin(), updates.end(), [](const contact_update& u) { return u.outbound(); }));
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
  // gives their memory back). A REGISTER that finds the table full sweeps
  // first; a timer may call it to give memory back sooner.
  void sweep(transaction::instant now) {
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

  // Applies one Contact to `list`: 0, or the status that fails the request.
  int apply(std::vector<binding>& list, const contact_update& u, const message_view& request, transaction::peer from,
            transaction::instant now) {
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
    b.flow_only = u.outbound() || needs_flow(*contact);
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
  std::size_t added_ = 0;  // new bindings of the REGISTER being served
};

}  // namespace sigwire::sip::dialog
