// A small interpreter for transaction-layer scripts (tests/sip/transaction_test.cpp).
//
// A script is text, one step per line, run on a virtual clock that starts at
// 0 ms. Inputs: `user ...` (the transaction user acts), `wire ...` (a message
// arrives), `advance MS` (time passes; every deadline on the way fires at its
// own instant). Everything the layer emits must be expected, in order, before
// the next input: `expect wire ...` takes the next message sent, `expect user
// ...` / `expect state ...` the next event for the user. `@MS` asserts the
// virtual time an output was produced at.
//
//   config t1=500 max=1                    (first lines only)
//   transport udp|tcp
//   user request METHOD [branch=B] [cseq=N] [error=E]
//   user respond STATUS [to=METHOD] [error=E]
//   user cancel [error=E]
//   user transport-error [to=METHOD]
//   user flow-failed [flow=N] ended=N      (the flow of every step is 1)
//   wire request METHOD [branch=B|nocookie] [cseq=N] [totag=T] [fromtag=F] [callid=C] [error=E]
//   wire response STATUS [to=METHOD] [branch=B]
//   wire file NAME                         (a message of the RFC 4475 corpus)
//   advance MS
//   expect wire FIRST [@MS] [has=TEXT]     (FIRST: a method or a status code;
//                                           "_" in TEXT stands for a space)
//   expect user request METHOD [merged] [cancels=METHOD] [notsx]
//   expect user response STATUS [retransmission]
//   expect user stray STATUS
//   expect user overloaded
//   expect state TO CAUSE [role=ROLE] [@MS]
//   expect size N
//   expect deadline MS|none
#pragma once

#include <sigwire/sip/transaction/layer.hpp>

#include "corpus.hpp"

#include <doctest/doctest.h>

#include <charconv>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace tsx_script {

namespace sip = sigwire::sip;
namespace tx = sigwire::sip::transaction;
using namespace std::chrono_literals;

inline std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> w;
  std::istringstream in{std::string(line)};
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

// key=value options of a step; bare words are flags ("merged").
struct options {
  std::map<std::string, std::string, std::less<>> values;
  std::optional<long> at;  // @MS

  static options of(const std::vector<std::string>& w, std::size_t from) {
    options o;
    for (std::size_t i = from; i < w.size(); ++i) {
      const std::string& s = w[i];
      if (s.starts_with('@')) {
        o.at = std::stol(s.substr(1));
        continue;
      }
      const auto eq = s.find('=');
      if (eq == std::string::npos) o.values[s] = "";
      else o.values[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return o;
  }
  bool has(std::string_view k) const { return values.find(k) != values.end(); }
  std::string get(std::string_view k, std::string fallback = {}) const {
    const auto it = values.find(k);
    return it == values.end() ? fallback : it->second;
  }
};

// What a request in a script looks like (one dialog-less call: Alice to Bob).
struct request_spec {
  std::string method;
  std::optional<std::string> branch = "z9hG4bKb1";  // nullopt: no branch (RFC 2543)
  unsigned cseq = 1;
  std::string cseq_method{};  // defaults to method
  std::string to_tag{}, from_tag = "a1", call_id = "c1@192.0.2.1";
  std::string sent_by = "192.0.2.1:5060";
};

inline std::string request_text(const request_spec& s, bool reliable) {
  std::string r = s.method + " sip:bob@example.com SIP/2.0\r\n";
  r += std::string("Via: SIP/2.0/") + (reliable ? "TCP " : "UDP ") + s.sent_by;
  if (s.branch) r += ";branch=" + *s.branch;
  r += "\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=" + s.from_tag + "\r\n";
  r += "To: <sip:bob@example.com>" + (s.to_tag.empty() ? std::string{} : ";tag=" + s.to_tag) + "\r\n";
  r += "Call-ID: " + s.call_id + "\r\nCSeq: " + std::to_string(s.cseq) + " " +
       (s.cseq_method.empty() ? s.method : s.cseq_method) + "\r\nContent-Length: 0\r\n\r\n";
  return r;
}

// A response to `request` as RFC 3261 §8.2.6.2 builds it; To gets `to_tag`
// for anything but 100 when it has none.
inline std::string response_text(std::string_view request, int status, std::string_view to_tag) {
  sip::message req;
  REQUIRE_FALSE(sip::message::parse(std::string(request), req));
  std::string r = "SIP/2.0 " + std::to_string(status) + (status < 200 ? " Progress" : status < 300 ? " OK" : " Failed");
  r += "\r\n";
  for (const sip::header_field& h : req->headers()) {
    using sip::header_id;
    if (h.id != header_id::via && h.id != header_id::from && h.id != header_id::to && h.id != header_id::call_id &&
        h.id != header_id::cseq)
      continue;
    r.append(h.name).append(": ").append(h.value);
    if (h.id == header_id::to && status > 100 && !req->to()->has_tag) r.append(";tag=").append(to_tag);
    r += "\r\n";
  }
  return r + "Content-Length: 0\r\n\r\n";
}

struct timed_send {
  long at;
  tx::send_event e;
};
struct timed_event {
  long at;
  tx::event e;
};

class runner {
 public:
  runner(std::string name, std::string_view script) : name_(std::move(name)), script_(script) {}

  void run() {
    std::istringstream in{std::string(script_)};
    int number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      const auto w = words(line);
      if (w.empty() || w[0].starts_with('#')) continue;
      INFO(name_, " line ", number, ": ", line);
      step(w);
    }
    INFO(name_, " end of script");
    require_drained();
  }

 private:
  void step(const std::vector<std::string>& w) {
    if (w[0] == "config") return configure(options::of(w, 1));
    if (w[0] == "transport") {
      reliable_ = w.at(1) == "tcp";
      return;
    }
    if (w[0] == "expect") return expect(w);
    require_drained();  // every output of the last input was expected
    if (w[0] == "user") return user(w);
    if (w[0] == "wire") return wire(w);
    if (w[0] == "advance") return advance(std::stol(w.at(1)));
    FAIL("unknown step");
  }

  void configure(const options& o) {
    REQUIRE_FALSE(layer_);
    if (o.has("t1")) config_.timers.t1 = std::chrono::milliseconds(std::stol(o.get("t1")));
    if (o.has("max")) config_.max_transactions = std::stoul(o.get("max"));
  }

  tx::layer& layer() {
    if (!layer_) layer_.emplace(config_, [n = std::uint64_t{0}]() mutable { return ++n; });
    return *layer_;
  }
  tx::peer peer() const { return {1, reliable_}; }
  tx::instant now() const { return tx::instant{now_}; }

  void collect() {
    for (auto& e : layer().take_events()) {
      if (auto* s = std::get_if<tx::send_event>(&e)) sends_.push_back({now_, std::move(*s)});
      else events_.push_back({now_, std::move(e)});
    }
  }

  void require_drained() {
    collect();
    for (const auto& s : sends_) FAIL_CHECK("unexpected on the wire @", s.at, ": ", first_line(s.e.bytes()));
    for (const auto& e : events_) FAIL_CHECK("unexpected event @", e.at, ": ", describe(e.e));
    sends_.clear();
    events_.clear();
  }

  // --- inputs ---------------------------------------------------------------
  void user(const std::vector<std::string>& w) {
    const auto o = options::of(w, 2);
    const std::string expected_error = o.get("error", "ok");
    const std::string& what = w.at(1);
    if (what == "request") {
      request_spec spec{.method = w.at(2)};
      if (o.has("branch")) spec.branch = o.get("branch");
      if (o.has("cseq")) spec.cseq = static_cast<unsigned>(std::stoul(o.get("cseq")));
      return send_request(request_text(spec, reliable_), spec.method, expected_error);
    }
    if (what == "respond") {
      const int status = std::stoi(w.at(2));
      const std::string method = o.get("to", last_server_method_);
      REQUIRE(server_requests_.count(method));
      const auto err = layer().send_response(server_ids_[method], response_text(server_requests_[method], status, "s1"), now());
      CHECK(tx::text(err) == expected_error);
      return;
    }
    if (what == "cancel") {
      std::string cancel;
      const auto err = layer().create_cancel(client_ids_["INVITE"], cancel);
      CHECK(tx::text(err) == expected_error);
      if (err == tx::layer_error::ok) send_request(cancel, "CANCEL", "ok");
      return;
    }
    if (what == "transport-error") {
      const std::string method = o.get("to", last_client_method_);
      CHECK(layer().transport_error(client_ids_.count(method) ? client_ids_[method] : server_ids_[method], now()) ==
            tx::layer_error::ok);
      return;
    }
    if (what == "flow-failed") {
      const tx::peer flow{std::stoull(o.get("flow", "1")), reliable_};
      CHECK(layer().flow_failed(flow, now()) == std::stoull(o.get("ended", "")));
      return;
    }
    FAIL("unknown user step");
  }

  void send_request(std::string bytes, const std::string& method, const std::string& expected_error) {
    sip::message m;
    REQUIRE_FALSE(sip::message::parse(bytes, m));
    const auto r = layer().send_request(std::move(m), peer(), now());
    CHECK(tx::text(r.error) == expected_error);
    if (!r) return;
    client_ids_[method] = r.id;
    client_requests_[method] = std::move(bytes);
    last_client_method_ = method;
  }

  void wire(const std::vector<std::string>& w) {
    const auto o = options::of(w, 3);
    const std::string& what = w.at(1);
    if (what == "request") {
      request_spec spec{.method = w.at(2)};
      if (o.has("nocookie")) spec.branch.reset();
      if (o.has("branch")) spec.branch = o.get("branch");
      if (o.has("cseq")) spec.cseq = static_cast<unsigned>(std::stoul(o.get("cseq")));
      if (spec.method == "ACK" || spec.method == "CANCEL") spec.cseq_method = spec.method;
      spec.to_tag = o.get("totag");
      spec.from_tag = o.get("fromtag", spec.from_tag);
      spec.call_id = o.get("callid", spec.call_id);
      return deliver_request(request_text(spec, reliable_), o.get("error", "ok"));
    }
    if (what == "file") {
      REQUIRE_MESSAGE(sipt::have_corpus(), "RFC 4475 corpus missing");
      const std::string bytes = sipt::read_file(sipt::corpus_dir() / w.at(2));
      sip::parse_options datagram;
      datagram.transport = sip::transport_kind::datagram;
      sip::message m;
      REQUIRE_FALSE(sip::message::parse(bytes, m, datagram));
      return deliver_request(bytes, "ok");
    }
    if (what == "response") {
      const int status = std::stoi(w.at(2));
      const std::string method = o.get("to", last_client_method_);
      REQUIRE(client_requests_.count(method));
      std::string request = client_requests_[method];
      CHECK(layer().receive(response_text(request, status, "b1"), peer(), now()) == tx::layer_error::ok);
      return;
    }
    FAIL("unknown wire step");
  }

  void deliver_request(std::string bytes, const std::string& expected_error) {
    CHECK(tx::text(layer().receive(std::move(bytes), peer(), now())) == expected_error);
  }

  void advance(long ms) {
    const long until = now_ + ms;
    for (;;) {
      const auto d = layer().next_deadline();
      if (!d || d->count() > until) break;
      now_ = std::max(now_, static_cast<long>(d->count()));
      layer().on_timer(now());
      collect();
    }
    now_ = until;
    layer().on_timer(now());
    collect();
  }

  // --- expectations -----------------------------------------------------------
  void expect(const std::vector<std::string>& w) {
    collect();
    const std::string& what = w.at(1);
    if (what == "wire") return expect_wire(w.at(2), options::of(w, 3));
    if (what == "user") return expect_user(w);
    if (what == "state") return expect_state(w.at(2), w.at(3), options::of(w, 4));
    if (what == "size") {
      CHECK(layer().size() == std::stoul(w.at(2)));
      return;
    }
    if (what == "deadline") {
      const auto d = layer().next_deadline();
      if (w.at(2) == "none") CHECK_FALSE(d.has_value());
      else CHECK((d && d->count() == std::stol(w.at(2))));
      return;
    }
    FAIL("unknown expectation");
  }

  void check_time(long at, const options& o) {
    if (o.at) CHECK(at == *o.at);
  }

  void expect_wire(const std::string& first, const options& o) {
    REQUIRE_MESSAGE(!sends_.empty(), "nothing was sent");
    const timed_send s = std::move(sends_.front());
    sends_.pop_front();
    const std::string line = first_line(s.e.bytes());
    const bool is_status = !first.empty() && first[0] >= '0' && first[0] <= '9';
    CHECK_MESSAGE(line.starts_with(is_status ? "SIP/2.0 " + first + " " : first + " "), "sent: ", line);
    CHECK(s.e.to == peer());
    check_time(s.at, o);
    if (o.has("has")) {
      std::string text = o.get("has");
      for (char& c : text) c = c == '_' ? ' ' : c;
      CHECK_MESSAGE(s.e.bytes().find(text) != std::string::npos, "missing ", text, " in\n", s.e.bytes());
    }
  }

  timed_event next_event() {
    REQUIRE_MESSAGE(!events_.empty(), "no event for the user");
    timed_event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

  void expect_user(const std::vector<std::string>& w) {
    const std::string& what = w.at(2);
    const auto o = options::of(w, 4);
    timed_event te = next_event();
    INFO("got: ", describe(te.e));
    check_time(te.at, o);
    if (what == "request") {
      auto* r = std::get_if<tx::request_event>(&te.e);
      REQUIRE(r);
      CHECK(r->msg->method() == w.at(3));
      CHECK(r->from == peer());
      CHECK(r->merged == o.has("merged"));
      CHECK(r->id.valid() == !o.has("notsx"));
      if (o.has("cancels")) CHECK(r->cancels == server_ids_[o.get("cancels")]);
      else CHECK_FALSE(r->cancels.valid());
      if (r->id.valid()) {
        server_ids_[w.at(3)] = r->id;
        server_requests_[w.at(3)] = std::string(r->msg.bytes());
        last_server_method_ = w.at(3);
      }
      return;
    }
    if (what == "response") {
      auto* r = std::get_if<tx::response_event>(&te.e);
      REQUIRE(r);
      CHECK(r->msg->status() == std::stoi(w.at(3)));
      CHECK(r->retransmission == o.has("retransmission"));
      return;
    }
    if (what == "stray") {
      auto* r = std::get_if<tx::stray_response_event>(&te.e);
      REQUIRE(r);
      CHECK(r->msg->status() == std::stoi(w.at(3)));
      return;
    }
    if (what == "overloaded") {
      CHECK(std::holds_alternative<tx::overloaded_event>(te.e));
      return;
    }
    FAIL("unknown user expectation");
  }

  void expect_state(const std::string& to, const std::string& cause, const options& o) {
    timed_event te = next_event();
    INFO("got: ", describe(te.e));
    auto* s = std::get_if<tx::state_event>(&te.e);
    REQUIRE(s);
    CHECK(tx::text(s->to) == to);
    CHECK(tx::text(s->cause) == cause);
    if (o.has("role")) CHECK(role_text(s->role) == o.get("role"));
    check_time(te.at, o);
  }

  // --- printing -----------------------------------------------------------------
  static std::string first_line(std::string_view bytes) { return std::string(bytes.substr(0, bytes.find('\r'))); }
  static std::string role_text(tx::role r) {
    constexpr const char* names[] = {"client_invite", "client_non_invite", "server_invite", "server_non_invite"};
    return names[static_cast<int>(r)];
  }
  static std::string describe(const tx::event& e) {
    return std::visit(
        [](const auto& v) -> std::string {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, tx::send_event>) return "send " + first_line(v.bytes());
          else if constexpr (std::is_same_v<T, tx::request_event>) return "request " + std::string(v.msg->method());
          else if constexpr (std::is_same_v<T, tx::response_event>) return "response " + std::to_string(v.msg->status());
          else if constexpr (std::is_same_v<T, tx::stray_response_event>) return "stray " + std::to_string(v.msg->status());
          else if constexpr (std::is_same_v<T, tx::state_event>)
            return "state " + role_text(v.role) + " " + std::string(tx::text(v.from)) + " -> " +
                   std::string(tx::text(v.to)) + " (" + std::string(tx::text(v.cause)) + ")";
          else return "overloaded";
        },
        e);
  }

  std::string name_;
  std::string_view script_;
  tx::layer_config config_{};
  std::optional<tx::layer> layer_;
  bool reliable_ = false;
  long now_ = 0;
  std::deque<timed_send> sends_;
  std::deque<timed_event> events_;
  std::map<std::string, tx::tsx_id> client_ids_, server_ids_;
  std::map<std::string, std::string> client_requests_, server_requests_;
  std::string last_client_method_, last_server_method_;
};

inline void run(std::string name, std::string_view script) { runner(std::move(name), script).run(); }

}  // namespace tsx_script
