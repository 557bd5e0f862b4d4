// Two in-memory user agents, A and B, on one virtual clock, driven by a
// script (tests/sip/dialog_test.cpp). Every message one UA sends is handed
// to the other at the same instant unless the script drops it; everything
// either UA does is one line of output, and the script must expect each
// line, in order, before its next input.
//
//   config t1=500 media=yes|no|A|B transport=udp|tcp|tls password=P 100rel=no|yes|A|B
//        se=N se_a=N se_b=N minse_a=N minse_b=N refresh=update|invite
//                                        (first line only; P: A's password; 100rel: who uses RFC 3262;
//                                         se: Session-Expires both ask for, se_a/se_b: one's own (0: none);
//                                         minse_*: each one's Min-SE; refresh: how a refresher refreshes
//                                         when the peer allows UPDATE; noupdate=A|B: that one's Allow
//                                         lists no UPDATE)
//   A call [late] [sips] [proxy]   A calls B (late: INVITE without an offer; sips: to sips:bob@192.0.2.2:5061;
//                                      proxy: with the preloaded route <sip:proxy.example.com;lr>, B in its place)
//   B answer STATUS            B answers its incoming call
//   A hangup [elsewhere] | B reinvite [hold|resume|nooffer] | A update [hold|resume] | A info
//   A send METHOD [cseq=N] [totag=T] [rack] [sdp=sendonly|sendrecv]   a request in A's dialog built outside
//                                      A's layer (A sees its response as stray); rack: RAck for the last
//                                      reliable 1xx delivered (its RSeq, CSeq 1 INVITE); sdp: an
//                                      offer, A's active session with that direction
//   A fork STATUS TAG [reliable] [sdp=PORT]   B answers the INVITE again as another UAS (a second To tag;
//                                      reliable: RSeq 7; sdp: with an answer from 192.0.2.3:PORT)
//   A register [expires=N] [password=P] [proxy] | A unregister    A registers at B (B sees "outside REGISTER")
//   B respond STATUS [expires=N] [challenge=ALG]   B answers the last request outside a call (with the
//                                      Contact;expires=N; with a Digest challenge, realm example.com)
//   A message [proxy]                  A sends MESSAGE to B outside a call ("expect A result status=N": its outcome)
//   B challenge 401|407 ALGS [stale]   B answers its call with a Digest challenge per algorithm (realm example.com)
//   expect verified 401|407 PASSWORD [outside]   the last INVITE (or request outside a call) B got carries
//                                      right credentials for the last challenge
//   drop A->B WHAT [times=N]   the next N messages A sends to B that start with WHAT are lost
//   rewrite A->B WHAT HEADER VALUE   the next message A sends to B that starts with WHAT has HEADER's
//                                      value replaced ("_" in VALUE stands for a space): a peer that lies
//   advance MS
//   expect A->B FIRST [@MS] [has=TEXT]     ("_" in TEXT stands for a space; FIRST: method or status)
//   expect A->B FIRST lost                 a dropped message
//   expect A state STATE [status=N]
//   expect A incoming | expect A media ok|failed | expect A request METHOD
//   expect calls A=N B=N
//   expect sdp A DIRECTION                 the direction A's active local SDP gives its audio stream
//   expect stream A DIRECTION              the negotiated direction of A's audio stream, from A's side
//   expect remote A ADDRESS:PORT           where A's audio stream goes (the peer's c= and m= port)
#pragma once

#include <sigwire/sdp/presets.hpp>
#include <sigwire/sip/dialog/session_layer.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace dialog_script {

namespace sip = sigwire::sip;
namespace dlg = sigwire::sip::dialog;
namespace tx = sigwire::sip::transaction;
namespace sdp = sigwire::sdp;

inline std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> w;
  std::istringstream in{std::string(line)};
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

inline std::map<std::string, std::string, std::less<>> options_of(const std::vector<std::string>& w, std::size_t from) {
  std::map<std::string, std::string, std::less<>> o;
  for (std::size_t i = from; i < w.size(); ++i) {
    const auto eq = w[i].find('=');
    if (eq == std::string::npos) o[w[i]] = "";
    else o[w[i].substr(0, eq)] = w[i].substr(eq + 1);
  }
  return o;
}

// "proxy" on an action's line: the request goes through an outbound proxy (B plays it).
inline const std::string proxy_route = "<sip:proxy.example.com;lr>";
inline std::span<const std::string> route_if(const std::vector<std::string>& w) {
  if (std::find(w.begin() + 2, w.end(), "proxy") == w.end()) return {};
  return {&proxy_route, 1};
}

inline sdp::capabilities audio_capabilities() {
  return sdp::presets::plain_audio("192.0.2.10", 49170, {sdp::presets::pcmu(), sdp::presets::telephone_event()});
}

inline std::string first_word(std::string_view bytes) {
  if (bytes.starts_with("SIP/2.0 ")) return std::string(bytes.substr(8, 3));
  return std::string(bytes.substr(0, bytes.find(' ')));
}

struct output {
  long at;
  std::string text;    // "A->B INVITE", "A state calling 0", "B incoming", ...
  std::string bytes;   // for messages
  bool lost = false;
  int status = 0;      // for states: the call's last status
};

class runner {
 public:
  runner(std::string name, std::string_view script) : name_(std::move(name)), script_(script) {}

  void run() {
    std::istringstream in{std::string(script_)};
    bool first = true;
    if (std::getenv("DIALOG_TRACE")) std::cerr << "### " << name_ << "\n";
    for (std::string line; std::getline(in, line);) {
      const auto w = words(line);
      if (w.empty() || w[0].starts_with('#')) continue;
      ++step_;
      INFO(name_ << " step " << step_ << ": " << line);
      if (first && w[0] == "config") {
        if (std::getenv("DIALOG_TRACE")) std::cerr << "    " << join(w, 0) << "\n";
        configure(options_of(w, 1));
        first = false;
        continue;
      }
      if (first) configure({});
      first = false;
      if (w[0] == "expect") expect(w);
      else {
        require_all_expected(line);
        if (std::getenv("DIALOG_TRACE")) std::cerr << "    " << join(w, 0) << "\n";
        input(w);
      }
    }
    require_all_expected("end of script");
  }

 private:
  struct ua {
    std::unique_ptr<dlg::session_layer> layer;
    dlg::call_id call{};
    std::string name;
    dlg::registration_id reg{};
    std::optional<sip::message> outside;  // the last request outside a call
    tx::tsx_id outside_tsx{};
    tx::tsx_id sent_outside{};            // what send_outside_dialog() returned
  };

  void configure(const std::map<std::string, std::string, std::less<>>& o) {
    const auto get = [&](std::string_view k, std::string d) {
      const auto it = o.find(k);
      return it == o.end() ? d : it->second;
    };
    const std::string transport = get("transport", "udp");
    reliable_ = transport != "udp";
    const bool tls = transport == "tls";
    const std::string media = get("media", "yes");
    for (int i = 0; i < 2; ++i) {
      dlg::session_config cfg;
      cfg.transactions.timers.t1 = std::chrono::milliseconds(std::stol(get("t1", "500")));
      const std::string host = i == 0 ? "192.0.2.1" : "192.0.2.2";
      cfg.via = std::string("SIP/2.0/") + (tls ? "TLS " : reliable_ ? "TCP " : "UDP ") + host + (tls ? ":5061" : ":5060");
      cfg.contact = std::string(i == 0 ? "sip:alice@" : "sip:bob@") + host + (tls ? ":5061;transport=tls" : ":5060");
      if (media == "yes" || media == (i == 0 ? "A" : "B")) cfg.media = audio_capabilities();
      cfg.use_100rel = get("100rel", "no") == "yes" || get("100rel", "no") == (i == 0 ? "A" : "B");
      cfg.session_expires = static_cast<std::uint32_t>(std::stoul(get(i == 0 ? "se_a" : "se_b", get("se", "1800"))));
      cfg.refresh_by_update = get("refresh", "update") == "update";
      if (get("noupdate", "") == (i == 0 ? "A" : "B")) cfg.allow = "INVITE, ACK, CANCEL, BYE, OPTIONS";
      cfg.min_se = static_cast<std::uint32_t>(std::stoul(get(i == 0 ? "minse_a" : "minse_b", "90")));
      if (i == 0 && o.count("password")) cfg.credentials = {{.realm = "", .username = "alice", .password = get("password", "")}};
      std::uint64_t seed = i == 0 ? 1000 : 2000;
      uas_[i].name = i == 0 ? "A" : "B";
      uas_[i].layer = std::make_unique<dlg::session_layer>(cfg, [seed]() mutable { return seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; });
    }
  }

  ua& by_name(std::string_view n) {
    REQUIRE((n == "A" || n == "B"));
    return uas_[n == "A" ? 0 : 1];
  }
  ua& other(const ua& u) { return &u == &uas_[0] ? uas_[1] : uas_[0]; }
  tx::peer peer_of(const ua& u) const { return {&u == &uas_[0] ? 1u : 2u, reliable_}; }

  void input(const std::vector<std::string>& w) {
    if (w[0] == "advance") return advance(std::stol(w.at(1)));
    if (w[0] == "drop") {
      drops_.push_back({w.at(1), w.at(2), w.size() > 3 ? std::stoi(options_of(w, 3)["times"]) : 1});
      return;
    }
    if (w[0] == "rewrite") {  // rewrite B->A 200 HEADER VALUE: the next such message, with that header's value replaced
      std::string value = w.at(4);
      std::replace(value.begin(), value.end(), '_', ' ');
      rewrites_.push_back({w.at(1), w.at(2), w.at(3), value});
      return;
    }
    ua& u = by_name(w[0]);
    const std::string& action = w.at(1);
    const auto now = std::chrono::milliseconds(now_);
    if (action == "call") {
      const bool late = std::find(w.begin() + 2, w.end(), "late") != w.end();
      const bool sips = std::find(w.begin() + 2, w.end(), "sips") != w.end();
      const auto r = u.layer->make_call(sips ? "sips:bob@192.0.2.2:5061" : "sip:bob@192.0.2.2:5060", "<sip:alice@example.com>",
                                        peer_of(other(u)), now, late, {.route = route_if(w)});
      REQUIRE(r);
      u.call = r.call;
    } else if (action == "answer") {
      REQUIRE(u.layer->answer(u.call, std::stoi(w.at(2)), now) == dlg::call_error::ok);
    } else if (action == "hangup") {
      const auto cause = w.size() > 2 && w[2] == "elsewhere" ? dlg::hangup_cause::completed_elsewhere : dlg::hangup_cause::normal;
      REQUIRE(u.layer->hangup(u.call, now, cause) == dlg::call_error::ok);
    } else if (action == "shrink") {
      u.layer->shrink_buffers();
    } else if (action == "reinvite") {
      std::optional<sdp::direction> d;
      const std::string how = w.size() > 2 ? w[2] : "";
      if (how == "hold" || how == "resume") d = how == "hold" ? sdp::direction::sendonly : sdp::direction::sendrecv;
      REQUIRE(u.layer->reinvite(u.call, now, d, how != "nooffer") == dlg::call_error::ok);
    } else if (action == "update") {
      std::optional<sdp::direction> d;
      const std::string how = w.size() > 2 ? w[2] : "";
      if (how == "hold" || how == "resume") d = how == "hold" ? sdp::direction::sendonly : sdp::direction::sendrecv;
      REQUIRE(u.layer->update(u.call, now, d) == dlg::call_error::ok);
    } else if (action == "info") {
      REQUIRE(u.layer->send_request(u.call, sip::method::info, "application/dtmf-relay", "Signal=5\r\n", now) ==
              dlg::call_error::ok);
    } else if (action == "challenge") {  // B challenge 401|407 ALG[,ALG...] [stale]
      const int status = std::stoi(w.at(2));
      std::vector<std::string> values;
      std::string algs = w.at(3);
      for (std::size_t p = 0; p <= algs.size();) {
        const std::size_t e = std::min(algs.find(',', p), algs.size());
        values.push_back(sip::challenge_value("example.com", "n" + std::to_string(step_),
                                              *sip::parse_algorithm(algs.substr(p, e - p)), {}, w.size() > 4));
        p = e + 1;
      }
      std::vector<dlg::header_line> lines;
      for (const std::string& v : values) lines.push_back({status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate", v});
      REQUIRE(u.layer->answer(u.call, status, now, {}, lines) == dlg::call_error::ok);
      last_nonce_ = "n" + std::to_string(step_);
    } else if (action == "register") {  // A register [expires=N]: at the other UA as registrar
      auto o = options_of(w, 2);
      dlg::registration_config cfg{.registrar = "sip:example.com", .aor = "<sip:alice@example.com>",
                                   .contact = "sip:alice@192.0.2.1:5060"};
      if (o.count("expires")) cfg.expires = static_cast<std::uint32_t>(std::stoul(o["expires"]));
      if (o.count("password")) cfg.credentials = {{.realm = "", .username = "alice", .password = o["password"]}};
      if (o.count("proxy")) cfg.route = {proxy_route};
      u.reg = u.layer->add_registration(cfg, peer_of(other(u)), now);
    } else if (action == "unregister") {
      REQUIRE(u.layer->unregister(u.reg, now) == dlg::call_error::ok);
    } else if (action == "respond") {  // B respond STATUS [expires=N]: to the last request outside a call
      REQUIRE(u.outside);
      auto o = options_of(w, 3);
      std::string contact;
      if (o.count("expires")) contact = std::string(u.outside->view().find(sip::header_id::contact)->value) + ";expires=" + o["expires"];
      std::vector<dlg::header_line> lines;
      if (!contact.empty()) lines.push_back({"Contact", contact});
      const int status = std::stoi(w.at(2));
      std::string challenge;
      if (o.count("challenge")) {
        challenge = sip::challenge_value("example.com", "n" + std::to_string(step_), *sip::parse_algorithm(o["challenge"]), {}, false);
        lines.push_back({status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate", challenge});
        last_nonce_ = "n" + std::to_string(step_);
      }
      REQUIRE(u.layer->respond(u.outside_tsx, *u.outside, status, now, {}, lines) == tx::layer_error::ok);
    } else if (action == "message") {
      const auto sent = u.layer->send_outside_dialog(sip::method::message, "sip:bob@example.com", "<sip:alice@example.com>",
                                                     peer_of(other(u)), "text/plain", "hi", now, {.route = route_if(w)});
      REQUIRE(sent);
      u.sent_outside = sent.id;
    } else if (action == "fork") {
      auto o = options_of(w, 4);
      fork_answer(u, std::stoi(w.at(2)), w.at(3), o.count("reliable") != 0, o.count("sdp") ? std::stoi(o["sdp"]) : 0);
    } else if (action == "send") {
      send_raw(u, w);
    } else {
      FAIL("unknown action " << action);
    }
    pump();
  }

  // B answers the INVITE it received again, as a second UAS behind a forking
  // proxy would: the same response with another To tag, straight to A.
  // sdp_port != 0: with an SDP answer to the INVITE's offer from 192.0.2.3:sdp_port.
  void fork_answer(ua& u, int status, const std::string& tag, bool reliable, int sdp_port) {
    REQUIRE(!last_invite_.empty());
    sip::message invite;
    REQUIRE_FALSE(sip::message::parse(last_invite_, invite));
    std::string answer;
    if (sdp_port != 0) {
      sdp::negotiator carol(sdp::presets::plain_audio("192.0.2.3", static_cast<std::uint16_t>(sdp_port), {sdp::presets::pcmu()}));
      REQUIRE_FALSE(carol.create_with_remote_offer(invite->body()));
      REQUIRE_FALSE(carol.create_answer());
      answer = carol.local_sdp();
    }
    std::string buffer(4096, '\0');
    sip::builder b(buffer, answer);
    REQUIRE_FALSE(sip::response_from_request(b, invite.view(), status, status < 200 ? "Ringing" : "OK", tag));
    if (!answer.empty()) b.header("Content-Type", "application/sdp");
    b.header("Contact", "<sip:carol@192.0.2.3:5060>");
    if (reliable) b.header("Require", "100rel").header("RSeq", "7");
    const auto done = b.finish();
    REQUIRE(done);
    deliver(u, std::string(done.value));
  }

  // A raw request from u's side in its dialog with fields changed:
  //   X send BYE cseq=1     (an out-of-order BYE), X send INFO totag=nope
  void send_raw(ua& u, const std::vector<std::string>& w) {
    const dlg::dialog* d = u.layer->dialog_of(u.call);
    REQUIRE(d != nullptr);
    auto o = options_of(w, 3);
    dlg::dialog copy = *d;
    std::string bytes, offer, rack;
    std::vector<dlg::header_line> lines;
    if (o.count("rack")) {  // rack: RAck <the last reliable 1xx's RSeq> 1 INVITE
      REQUIRE(!last_rseq_.empty());
      rack = last_rseq_ + " 1 INVITE";
      lines.push_back({"RAck", rack});
    }
    if (o.count("sdp")) {  // sdp=DIRECTION: an offer, u's active session with that direction
      const sdp::negotiator* n = u.layer->negotiator_of(u.call);
      REQUIRE((n != nullptr && n->active_local().has_value()));
      sdp::session s = *n->active_local();
      for (sdp::media& m : s.media) m.set_direction(o["sdp"] == "sendonly" ? sdp::direction::sendonly : sdp::direction::sendrecv);
      s.origin.session_version = std::to_string(std::stoull(s.origin.session_version) + 1);
      offer = s.to_string();
    }
    const std::string branch = "z9hG4bKraw" + std::to_string(step_);
    const dlg::request_options options{.via = "SIP/2.0/UDP 192.0.2.9:5060", .branch = branch,
                                       .content_type = offer.empty() ? "" : "application/sdp", .body = offer, .headers = lines};
    REQUIRE(copy.create_request(sip::parse_method(w.at(2)), options, bytes) == dlg::dialog_error::ok);
    if (o.count("cseq")) {
      const auto p = bytes.find("CSeq: ");
      const auto e = bytes.find(' ', p + 6);
      bytes.replace(p + 6, e - (p + 6), o["cseq"]);
    }
    if (o.count("totag")) {
      const auto p = bytes.find(";tag=" + copy.id().remote_tag);
      REQUIRE(p != std::string::npos);
      bytes.replace(p + 5, copy.id().remote_tag.size(), o["totag"]);
    }
    deliver(u, bytes);
  }

  void deliver(ua& from, std::string bytes) {
    record(from, "message", bytes);
    pump();
  }

  // Moves every output of both UAs into the trace, delivering messages to the other UA as they come.
  void pump() {
    for (int guard = 0; guard < 10000; ++guard) {
      bool any = false;
      for (ua& u : uas_) {
        std::vector<dlg::session_event> events = u.layer->take_events();
        for (auto& e : events) {
          any = true;
          on_event(u, e);
        }
      }
      if (pending_.empty() && !any) return;
      while (!pending_.empty()) {
        auto [to, bytes] = std::move(pending_.front());
        pending_.pop_front();
        if (bytes.starts_with("INVITE")) last_invite_ = bytes;
        if (const auto rseq = bytes.find("\r\nRSeq: "); rseq != std::string::npos)
          last_rseq_ = bytes.substr(rseq + 8, bytes.find('\r', rseq + 8) - (rseq + 8));
        (void)to->layer->receive(bytes, peer_of(other(*to)), std::chrono::milliseconds(now_));
        break;  // one delivery, then collect what it caused
      }
    }
    FAIL("the two UAs never went quiet");
  }

  void record(ua& from, std::string_view, std::string bytes) {
    ua& to = other(from);
    const std::string what = first_word(bytes);
    for (auto it = rewrites_.begin(); it != rewrites_.end(); ++it) {
      if (it->path != from.name + "->" + to.name || it->what != what) continue;
      const auto at = bytes.find("\r\n" + it->header + ": ");
      REQUIRE(at != std::string::npos);
      const auto start = at + 2 + it->header.size() + 2;
      bytes.replace(start, bytes.find('\r', start) - start, it->value);
      rewrites_.erase(it);
      break;
    }
    output o{now_, from.name + "->" + to.name + " " + what, bytes};
    for (auto it = drops_.begin(); it != drops_.end(); ++it) {
      if (it->path == from.name + "->" + to.name && it->what == what) {
        o.lost = true;
        if (--it->times == 0) drops_.erase(it);
        break;
      }
    }
    if (!o.lost) pending_.emplace_back(&to, bytes);
    trace_.push_back(std::move(o));
  }

  void on_event(ua& u, dlg::session_event& e) {
    if (auto* s = std::get_if<tx::send_event>(&e)) return record(u, "send", std::string(s->bytes()));
    if (auto* s = std::get_if<dlg::call_state_event>(&e)) {
      trace_.push_back({now_, u.name + " state " + std::string(dlg::text(s->to)), {}, false, s->last_status});
      return;
    }
    if (auto* s = std::get_if<dlg::incoming_call_event>(&e)) {
      u.call = s->call;
      trace_.push_back({now_, u.name + " incoming", {}});
      return;
    }
    if (auto* s = std::get_if<dlg::media_event>(&e)) {
      trace_.push_back({now_, u.name + " media " + (s->ok ? "ok" : "failed"), {}});
      return;
    }
    if (auto* s = std::get_if<dlg::in_dialog_request_event>(&e)) {
      trace_.push_back({now_, u.name + " request " + std::string(s->request.view().method()), {}});
      return;
    }
    if (auto* s = std::get_if<dlg::request_event>(&e)) {
      trace_.push_back({now_, u.name + " outside " + std::string(s->request.view().method()), {}});
      u.outside_tsx = s->tsx;
      u.outside = std::move(s->request);
      return;
    }
    if (auto* s = std::get_if<dlg::registration_event>(&e)) {
      trace_.push_back({now_, u.name + " registration " + std::string(dlg::text(s->state)), {}, false, s->last_status});
      return;
    }
    if (auto* s = std::get_if<dlg::request_result_event>(&e)) {
      CHECK(s->tsx == u.sent_outside);  // reported under the id the user got, retries or not
      trace_.push_back({now_, u.name + " result", {}, false, s->status});
      return;
    }
    if (auto* s = std::get_if<tx::stray_response_event>(&e)) {
      trace_.push_back({now_, u.name + " stray " + std::to_string(s->msg.view().status()), {}});
      return;
    }
    trace_.push_back({now_, u.name + " overloaded", {}});
  }

  void advance(long ms) {
    const long end = now_ + ms;
    for (;;) {
      long next = end;
      for (ua& u : uas_)
        if (auto d = u.layer->next_deadline()) next = std::min(next, std::max<long>(d->count(), now_));
      now_ = next;
      for (ua& u : uas_) u.layer->on_timer(std::chrono::milliseconds(now_));
      pump();
      if (now_ >= end) {
        bool due = false;
        for (ua& u : uas_)
          if (auto d = u.layer->next_deadline()) due = due || d->count() <= now_;
        if (!due) return;
      }
    }
  }

  void expect(const std::vector<std::string>& w) {
    REQUIRE(w.size() >= 2);
    if (std::getenv("DIALOG_TRACE") && w[1] != "calls" && w[1] != "sdp" && w[1] != "verified") return;
    if (std::getenv("DIALOG_TRACE")) {
      require_all_expected("");
      std::cerr << "    " << join(w, 0) << "\n";
    }
    if (w[1] == "calls") {
      auto o = options_of(w, 2);
      CHECK(uas_[0].layer->calls() == std::stoul(o["A"]));
      CHECK(uas_[1].layer->calls() == std::stoul(o["B"]));
      return;
    }
    if (w[1] == "verified") {  // expect verified 401|407 PASSWORD [outside]: the last request's credentials are right
      const bool outside = w.size() > 4 && w[4] == "outside";
      sip::message request;
      if (outside) {
        REQUIRE(by_name("B").outside);
        request = by_name("B").outside->clone();
      } else {
        REQUIRE(!last_invite_.empty());
        REQUIRE_FALSE(sip::message::parse(last_invite_, request));
      }
      const auto* h = request->find(w.at(2) == "401" ? sip::header_id::authorization : sip::header_id::proxy_authorization);
      REQUIRE(h != nullptr);
      CHECK_FALSE(sip::verify(h->value, request->method(), w.at(3), "example.com", last_nonce_));
      return;
    }
    if (w[1] == "sdp") {
      const sdp::negotiator* n = by_name(w.at(2)).layer->negotiator_of(by_name(w.at(2)).call);
      REQUIRE(n != nullptr);
      REQUIRE(n->active_local().has_value());
      CHECK(n->local_sdp().find("a=" + w.at(3)) != std::string::npos);
      return;
    }
    if (w[1] == "remote") {  // expect remote A ADDRESS:PORT
      const sdp::negotiator* n = by_name(w.at(2)).layer->negotiator_of(by_name(w.at(2)).call);
      REQUIRE(n != nullptr);
      REQUIRE_FALSE(n->streams().empty());
      CHECK(n->streams()[0].remote_address + ":" + std::to_string(n->streams()[0].remote_port) == w.at(3));
      return;
    }
    if (w[1] == "stream") {
      const sdp::negotiator* n = by_name(w.at(2)).layer->negotiator_of(by_name(w.at(2)).call);
      REQUIRE(n != nullptr);
      REQUIRE_FALSE(n->streams().empty());
      CHECK(sdp::to_string(n->streams()[0].direction) == w.at(3));
      return;
    }
    REQUIRE_MESSAGE(!trace_.empty(), "expected " << join(w, 1) << " but nothing more happened");
    output o = std::move(trace_.front());
    trace_.pop_front();
    // expect A->B INVITE ... / expect A state calling [status=N] / expect A incoming ...
    std::string want;
    std::size_t opts_from;
    if (w[1].find("->") != std::string::npos) {
      want = w[1] + " " + w.at(2);
      opts_from = 3;
    } else if (w.at(2) == "state") {
      want = w[1] + " state " + w.at(3);
      opts_from = 4;
    } else if (w.at(2) == "media" || w.at(2) == "request" || w.at(2) == "outside" || w.at(2) == "stray" ||
               w.at(2) == "registration") {
      want = w[1] + " " + w[2] + " " + w.at(3);
      opts_from = 4;
    } else {
      want = w[1] + " " + w.at(2);
      opts_from = 3;
    }
    const std::string& got = o.text;
    INFO("got: " << o.text << " @" << o.at << std::string(o.bytes.empty() ? "" : "\n") << o.bytes);
    CHECK(got == want);
    for (std::size_t i = opts_from; i < w.size(); ++i) {
      const std::string& opt = w[i];
      if (opt.starts_with('@')) CHECK(o.at == std::stol(opt.substr(1)));
      else if (opt == "lost") CHECK(o.lost);
      else if (opt.starts_with("status=")) CHECK(o.status == std::stoi(opt.substr(7)));
      else if (opt.starts_with("has=")) {
        std::string t = opt.substr(4);
        for (char& c : t)
          if (c == '_') c = ' ';
        CHECK_MESSAGE(o.bytes.find(t) != std::string::npos, "missing: " << t);
      } else if (opt.starts_with("hasnot=")) {
        std::string t = opt.substr(7);
        for (char& c : t)
          if (c == '_') c = ' ';
        CHECK_MESSAGE(o.bytes.find(t) == std::string::npos, "present: " << t);
      } else FAIL("unknown option " << opt);
    }
    if (!o.lost && o.text.find("->") != std::string::npos) CHECK_FALSE(o.bytes.empty());
  }

  void require_all_expected(std::string_view where) {
    if (trace_.empty()) return;
    if (std::getenv("DIALOG_TRACE")) {  // writing a script: print what happened instead of failing
      for (const output& o : trace_) {
        std::cerr << "    expect " << o.text << " @" << o.at << (o.lost ? " lost" : "")
                  << (o.text.find(" state ") != std::string::npos || o.text.find(" registration ") != std::string::npos
                       ? " status=" + std::to_string(o.status) : "") << "\n";
        if (std::getenv("DIALOG_TRACE")[0] == '2')
          for (std::size_t p = 0, e; p < o.bytes.size(); p = e + 2) {
            e = o.bytes.find("\r\n", p);
            if (e == std::string::npos) e = o.bytes.size();
            std::cerr << "        | " << o.bytes.substr(p, e - p) << "\n";
          }
      }
      trace_.clear();
      return;
    }
    std::string rest;
    for (const output& o : trace_)
      rest += "    expect " + o.text + " @" + std::to_string(o.at) + (o.lost ? " lost" : "") +
              (o.text.find(" state ") != std::string::npos ? " status=" + std::to_string(o.status) : "") + "\n";
    FAIL("unexpected output before " << where << ":\n" << rest);
  }

  static std::string join(const std::vector<std::string>& w, std::size_t from) {
    std::string s;
    for (std::size_t i = from; i < w.size(); ++i) s += (i > from ? " " : "") + w[i];
    return s;
  }

  struct drop {
    std::string path, what;
    int times;
  };

  std::string name_;
  std::string_view script_;
  int step_ = 0;
  long now_ = 0;
  bool reliable_ = false;
  ua uas_[2];
  std::deque<output> trace_;
  std::deque<std::pair<ua*, std::string>> pending_;
  std::vector<drop> drops_;
  struct rewrite {
    std::string path, what, header, value;
  };
  std::vector<rewrite> rewrites_;
  std::string last_invite_;
  std::string last_rseq_;  // of the last reliable 1xx delivered
  std::string last_nonce_;
};

inline void run(std::string name, std::string_view script) { runner(std::move(name), script).run(); }

}  // namespace dialog_script
