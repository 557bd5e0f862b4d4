// The four transaction machines of RFC 3261 §17 (with RFC 6026 and RFC 4320)
// and the layer's matching, as scripts on a virtual clock (the step language
// is described in transaction_script.hpp). T1 = 500 ms, T2 = 4 s, T4 = 5 s.
#include <sigwire/sip/transaction/layer.hpp>
#include <sigwire/sip/transaction/timer_queue.hpp>

#include "transaction_script.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

using tsx_script::run;

// --- INVITE client (§17.1.1, Figure 5; RFC 6026 §7.2) -------------------------

TEST_CASE("§17.1.1.2 INVITE over UDP, no answer: Timer A doubles from T1, Timer B ends it at 64*T1") {
  run("invite client udp timeout", R"(
    transport udp
    user request INVITE
    expect wire INVITE @0
    expect state calling request_sent
    advance 40000
    expect wire INVITE @500
    expect wire INVITE @1500
    expect wire INVITE @3500
    expect wire INVITE @7500
    expect wire INVITE @15500
    expect wire INVITE @31500
    expect state terminated timeout @32000
    expect size 0
    expect deadline none
  )");
}

TEST_CASE("§17.1.1.2 INVITE over TCP: no Timer A, Timer B still at 64*T1") {
  run("invite client tcp timeout", R"(
    transport tcp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    advance 40000
    expect state terminated timeout @32000
  )");
}

TEST_CASE("§17.1.1.2 a 1xx stops A and B; a non-2xx final is ACKed by the transaction, again for each retransmission; Timer D 32 s") {
  run("invite client failure udp", R"(
    transport udp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    advance 600
    expect wire INVITE @500
    wire response 180
    expect state proceeding provisional @600
    expect user response 180
    wire response 180
    expect user response 180
    advance 100000
    wire response 486
    expect wire ACK @100600 has=CSeq:_1_ACK has=To:_<sip:bob@example.com>;tag=b1 has=branch=z9hG4bKb1
    expect state completed final_response
    expect user response 486
    advance 1000
    wire response 486
    expect wire ACK @101600
    advance 31000
    expect state terminated timer_expired @132600
    expect size 0
  )");
}

TEST_CASE("§17.1.1.2: Proceeding has no RFC timer; ours (180 s, like Timer C) restarts with each 1xx and ends a call that never gets a final") {
  run("invite client proceeding limit", R"(
    transport tcp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    wire response 180
    expect state proceeding provisional
    expect user response 180
    advance 100000
    wire response 183
    expect user response 183
    advance 179999
    advance 1
    expect state terminated timeout @280000
  )");
}

TEST_CASE("§17.1.1.2 Table 4: over TCP Timer D is zero, Completed ends at once") {
  run("invite client failure tcp", R"(
    transport tcp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    wire response 404
    expect wire ACK
    expect state completed final_response
    expect user response 404
    expect state terminated timer_expired @0
  )");
}

TEST_CASE("RFC 6026 §7.2: a 2xx moves to Accepted; retransmitted 2xx go to the TU, not ACKed by the transaction; Timer M") {
  run("invite client accepted", R"(
    transport udp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    wire response 200
    expect state accepted final_response
    expect user response 200
    advance 4000
    wire response 200
    expect user response 200 retransmission
    wire response 486
    advance 28000
    expect state terminated timer_expired @32000
    wire response 200
    expect user stray 200
  )");
}

TEST_CASE("§17.1.3: a response after Timer B matches nothing and goes to the user as stray") {
  run("invite client late response", R"(
    transport tcp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    advance 32000
    expect state terminated timeout
    wire response 180
    expect user stray 180
    wire response 200
    expect user stray 200
  )");
}

TEST_CASE("§17.1.4: a transport error ends the INVITE client transaction") {
  run("invite client transport error", R"(
    transport udp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    user transport-error
    expect state terminated transport_error
    advance 64000
    expect size 0
  )");
}

TEST_CASE("a failed flow ends the client transactions still awaiting a final response on it, no others") {
  run("flow failed", R"(
    transport tcp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    user request OPTIONS
    expect wire OPTIONS
    expect state trying request_sent
    user request INVITE branch=z9hG4bKanswered cseq=7
    expect wire INVITE
    expect state calling request_sent
    wire response 200 branch=z9hG4bKanswered
    expect state accepted final_response
    expect user response 200
    wire request MESSAGE
    expect state trying request_received
    expect user request MESSAGE
    user flow-failed flow=2 ended=0
    user flow-failed ended=2
    expect state terminated transport_error role=client_invite
    expect state terminated transport_error role=client_non_invite
    user flow-failed ended=0
    user respond 200 to=MESSAGE
    expect wire 200
    expect state completed final_response
    expect state terminated timer_expired
  )");
}

TEST_CASE("§17.1.3: the response must match branch and CSeq method; another branch is stray") {
  run("invite client matching", R"(
    transport udp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    user request OPTIONS branch=z9hG4bKother
    expect wire OPTIONS
    expect state trying request_sent role=client_non_invite
    wire response 200 to=OPTIONS
    expect state completed final_response role=client_non_invite
    expect user response 200
    wire response 180 to=INVITE
    expect state proceeding provisional role=client_invite
    expect user response 180
  )");
}

// --- CANCEL (§9.1, §9.2) ------------------------------------------------------------

TEST_CASE("§9.1: CANCEL only after a provisional response; it copies the INVITE's Request-URI, top Via, Call-ID, To, From, CSeq number") {
  run("cancel client", R"(
    transport udp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    user cancel error=no_provisional_yet
    wire response 180
    expect state proceeding provisional
    expect user response 180
    user cancel
    expect wire CANCEL has=CANCEL_sip:bob@example.com_SIP/2.0 has=branch=z9hG4bKb1 has=CSeq:_1_CANCEL has=Call-ID:_c1@192.0.2.1
    expect state trying request_sent role=client_non_invite
    wire response 200 to=CANCEL
    expect state completed final_response role=client_non_invite
    expect user response 200
    wire response 487 to=INVITE
    expect wire ACK has=CSeq:_1_ACK
    expect state completed final_response role=client_invite
    expect user response 487
  )");
}

TEST_CASE("§9.1 + RFC 6026: a CANCEL crossing a 200 — the INVITE is accepted, the CANCEL completes on its own, no CANCEL after the final") {
  run("cancel crossing 200", R"(
    transport udp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    wire response 180
    expect state proceeding provisional
    expect user response 180
    user cancel
    expect wire CANCEL
    expect state trying request_sent role=client_non_invite
    wire response 200 to=INVITE
    expect state accepted final_response role=client_invite
    expect user response 200
    wire response 200 to=CANCEL
    expect state completed final_response role=client_non_invite
    expect user response 200
    user cancel error=not_allowed
  )");
}

TEST_CASE("§9.2: a CANCEL is its own server transaction, handed to the user with the INVITE it cancels") {
  run("cancel server", R"(
    transport udp
    wire request INVITE
    expect state proceeding request_received role=server_invite
    expect user request INVITE
    user respond 180
    expect wire 180
    wire request CANCEL
    expect state trying request_received role=server_non_invite
    expect user request CANCEL cancels=INVITE
    user respond 200 to=CANCEL
    expect wire 200 has=CSeq:_1_CANCEL
    expect state completed final_response role=server_non_invite
    user respond 487 to=INVITE
    expect wire 487 has=CSeq:_1_INVITE
    expect state completed final_response role=server_invite
    wire request ACK totag=s1
    expect state confirmed ack_received
    wire request CANCEL branch=z9hG4bKunknown callid=another@192.0.2.1
    expect state trying request_received role=server_non_invite
    expect user request CANCEL
    # another branch: not the INVITE's CANCEL (§9.2 matches by branch), but the same request merged (§8.2.2.2)
    wire request CANCEL branch=z9hG4bKagain
    expect state trying request_received role=server_non_invite
    expect user request CANCEL merged
  )");
}

// --- non-INVITE client (§17.1.2, Figure 6) -----------------------------------------

TEST_CASE("§17.1.2.2 non-INVITE over UDP, no answer: Timer E doubles up to T2, Timer F at 64*T1") {
  run("non-invite client timeout", R"(
    transport udp
    user request OPTIONS
    expect wire OPTIONS @0
    expect state trying request_sent
    advance 40000
    expect wire OPTIONS @500
    expect wire OPTIONS @1500
    expect wire OPTIONS @3500
    expect wire OPTIONS @7500
    expect wire OPTIONS @11500
    expect wire OPTIONS @15500
    expect wire OPTIONS @19500
    expect wire OPTIONS @23500
    expect wire OPTIONS @27500
    expect wire OPTIONS @31500
    expect state terminated timeout @32000
  )");
}

TEST_CASE("§17.1.2.2 in Proceeding Timer E fires every T2; a final response completes; Timer K = T4 absorbs retransmissions") {
  run("non-invite client proceeding", R"(
    transport udp
    user request REGISTER
    expect wire REGISTER
    expect state trying request_sent
    advance 600
    expect wire REGISTER @500
    wire response 100
    expect state proceeding provisional @600
    expect user response 100
    advance 10000
    expect wire REGISTER @1500
    expect wire REGISTER @5500
    expect wire REGISTER @9500
    wire response 200
    expect state completed final_response @10600
    expect user response 200
    wire response 200
    advance 5000
    expect state terminated timer_expired @15600
  )");
}

TEST_CASE("§17.1.2.2 Table 4: over TCP no Timer E, Timer K zero") {
  run("non-invite client tcp", R"(
    transport tcp
    user request BYE
    expect wire BYE
    expect state trying request_sent
    advance 20000
    wire response 200
    expect state completed final_response
    expect user response 200
    expect state terminated timer_expired @20000
  )");
}

TEST_CASE("§17.1.1.3: an ACK is never a transaction; a second request with the same branch is a duplicate") {
  run("client errors", R"(
    transport udp
    user request ACK error=not_allowed
    user request OPTIONS
    expect wire OPTIONS
    expect state trying request_sent
    user request OPTIONS error=duplicate
  )");
}

// --- INVITE server (§17.2.1, Figure 7; RFC 6026 §7.1) --------------------------

TEST_CASE("§17.2.1: 100 Trying after 200 ms of silence; retransmitted INVITEs get the last provisional; Timer G; Timer H without ACK") {
  run("invite server no ack", R"(
    transport udp
    wire request INVITE
    expect state proceeding request_received
    expect user request INVITE
    advance 300
    expect wire 100 @200
    wire request INVITE
    expect wire 100
    user respond 180
    expect wire 180
    wire request INVITE
    expect wire 180
    user respond 486
    expect wire 486 @300
    expect state completed final_response
    advance 40000
    expect wire 486 @800
    expect wire 486 @1800
    expect wire 486 @3800
    expect wire 486 @7800
    expect wire 486 @11800
    expect wire 486 @15800
    expect wire 486 @19800
    expect wire 486 @23800
    expect wire 486 @27800
    expect wire 486 @31800
    expect state terminated timeout @32300
  )");
}

TEST_CASE("§17.2.1: an answer within 200 ms means no 100 from the transaction; the ACK confirms; Timer I = T4") {
  run("invite server ack", R"(
    transport udp
    wire request INVITE
    expect state proceeding request_received
    expect user request INVITE
    advance 100
    user respond 603
    expect wire 603 @100
    expect state completed final_response
    advance 600
    expect wire 603 @600
    wire request ACK totag=s1
    expect state confirmed ack_received @700
    wire request ACK totag=s1
    wire request INVITE
    advance 5000
    expect state terminated timer_expired @5700
    expect size 0
  )");
}

TEST_CASE("RFC 6026 §7.1: after a 2xx the server is Accepted: INVITE retransmissions absorbed, the TU's 2xx retransmissions sent, the ACK passed to the TU, Timer L") {
  run("invite server accepted", R"(
    transport udp
    wire request INVITE
    expect state proceeding request_received
    expect user request INVITE
    user respond 200
    expect wire 200
    expect state accepted final_response
    wire request INVITE
    advance 500
    user respond 200
    expect wire 200 @500
    user respond 486 error=not_allowed
    wire request ACK totag=s1
    expect user request ACK notsx
    advance 31500
    expect state terminated timer_expired @32000
    wire request ACK totag=s1
    expect user request ACK notsx
  )");
}

TEST_CASE("§17.2.1 Table 4: over TCP no Timer G, Timer H still runs, Timer I zero") {
  run("invite server tcp", R"(
    transport tcp
    wire request INVITE
    expect state proceeding request_received
    expect user request INVITE
    user respond 480
    expect wire 480
    expect state completed final_response
    advance 10000
    wire request ACK totag=s1
    expect state confirmed ack_received
    expect state terminated timer_expired @10000
    wire request INVITE cseq=2
    expect state proceeding request_received
    expect user request INVITE
    advance 32200
    expect wire 100 @10200
    user respond 500
    expect wire 500
    expect state completed final_response
    advance 32000
    expect state terminated timeout @74200
  )");
}

TEST_CASE("§17.2.4: a transport error ends the server transaction") {
  run("invite server transport error", R"(
    transport tcp
    wire request INVITE
    expect state proceeding request_received
    expect user request INVITE
    user transport-error to=INVITE
    expect state terminated transport_error
    user respond 200 error=unknown_transaction
  )");
}

// --- non-INVITE server (§17.2.2, Figure 8; RFC 4320) --------------------------------

TEST_CASE("RFC 4320 §4.1/§4.2: over UDP a 100 only once the client's Timer E reached T2 (3.5 s), never a 408") {
  run("non-invite server slow tu", R"(
    transport udp
    wire request OPTIONS
    expect state trying request_received
    expect user request OPTIONS
    wire request OPTIONS
    advance 40000
    expect wire 100 @3500
    expect state proceeding provisional @3500
    expect state terminated timeout @32000
  )");
}

TEST_CASE("§17.2.2: a final response completes; retransmitted requests get it again; Timer J = 64*T1 over UDP") {
  run("non-invite server answered", R"(
    transport udp
    wire request BYE
    expect state trying request_received
    expect user request BYE
    advance 1000
    user respond 200
    expect wire 200 @1000
    expect state completed final_response
    wire request BYE
    expect wire 200
    user respond 500 error=not_allowed
    advance 32000
    expect state terminated timer_expired @33000
    wire request BYE
    expect state trying request_received
    expect user request BYE
  )");
}

TEST_CASE("§17.2.2 Table 4: over TCP no 100 from the transaction and Timer J zero") {
  run("non-invite server tcp", R"(
    transport tcp
    wire request MESSAGE
    expect state trying request_received
    expect user request MESSAGE
    advance 10000
    user respond 202
    expect wire 202
    expect state completed final_response
    expect state terminated timer_expired @10000
  )");
}

TEST_CASE("§17.2.2: a provisional from the TU moves to Proceeding, and is what a retransmitted request gets") {
  run("non-invite server proceeding", R"(
    transport udp
    wire request SUBSCRIBE
    expect state trying request_received
    expect user request SUBSCRIBE
    wire request SUBSCRIBE
    user respond 183
    expect wire 183
    expect state proceeding provisional
    wire request SUBSCRIBE
    expect wire 183
    advance 40000
    expect state terminated timeout @32000
  )");
}

// --- matching (§17.2.3, RFC 2543 fallback, §8.2.2.2) -----------------------------

TEST_CASE("§17.2.3: the same branch from another sent-by, or another method, is another transaction") {
  run("server matching", R"(
    transport udp
    wire request OPTIONS
    expect state trying request_received
    expect user request OPTIONS
    wire request INFO cseq=2
    expect state trying request_received
    expect user request INFO
    expect size 2
  )");
}

TEST_CASE("§17.2.3 RFC 2543 fallback: no magic cookie, matched by Request-URI, tags, Call-ID, CSeq and top Via; the ACK by the INVITE's") {
  run("rfc2543 matching", R"(
    transport udp
    wire request INVITE nocookie
    expect state proceeding request_received
    expect user request INVITE
    wire request INVITE nocookie
    user respond 404
    expect wire 404
    expect state completed final_response
    wire request INVITE nocookie
    expect wire 404
    wire request ACK nocookie totag=s1
    expect state confirmed ack_received
    wire request INVITE nocookie cseq=2
    expect state proceeding request_received
    expect user request INVITE
  )");
}

TEST_CASE("§8.2.2.2: the same request arriving by another branch (forked and merged) is flagged for 482") {
  run("merged request", R"(
    transport udp
    wire request INVITE branch=z9hG4bKpath1
    expect state proceeding request_received
    expect user request INVITE
    wire request INVITE branch=z9hG4bKpath2
    expect state proceeding request_received
    expect user request INVITE merged
    user respond 482
    expect wire 482
    expect state completed final_response
    wire request INVITE branch=z9hG4bKpath3 fromtag=other
    expect state proceeding request_received
    expect user request INVITE
  )");
}

TEST_CASE("RFC 4475 §3.4.1 (inv2543) and §3.2.1 (badbranch, a bare magic cookie) are matched by the RFC 2543 rules") {
  run("rfc4475 transaction cases", R"(
    transport udp
    wire file inv2543.dat
    expect state proceeding request_received
    expect user request INVITE
    wire file inv2543.dat
    wire file badbranch.dat
    expect state trying request_received
    expect user request OPTIONS
    wire file badbranch.dat
    expect size 2
  )");
}

// --- limits ---------------------------------------------------------------------------

TEST_CASE("a full table refuses new transactions as a distinct error (503), and takes them again once one ends") {
  run("table full", R"(
    config max=1
    transport tcp
    wire request OPTIONS
    expect state trying request_received
    expect user request OPTIONS
    wire request INFO cseq=2 error=table_full
    expect user overloaded
    user request REGISTER error=table_full
    user respond 200 to=OPTIONS
    expect wire 200
    expect state completed final_response
    expect state terminated timer_expired
    wire request INFO cseq=2
    expect state trying request_received
    expect user request INFO
  )");
}

TEST_CASE("timers of transactions ended early do not pile up: the timer queue follows the live transactions") {
  // 100,000 client transactions each created and ended by a transport error
  // with the clock standing still: each leaves two stale timer entries (E, F).
  namespace sip = sigwire::sip;
  namespace tx = sigwire::sip::transaction;
  tx::layer l(tx::layer_config{}, [n = std::uint64_t{0}]() mutable { return ++n; });
  const tx::peer udp{1, false};
  std::vector<tx::event> events;
  std::size_t most_entries = 0;
  for (int i = 0; i < 100'000; ++i) {
    sip::message m;
    REQUIRE_FALSE(sip::message::parse("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK" +
                                          std::to_string(i) + "\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
                                          "Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
                                      m));
    const auto sent = l.send_request(std::move(m), udp, tx::instant{0});
    REQUIRE(sent);
    REQUIRE(l.transport_error(sent.id, tx::instant{0}) == tx::layer_error::ok);
    l.take_events(events);
    most_entries = std::max(most_entries, l.timer_entries());
  }
  CHECK(l.size() == 0);
  CHECK(most_entries <= 4 * 1 + 4096 + 2);  // rebuilt at 4 * live + 4096 (live is 1 while one is armed), then two armed
  // Timers armed after a rebuild still fire: one pending transaction's Timer E.
  sip::message m;
  REQUIRE_FALSE(sip::message::parse("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bKlast\r\n"
                                    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\n"
                                    "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
                                    m));
  REQUIRE(l.send_request(std::move(m), udp, tx::instant{0}));
  l.take_events(events);
  CHECK(l.next_deadline() == tx::instant{500});
  l.on_timer(tx::instant{500});
  l.take_events(events);
  REQUIRE(events.size() == 1);
  CHECK(std::holds_alternative<tx::send_event>(events[0]));
}

TEST_CASE("T1 is the layer's: with T1 = 100 ms Timer A starts at 100 ms and B is 6.4 s") {
  run("t1 per layer", R"(
    config t1=100
    transport udp
    user request INVITE
    expect wire INVITE
    expect state calling request_sent
    advance 7000
    expect wire INVITE @100
    expect wire INVITE @300
    expect wire INVITE @700
    expect wire INVITE @1500
    expect wire INVITE @3100
    expect wire INVITE @6300
    expect state terminated timeout @6400
  )");
}

// --- the key index (open addressing, backward-shift deletion) ---------------------

TEST_CASE("slot_index: random inserts and erases agree with std::map, through growth and wrap-around") {
  namespace tx = sigwire::sip::transaction;
  using index = tx::slot_index<&tx::record::key, &tx::record::key_hash>;
  tx::record_table records;
  index ix;
  std::map<std::string, std::uint32_t> model;
  std::vector<std::uint32_t> free_slots;
  for (int n = 0; n < 4096; ++n) free_slots.push_back(records.take());
  std::mt19937 rng(7);
  for (int op = 0; op < 200'000; ++op) {
    // Few distinct hashes collide often: keys hash by std::hash, but a small
    // key space keeps probe chains long and erases in the middle of them.
    std::string key = "k";  // not "k" + to_string(): GCC 12 -O3 -Wrestrict false positive
    key += std::to_string(rng() % 3000);
    const auto found = ix.find(records, key, index::hash(key));
    const auto it = model.find(key);
    REQUIRE((found == index::none) == (it == model.end()));
    if (it != model.end()) {
      REQUIRE(found == it->second);
      ix.erase(records, found);
      records[found].keys.clear();
      records[found].key_size = 0;
      free_slots.push_back(found);
      model.erase(it);
    } else if (!free_slots.empty()) {
      const std::uint32_t s = free_slots.back();
      free_slots.pop_back();
      records[s].keys = key;
      records[s].key_size = static_cast<std::uint32_t>(key.size());
      records[s].key_hash = index::hash(key);
      ix.insert(records, s);
      model[key] = s;
    }
  }
  for (const auto& [key, slot] : model) CHECK(ix.find(records, key, index::hash(key)) == slot);
}

// --- the timer queue (buckets per deadline, lazy cancel) ------------------------

TEST_CASE("timer_queue: random arms, cancels and expiries agree with a sorted reference, in armed order within a deadline") {
  namespace tx = sigwire::sip::transaction;
  using tx::instant;
  tx::timer_queue q;
  // Reference: (deadline, arm order) -> entry; an entry is stale once its
  // transaction's stamp moved on (re-armed or cancelled).
  std::map<std::pair<instant, std::uint64_t>, tx::timer_queue::entry> model;
  std::vector<std::uint32_t> stamps(64, 0);
  const auto stale = [&](const tx::timer_queue::entry& e) { return stamps[e.slot] != e.stamp; };
  const auto model_next = [&]() -> std::optional<instant> {
    for (const auto& [key, e] : model)
      if (!stale(e)) return key.first;
    return std::nullopt;
  };
  std::mt19937 rng(11);
  instant now{0};
  std::uint64_t armed = 0, fired = 0;
  for (int op = 0; op < 100'000; ++op) {
    const unsigned roll = rng() % 100;
    if (roll < 55) {  // arm (re-arming makes the transaction's older entry stale)
      const auto slot = static_cast<std::uint32_t>(rng() % stamps.size());
      const instant at = now + instant{rng() % 40};
      const tx::timer_queue::entry e{slot, ++stamps[slot], 0};
      q.push(at, e);
      model.emplace(std::pair{at, armed++}, e);
    } else if (roll < 65) {  // cancel
      ++stamps[rng() % stamps.size()];
    } else if (roll < 67) {
      q.drop_stale(stale);
      CHECK(q.size() == static_cast<std::size_t>(std::count_if(model.begin(), model.end(), [&](const auto& m) { return !stale(m.second); })));
    } else if (roll < 80) {
      REQUIRE(q.next_deadline(stale) == model_next());
    } else {  // the clock moves; everything due fires in order
      now += instant{rng() % 15};
      tx::timer_queue::entry got{};
      while (q.pop_due(now, got, stale)) {
        auto it = model.begin();
        while (it != model.end() && stale(it->second)) it = model.erase(it);
        REQUIRE(it != model.end());
        REQUIRE(it->first.first <= now);
        CHECK(got.slot == it->second.slot);
        CHECK(got.stamp == it->second.stamp);
        model.erase(it);
        ++fired;
      }
      const auto next = model_next();
      CHECK((!next || *next > now));
    }
  }
  CHECK(fired > 10'000);
}

TEST_CASE("deadline_index: random inserts, erases and lookups agree with std::map, through growth and long probe runs") {
  namespace tx = sigwire::sip::transaction;
  tx::deadline_index ix;
  std::map<std::int64_t, std::uint32_t> model;
  std::mt19937_64 rng(5);
  std::size_t max_size = 0;
  for (int op = 0; op < 200'000; ++op) {
    // Keys from a window that drifts up, as deadlines do, plus far outliers;
    // many keys share a probe run in a table kept half full.
    const std::int64_t key = (rng() % 8 == 0) ? static_cast<std::int64_t>(rng() % 1'000'000'000)
                                               : op / 4 + static_cast<std::int64_t>(rng() % 3000);
    const unsigned roll = rng() % 10;
    if (roll < 4) {
      if (!model.count(key)) {
        const auto index = static_cast<std::uint32_t>(rng() % 100'000);
        ix.insert(key, index);
        model[key] = index;
      }
    } else if (roll < 8 && !model.empty()) {
      // Erase a present key (from the low end, as retired deadlines are) or an absent one.
      const std::int64_t victim = roll < 7 ? model.begin()->first : key;
      ix.erase(victim);
      model.erase(victim);
    } else {
      const auto it = model.find(key);
      REQUIRE(ix.find(key) == (it == model.end() ? tx::deadline_index::none : it->second));
    }
    REQUIRE(ix.size() == model.size());
    max_size = std::max(max_size, model.size());
  }
  for (const auto& [key, index] : model) REQUIRE(ix.find(key) == index);
  CHECK(max_size > 1000);
  // Drained down to a few deadlines, the table gives its memory back (it
  // shrinks when an eighth full) and still finds every key left.
  const std::size_t peak_slots = ix.slot_count();
  while (model.size() > 3) {
    const auto victim = std::next(model.begin(), static_cast<std::ptrdiff_t>(rng() % model.size()));
    ix.erase(victim->first);
    model.erase(victim);
    REQUIRE(ix.size() == model.size());
  }
  for (const auto& [key, index] : model) REQUIRE(ix.find(key) == index);
  CHECK(peak_slots >= 2048);
  CHECK(ix.slot_count() <= 64);
}

TEST_CASE("send_request of bytes the caller built, with their branch and method: keyed without a parse, answered like any other") {
  namespace sip = sigwire::sip;
  namespace tx = sigwire::sip::transaction;
  tx::layer l(tx::layer_config{}, [n = std::uint64_t{0}]() mutable { return ++n; });
  const tx::peer udp{1, false};
  const std::string bye =
      "BYE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bKbuilt\r\n"
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n"
      "Content-Length: 0\r\n\r\n";
  const auto sent = l.send_request(bye, sip::method::bye, "z9hG4bKbuilt", udp, tx::instant{0});
  REQUIRE(sent);
  CHECK(l.state_of(sent.id) == tx::state::trying);
  std::vector<tx::event> events;
  l.take_events(events);
  REQUIRE(events.size() >= 1);
  const auto* wire = std::get_if<tx::send_event>(&events.front());
  REQUIRE(wire);
  CHECK(wire->bytes() == bye);
  // Its 200 (branch and CSeq method, §17.1.3) completes it.
  REQUIRE(l.receive("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bKbuilt\r\n"
                    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: c\r\n"
                    "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
                    udp, tx::instant{10}) == tx::layer_error::ok);
  CHECK(l.state_of(sent.id) == tx::state::completed);
  l.take_events(events);
  bool answered = false;
  for (const auto& e : events)
    if (const auto* r = std::get_if<tx::response_event>(&e)) answered = r->id == sent.id && r->msg->status() == 200;
  CHECK(answered);
  // The same branch and method again is the same transaction; no branch, an
  // unknown method or no bytes are refused; an ACK is never a transaction.
  CHECK(l.send_request(bye, sip::method::bye, "z9hG4bKbuilt", udp, tx::instant{10}).error == tx::layer_error::duplicate);
  CHECK(l.send_request(bye, sip::method::bye, "", udp, tx::instant{10}).error == tx::layer_error::bad_message);
  CHECK(l.send_request(bye, sip::method::other, "z9hG4bKb2", udp, tx::instant{10}).error == tx::layer_error::bad_message);
  CHECK(l.send_request("", sip::method::bye, "z9hG4bKb3", udp, tx::instant{10}).error == tx::layer_error::bad_message);
  CHECK(l.send_request(bye, sip::method::ack, "z9hG4bKb4", udp, tx::instant{10}).error == tx::layer_error::not_allowed);
}

TEST_CASE("send_request of a request the caller keeps: the same transaction and bytes, and the caller's message intact") {
  namespace sip = sigwire::sip;
  namespace tx = sigwire::sip::transaction;
  tx::layer l(tx::layer_config{}, [n = std::uint64_t{0}]() mutable { return ++n; });
  const tx::peer udp{1, false};
  const std::string text =
      "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bKkept\r\n"
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
      "Content-Length: 0\r\n\r\n";
  sip::message kept;
  REQUIRE_FALSE(sip::message::parse(text, kept));
  const auto sent = l.send_request(kept, udp, tx::instant{0});
  REQUIRE(sent);
  CHECK(kept.bytes() == text);
  CHECK(kept->top_via()->branch == "z9hG4bKkept");
  CHECK(l.state_of(sent.id) == tx::state::calling);
  std::vector<tx::event> events;
  l.take_events(events);
  std::vector<std::string> wire;
  for (const auto& e : events)
    if (const auto* s = std::get_if<tx::send_event>(&e)) wire.emplace_back(s->bytes());
  REQUIRE(wire.size() == 1);
  CHECK(wire[0] == text);
  // Sent again, it is the same transaction (same branch, sent-by, method): refused.
  CHECK(l.send_request(kept, udp, tx::instant{0}).error == tx::layer_error::duplicate);
  // An empty message and a response are refused, as for the moving overload.
  CHECK(l.send_request(sip::message{}, udp, tx::instant{0}).error == tx::layer_error::bad_message);
  sip::message response;
  REQUIRE_FALSE(sip::message::parse("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bKx\r\n"
                                    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\n"
                                    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
                                    response));
  CHECK(l.send_request(response, udp, tx::instant{0}).error == tx::layer_error::bad_message);
}
