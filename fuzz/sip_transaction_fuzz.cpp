// A UAC layer and a UAS layer wired back to back, driven by the input as a
// sequence of operations: requests from the UAC's user, answers from the
// UAS's user, CANCELs, raw datagrams (mutated call-flow messages) into
// either side, losses, transport errors and clock advances. Checked: no
// crash, tables bounded by their limit, and once the clock runs past the
// longest timer every transaction of both layers has ended (empty tables,
// no deadline left).
//
// Input: a byte stream of operations; see `step` for the encoding. Seeds in
// corpus/sip_transaction_fuzz hold whole call flows (RFC 3665 messages).
#include <sigwire/sip/transaction/layer.hpp>

#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

namespace {

namespace sip = sigwire::sip;
namespace tx = sigwire::sip::transaction;

constexpr std::size_t table_limit = 64;

struct input {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t byte() {
    if (!n) return 0;
    --n;
    return *p++;
  }
  std::string bytes(std::size_t len) {
    len = len < n ? len : n;
    std::string s(reinterpret_cast<const char*>(p), len);
    p += len;
    n -= len;
    return s;
  }
};

std::string request(std::string_view method, unsigned serial, bool reliable) {
  std::string s(method);
  s += " sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/";
  s += reliable ? "TCP" : "UDP";
  s += " 192.0.2.1:5060;branch=z9hG4bKf" + std::to_string(serial);
  s += "\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a" + std::to_string(serial % 3);
  s += "\r\nTo: <sip:bob@example.com>\r\nCall-ID: c" + std::to_string(serial % 5) + "@192.0.2.1\r\nCSeq: ";
  s += std::to_string(serial % 7 + 1) + " " + std::string(method) + "\r\nContent-Length: 0\r\n\r\n";
  return s;
}

std::string response_to(const sip::message_view& req, int status) {
  std::string r = "SIP/2.0 " + std::to_string(status) + " X\r\n";
  for (const auto& h : req.headers()) {
    using sip::header_id;
    if (h.id == header_id::via || h.id == header_id::from || h.id == header_id::call_id || h.id == header_id::cseq)
      r.append(h.name).append(": ").append(h.value).append("\r\n");
    if (h.id == header_id::to)
      r.append("To: ").append(h.value).append(status > 100 && !req.to()->has_tag ? ";tag=b\r\n" : "\r\n");
  }
  return r + "Content-Length: 0\r\n\r\n";
}

struct side {
  tx::layer layer;
  std::vector<tx::tsx_id> client, server;  // ids seen, for the user's operations
  std::vector<std::string> server_requests;
  std::vector<tx::event> events;

  side() : layer(config(), [n = std::uint64_t{0}]() mutable { return ++n; }) {}
  static tx::layer_config config() {
    tx::layer_config c;
    c.max_transactions = table_limit;
    return c;
  }
};

struct harness {
  side uac, uas;
  std::deque<std::pair<bool, std::string>> in_flight;  // (to the UAS?, bytes)
  std::int64_t clock = 0;
  bool reliable = false;
  unsigned serial = 0;

  tx::instant now() const { return tx::instant{clock}; }

  void collect(side& s, bool to_uas) {
    s.layer.take_events(s.events);
    for (auto& e : s.events) {
      if (auto* send = std::get_if<tx::send_event>(&e)) {
        if (in_flight.size() < 256) in_flight.emplace_back(to_uas, std::string(send->bytes()));
      } else if (auto* r = std::get_if<tx::request_event>(&e); r && r->id.valid()) {
        if (s.server.size() < 64) {
          s.server.push_back(r->id);
          s.server_requests.emplace_back(r->msg.bytes());
        }
      }
    }
    if (s.layer.size() > table_limit) std::abort();
  }
  void collect_all() {
    collect(uac, true);
    collect(uas, false);
  }

  void deliver(bool lose) {
    if (in_flight.empty()) return;
    auto [to_uas, bytes] = std::move(in_flight.front());
    in_flight.pop_front();
    if (!lose) (to_uas ? uas : uac).layer.receive(std::move(bytes), {1, reliable}, now());
  }

  void step(input& in) {
    const std::uint8_t op = in.byte();
    switch (op % 10) {
      case 0: {  // the UAC's user sends a request
        static constexpr std::string_view methods[] = {"INVITE", "OPTIONS", "BYE", "REGISTER", "ACK", "INFO"};
        const auto r = uac.layer.send_request(
            [&] {
              sip::message m;
              (void)sip::message::parse(request(methods[in.byte() % 6], ++serial, reliable), m);
              return m;
            }(),
            {1, reliable}, now());
        if (r && uac.client.size() < 64) uac.client.push_back(r.id);
        break;
      }
      case 1: {  // the UAS's user answers a request it was given
        if (uas.server.empty()) break;
        const std::size_t i = in.byte() % uas.server.size();
        static constexpr int statuses[] = {100, 180, 183, 200, 202, 302, 404, 486, 487, 500, 603};
        sip::message m;
        if (!sip::message::parse(uas.server_requests[i], m))
          (void)uas.layer.send_response(uas.server[i], response_to(m.view(), statuses[in.byte() % 11]), now());
        break;
      }
      case 2: {  // CANCEL an INVITE of the UAC
        if (uac.client.empty()) break;
        std::string cancel;
        if (uac.layer.create_cancel(uac.client[in.byte() % uac.client.size()], cancel) == tx::layer_error::ok) {
          sip::message m;
          if (!sip::message::parse(std::move(cancel), m)) (void)uac.layer.send_request(std::move(m), {1, reliable}, now());
        }
        break;
      }
      case 3: deliver(false); break;
      case 4: deliver(true); break;  // lost
      case 5: {  // time passes: up to ~65 s
        clock += static_cast<std::int64_t>(in.byte()) * 256;
        uac.layer.on_timer(now());
        uas.layer.on_timer(now());
        break;
      }
      case 6: {  // a raw datagram (length-prefixed) into one side
        const bool to_uas = in.byte() & 1;
        const std::size_t len = in.byte() * 8u + in.byte();
        (to_uas ? uas : uac).layer.receive(in.bytes(len), {2, reliable}, now());
        break;
      }
      case 7: {  // a transport error on a known transaction
        side& s = in.byte() & 1 ? uas : uac;
        auto& ids = s.server.empty() || (in.byte() & 1) ? s.client : s.server;
        if (!ids.empty()) (void)s.layer.transport_error(ids[in.byte() % ids.size()], now());
        break;
      }
      case 8: reliable = !reliable; break;
      default: {  // the network duplicates the next datagram
        if (!in_flight.empty()) in_flight.push_back(in_flight.front());
        break;
      }
    }
    collect_all();
  }

  // Nothing more arrives; the clock runs past every timer.
  void finish() {
    in_flight.clear();
    for (int round = 0; round < 1000; ++round) {
      const auto a = uac.layer.next_deadline(), b = uas.layer.next_deadline();
      if (!a && !b) break;
      clock = std::max(clock, std::max(a ? a->count() : 0, b ? b->count() : 0));
      uac.layer.on_timer(now());
      uas.layer.on_timer(now());
      collect_all();
      in_flight.clear();
    }
    if (uac.layer.size() != 0 || uas.layer.size() != 0) {
      std::fprintf(stderr, "left: uac %zu uas %zu at %lld ms\n", uac.layer.size(), uas.layer.size(),
                   static_cast<long long>(clock));
      std::abort();
    }
    if (uac.layer.next_deadline() || uas.layer.next_deadline()) std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  harness h;
  input in{data, size};
  for (int steps = 0; !in.empty() && steps < 4096; ++steps) h.step(in);
  h.finish();
  return 0;
}
