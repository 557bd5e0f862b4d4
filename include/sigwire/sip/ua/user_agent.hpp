// sigwire/sip/ua/user_agent.hpp - a SIP user agent on Asio: transports
// (transport/hub.hpp), the sans-IO session layer (dialog/session_layer.hpp)
// and one timer, with callbacks in the spirit of pjsua's Call and Account.
//
//   asio::io_context io;
//   sip::ua::user_agent ua(io, {.from = "<sip:alice@192.0.2.1>", .media = caps},
//                          {.on_call_state = [](auto call, auto state, int code, auto reason) {...}});
//   ua.listen(sip::transport::protocol::udp, {asio::ip::make_address("192.0.2.1"), 5060});
//   auto call = ua.make_call("sip:bob@192.0.2.2:5060");     // ;transport=tcp for TCP
//   ua.hangup(call.call);
//   io.run();
//
// Incoming calls reach on_incoming_call; answer() them (180, 200, 486 ...).
// Everything a UA does by itself (ACK, 2xx and 1xx retransmission, PRACK,
// session timers, 481/420/491 ...) happens in the session layer; this file
// only moves bytes, time and events. Media: signalling and SDP only; read the
// negotiated streams with negotiator_of(call) after on_media (the hook where
// a media engine plugs in).
//
// Threads: one. Every call into the user agent and every callback runs on
// the thread that runs `io`; post() to it from other threads.
#pragma once

#include <sigwire/core/random.hpp>
#include <sigwire/sip/dialog/registrar.hpp>
#include <sigwire/sip/dialog/session_layer.hpp>
#include <sigwire/sip/transport/hub.hpp>
#include <sigwire/sip/uri.hpp>

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sigwire::sip::ua {

using dialog::call_error;
using dialog::call_id;
using dialog::call_state;
using dialog::registration_id;
using transport::protocol;

struct config {
  std::string from{};                         // our identity in calls: "\"Alice\" <sip:alice@example.com>"
  std::optional<sdp::capabilities> media{};   // offer/answer through sdp::negotiator; none: no SDP
  dialog::session_config session{};           // 100rel, session timers, credentials, T1 ...
  transport::options transport{};
  // Serve REGISTER as a registrar (dialog/registrar.hpp): make_call() and
  // send_message() to a registered address-of-record reach its best binding,
  // over the flow its REGISTER came on when the Contact cannot be reached
  // otherwise (WebSocket clients, .invalid hosts, RFC 5626 outbound), or
  // through the proxies of its Path (RFC 3327). Digest authentication when
  // registrar_config::realm is set; else anyone may register.
  std::optional<dialog::registrar_config> registrar{};
  // An outbound proxy (pjsua's outbound_proxy), a SIP URI with an IP address:
  // "sip:192.0.2.9:5060;transport=tcp". Every request outside a call
  // (INVITE, MESSAGE, REGISTER) goes to it, with `Route: <that URI;lr>`
  // (RFC 3261 §8.1.1.1; `lr` added when missing: RFC 3261 proxies are loose
  // routers, §16.4), so targets and registrars may be named by domain
  // ("sip:bob@example.com"): the proxy routes them. Calls to bindings of
  // our own registrar do not use it.
  std::string outbound_proxy{};
};

struct callbacks {
  std::function<void(call_id, call_state, int last_status, std::string_view reason)> on_call_state{};
  std::function<void(call_id, const sip::message& invite)> on_incoming_call{};  // answer() it
  std::function<void(call_id, bool ok)> on_media{};  // an offer/answer completed: negotiator_of(call)
  std::function<void(call_id, const sip::message& request)> on_in_call_request{};  // INFO, MESSAGE ... (answered 200)
  // A request outside any call other than OPTIONS (answered 200 here): return
  // the status to answer (MESSAGE: 200; unset: 405 Method Not Allowed).
  std::function<int(const sip::message& request)> on_request{};
  std::function<void(registration_id, const dialog::registration_event&)> on_registration{};
  // The final status of send_message() (408/503 when no answer came).
  std::function<void(transaction::tsx_id, int status, std::string_view reason)> on_request_result{};
  // A REGISTER config::registrar served: the address-of-record and the status sent.
  std::function<void(std::string_view aor, int status)> on_register{};
};

struct make_call_result {
  call_id call{};
  call_error error = call_error::ok;
  std::string_view why{};  // for bad_input: what was wrong with the target
  explicit operator bool() const noexcept { return error == call_error::ok; }
};

// Where a SIP URI's requests go: its host (an IP address: no DNS yet, RFC 3263)
// and port, over the protocol its ;transport= names (udp, tcp, tls, ws, and
// wss as some stacks write it). A sips: URI means TLS, or WSS with
// ;transport=ws (RFC 7118 §5.2). Without a port: the protocol's default
// (5060, 5061 for TLS, 80/443 for WS/WSS).
struct next_hop {
  protocol proto = protocol::udp;
  asio::ip::tcp::endpoint endpoint{};
  std::string_view error{};  // empty when resolved
};
inline next_hop resolve(std::string_view target) {
  next_hop hop;
  const auto u = sip::parse_uri(target, false);
  if (!u || !u->is_sip()) return {.error = "not a sip: or sips: URI"};
  std::string_view host = u->host;
  if (u->is_ipv6()) host = host.substr(1, host.size() - 2);
  std::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) return {.error = "host is not an IP address (no DNS yet)"};
  if (const auto transport = u->transport()) {
    const auto p = transport::protocol_from_parameter(*transport);
    if (!p) return {.error = "transport not supported yet"};
    hop.proto = *p;
  }
  if (u->scheme == sip::uri_scheme::sips && !transport::is_secure(hop.proto))  // RFC 3261 §19.1: sips: is TLS on every hop
    hop.proto = hop.proto == protocol::ws ? protocol::wss : protocol::tls;
  hop.endpoint = {address, u->has_port ? static_cast<unsigned short>(u->port) : transport::default_port(hop.proto)};
  return hop;
}

class user_agent {
 public:
  user_agent(asio::io_context& io, config cfg, callbacks cb)
      : cfg_(std::move(cfg)),
        cb_(std::move(cb)),
        net_(io, {.on_message = [this](std::string bytes, transaction::peer from) { on_message(std::move(bytes), from); },
                  .on_send_failed = [this](transaction::tsx_id tsx) { on_send_failed(tsx); },
                  .on_flow_failed = [this](transaction::peer flow) { on_flow_failed(flow); }},
             cfg_.transport),
        layer_(layer_config(), [this] { return random_(); }),
        timer_(io),
        proxy_route_(route_through(cfg_.outbound_proxy)) {
    if (cfg_.registrar) registrar_.emplace(*cfg_.registrar);
  }
  user_agent(const user_agent&) = delete;
  user_agent& operator=(const user_agent&) = delete;

  // Callbacks that need the user agent itself are set once it exists.
  void set_callbacks(callbacks cb) { cb_ = std::move(cb); }

  // A transport to listen on (port 0: any; read it back with local_endpoint).
  std::size_t listen(protocol p, const asio::ip::tcp::endpoint& at) { return net_.listen(p, at); }
  // UDP and TCP on one port (0: one free for both); returns the UDP listener's index.
  std::size_t listen_udp_and_tcp(const asio::ip::tcp::endpoint& at) { return net_.listen_udp_and_tcp(at); }
  asio::ip::tcp::endpoint local_endpoint(std::size_t listener) const { return net_.local_endpoint(listener); }

  // --- calls (pjsua's Call) -----------------------------------------------------------
  // `headers`: more header lines for the INVITE (pjsua's msg_data), e.g.
  // {{"X-Account", "42"}}; not those the session layer writes itself
  // (dialog::outside_request_options).
  make_call_result make_call(std::string_view target, bool late_offer = false, std::span<const dialog::header_line> headers = {}) {
    if (const dialog::binding* b = registered(target)) {
      const auto r = call_binding(*b, target, late_offer, headers);
      pump();
      return r;
    }
    const next_hop hop = first_hop(target);
    if (!hop.error.empty()) return {{}, call_error::bad_input, hop.error};
    const transaction::peer to = net_.peer_for(hop.proto, hop.endpoint);
    if (to.id == 0) return {{}, call_error::transaction_failed, "no transport for the target"};
    const auto r = layer_.make_call(target, cfg_.from, to, now(), late_offer, {.route = proxy_route_, .headers = headers});
    pump();
    return {r.call, r.error,
            r.error == call_error::bad_input ? "not a valid SIP URI (the target, or config::from), or a header not allowed"
                                             : std::string_view{}};
  }
  // Rings every live binding of `aor`, an address-of-record registered here
  // (config::registrar), at once: one call per binding, best first (the
  // parallel search of RFC 3261 §16.6, made by the user agent that keeps the
  // bindings). The first call answered with a 2xx wins; the others are hung
  // up (CANCEL while they ring, RFC 3261 §9.1, with RFC 3326's "Call
  // completed elsewhere" Reason; BYE for a 2xx that crossed),
  // and on_call_state reports every call. One result per binding; empty
  // when `aor` has no live binding.
  std::vector<make_call_result> make_call_all(std::string_view aor, bool late_offer = false,
                                              std::span<const dialog::header_line> headers = {}) {
    std::vector<make_call_result> out;
    if (!registrar_) return out;
    // Copies: a failure while calling one binding may remove others (a flow that fails).
    std::vector<dialog::binding> targets;
    for (const dialog::binding* b : registrar_->lookup(aor, now())) targets.push_back(*b);
    auto group = std::make_shared<std::vector<call_id>>();
    for (const dialog::binding& b : targets) {
      out.push_back(call_binding(b, aor, late_offer, headers));
      if (out.back()) group->push_back(out.back().call);
    }
    if (group->size() > 1)
      for (call_id c : *group) forks_.emplace(key_of(c), group);
    pump();
    return out;
  }

  call_error answer(call_id call, int status, std::string_view reason = {}) { return done(layer_.answer(call, status, now(), reason)); }
  call_error hangup(call_id call) { return done(layer_.hangup(call, now())); }
  // Hold and resume (RFC 3264 §8.4): a re-INVITE with sendonly, then sendrecv.
  call_error hold(call_id call) { return done(layer_.reinvite(call, now(), sdp::direction::sendonly)); }
  call_error resume(call_id call) { return done(layer_.reinvite(call, now(), sdp::direction::sendrecv)); }
  call_error send_in_call(call_id call, sip::method m, std::string_view content_type, std::string_view body) {
    return done(layer_.send_request(call, m, content_type, body, now()));
  }
  call_state state_of(call_id call) noexcept { return layer_.state_of(call); }
  const sdp::negotiator* negotiator_of(call_id call) noexcept { return layer_.negotiator_of(call); }
  // The call's dialog (targets, Contacts, route set); nullptr before it has one.
  const dialog::dialog* dialog_of(call_id call) noexcept { return layer_.dialog_of(call); }
  // RFC 5922 §7.1: the SIP domains the verified certificate of the call's
  // TLS or WSS peer proves (transport::hub::verified_identities); empty
  // otherwise. A caller that sent a certificate the listener verified
  // (tls.verify_client), or the server we called over TLS.
  std::vector<std::string> verified_identities(call_id call) {
    const std::optional<transaction::peer> p = layer_.peer_of(call);
    return p ? net_.verified_identities(*p) : std::vector<std::string>{};
  }
  std::size_t calls() const noexcept { return layer_.calls(); }

  // --- instant messages outside a call (RFC 3428; pjsua_im_send) ---------------------------
  // MESSAGE to `target`; on_request_result reports its final status. An
  // invalid id when the target cannot be reached (see make_call).
  transaction::tsx_id send_message(std::string_view target, std::string_view content_type, std::string_view body,
                                   std::span<const dialog::header_line> headers = {}) {
    if (const dialog::binding* b = registered(target)) {
      const transaction::peer to = reach(*b);
      if (to.id == 0) return {};
      const auto sent = layer_.send_outside_dialog(sip::method::message, b->contact, cfg_.from, to, content_type, body, now(),
                                                   {.to_uri = target, .route = b->path, .headers = headers});
      pump();
      return sent.id;
    }
    const next_hop hop = first_hop(target);
    if (!hop.error.empty()) return {};
    const transaction::peer to = net_.peer_for(hop.proto, hop.endpoint);
    if (to.id == 0) return {};
    const auto sent = layer_.send_outside_dialog(sip::method::message, target, cfg_.from, to, content_type, body, now(),
                                                 {.route = proxy_route_, .headers = headers});
    pump();
    return sent.id;
  }

  // --- accounts (pjsua's Account: registration with digest credentials) ----------------
  // Registers `aor` ("<sip:alice@example.com>") at `registrar` ("sip:192.0.2.9"),
  // refreshed before it expires; on_registration reports each change. With
  // `instance` ("<urn:uuid:...>", the same across restarts) the registration
  // is an RFC 5626 outbound one (reg-id 1): a registrar that does outbound
  // calls us over its connection. A connection that closes is replaced, and
  // when it closed under a registration we register again at once.
  registration_id add_account(std::string_view registrar, std::string_view aor, std::vector<dialog::credential> credentials,
                              std::uint32_t expires = 600, std::string_view instance = {}) {
    const next_hop hop = first_hop(registrar);
    if (!hop.error.empty()) return {};
    const transaction::peer to = net_.peer_for(hop.proto, hop.endpoint);
    if (to.id == 0) return {};
    dialog::registration_config rc;
    rc.route = proxy_route_;
    rc.registrar = std::string(registrar);
    rc.aor = std::string(aor);
    rc.expires = expires;
    rc.credentials = std::move(credentials);
    rc.instance = std::string(instance);
    rc.reg_id = instance.empty() ? 0 : 1;
    const registration_id id = layer_.add_registration(std::move(rc), to, now());
    pump();
    return id;
  }
  call_error remove_account(registration_id id) { return done(layer_.unregister(id, now())); }

  // --- the registrar (config::registrar) -------------------------------------------------
  // The live bindings of an address-of-record, best first; empty without a registrar.
  std::vector<const dialog::binding*> bindings(std::string_view aor) {
    return registrar_ ? registrar_->lookup(aor, now()) : std::vector<const dialog::binding*>{};
  }
  dialog::registrar* registrar() noexcept { return registrar_ ? &*registrar_ : nullptr; }

  // The layers underneath, for what this API does not cover.
  dialog::session_layer& sessions() noexcept { return layer_; }
  transport::hub& transports() noexcept { return net_; }

  // Closes every transport (calls in progress are abandoned: hang them up first).
  void close() {
    closed_ = true;
    timer_.cancel();
    net_.close();
  }

  transaction::instant now() const {
    return std::chrono::duration_cast<transaction::instant>(std::chrono::steady_clock::now() - start_);
  }

 private:
  dialog::session_config layer_config() {
    dialog::session_config s = cfg_.session;
    s.media = cfg_.media;
    s.local_for = [this](const transaction::peer& p) {
      for (const auto& [reg, ob] : ob_contacts_)  // one per outbound account: a handful
        if (ob.flow == p.id) return dialog::local_address{net_.via_for(p), ob.contact};
      return dialog::local_address{net_.via_for(p), net_.contact_for(p)};
    };
    // A registration whose connection has closed (the registrar's doing, or
    // our idle timeout) registers over a new one.
    s.registrar_flow = [this](const dialog::registration_config& rc, const transaction::peer& last) {
      if (net_.flow_open(last)) return last;
      const next_hop hop = first_hop(rc.registrar);
      const transaction::peer fresh = hop.error.empty() ? net_.peer_for(hop.proto, hop.endpoint) : transaction::peer{};
      return fresh.id != 0 ? fresh : last;
    };
    return s;
  }
  call_error done(call_error e) {
    pump();
    return e;
  }

  // Where a request outside a call goes first: the outbound proxy, or the target itself.
  next_hop first_hop(std::string_view target) const {
    return proxy_route_.empty() ? resolve(target) : resolve(cfg_.outbound_proxy);
  }
  // The preloaded route set for an outbound proxy: <uri;lr>.
  static std::vector<std::string> route_through(std::string_view proxy) {
    if (proxy.empty()) return {};
    const auto u = sip::parse_uri(proxy, false);
    if (!u || !u->is_sip() || !resolve(proxy).error.empty())
      throw std::invalid_argument("outbound_proxy: not a sip: or sips: URI with an IP address");
    return {"<" + std::string(proxy) + (u->lr() ? ">" : ";lr>")};
  }

  void on_message(std::string bytes, transaction::peer from) {
    (void)layer_.receive(std::move(bytes), from, now());  // a message that does not parse is dropped (counted by the layer)
    pump();
  }
  void on_send_failed(transaction::tsx_id tsx) {
    layer_.transport_error(tsx, now());
    pump();
  }
  void on_flow_failed(transaction::peer flow) {
    std::erase_if(ob_contacts_, [&](const auto& entry) { return entry.second.flow == flow.id; });
    if (registrar_) registrar_->flow_failed(flow);
    layer_.flow_failed(flow, now());
    layer_.registrar_flow_failed(flow, now());  // RFC 5626 §4.4.1: register again at once
    pump();
  }

  // Hands the layer's output out: bytes to the transports, the rest to the
  // callbacks. A callback may call back in (answer() in on_incoming_call):
  // what that produces is handed out by the loop already running.
  void pump() {
    if (pumping_) return;
    pumping_ = true;
    // take_events swaps buffers with the layer: no allocation per message.
    for (layer_.take_events(events_); !events_.empty(); layer_.take_events(events_))
      for (dialog::session_event& e : events_) std::visit([this](auto& ev) { handle(ev); }, e);
    pumping_ = false;
    arm_timer();
  }
  void handle(transaction::send_event& s) { net_.send(s.to, std::move(s.data), s.id); }
  void handle(dialog::call_state_event& e) {
    if (cb_.on_call_state) cb_.on_call_state(e.call, e.to, e.last_status, e.reason);
    if (!forks_.empty()) settle_fork(e.call, e.to);
  }
  // make_call_all(): the first call of a group to get a 2xx ends the others;
  // a call that ends leaves its group.
  void settle_fork(call_id call, call_state state) {
    const auto it = forks_.find(key_of(call));
    if (it == forks_.end()) return;
    if (state == call_state::disconnected) forks_.erase(it);
    if (state != call_state::connecting && state != call_state::confirmed) return;  // still ringing, or gone
    const std::shared_ptr<std::vector<call_id>> group = std::move(it->second);
    forks_.erase(it);
    for (call_id other : *group)
      if (other != call && forks_.erase(key_of(other))) (void)layer_.hangup(other, now(), dialog::hangup_cause::completed_elsewhere);
  }
  static std::uint64_t key_of(call_id c) noexcept { return std::uint64_t{c.slot} << 32 | c.generation; }
  // A call to one binding: its Contact as Request-URI, the AOR in To (RFC
  // 3261 §16.5), through its Path (RFC 3327 §5.3) when it has one.
  make_call_result call_binding(const dialog::binding& b, std::string_view aor, bool late_offer,
                                std::span<const dialog::header_line> headers) {
    const transaction::peer to = reach(b);
    if (to.id == 0) return {{}, call_error::transaction_failed, "no transport for the registered contact"};
    const auto r = layer_.make_call(b.contact, cfg_.from, to, now(), late_offer, {.to_uri = aor, .route = b.path, .headers = headers});
    return {r.call, r.error, {}};
  }
  void handle(dialog::incoming_call_event& e) {
    if (cb_.on_incoming_call) cb_.on_incoming_call(e.call, *e.invite);
    else (void)layer_.answer(e.call, 480, now(), "No Handler");
  }
  void handle(dialog::media_event& e) {
    if (cb_.on_media) cb_.on_media(e.call, e.ok);
  }
  void handle(dialog::in_dialog_request_event& e) {
    if (cb_.on_in_call_request) cb_.on_in_call_request(e.call, e.request);
  }
  void handle(dialog::request_event& e) {
    const auto m = e.request.view().method();
    if (m == "REGISTER" && registrar_) return serve_register(e);
    int status = 405;
    if (m == "OPTIONS") status = 200;  // RFC 3261 §11.2
    else if (cb_.on_request) status = cb_.on_request(e.request);
    const dialog::header_line allow[] = {{"Allow", cfg_.session.allow}};
    (void)layer_.respond(e.tsx, e.request, status, now(), {}, status == 405 || status == 200 ? allow : std::span<const dialog::header_line>{});
  }
  void serve_register(dialog::request_event& e) {
    const dialog::register_reply reply = registrar_->handle_register(e.request.view(), e.from, now());
    const auto lines = reply.lines();
    (void)layer_.respond(e.tsx, e.request, reply.status, now(), reply.reason, lines);
    if (cb_.on_register) cb_.on_register(reply.aor, reply.status);
  }
  // The best live binding of `target` when it is a registered address-of-record.
  const dialog::binding* registered(std::string_view target) {
    return registrar_ ? registrar_->best(target, now()) : nullptr;
  }
  // Where a request to a binding goes first: the first proxy of its Path;
  // its flow when only that reaches the Contact; else the Contact. When
  // that is no IP address, the REGISTER's source: the client, or the proxy
  // nearest us on its Path.
  transaction::peer reach(const dialog::binding& b) {
    if (b.flow_only) return b.flow;
    name_addr first;
    const std::string_view uri = !b.path.empty() && parse_name_addr_to(b.path.front(), first, error::bad_route) == error{}
                                     ? first.address.raw
                                     : std::string_view(b.contact);
    const next_hop hop = resolve(uri);
    return hop.error.empty() ? net_.peer_for(hop.proto, hop.endpoint) : b.flow;
  }
  void handle(dialog::registration_event& e) {
    keep_flow_alive(e);
    if (cb_.on_registration) cb_.on_registration(e.reg, e);
  }
  // RFC 5626 §4.4: a registration the registrar confirmed as outbound keeps
  // its flow alive: STUN on UDP, at the Flow-Timer it asked for (a
  // connection pings by itself: options::keepalive_interval). §4.3: our
  // Contact over that flow says `ob` (in requests and answers alike, as
  // JsSIP and SIP.js write theirs), so that an edge proxy keeps the
  // dialogs it opens on the flow.
  void keep_flow_alive(const dialog::registration_event& e) {
    using state = dialog::registration_state;
    if (e.state == state::registered && e.outbound) {
      const auto every = e.flow_timer ? std::chrono::seconds(e.flow_timer) : cfg_.transport.udp_keepalive_interval;
      (void)net_.keep_alive(e.flow, every);
      ob_contacts_[e.reg.index] = {e.flow.id, std::string(net_.contact_for(e.flow)) + ";ob"};  // a new flow replaces the old
    } else if (e.state == state::unregistered || e.state == state::failed) {
      net_.stop_keep_alive(e.flow);
      ob_contacts_.erase(e.reg.index);
    }
  }
  void handle(dialog::request_result_event& e) {
    if (cb_.on_request_result) cb_.on_request_result(e.tsx, e.status, e.reason);
  }
  void handle(transaction::stray_response_event&) {}  // a response to nothing we sent: nothing to do (RFC 3261 §8.1.3.2)
  void handle(transaction::overloaded_event& e) {     // the transaction table is full: 503 statelessly
    layer_.respond_stateless(e.msg, e.from, 503);
  }

  // One steady_timer at the layer's next deadline. It is re-armed only when
  // the deadline moves earlier; a wake-up for a deadline that moved later
  // just runs on_timer (nothing due) and re-arms: no timer system call per message.
  void arm_timer() {
    if (closed_) return;
    const auto next = layer_.next_deadline();
    if (!next || (armed_ && *next >= armed_at_)) return;
    armed_ = true;
    armed_at_ = *next;
    timer_.expires_at(start_ + *next);
    timer_.async_wait([this, alive = alive_](std::error_code ec) {
      if (!*alive || ec == asio::error::operation_aborted) return;
      armed_ = false;
      layer_.on_timer(now());
      pump();
    });
  }

  config cfg_;
  callbacks cb_;
  core::random_stream random_;  // tags, Call-IDs, branches: RFC 3261 §19.3 wants them cryptographically random
  transport::hub net_;
  dialog::session_layer layer_;
  asio::steady_timer timer_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::vector<std::string> proxy_route_;  // config::outbound_proxy as a route set; empty without one
  // RFC 5626 §4.3: our Contact with `ob` on the flow of each confirmed
  // outbound registration, by registration.
  struct ob_contact {
    std::uint64_t flow = 0;
    std::string contact;
  };
  std::unordered_map<std::uint32_t, ob_contact> ob_contacts_;
  std::optional<dialog::registrar> registrar_;
  // make_call_all()'s calls still ringing, by call: each with its whole group.
  std::unordered_map<std::uint64_t, std::shared_ptr<std::vector<call_id>>> forks_;
  std::vector<dialog::session_event> events_;
  transaction::instant armed_at_{};
  bool armed_ = false, pumping_ = false, closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  ~user_agent() { *alive_ = false; }
};

}  // namespace sigwire::sip::ua
