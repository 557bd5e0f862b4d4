#!/bin/bash
# Dialogs and INVITE sessions (sip/dialog/session_layer.hpp) against sipp
# (Debian sip-tester) over UDP on the loopback, through the test driver
# tests/sip/dialog_udp_peer.cpp. Every run must show every call succeed:
#   1. sipp's built-in uac (offer in the INVITE) calls our UAS: clean, and with -lost 10;
#      after sipp is done our UAS drains: no call may stay open (a lost ACK ends in BYE at 64*T1).
#   2. sipp calls our UAS with a late offer (tests/sip/sipp/late_offer_uac.xml):
#      our 200 must carry the offer, sipp answers in the ACK.
#   3. our UAC calls sipp's built-in uas: clean (every call must succeed), and with
#      -lost 10 on sipp's side: every one of our calls must end (sipp's uas aborts
#      a call when our Timer A retransmits an INVITE whose 200 sipp lost, so sipp
#      may count failures there; what we check is that we never leave a call open).
#   4. our UAC calls with a late offer (sipp/late_offer_uas.xml): sipp offers in its
#      200 and checks our answer in the ACK.
#   5. sipp answers our INVITE with 401 (sipp/auth_uas.xml) and verifies the
#      credentials of our second INVITE (MD5, alice/secret).
#   6. RFC 3262: sipp's reliable 183 carries the offer to our late-offer INVITE
#      (sipp/prack_offer_uas.xml); our PRACK must carry RAck and the answer.
#   7. RFC 3311: after the reliable 183 and its PRACK, sipp sends an UPDATE with a
#      sendonly offer in the early dialog (sipp/update_early_uas.xml); our 200
#      must answer recvonly.
# The cases run at once, each in its own folder with its own ports.
#   dialog_sipp_interop.sh PATH/TO/dialog_udp_peer
set -u
PEER=$(realpath "$1")
SCENARIOS=$(cd "$(dirname "$0")/sipp" && pwd)
command -v sipp >/dev/null || { echo "FAIL: sipp not installed (Debian sip-tester)"; exit 1; }
. "$(dirname "$0")/interop/lib.sh"  # WORK, failures, case_start, cases_finish

free_udp_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sipp_calls_our_uas() {  # $1: label, $2: calls, rest: sipp scenario and options
  local label=$1 calls=$2; shift 2
  "$PEER" uas 90 > uas.port 2> "uas-$label.log" &
  local uas_pid=$!
  for _ in $(seq 50); do [ -s uas.port ] && break; sleep 0.1; done
  local port; port=$(head -1 uas.port)
  timeout 100 sipp "$@" 127.0.0.1:"$port" -i 127.0.0.1 -m "$calls" -r 10 -l 20 \
    -timeout 80s -timeout_error -nostdin -trace_stat -trace_err > "sipp-$label.out" 2>&1
  local rc=$?
  kill $uas_pid; wait $uas_pid 2>/dev/null
  local ok; ok=$(grep -E "Successful call" "sipp-$label.out" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  echo "sipp -> sigwire UAS ($label): sipp exit $rc, $ok of $calls calls successful; $(cat "uas-$label.log")"
  # Every call must succeed at sipp, and none may stay open at ours once it has drained.
  if [ "$rc" != 0 ] || [ "$ok" != "$calls" ] || ! grep -q " open=0$" "uas-$label.log"; then
    tail -20 "sipp-$label.out"; cat ./*_errors.log 2>/dev/null | head -40; return 1
  fi
}

our_uac_calls_sipp() {  # $1: label, $2: calls, $3: our UAC's options (quoted), $4: sipp must succeed (yes/no), rest: sipp
  local label=$1 calls=$2 ours=$3 need_sipp=$4; shift 4
  local port; port=$(free_udp_port)
  timeout 100 sipp "$@" -i 127.0.0.1 -p "$port" -m "$calls" -timeout 80s -timeout_error -nostdin -trace_stat -trace_err \
    > "sipp-uas-$label.out" 2>&1 &
  local spid=$!
  sleep 0.5
  # shellcheck disable=SC2086
  timeout 90 "$PEER" uac "$port" "$calls" $ours > "uac-$label.out"
  local rc=$?
  wait $spid
  local src=$?
  local ok; ok=$(grep -E "Successful call" "sipp-uas-$label.out" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  echo "sigwire UAC -> sipp ($label): $(tail -1 "uac-$label.out"); sipp exit $src, $ok of $calls successful"
  if [ "$rc" != 0 ] || { [ "$need_sipp" = yes ] && { [ "$src" != 0 ] || [ "$ok" != "$calls" ]; }; }; then
    grep -v ': ok ' "uac-$label.out" | head -20; tail -20 "sipp-uas-$label.out"
    cat ./*_errors.log 2>/dev/null | head -40; return 1
  fi
}

case_start in-uac-clean sipp_calls_our_uas uac-clean 30 -sn uac
case_start in-uac-lost10 sipp_calls_our_uas uac-lost10 30 -sn uac -lost 10
case_start in-late-offer sipp_calls_our_uas late-offer 10 -sf "$SCENARIOS/late_offer_uac.xml"
case_start out-uas-clean our_uac_calls_sipp uas-clean 10 "" yes -sn uas
case_start out-uas-lost10 our_uac_calls_sipp uas-lost10 10 "--hold 2000 --must-end" no -sn uas -lost 10
case_start out-late-offer our_uac_calls_sipp late-offer 10 "--late" yes -sf "$SCENARIOS/late_offer_uas.xml"
case_start out-auth our_uac_calls_sipp auth 10 "--password secret" yes -sf "$SCENARIOS/auth_uas.xml"
case_start out-prack-offer-in-183 our_uac_calls_sipp prack-offer-in-183 10 "--late" yes -sf "$SCENARIOS/prack_offer_uas.xml"
case_start out-update-early our_uac_calls_sipp update-early 10 "" yes -sf "$SCENARIOS/update_early_uas.xml"
cases_finish
echo "dialog sipp interop: $failures failures"
exit $((failures > 0))
