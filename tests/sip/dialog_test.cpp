// Dialogs (RFC 3261 §12) and INVITE sessions (§13-15) as scripts: two
// in-memory UAs on a virtual clock (the step language is in dialog_script.hpp).
// T1 = 500 ms unless a script says otherwise.
#include <sigwire/sip/dialog/session_layer.hpp>

#include "dialog_script.hpp"

#include <doctest/doctest.h>

using dialog_script::run;

TEST_CASE("RFC 3665 §3.1 successful session establishment, offer in the INVITE, answer in the 200; BYE ends it") {
  run("basic call", R"(
    A call
    expect A->B INVITE @0 has=Content-Type:_application/sdp has=m=audio_49170 has=Contact:_<sip:alice@192.0.2.1:5060>
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 180
    expect B->A 180 @0 has=;tag=
    expect B state early @0 status=180
    expect A state early @0 status=180
    advance 1000
    B answer 200
    expect B->A 200 @1000 has=m=audio has=Contact:_<sip:bob@192.0.2.2:5060> has=Allow:_INVITE
    expect B media ok @1000
    expect B state connecting @1000 status=200
    expect A->B ACK @1000 has=CSeq:_1_ACK hasnot=Content-Type
    expect A media ok @1000
    expect A state connecting @1000 status=200
    expect A state confirmed @1000 status=200
    expect B state confirmed @1000 status=200
    advance 5000
    A hangup
    expect A->B BYE @6000 has=CSeq:_2_BYE
    expect B->A 200 @6000 has=CSeq:_2_BYE
    expect B state disconnected @6000 status=200
    expect A state disconnected @6000 status=200
    expect calls A=0 B=0
  )");
}

TEST_CASE("shrink_buffers() in the middle of a call changes nothing: a lost ACK is still answered, the call ends as before") {
  run("shrink mid-call", R"(
    drop A->B ACK
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    A shrink
    B shrink
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0 lost
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    A shrink
    B shrink
    advance 1000
    expect B->A 200 @500
    expect A->B ACK @500
    expect B state confirmed @500 status=200
    B shrink
    A hangup
    expect A->B BYE @1000
    expect B->A 200 @1000
    expect B state disconnected @1000 status=200
    expect A state disconnected @1000 status=200
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 3261 §13.2.1 late offer: INVITE without SDP, the offer in the 200, the answer in the ACK") {
  run("late offer", R"(
    A call late
    expect A->B INVITE @0 hasnot=Content-Type
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=m=audio
    expect B state connecting @0 status=200
    expect A->B ACK @0 has=Content-Type:_application/sdp has=m=audio
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B media ok @0
    expect B state confirmed @0 status=200
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
    expect calls A=0 B=0
  )");
}

namespace {
// RFC 3665 §3.8: A calls, B rings, A hangs up with `hangup` ("hangup" or
// "hangup elsewhere"); the CANCEL must carry `cancel_has` too.
std::string ringing_call_cancelled(std::string_view hangup, std::string_view cancel_has) {
  return R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 180
    expect B->A 180 @0
    expect B state early @0 status=180
    expect A state early @0 status=180
    A )" + std::string(hangup) + R"(
    expect A->B CANCEL @0 has=CSeq:_1_CANCEL )" + std::string(cancel_has) + R"(
    expect B->A 200 @0 has=CSeq:_1_CANCEL
    expect B->A 487 @0 has=CSeq:_1_INVITE
    expect B state disconnected @0 status=487
    expect A->B ACK @0 has=CSeq:_1_ACK hasnot=Reason
    expect A state disconnected @0 status=487
    advance 40000
    expect calls A=0 B=0
  )";
}
}  // namespace

TEST_CASE("RFC 3665 §3.8 / RFC 3261 §9: CANCEL of a ringing call: 200 to the CANCEL, 487 to the INVITE, ACKed by the transaction") {
  run("cancel", ringing_call_cancelled("hangup", "hasnot=Reason"));
}

TEST_CASE("RFC 3326: a forked call's other branch is cancelled with Reason: SIP;cause=200 (call completed elsewhere)") {
  run("cancel elsewhere", ringing_call_cancelled("hangup elsewhere", R"(has=Reason:_SIP;cause=200;text="Call_completed_elsewhere")"));
}

TEST_CASE("RFC 3261 §9.1: hangup before any provisional: the CANCEL waits for the 180") {
  run("cancel waits", R"(
    drop A->B INVITE
    A call
    expect A->B INVITE @0 lost
    expect A state calling @0 status=0
    A hangup
    advance 500
    expect A->B INVITE @500
    expect B state incoming @500 status=0
    expect B incoming @500
    B answer 180
    expect B->A 180 @500
    expect B state early @500 status=180
    expect A state early @500 status=180
    expect A->B CANCEL @500
    expect B->A 200 @500
    expect B->A 487 @500
    expect B state disconnected @500 status=487
    expect A->B ACK @500
    expect A state disconnected @500 status=487
    advance 40000
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 3665 §3.5 busy: 486 ends the call, the INVITE transaction ACKs it") {
  run("busy", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 486
    expect B->A 486 @0
    expect B state disconnected @0 status=486
    expect A->B ACK @0
    expect A state disconnected @0 status=486
    advance 40000
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 3261 §13.3.1.4: a lost ACK: the UAS re-sends its 200 at T1, the UAC re-sends the same ACK") {
  run("lost ack", R"(
    drop A->B ACK
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0 lost
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    advance 1000
    expect B->A 200 @500
    expect A->B ACK @500
    expect B state confirmed @500 status=200
    A hangup
    expect A->B BYE @1000
    expect B->A 200 @1000
    expect B state disconnected @1000 status=200
    expect A state disconnected @1000 status=200
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 3261 §13.3.1.4: no ACK within 64*T1: the 200 went out at T1 doubling to T2, then BYE") {
  run("no ack", R"(
    drop A->B ACK times=20
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0 lost
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    advance 40000
    expect B->A 200 @500
    expect A->B ACK @500 lost
    expect B->A 200 @1500
    expect A->B ACK @1500 lost
    expect B->A 200 @3500
    expect A->B ACK @3500 lost
    expect B->A 200 @7500
    expect A->B ACK @7500 lost
    expect B->A 200 @11500
    expect A->B ACK @11500 lost
    expect B->A 200 @15500
    expect A->B ACK @15500 lost
    expect B->A 200 @19500
    expect A->B ACK @19500 lost
    expect B->A 200 @23500
    expect A->B ACK @23500 lost
    expect B->A 200 @27500
    expect A->B ACK @27500 lost
    expect B->A 200 @31500
    expect A->B ACK @31500 lost
    expect B state confirmed @32000 status=200
    expect B->A BYE @32000
    expect A->B 200 @32000
    expect A state disconnected @32000 status=200
    expect B state disconnected @32000 status=200
    expect calls A=0 B=0
  )");
}

// The callee holds (B re-INVITEs A). Its ACK is lost: A re-sends its 200 as
// for the INVITE, and B answers that retransmission with the same ACK
// (RFC 6026 §8.4 hands it over marked as a retransmission), not as a new offer.
constexpr std::string_view reinvite_to_confirmed_hold = R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    B reinvite hold
    expect B->A INVITE @0 has=a=sendonly
    expect A media ok @0
    expect A->B 200 @0 has=a=recvonly
    expect B media ok @0
    expect B->A ACK @0 lost
)";

TEST_CASE("RFC 3261 §13.3.1.4 for a re-INVITE: a lost ACK: the 200 again at T1, the same ACK again, nothing renegotiated") {
  run("lost re-INVITE ack", "drop B->A ACK\n" + std::string(reinvite_to_confirmed_hold) + R"(
    advance 1000
    expect A->B 200 @500 has=a=recvonly
    expect B->A ACK @500
    advance 40000
    expect sdp A recvonly
    expect sdp B sendonly
    A hangup
    expect A->B BYE @41000
    expect B->A 200 @41000
    expect B state disconnected @41000 status=200
    expect A state disconnected @41000 status=200
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 3261 §13.3.1.4 for a re-INVITE: no ACK within 64*T1: the 200 at T1 doubling to T2, then BYE") {
  run("no re-INVITE ack", "drop B->A ACK times=20\n" + std::string(reinvite_to_confirmed_hold) + R"(
    advance 40000
    expect A->B 200 @500
    expect B->A ACK @500 lost
    expect A->B 200 @1500
    expect B->A ACK @1500 lost
    expect A->B 200 @3500
    expect B->A ACK @3500 lost
    expect A->B 200 @7500
    expect B->A ACK @7500 lost
    expect A->B 200 @11500
    expect B->A ACK @11500 lost
    expect A->B 200 @15500
    expect B->A ACK @15500 lost
    expect A->B 200 @19500
    expect B->A ACK @19500 lost
    expect A->B 200 @23500
    expect B->A ACK @23500 lost
    expect A->B 200 @27500
    expect B->A ACK @27500 lost
    expect A->B 200 @31500
    expect B->A ACK @31500 lost
    expect A->B BYE @32000
    expect B->A 200 @32000
    expect B state disconnected @32000 status=200
    expect A state disconnected @32000 status=200
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 5057 §3.2: a BYE whose response never comes ends the call at Timer F (TCP: no retransmissions)") {
  run("lost bye response", R"(
    config transport=tcp
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    drop B->A 200
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0 lost
    expect B state disconnected @0 status=200
    advance 40000
    expect A state disconnected @32000 status=408
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 3261 §12.1.2 / §13.2.2.4 forking: two early dialogs from two To tags, two 2xx each ACKed, the second ended with BYE") {
  run("forking", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 180
    expect B->A 180 @0
    expect B state early @0 status=180
    expect A state early @0 status=180
    B fork 180 carol1
    expect B->A 180 @0 has=tag=carol1
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    B fork 200 carol1
    expect B->A 200 @0
    expect A->B ACK @0 has=tag=carol1
    expect A->B BYE @0 has=tag=carol1 has=BYE_sip:carol@192.0.2.3:5060
    expect B->A 481 @0
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 5359 §2.1 hold and resume by re-INVITE (sendonly answered recvonly, then sendrecv)") {
  run("hold resume", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A reinvite hold
    expect A->B INVITE @0 has=a=sendonly has=CSeq:_2_INVITE
    expect B media ok @0
    expect B->A 200 @0 has=a=recvonly
    expect A media ok @0
    expect A->B ACK @0
    expect sdp A sendonly
    expect sdp B recvonly
    A reinvite resume
    expect A->B INVITE @0 has=a=sendrecv has=CSeq:_3_INVITE
    expect B media ok @0
    expect B->A 200 @0
    expect A media ok @0
    expect A->B ACK @0
    expect sdp A sendrecv
    expect sdp B sendrecv
    B hangup
    expect B->A BYE @0
    expect A->B 200 @0
    expect A state disconnected @0 status=200
    expect B state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3261 §14.2 re-INVITE without an offer: the offer in the 200, the answer in the ACK") {
  run("reinvite late offer", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A reinvite nooffer
    expect A->B INVITE @0 hasnot=Content-Type has=CSeq:_2_INVITE
    expect B->A 200 @0 has=m=audio
    expect A media ok @0
    expect A->B ACK @0 has=CSeq:_2_ACK has=m=audio
    expect B media ok @0
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3261 §12.2.2: a request with a lower CSeq gets 500; one for no dialog gets 481; the call goes on") {
  run("cseq and unknown dialog", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A send INFO cseq=0
    expect A->B INFO @0 has=CSeq:_0_INFO
    expect B->A 500 @0 has=CSeq:_0_INFO
    expect A stray 500 @0
    A send INFO totag=nope
    expect A->B INFO @0
    expect B->A 481 @0
    expect A stray 481 @0
    A info
    expect A->B INFO @0 has=Content-Type:_application/dtmf-relay
    expect B request INFO @0
    expect B->A 200 @0
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3261 §14.2 glare: re-INVITEs that cross both get 491 and both calls stay up; §14.1: each side sends its re-INVITE again after its own random wait, the callee (0-2 s) before the caller (2.1-4 s)") {
  run("glare", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    drop A->B INVITE
    drop B->A INVITE
    A reinvite hold
    expect A->B INVITE @0 lost
    B reinvite hold
    expect B->A INVITE @0 lost
    advance 600
    expect A->B INVITE @500
    expect B->A INVITE @500
    expect B->A 491 @500 has=CSeq:_2_INVITE
    expect A->B 491 @500
    expect A->B ACK @500
    expect B->A ACK @500
    expect sdp A sendrecv
    expect sdp B sendrecv
    advance 2000
    expect B->A INVITE @910
    expect A media ok @910
    expect A->B 200 @910
    expect B media ok @910
    expect B->A ACK @910
    expect sdp A recvonly
    expect sdp B sendonly
    advance 3000
    expect A->B INVITE @3790
    expect B media ok @3790
    expect B->A 200 @3790
    expect A media ok @3790
    expect A->B ACK @3790
    expect sdp A sendonly
    expect sdp B inactive
    expect stream A inactive
    expect stream B inactive
    A hangup
    expect A->B BYE @5600
    expect B->A 200 @5600
    expect B state disconnected @5600 status=200
    expect A state disconnected @5600 status=200
  )");
}

TEST_CASE("§13.3.1.4/§14.1: the caller takes the ACK of a re-INVITE it answered: the callee's late-offer re-INVITE completes in that ACK, and its next re-INVITE is not refused with 491") {
  run("callee re-INVITEs", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    B reinvite nooffer
    expect B->A INVITE @0
    expect A->B 200 @0 has=a=sendrecv
    expect B media ok @0
    expect B->A ACK @0 has=a=sendrecv
    expect A media ok @0
    B reinvite hold
    expect B->A INVITE @0 has=a=sendonly
    expect A media ok @0
    expect A->B 200 @0 has=a=recvonly
    expect B media ok @0
    expect B->A ACK @0
    expect sdp A recvonly
    expect sdp B sendonly
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3261 §9.1: a 200 that crosses the CANCEL is ACKed and the call ended with BYE") {
  run("cancel crosses 200", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 180
    expect B->A 180 @0
    expect B state early @0 status=180
    expect A state early @0 status=180
    drop B->A 200
    B answer 200
    expect B->A 200 @0 lost
    expect B media ok @0
    expect B state connecting @0 status=200
    A hangup
    expect A->B CANCEL @0
    expect B->A 200 @0
    advance 600
    expect B->A 200 @500
    expect A->B ACK @500
    expect A->B BYE @500 has=CSeq:_2_BYE
    expect B state confirmed @500 status=200
    expect B->A 200 @500
    expect B state disconnected @500 status=200
    expect A state disconnected @500 status=200
  )");
}

TEST_CASE("RFC 3261 §15: the UAS hangs up before the ACK came: its BYE waits for the ACK") {
  run("bye waits for ack", R"(
    drop A->B ACK
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0 lost
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    B hangup
    advance 600
    expect B->A 200 @500
    expect A->B ACK @500
    expect B state confirmed @500 status=200
    expect B->A BYE @500
    expect A->B 200 @500
    expect A state disconnected @500 status=200
    expect B state disconnected @500 status=200
  )");
}

TEST_CASE("RFC 3261 §22.2 / RFC 8760: a 401 offering SHA-256 and MD5 is answered with SHA-256, CSeq + 1; a second rejection ends the call") {
  run("auth", R"(
    config password=secret
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B challenge 401 MD5,SHA-256
    expect B->A 401 @0 has=algorithm=MD5 has=algorithm=SHA-256
    expect B state disconnected @0 status=401
    expect A->B ACK @0
    expect A->B INVITE @0 has=CSeq:_2_INVITE has=Authorization:_Digest_username="alice" has=algorithm=SHA-256 has=nc=00000001 has=m=audio
    expect B state incoming @0 status=0
    expect B incoming @0
    expect verified 401 secret
    B challenge 401 SHA-256
    expect B->A 401 @0
    expect B state disconnected @0 status=401
    expect A->B ACK @0
    expect A state disconnected @0 status=401
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 3261 §22.3: a 407 after a 180 is answered with Proxy-Authorization, and the call goes on") {
  run("proxy auth", R"(
    config password=secret
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 180
    expect B->A 180 @0
    expect B state early @0 status=180
    expect A state early @0 status=180
    B challenge 407 MD5
    expect B->A 407 @0
    expect B state disconnected @0 status=407
    expect A->B ACK @0
    expect A->B INVITE @0 has=CSeq:_2_INVITE has=Proxy-Authorization:_Digest has=algorithm=MD5
    expect B state incoming @0 status=0
    expect B incoming @0
    expect verified 407 secret
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A hangup
    expect A->B BYE @0 has=CSeq:_3_BYE
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3261 §8.1.1.1: a call through an outbound proxy: its INVITE, CANCEL, non-2xx ACK and retry with credentials carry the preloaded Route") {
  run("proxy cancel", R"(
    A call proxy
    expect A->B INVITE @0 has=Route:_<sip:proxy.example.com;lr> has=sip:bob@192.0.2.2:5060_SIP/2.0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 180
    expect B->A 180 @0
    expect B state early @0 status=180
    expect A state early @0 status=180
    A hangup
    expect A->B CANCEL @0 has=Route:_<sip:proxy.example.com;lr>
    expect B->A 200 @0
    expect B->A 487 @0
    expect B state disconnected @0 status=487
    expect A->B ACK @0 has=Route:_<sip:proxy.example.com;lr>
    expect A state disconnected @0 status=487
  )");
  // §12.1.2: the dialog's route set is the Record-Route (none here): the
  // 2xx's ACK and the BYE carry no Route.
  run("proxy auth", R"(
    config password=secret
    A call proxy
    expect A->B INVITE @0 has=Route:_<sip:proxy.example.com;lr>
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B challenge 407 MD5
    expect B->A 407 @0
    expect B state disconnected @0 status=407
    expect A->B ACK @0 has=Route:_<sip:proxy.example.com;lr>
    expect A->B INVITE @0 has=CSeq:_2_INVITE has=Route:_<sip:proxy.example.com;lr> has=Proxy-Authorization:_Digest
    expect B state incoming @0 status=0
    expect B incoming @0
    expect verified 407 secret
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0 hasnot=Route:
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A hangup
    expect A->B BYE @0 hasnot=Route:
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
  run("proxy register and message", R"(
    config password=secret
    A register proxy password=secret
    expect A->B REGISTER @0 has=Route:_<sip:proxy.example.com;lr> has=REGISTER_sip:example.com_SIP/2.0
    expect A registration registering @0 status=0
    expect B outside REGISTER @0
    B respond 401 challenge=MD5
    expect B->A 401 @0
    expect A->B REGISTER @0 has=Route:_<sip:proxy.example.com;lr> has=Authorization:_Digest
    expect B outside REGISTER @0
    B respond 200 expires=600
    expect B->A 200 @0
    expect A registration registered @0 status=200
    A message proxy
    expect A->B MESSAGE @0 has=Route:_<sip:proxy.example.com;lr>
    expect B outside MESSAGE @0
    B respond 200
    expect B->A 200 @0
    expect A result status=200
  )");
}

TEST_CASE("RFC 3261 §10.2.4: a registration through the session layer refreshes before the granted expiry and unregisters") {
  run("registration", R"(
    A register expires=120
    expect A->B REGISTER @0 has=Expires:_120 has=CSeq:_1_REGISTER
    expect A registration registering @0 status=0
    expect B outside REGISTER @0
    B respond 200 expires=60
    expect B->A 200 @0
    expect A registration registered @0 status=200
    advance 56000
    expect A->B REGISTER @55000 has=CSeq:_2_REGISTER
    expect A registration registering @55000 status=200
    expect B outside REGISTER @55000
    expect A->B REGISTER @55500
    B respond 200 expires=60
    expect B->A 200 @56000
    expect A registration registered @56000 status=200
    A unregister
    expect A->B REGISTER @56000 has=Expires:_0 has=CSeq:_3_REGISTER
    expect A registration unregistering @56000 status=200
    expect B outside REGISTER @56000
    B respond 200
    expect B->A 200 @56000
    expect A registration unregistered @56000 status=200
  )");
}

TEST_CASE("RFC 3262 §3-§5: a reliable 183 carries the answer; the PRACK stops its retransmission; the 200 has no SDP") {
  run("prack answer in 183", R"(
    config 100rel=yes
    A call
    expect A->B INVITE @0 has=Supported:_100rel has=m=audio
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 183
    expect B->A 183 @0 has=Require:_100rel has=RSeq: has=m=audio
    expect B media ok @0
    expect B state early @0 status=183
    expect A media ok @0
    expect A->B PRACK @0 has=RAck: has=_1_INVITE has=CSeq:_2_PRACK hasnot=Content-Type
    expect A state early @0 status=183
    expect B->A 200 @0 has=CSeq:_2_PRACK
    B answer 200
    expect B->A 200 @0 has=CSeq:_1_INVITE hasnot=Content-Type
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3262 §5 late offer: the reliable 180 carries B's offer, A's PRACK the answer") {
  run("prack offer in 180", R"(
    config 100rel=yes
    A call late
    expect A->B INVITE @0 hasnot=Content-Type
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 180
    expect B->A 180 @0 has=Require:_100rel has=m=audio
    expect B state early @0 status=180
    expect A media ok @0
    expect A->B PRACK @0 has=Content-Type:_application/sdp has=m=audio
    expect A state early @0 status=180
    expect B media ok @0
    expect B->A 200 @0
    B answer 200
    expect B->A 200 @0
    expect B state connecting @0 status=200
    expect A->B ACK @0 hasnot=Content-Type
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3262 §3: a lost PRACK: the 183 is re-sent at T1 and PRACKed once more; no PRACK in 64*T1 refuses the INVITE with 500") {
  run("prack lost", R"(
    config 100rel=yes
    drop A->B PRACK times=100
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 183
    expect B->A 183 @0
    expect B media ok @0
    expect B state early @0 status=183
    expect A media ok @0
    expect A->B PRACK @0 lost
    expect A state early @0 status=183
    advance 40000
    expect A->B PRACK @500 lost
    expect B->A 183 @500
    expect A->B PRACK @1500 lost
    expect B->A 183 @1500
    expect A->B PRACK @3500 lost
    expect B->A 183 @3500
    expect A->B PRACK @7500 lost
    expect B->A 183 @7500
    expect A->B PRACK @11500 lost
    expect A->B PRACK @15500 lost
    expect B->A 183 @15500
    expect A->B PRACK @19500 lost
    expect A->B PRACK @23500 lost
    expect A->B PRACK @27500 lost
    expect A->B PRACK @31500 lost
    expect B->A 183 @31500
    expect B->A 500 @32000 has=CSeq:_1_INVITE
    expect B state disconnected @32000 status=500
    expect A->B ACK @32000
    expect A state disconnected @32000 status=500
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 3262 §4 forked reliable provisionals: each early dialog's 183 is PRACKed in that dialog") {
  run("prack forked", R"(
    config 100rel=yes
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 183
    expect B->A 183 @0
    expect B media ok @0
    expect B state early @0 status=183
    expect A media ok @0
    expect A->B PRACK @0
    expect A state early @0 status=183
    expect B->A 200 @0
    B fork 183 carol2 reliable
    expect B->A 183 @0
    expect A->B PRACK @0 has=tag=carol2 has=PRACK_sip:carol@192.0.2.3:5060 has=RAck:_7_1_INVITE
    expect B->A 481 @0
    B answer 200
    expect B->A 200 @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3311: UPDATE in the early dialog after a reliable 183, and in the confirmed dialog (hold)") {
  run("update", R"(
    config 100rel=yes
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 183
    expect B->A 183 @0
    expect B media ok @0
    expect B state early @0 status=183
    expect A media ok @0
    expect A->B PRACK @0
    expect A state early @0 status=183
    expect B->A 200 @0
    A update
    expect A->B UPDATE @0 has=CSeq:_3_UPDATE has=m=audio has=Contact:
    expect B media ok @0
    expect B request UPDATE @0
    expect B->A 200 @0
    expect A media ok @0
    B answer 200
    expect B->A 200 @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A update hold
    expect A->B UPDATE @0 has=a=sendonly
    expect B media ok @0
    expect B request UPDATE @0
    expect B->A 200 @0
    expect A media ok @0
    expect sdp A sendonly
    expect sdp B recvonly
    B hangup
    expect B->A BYE @0
    expect A->B 200 @0
    expect A state disconnected @0 status=200
    expect B state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3311 §5.2: an UPDATE with an offer while ours is outstanding gets 491; ours, re-sent, then goes through; §14.1 (RFC 3311 §5.1): the callee sends its UPDATE again after 0-2 s, each time it gets 491") {
  run("update glare", R"(
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    drop A->B UPDATE
    A update hold
    expect A->B UPDATE @0 lost
    B update hold
    expect B->A UPDATE @0
    expect A->B 491 @0 has=CSeq:_1_UPDATE
    advance 600
    expect B->A UPDATE @370
    expect A->B 491 @370
    expect A->B UPDATE @500
    expect B media ok @500
    expect B request UPDATE @500
    expect B->A 200 @500
    expect A media ok @500
    expect sdp A sendonly
    expect sdp B recvonly
    advance 3000
    expect B->A UPDATE @780
    expect A media ok @780
    expect A request UPDATE @780
    expect A->B 200 @780
    expect B media ok @780
    expect sdp A inactive
    expect sdp B sendonly
    expect stream A inactive
    expect stream B inactive
    A hangup
    expect A->B BYE @3600
    expect B->A 200 @3600
    expect B state disconnected @3600 status=200
    expect A state disconnected @3600 status=200
  )");
}

TEST_CASE("a call slot reused at once: the new call's 2xx goes again at T1 and 3*T1 after its own answer") {
  run("slot reuse", R"(
    drop A->B ACK
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0 lost
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    advance 500
    expect B->A 200 @500
    expect A->B ACK @500
    expect B state confirmed @500 status=200
    A hangup
    expect A->B BYE @500
    expect B->A 200 @500
    expect B state disconnected @500 status=200
    expect A state disconnected @500 status=200
    drop A->B ACK times=2
    A call
    expect A->B INVITE @500
    expect A state calling @500 status=0
    expect B state incoming @500 status=0
    expect B incoming @500
    B answer 200
    expect B->A 200 @500
    expect B media ok @500
    expect B state connecting @500 status=200
    expect A->B ACK @500 lost
    expect A media ok @500
    expect A state connecting @500 status=200
    expect A state confirmed @500 status=200
    advance 2000
    expect B->A 200 @1000
    expect A->B ACK @1000 lost
    expect B->A 200 @2000
    expect A->B ACK @2000
    expect B state confirmed @2000 status=200
    A hangup
    expect A->B BYE @2500
    expect B->A 200 @2500
    expect B state disconnected @2500 status=200
    expect A state disconnected @2500 status=200
  )");
}

TEST_CASE("RFC 4028 §10: the caller refreshes the session with a re-INVITE at half the interval") {
  run("session timer refresh", R"(
    config se=120 refresh=invite
    A call
    expect A->B INVITE @0 has=Session-Expires:_120 has=Min-SE:_90 has=Supported:_timer
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Session-Expires:_120;refresher=uac has=Require:_timer
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    advance 130000
    expect A->B INVITE @60000 has=CSeq:_2_INVITE has=Session-Expires:_120;refresher=uac
    expect B media ok @60000
    expect B->A 200 @60000
    expect A media ok @60000
    expect A->B ACK @60000
    expect A->B INVITE @120000 has=CSeq:_3_INVITE
    expect B media ok @120000
    expect B->A 200 @120000
    expect A media ok @120000
    expect A->B ACK @120000
    A hangup
    expect A->B BYE @130000
    expect B->A 200 @130000
    expect B state disconnected @130000 status=200
    expect A state disconnected @130000 status=200
  )");
}

TEST_CASE("RFC 4028 §10: no refresh arrives: the callee ends the session with BYE at interval - 32 s") {
  run("session timer expiry", R"(
    config se=120 refresh=invite
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    drop A->B INVITE times=20
    advance 100000
    expect A->B INVITE @60000 lost
    expect A->B INVITE @60500 lost
    expect A->B INVITE @61500 lost
    expect A->B INVITE @63500 lost
    expect A->B INVITE @67500 lost
    expect A->B INVITE @75500 lost
    expect B->A BYE @88000 has=CSeq:_1_BYE
    expect A->B 200 @88000
    expect A state disconnected @88000 status=200
    expect B state disconnected @88000 status=200
    expect A->B INVITE @91500 lost
    advance 40000
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 4028 §7.4: a peer that allows UPDATE is refreshed with an UPDATE without body; the non-refresher restarts its timer from it") {
  run("session timer refresh by UPDATE", R"(
    config se=120
    A call
    expect A->B INVITE @0 has=Session-Expires:_120 has=Allow:_INVITE,_ACK,_CANCEL,_BYE,_PRACK,_OPTIONS,_INFO,_MESSAGE,_UPDATE
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Session-Expires:_120;refresher=uac has=UPDATE
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    advance 200000
    expect A->B UPDATE @60000 has=CSeq:_2_UPDATE has=Session-Expires:_120;refresher=uac has=Supported:_timer hasnot=Content-Type
    expect B request UPDATE @60000
    expect B->A 200 @60000 has=Session-Expires:_120;refresher=uac hasnot=Content-Type
    expect A->B UPDATE @120000 has=CSeq:_3_UPDATE
    expect B request UPDATE @120000
    expect B->A 200 @120000
    expect A->B UPDATE @180000 has=CSeq:_4_UPDATE
    expect B request UPDATE @180000
    expect B->A 200 @180000
    A hangup
    expect A->B BYE @200000
    expect B->A 200 @200000
    expect B state disconnected @200000 status=200
    expect A state disconnected @200000 status=200
  )");
}

TEST_CASE("RFC 4028 §7.4: a peer whose Allow lists no UPDATE is refreshed with a re-INVITE") {
  run("session timer refresh, no UPDATE allowed", R"(
    config se=120 noupdate=B
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Session-Expires:_120;refresher=uac hasnot=UPDATE
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    advance 61000
    expect A->B INVITE @60000 has=CSeq:_2_INVITE has=Session-Expires:_120;refresher=uac
    expect B media ok @60000
    expect B->A 200 @60000
    expect A media ok @60000
    expect A->B ACK @60000
    A hangup
    expect A->B BYE @61000
    expect B->A 200 @61000
    expect B state disconnected @61000 status=200
    expect A state disconnected @61000 status=200
  )");
}

TEST_CASE("RFC 4028 §7.4: a peer that lists UPDATE but refuses it as a refresh (405) is refreshed by re-INVITE from then on") {
  run("session timer refresh, UPDATE refused", R"(
    config se=120 noupdate=B
    rewrite B->A 200 Allow INVITE,_ACK,_CANCEL,_BYE,_OPTIONS,_UPDATE
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Allow:_INVITE,_ACK,_CANCEL,_BYE,_OPTIONS,_UPDATE has=refresher=uac
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    advance 61000
    expect A->B UPDATE @60000 has=CSeq:_2_UPDATE hasnot=m=audio
    expect B->A 405 @60000 has=Allow:_INVITE,_ACK,_CANCEL,_BYE,_OPTIONS
    expect A->B INVITE @60000 has=CSeq:_3_INVITE has=Session-Expires:_120;refresher=uac
    expect B media ok @60000
    expect B->A 200 @60000
    expect A media ok @60000
    expect A->B ACK @60000
    advance 60000
    expect A->B INVITE @120000 has=CSeq:_4_INVITE
    expect B media ok @120000
    expect B->A 200 @120000
    expect A media ok @120000
    expect A->B ACK @120000
    A hangup
    expect A->B BYE @121000
    expect B->A 200 @121000
    expect B state disconnected @121000 status=200
    expect A state disconnected @121000 status=200
  )");
}

TEST_CASE("RFC 4028 §9: the callee starts a session timer the caller did not ask for; a caller without \"timer\" leaves the refreshing to it") {
  run("session timer started by the UAS", R"(
    config se_a=0 se_b=120
    A call
    expect A->B INVITE @0 hasnot=Session-Expires hasnot=timer
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Session-Expires:_120;refresher=uas hasnot=Require
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    advance 130000
    expect B->A UPDATE @60000 has=CSeq:_1_UPDATE has=Session-Expires:_120;refresher=uac
    expect A request UPDATE @60000
    expect A->B 200 @60000 has=Session-Expires:_120;refresher=uac
    expect B->A UPDATE @120000 has=CSeq:_2_UPDATE
    expect A request UPDATE @120000
    expect A->B 200 @120000
    A hangup
    expect A->B BYE @130000
    expect B->A 200 @130000
    expect B state disconnected @130000 status=200
    expect A state disconnected @130000 status=200
  )");
}

TEST_CASE("RFC 4028 §10: refreshes by UPDATE that never arrive: the non-refresher ends the session with BYE at interval - 32 s") {
  run("session timer expiry, UPDATE", R"(
    config se=120
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    drop A->B UPDATE times=20
    advance 100000
    expect A->B UPDATE @60000 lost
    expect A->B UPDATE @60500 lost
    expect A->B UPDATE @61500 lost
    expect A->B UPDATE @63500 lost
    expect A->B UPDATE @67500 lost
    expect A->B UPDATE @71500 lost
    expect A->B UPDATE @75500 lost
    expect A->B UPDATE @79500 lost
    expect A->B UPDATE @83500 lost
    expect A->B UPDATE @87500 lost
    expect B->A BYE @88000
    expect A->B 200 @88000
    expect A state disconnected @88000 status=200
    expect B state disconnected @88000 status=200
    expect A->B UPDATE @91500 lost
    advance 40000
    expect calls A=0 B=0
  )");
}

TEST_CASE("RFC 4028 §7.4 / §8.1: an interval below the callee's Min-SE gets 422; the INVITE is retried with it") {
  run("session timer 422", R"(
    config se=60 minse_a=30 minse_b=90
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B->A 422 @0 has=Min-SE:_90
    expect A->B ACK @0
    expect A->B INVITE @0 has=CSeq:_2_INVITE has=Session-Expires:_90
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Session-Expires:_90;refresher=uac
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3262 §3: a 2xx waits for the PRACK of a reliable 1xx with SDP; a second hangup sends no second BYE") {
  // The 180 carried the SDP answer; its PRACK is lost. "The UAS MUST NOT send
  // a final response ... until those provisional responses are acknowledged"
  // when the final response is 2xx: B's 200 leaves after the retransmitted
  // PRACK, not when B answers (found by the user agent's fault injection: a
  // UAC that lost the 180 got a 200 without SDP and hung up).
  run("2xx after prack", R"(
    config 100rel=yes
    drop A->B PRACK
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 180
    expect B->A 180 @0
    expect B media ok @0
    expect B state early @0 status=180
    expect A media ok @0
    expect A->B PRACK @0 lost
    expect A state early @0 status=180
    B answer 200
    advance 600
    expect A->B PRACK @500
    expect B->A 180 @500
    expect B->A 200 @500 has=CSeq:_2_PRACK
    expect B->A 200 @500 has=CSeq:_1_INVITE
    expect B state connecting @500 status=200
    expect A->B ACK @500
    expect A state connecting @500 status=200
    expect A state confirmed @500 status=200
    expect B state confirmed @500 status=200
    drop A->B BYE
    A hangup
    expect A->B BYE @600 lost
    A hangup
    advance 600
    expect A->B BYE @1100
    expect B->A 200 @1100
    expect B state disconnected @1100 status=200
    expect A state disconnected @1100 status=200
  )");
}

TEST_CASE("RFC 3261 §22.2 / RFC 3428: a MESSAGE outside a call challenged with 401 goes again with credentials; one result, under the first id") {
  run("message 401", R"(
    config password=secret
    A message
    expect A->B MESSAGE @0 has=CSeq:_1_MESSAGE
    expect B outside MESSAGE @0
    B respond 401 challenge=MD5
    expect B->A 401 @0
    expect A->B MESSAGE @0 has=CSeq:_2_MESSAGE has=Authorization:_Digest
    expect B outside MESSAGE @0
    expect verified 401 secret outside
    B respond 200
    expect B->A 200 @0
    expect A result status=200
    A message
    expect A->B MESSAGE @0
    expect B outside MESSAGE @0
    B respond 407 challenge=SHA-256
    expect B->A 407 @0
    expect A->B MESSAGE @0 has=Proxy-Authorization:_Digest
    expect B outside MESSAGE @0
    expect verified 407 secret outside
    B respond 407 challenge=SHA-256
    expect B->A 407 @0
    expect A result status=407
  )");
  // no credentials: the 401 is the result
  run("message 401 without credentials", R"(
    config media=no
    A message
    expect A->B MESSAGE @0
    expect B outside MESSAGE @0
    B respond 401 challenge=MD5
    expect B->A 401 @0
    expect A result status=401
  )");
}

// --- the dialog alone (dialog.hpp) -------------------------------------------------

namespace {
namespace sip = sigwire::sip;
namespace dlg = sigwire::sip::dialog;

sip::message parsed(std::string text) {
  sip::message m;
  REQUIRE_FALSE(sip::message::parse(std::move(text), m));
  return m;
}

const std::string invite_text =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
    "Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\nContent-Length: 0\r\n\r\n";

std::string response_text(int status, std::string_view to_tag, std::string_view extra) {
  std::string r = "SIP/2.0 " + std::to_string(status) + " X\r\n"
                  "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
                  "To: Bob <sip:bob@biloxi.example.com>" + (to_tag.empty() ? std::string{} : ";tag=" + std::string(to_tag)) + "\r\n"
                  "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
                  "Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\n";
  return r + std::string(extra) + "Content-Length: 0\r\n\r\n";
}
}  // namespace

TEST_CASE("§12.1.2 UAC dialog: route set is Record-Route reversed, remote target from Contact, CSeq from the INVITE") {
  const auto invite = parsed(invite_text);
  const auto ok = parsed(response_text(200, "a6c85cf",
                                       "Record-Route: <sip:p2.biloxi.example.com;lr>\r\n"
                                       "Record-Route: <sip:p1.atlanta.example.com;lr>\r\n"
                                       "Contact: <sip:bob@192.0.2.4>\r\n"));
  dlg::dialog d;
  REQUIRE(dlg::dialog::create_uac(invite.view(), ok.view(), d) == dlg::dialog_error::ok);
  CHECK(d.state() == dlg::dialog_state::confirmed);
  CHECK(d.id() == dlg::dialog_id{"a84b4c76e66710", "1928301774", "a6c85cf"});
  REQUIRE(d.route_set().size() == 2);
  CHECK(d.route_set()[0] == "<sip:p1.atlanta.example.com;lr>");
  CHECK(d.route_set()[1] == "<sip:p2.biloxi.example.com;lr>");
  CHECK(d.remote_target() == "sip:bob@192.0.2.4");
  CHECK(d.local_cseq() == 314159u);
  CHECK_FALSE(d.remote_cseq().has_value());

  // §12.2.1.1 loose routing: Request-URI = remote target, Route = the route set in order.
  std::string bye;
  REQUIRE(d.create_request(sip::method::bye, {.via = "SIP/2.0/UDP pc33.atlanta.example.com", .branch = "z9hG4bKbye1"}, bye) ==
          dlg::dialog_error::ok);
  CHECK(bye.starts_with("BYE sip:bob@192.0.2.4 SIP/2.0\r\n"));
  CHECK(bye.find("Route: <sip:p1.atlanta.example.com;lr>\r\nRoute: <sip:p2.biloxi.example.com;lr>\r\n") != std::string::npos);
  CHECK(bye.find("CSeq: 314160 BYE\r\n") != std::string::npos);
  CHECK(bye.find("To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n") != std::string::npos);
  CHECK(bye.find("From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n") != std::string::npos);
  CHECK(bye.find("Contact:") == std::string::npos);  // BYE is no target refresh
  const auto parsed_bye = parsed(bye);
  CHECK(parsed_bye->top_via()->branch == "z9hG4bKbye1");

  // §13.2.2.4: the ACK keeps the INVITE's CSeq number.
  std::string ack;
  REQUIRE(d.create_ack(314159, {.via = "SIP/2.0/UDP pc33.atlanta.example.com", .branch = "z9hG4bKack1"}, ack) ==
          dlg::dialog_error::ok);
  CHECK(ack.find("CSeq: 314159 ACK\r\n") != std::string::npos);
}

TEST_CASE("§12.2.1.1 strict routing: the first route becomes the Request-URI, the remote target the last Route") {
  const auto invite = parsed(invite_text);
  const auto ok = parsed(response_text(200, "t1",
                                       "Record-Route: <sip:p2.example.com>\r\n"
                                       "Record-Route: <sip:p1.example.com;lr>\r\n"
                                       "Contact: <sip:bob@192.0.2.4>\r\n"));
  dlg::dialog d;
  REQUIRE(dlg::dialog::create_uac(invite.view(), ok.view(), d) == dlg::dialog_error::ok);
  d.set_route_set({"<sip:strict.example.com;maddr=192.0.2.9>", "<sip:p1.example.com;lr>"});
  std::string info;
  REQUIRE(d.create_request(sip::method::info, {.via = "SIP/2.0/UDP h", .branch = "z9hG4bKi"}, info) == dlg::dialog_error::ok);
  CHECK(info.starts_with("INFO sip:strict.example.com;maddr=192.0.2.9 SIP/2.0\r\n"));
  CHECK(info.find("Route: <sip:p1.example.com;lr>\r\nRoute: <sip:bob@192.0.2.4>\r\n") != std::string::npos);
}

TEST_CASE("§12.1.2: a 1xx without a To tag makes no dialog; a 2xx without one is refused; 100 and 3xx make none") {
  const auto invite = parsed(invite_text);
  dlg::dialog d;
  CHECK(dlg::dialog::create_uac(invite.view(), parsed(response_text(180, "", "")).view(), d) == dlg::dialog_error::no_remote_tag);
  CHECK(dlg::dialog::create_uac(invite.view(), parsed(response_text(200, "", "Contact: <sip:b@h>\r\n")).view(), d) ==
        dlg::dialog_error::no_remote_tag);
  CHECK(dlg::dialog::create_uac(invite.view(), parsed(response_text(100, "x", "")).view(), d) ==
        dlg::dialog_error::not_dialog_creating);
  CHECK(dlg::dialog::create_uac(invite.view(), parsed(response_text(486, "x", "")).view(), d) ==
        dlg::dialog_error::not_dialog_creating);
  // A 2xx must carry a Contact (§13.3.1.4); a 180 may omit it (the target stays the Request-URI).
  CHECK(dlg::dialog::create_uac(invite.view(), parsed(response_text(200, "x", "")).view(), d) ==
        dlg::dialog_error::missing_contact);
  REQUIRE(dlg::dialog::create_uac(invite.view(), parsed(response_text(180, "x", "")).view(), d) == dlg::dialog_error::ok);
  CHECK(d.state() == dlg::dialog_state::early);
  CHECK(d.remote_target() == "sip:bob@biloxi.example.com");
  // pjsip_dlg_fork: another To tag, another dialog of the same INVITE.
  dlg::dialog forked;
  REQUIRE(d.fork(parsed(response_text(183, "y", "Contact: <sip:carol@192.0.2.5>\r\n")).view(), forked) == dlg::dialog_error::ok);
  CHECK(forked.id().remote_tag == "y");
  CHECK(forked.remote_target() == "sip:carol@192.0.2.5");
  CHECK(forked.local_cseq() == 314159u);
  // §12.3: a non-2xx final to the INVITE ends the early dialog.
  CHECK(d.receive_response(sip::method::invite, parsed(response_text(486, "x", "")).view()) == dlg::dialog_error::ok);
  CHECK(d.state() == dlg::dialog_state::terminated);
}

TEST_CASE("RFC 3261 §8.1.1.8 / §12.1.1: SIPS Contacts: ours for TLS as a SIPS URI, and when a UAS dialog needs one") {
  CHECK(dlg::secure_contact("sip:alice@192.0.2.1:5061;transport=tls") == "sips:alice@192.0.2.1:5061");
  CHECK(dlg::secure_contact("SIP:alice@192.0.2.1:5061;ob;Transport=TLS") == "sips:alice@192.0.2.1:5061;ob");
  CHECK(dlg::secure_contact("sip:a@[2001:db8::1]:5061;transport=tls;lr?subject=x") == "sips:a@[2001:db8::1]:5061;lr?subject=x");
  CHECK(dlg::secure_contact("sip:alice@192.0.2.1:443;transport=ws") == "sips:alice@192.0.2.1:443;transport=ws");  // RFC 7118 §5.2
  CHECK(dlg::secure_contact("sip:alice@192.0.2.1:443;transport=wss") == "sips:alice@192.0.2.1:443;transport=wss");
  // No SIPS URI reaches these: left as they are.
  CHECK(dlg::secure_contact("sip:alice@192.0.2.1:5060") == "sip:alice@192.0.2.1:5060");
  CHECK(dlg::secure_contact("sip:alice@192.0.2.1;transport=tcp") == "sip:alice@192.0.2.1;transport=tcp");
  CHECK(dlg::secure_contact("sips:alice@192.0.2.1") == "sips:alice@192.0.2.1");
  CHECK(dlg::secure_contact("not a uri") == "not a uri");
  CHECK(dlg::is_sips("Bob <SIPS:bob@p1.example.com;lr>"));
  CHECK_FALSE(dlg::is_sips("<sip:bob@p1.example.com;lr>"));

  const auto invite = [](std::string_view uri, std::string_view record_route, std::string_view contact) {
    return parsed("INVITE " + std::string(uri) + " SIP/2.0\r\nVia: SIP/2.0/TLS p1.example.com;branch=z9hG4bK1\r\n" +
                  std::string(record_route) + "To: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=a1\r\n"
                  "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <" + std::string(contact) + ">\r\nContent-Length: 0\r\n\r\n");
  };
  const auto our_contact = [](const sip::message& request) {
    dlg::dialog d;
    REQUIRE(dlg::dialog::create_uas(request.view(), "b1", "sip:bob@192.0.2.4:5061;transport=tls", d) == dlg::dialog_error::ok);
    return d.local_contact();
  };
  CHECK(our_contact(invite("sips:bob@192.0.2.4", "", "sip:alice@192.0.2.1;transport=tls")) == "sips:bob@192.0.2.4:5061");
  CHECK(our_contact(invite("sip:bob@192.0.2.4", "Record-Route: <sips:p1.example.com;lr>, <sip:p2;lr>\r\n", "sip:a@h")) ==
        "sips:bob@192.0.2.4:5061");
  CHECK(our_contact(invite("sip:bob@192.0.2.4", "", "sips:alice@192.0.2.1")) == "sips:bob@192.0.2.4:5061");
  // The top Record-Route decides when there is one, not the Contact.
  CHECK(our_contact(invite("sip:bob@192.0.2.4", "Record-Route: <sip:p1.example.com;lr>\r\n", "sips:alice@192.0.2.1")) ==
        "sip:bob@192.0.2.4:5061;transport=tls");
  CHECK(our_contact(invite("sip:bob@192.0.2.4", "", "sip:alice@192.0.2.1;transport=tls")) == "sip:bob@192.0.2.4:5061;transport=tls");
}

TEST_CASE("a REGISTER to a SIPS registrar binds our TLS Contact as a SIPS URI; to a sip: one, as it is") {
  for (const bool sips : {true, false}) {
    dlg::session_config cfg;
    cfg.via = "SIP/2.0/TLS 192.0.2.1:5061";
    cfg.contact = "sip:alice@192.0.2.1:5061;transport=tls";
    dlg::session_layer layer(cfg, [n = std::uint64_t{7}]() mutable { return ++n; });
    (void)layer.add_registration({.registrar = sips ? "sips:example.com" : "sip:example.com", .aor = "<sip:alice@example.com>"},
                                 sip::transaction::peer{1, true}, sip::transaction::instant{0});
    std::string sent;
    for (auto& e : layer.take_events())
      if (const auto* s = std::get_if<sip::transaction::send_event>(&e)) sent = std::string(s->bytes());
    REQUIRE(sent.starts_with("REGISTER "));
    CHECK(sent.find(sips ? "Contact: <sips:alice@192.0.2.1:5061>" : "Contact: <sip:alice@192.0.2.1:5061;transport=tls>") !=
          std::string::npos);
  }
}

TEST_CASE("RFC 3261 §8.1.1.8 / §12.1.1 over TLS: a call to a SIPS URI carries SIPS Contacts both ways; its in-dialog requests go to them") {
  run("sips call", R"(
    config transport=tls media=no
    A call sips
    expect A->B INVITE @0 has=INVITE_sips:bob@192.0.2.2:5061_SIP/2.0 has=Contact:_<sips:alice@192.0.2.1:5061> hasnot=transport=tls
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Contact:_<sips:bob@192.0.2.2:5061> hasnot=transport=tls
    expect B state connecting @0 status=200
    expect A->B ACK @0 has=ACK_sips:bob@192.0.2.2:5061_SIP/2.0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    B hangup
    expect B->A BYE @0 has=BYE_sips:alice@192.0.2.1:5061_SIP/2.0
    expect A->B 200 @0 has=CSeq:_1_BYE
    expect A state disconnected @0 status=200
    expect B state disconnected @0 status=200
    expect calls A=0 B=0
  )");
  run("sip call over tls", R"(
    config transport=tls media=no
    A call
    expect A->B INVITE @0 has=Contact:_<sip:alice@192.0.2.1:5061;transport=tls>
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Contact:_<sip:bob@192.0.2.2:5061;transport=tls>
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
  )");
}

TEST_CASE("§12.1.1 UAS dialog; §12.2.2 CSeq order and target refresh; RFC 5057 scopes of failures") {
  const auto invite = parsed(
      "INVITE sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1\r\n"
      "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
      "To: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=a1\r\nCall-ID: c1\r\nCSeq: 10 INVITE\r\n"
      "Contact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
  dlg::dialog d;
  CHECK(dlg::dialog::create_uas(invite.view(), "bad tag", "sip:bob@192.0.2.4", d) == dlg::dialog_error::build_failed);
  REQUIRE(dlg::dialog::create_uas(invite.view(), "b1", "sip:bob@192.0.2.4", d) == dlg::dialog_error::ok);
  CHECK(d.route_set() == std::vector<std::string>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"});
  CHECK(d.remote_cseq() == 10u);
  CHECK(d.remote_target() == "sip:alice@192.0.2.1");

  std::string ringing;
  REQUIRE(d.create_response(invite.view(), 180, "Ringing", {}, ringing) == dlg::dialog_error::ok);
  CHECK(ringing.find("To: <sip:bob@example.com>;tag=b1\r\n") != std::string::npos);
  CHECK(ringing.find("Contact: <sip:bob@192.0.2.4>\r\n") != std::string::npos);
  CHECK(ringing.find("Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n") != std::string::npos);

  const auto in_dialog = [](unsigned cseq, std::string_view method, std::string_view contact) {
    return parsed("" + std::string(method) + " sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK" +
                  std::to_string(cseq) + "\r\nTo: <sip:bob@example.com>;tag=b1\r\nFrom: <sip:alice@example.com>;tag=a1\r\n"
                  "Call-ID: c1\r\nCSeq: " + std::to_string(cseq) + " " + std::string(method) + "\r\n" +
                  std::string(contact) + "Content-Length: 0\r\n\r\n");
  };
  CHECK(d.receive_request(in_dialog(9, "INFO", "").view()) == dlg::dialog_error::out_of_order);
  CHECK(d.remote_cseq() == 10u);
  CHECK(d.receive_request(in_dialog(11, "INVITE", "Contact: <sip:alice@198.51.100.7>\r\n").view()) == dlg::dialog_error::ok);
  CHECK(d.remote_target() == "sip:alice@198.51.100.7");  // target refresh
  CHECK(d.receive_request(in_dialog(12, "INFO", "Contact: <sip:elsewhere@198.51.100.8>\r\n").view()) == dlg::dialog_error::ok);
  CHECK(d.remote_target() == "sip:alice@198.51.100.7");  // INFO refreshes nothing
  auto other_dialog = parsed("BYE sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKo\r\n"
                             "To: <sip:bob@example.com>;tag=zz\r\nFrom: <sip:alice@example.com>;tag=a1\r\n"
                             "Call-ID: c1\r\nCSeq: 20 BYE\r\nContent-Length: 0\r\n\r\n");
  CHECK(d.receive_request(other_dialog.view()) == dlg::dialog_error::wrong_dialog);

  using dlg::response_scope;
  CHECK(dlg::scope_of(488, sip::method::invite) == response_scope::transaction);  // a failed re-INVITE keeps the call
  CHECK(dlg::scope_of(491, sip::method::invite) == response_scope::transaction);
  CHECK(dlg::scope_of(481, sip::method::invite) == response_scope::usage);
  CHECK(dlg::scope_of(408, sip::method::update) == response_scope::usage);
  CHECK(dlg::scope_of(404, sip::method::info) == response_scope::dialog);
  CHECK(dlg::scope_of(405, sip::method::info) == response_scope::transaction);
  CHECK(dlg::scope_of(405, sip::method::invite) == response_scope::usage);
  d.confirm();
  std::string reinvite;
  REQUIRE(d.create_request(sip::method::invite, {.via = "SIP/2.0/UDP b", .branch = "z9hG4bKr"}, reinvite) == dlg::dialog_error::ok);
  CHECK(reinvite.find("CSeq: 1 INVITE\r\n") != std::string::npos);  // an empty local CSeq starts at 1
  CHECK(reinvite.find("Contact: <sip:bob@192.0.2.4>\r\n") != std::string::npos);
  CHECK(reinvite.starts_with("INVITE sip:alice@198.51.100.7 SIP/2.0\r\n"));
  const auto failed = parsed("SIP/2.0 488 Not Acceptable Here\r\nVia: SIP/2.0/UDP b;branch=z9hG4bKr\r\n"
                             "To: <sip:alice@example.com>;tag=a1\r\nFrom: <sip:bob@example.com>;tag=b1\r\n"
                             "Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  CHECK(d.receive_response(sip::method::invite, failed.view()) == dlg::dialog_error::ok);
  CHECK(d.state() == dlg::dialog_state::confirmed);
  const auto gone = parsed("SIP/2.0 481 Call Does Not Exist\r\nVia: SIP/2.0/UDP b;branch=z9hG4bKr\r\n"
                           "To: <sip:alice@example.com>;tag=a1\r\nFrom: <sip:bob@example.com>;tag=b1\r\n"
                           "Call-ID: c1\r\nCSeq: 2 INFO\r\nContent-Length: 0\r\n\r\n");
  CHECK(d.receive_response(sip::method::info, gone.view()) == dlg::dialog_error::ok);
  CHECK(d.state() == dlg::dialog_state::terminated);
}

TEST_CASE("RFC 3261 §8.2.1: an in-dialog request whose method our Allow does not list gets 405 listing what we allow; the call goes on") {
  run("405 for a method not allowed", R"(
    config noupdate=B
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 200
    expect B->A 200 @0 has=Allow:_INVITE,_ACK,_CANCEL,_BYE,_OPTIONS hasnot=UPDATE
    expect B media ok @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A media ok @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    A send UPDATE
    expect A->B UPDATE @0
    expect B->A 405 @0 has=CSeq:_2_UPDATE has=Allow:_INVITE,_ACK,_CANCEL,_BYE,_OPTIONS
    expect A stray 405 @0
    A send INFO
    expect A->B INFO @0
    expect B->A 405 @0 has=CSeq:_2_INFO has=Allow:_INVITE,_ACK,_CANCEL,_BYE,_OPTIONS
    expect A stray 405 @0
    A send OPTIONS
    expect A->B OPTIONS @0
    expect B request OPTIONS @0
    expect B->A 200 @0 has=CSeq:_2_OPTIONS
    expect A stray 200 @0
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 3261 §13.2.2.1 with RFC 3264: each early dialog of a forked INVITE has its own offer/answer; the 2xx's dialog's answer is the call's") {
  run("forked early media", R"(
    config 100rel=yes
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    B answer 183
    expect B->A 183 @0
    expect B media ok @0
    expect B state early @0 status=183
    expect A media ok @0
    expect A->B PRACK @0
    expect A state early @0 status=183
    expect B->A 200 @0
    expect remote A 192.0.2.10:49170
    B fork 183 carol2 reliable sdp=40000
    expect B->A 183 @0 has=c=IN_IP4_192.0.2.3
    expect A media ok @0
    expect A->B PRACK @0 has=tag=carol2
    expect B->A 481 @0
    expect remote A 192.0.2.10:49170
    B fork 200 carol2
    expect B->A 200 @0
    expect A->B ACK @0 has=tag=carol2
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect remote A 192.0.2.3:40000
    expect stream A sendrecv
    B answer 200
    expect B->A 200 @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A->B BYE @0
    expect B state confirmed @0 status=200
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect remote A 192.0.2.3:40000
    A hangup
    expect A->B BYE @0 has=tag=carol2
    expect B->A 481 @0
    expect A state disconnected @0 status=200
  )");
}

TEST_CASE("RFC 6337 §2.1 pattern 5 (RFC 3262 §5): after the answer in a reliable 183, a PRACK with a new offer gets its answer in the 200 to the PRACK") {
  run("offer in prack", R"(
    config 100rel=yes
    A call
    expect A->B INVITE @0
    expect A state calling @0 status=0
    expect B state incoming @0 status=0
    expect B incoming @0
    drop A->B PRACK
    B answer 183
    expect B->A 183 @0 has=RSeq: has=m=audio
    expect B media ok @0
    expect B state early @0 status=183
    expect A media ok @0
    expect A->B PRACK @0 lost
    expect A state early @0 status=183
    expect stream B sendrecv
    A send PRACK rack sdp=sendonly
    expect A->B PRACK @0 has=a=sendonly has=RAck:
    expect B media ok @0
    expect B->A 200 @0 has=CSeq:_3_PRACK has=a=recvonly
    expect A stray 200 @0
    expect sdp B recvonly
    expect stream B recvonly
    B answer 200
    expect B->A 200 @0
    expect B state connecting @0 status=200
    expect A->B ACK @0
    expect A state connecting @0 status=200
    expect A state confirmed @0 status=200
    expect B state confirmed @0 status=200
    expect stream B recvonly
    A hangup
    expect A->B BYE @0
    expect B->A 200 @0
    expect B state disconnected @0 status=200
    expect A state disconnected @0 status=200
  )");
}

namespace {

// A session layer of its own, outside the scripts, with a pinned random source.
dlg::session_layer caller_layer(std::string_view via, std::string_view contact) {
  dlg::session_config cfg;
  cfg.via = via;
  cfg.contact = contact;
  return dlg::session_layer(cfg, [n = std::uint64_t{7}]() mutable { return ++n; });
}

// The INVITE make_call() asked to send, parsed.
void take_sent_invite(dlg::session_layer& layer, std::string& sent, sip::message& invite) {
  for (auto& e : layer.take_events())
    if (const auto* s = std::get_if<sip::transaction::send_event>(&e)) sent = std::string(s->bytes());
  REQUIRE_FALSE(sip::message::parse(sent, invite));
}

}  // namespace

TEST_CASE("make_call: a target or From that would not parse is refused before anything is sent; the INVITE it sends parses") {
  dlg::session_layer layer = caller_layer("SIP/2.0/UDP 192.0.2.1:5060", "sip:alice@192.0.2.1:5060");
  const sip::transaction::peer bob{1, false};
  const sip::transaction::instant t0{0};
  for (const auto& input : std::vector<std::pair<std::string, std::string>>{
           {"bob@192.0.2.2", "<sip:alice@example.com>"},             // no scheme
           {"sip:bob@192.0.2.2?Subject=x", "<sip:alice@example.com>"},  // headers in a Request-URI
           {"sip:bob@192.0.2.2 SIP/2.0", "<sip:alice@example.com>"},    // a space
           {"sip:bob@192.0.2.2", "<sip:alice@example.com"},            // unclosed <
           {"sip:bob@192.0.2.2", "\"Alice <sip:alice@example.com>"},    // unclosed quote
           {"sip:bob@192.0.2.2", "<sip:alice@example.com>\r\nX: y"},    // a header smuggled in
       }) {
    const std::string& target = input.first;
    const std::string& from = input.second;
    CAPTURE(target);
    CAPTURE(from);
    CHECK(layer.make_call(target, from, bob, t0).error == dlg::call_error::bad_input);
    CHECK(layer.take_events().empty());
    CHECK(layer.calls() == 0);
  }
  const auto r = layer.make_call("sip:bob@192.0.2.2:5060;transport=udp", "\"Alice\" <sip:alice@example.com>;x=1", bob, t0);
  REQUIRE(r.error == dlg::call_error::ok);
  std::string sent;
  sip::message invite;
  take_sent_invite(layer, sent, invite);
  CHECK(invite->request_uri_text() == "sip:bob@192.0.2.2:5060;transport=udp");
  REQUIRE(invite->from());
  CHECK(invite->from()->display_name == "\"Alice\"");
  CHECK(invite->from()->param("x") == "1");
  CHECK_FALSE(invite->from()->tag.empty());
}

// The caller's dialogs are made from where the session layer wrote the From
// value, Request-URI and Contact into its INVITE (offsets, no parse): the
// early dialog of a 180 must say what the INVITE as parsed says (§12.1.2).
TEST_CASE("§12.1.2: the caller's early dialog says what its INVITE says: From with tag, Contact, Request-URI, Call-ID, CSeq") {
  for (const std::string target : {"sip:bob@192.0.2.2:5060;transport=udp", "sips:bob@192.0.2.2", "sip:bob@[2001:db8::2]:5070"}) {
    CAPTURE(target);
    dlg::session_layer layer = caller_layer("SIP/2.0/TLS 192.0.2.1:5061", "sip:alice@192.0.2.1:5061;transport=tls");
    const sip::transaction::peer bob{1, true};
    const sip::transaction::instant t0{0};
    const auto r = layer.make_call(target, "\"Alice A.\" <sip:alice@example.com>;x=1", bob, t0);
    REQUIRE(r.error == dlg::call_error::ok);
    std::string sent;
    sip::message invite;
    take_sent_invite(layer, sent, invite);
    std::string ringing(1024, '\0');
    sip::builder b(ringing);
    REQUIRE_FALSE(sip::response_from_request(b, invite.view(), 180, "Ringing", "b1"));  // no Contact: the target stays the Request-URI
    const auto done = b.finish();
    REQUIRE(done);
    ringing.resize(done.value.size());
    REQUIRE(layer.receive(ringing, bob, t0) == sip::transaction::layer_error{});
    const dlg::dialog* d = layer.dialog_of(r.call);
    REQUIRE(d);
    CHECK(d->local_party() == invite->find(sip::header_id::from)->value);
    CHECK(d->id().call_id == invite->call_id());
    CHECK(d->id().local_tag == invite->from()->tag);
    CHECK(d->id().remote_tag == "b1");
    CHECK(d->remote_target() == invite->request_uri_text());
    const std::string_view contact = invite->find(sip::header_id::contact)->value;  // "<uri>"
    CHECK(d->local_contact() == contact.substr(1, contact.size() - 2));
    CHECK(d->local_contact().starts_with(target.starts_with("sips:") ? "sips:alice@" : "sip:alice@"));
  }
}

TEST_CASE("make_call and send_outside_dialog refuse a route that is not one bracketed SIP name-addr; nothing is sent") {
  dlg::session_layer layer = caller_layer("SIP/2.0/UDP 192.0.2.1:5060", "sip:alice@192.0.2.1:5060");
  const sip::transaction::peer proxy{1, false};
  const sip::transaction::instant t0{0};
  for (const std::string route : {"sip:proxy.example.com;lr", "<sip:proxy.example.com;lr", "<tel:+1555>",
                                  "<sip:p1;lr>, <sip:p2;lr>", "<sip:p;lr>\r\nX: y", ""}) {
    CAPTURE(route);
    const std::vector<std::string> routes{route};
    CHECK(layer.make_call("sip:bob@example.com", "<sip:alice@example.com>", proxy, t0, false, {.route = routes}).error ==
          dlg::call_error::bad_input);
    CHECK_FALSE(layer.send_outside_dialog(sip::method::message, "sip:bob@example.com", "<sip:alice@example.com>", proxy,
                                          "text/plain", "hi", t0, {.route = routes}));
    CHECK(layer.take_events().empty());
    CHECK(layer.calls() == 0);
  }
  const std::vector<std::string> two{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr;transport=tcp>"};
  REQUIRE(layer.make_call("sip:bob@example.com", "<sip:alice@example.com>", proxy, t0, false, {.route = two}));
  std::string sent;
  sip::message invite;
  take_sent_invite(layer, sent, invite);
  std::vector<std::string_view> routes;
  for (const sip::header_field& h : invite->headers())
    if (h.id == sip::header_id::route) routes.push_back(h.value);
  CHECK(routes == std::vector<std::string_view>{two[0], two[1]});  // §8.1.1.1: in order
  CHECK(invite->request_uri_text() == "sip:bob@example.com");        // loose routing: the target stays
}

TEST_CASE("make_call and send_outside_dialog add the caller's header lines; ones the layer writes, or that would inject a line, are refused") {
  dlg::session_layer layer = caller_layer("SIP/2.0/UDP 192.0.2.1:5060", "sip:alice@192.0.2.1:5060");
  const sip::transaction::peer bob{1, false};
  const sip::transaction::instant t0{0};
  for (const dlg::header_line bad : {dlg::header_line{"Via", "SIP/2.0/UDP 10.0.0.1"}, {"cseq", "9 INVITE"}, {"f", "<sip:x@y>"},
                                     {"Content-Length", "0"}, {"Route", "<sip:p;lr>"}, {"X-Id", "1\r\nVia: SIP/2.0/UDP x"},
                                     {"X Id", "1"}, {"", "1"}}) {
    CAPTURE(bad.name);
    const dlg::header_line lines[] = {{"X-Account", "42"}, bad};
    CHECK(layer.make_call("sip:bob@192.0.2.2", "<sip:alice@example.com>", bob, t0, false, {.headers = lines}).error ==
          dlg::call_error::bad_input);
    CHECK_FALSE(layer.send_outside_dialog(sip::method::message, "sip:bob@192.0.2.2", "<sip:alice@example.com>", bob, "text/plain",
                                          "hi", t0, {.headers = lines}));
    CHECK(layer.take_events().empty());
    CHECK(layer.calls() == 0);
  }
  const dlg::header_line lines[] = {{"X-Account", "42"}, {"P-Preferred-Identity", "<sip:alice@example.com>"}};
  REQUIRE(layer.make_call("sip:bob@192.0.2.2", "<sip:alice@example.com>", bob, t0, false, {.headers = lines}));
  std::string sent;
  sip::message invite;
  take_sent_invite(layer, sent, invite);
  REQUIRE(invite->find("X-Account"));
  CHECK(invite->find("X-Account")->value == "42");
  CHECK(invite->find("P-Preferred-Identity")->value == "<sip:alice@example.com>");
  CHECK(invite->count(sip::header_id::cseq) == 1);
  const auto message = layer.send_outside_dialog(sip::method::message, "sip:bob@192.0.2.2", "<sip:alice@example.com>", bob,
                                                 "text/plain", "hi", t0, {.headers = lines});
  REQUIRE(message);
  std::string text;
  for (const auto& e : layer.take_events())
    if (const auto* s = std::get_if<sip::transaction::send_event>(&e)) text = std::string(s->bytes());
  CHECK(text.starts_with("MESSAGE sip:bob@192.0.2.2 SIP/2.0\r\n"));
  CHECK(text.find("\r\nX-Account: 42\r\n") != std::string::npos);
}
