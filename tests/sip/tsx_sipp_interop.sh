#!/bin/bash
# The transaction layer against sipp (Debian sip-tester) over UDP on the
# loopback, through the test driver tests/sip/tsx_udp_peer.cpp:
#   1. sipp's built-in uac scenario calls our UAS: clean, then with sipp's
#      -lost 10 (10% of sipp's packets dropped). Every call must succeed.
#   2. our UAC calls sipp's built-in uas scenario: clean (every call must
#      complete), then with -lost 10 on sipp's side (every call must end:
#      completed, or failed as the RFC says, e.g. Timer B; none open).
# The cases run at once, each in its own folder with its own ports.
#   tsx_sipp_interop.sh PATH/TO/tsx_udp_peer
set -u
PEER=$(realpath "$1")
command -v sipp >/dev/null || { echo "FAIL: sipp not installed (Debian sip-tester)"; exit 1; }
. "$(dirname "$0")/interop/lib.sh"  # WORK, failures, case_start, cases_finish

free_udp_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sipp_calls_our_uas() {  # $1: label, rest: extra sipp options
  local label=$1; shift
  "$PEER" uas 60 > uas.port 2> "uas-$label.log" &
  local uas_pid=$!
  for _ in $(seq 50); do [ -s uas.port ] && break; sleep 0.1; done
  local port; port=$(head -1 uas.port)
  timeout 90 sipp -sn uac 127.0.0.1:"$port" -i 127.0.0.1 -m 50 -r 10 -l 20 "$@" \
    -timeout 60s -timeout_error -nostdin -trace_stat > "sipp-$label.out" 2>&1
  local rc=$?
  kill $uas_pid; wait $uas_pid 2>/dev/null
  local ok; ok=$(grep -E "Successful call" "sipp-$label.out" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  echo "sipp uac -> sigwire UAS ($label): sipp exit $rc, $ok of 50 calls successful; $(cat "uas-$label.log")"
  [ "$rc" = 0 ] && [ "$ok" = 50 ] || { tail -20 "sipp-$label.out"; return 1; }
}

our_uac_calls_sipp() {  # $1: label, $2: calls, $3: "all" (every call must complete) or "end", rest: sipp options
  local label=$1 calls=$2 need=$3; shift 3
  local port; port=$(free_udp_port)
  timeout 150 sipp -sn uas -i 127.0.0.1 -p "$port" -m "$calls" "$@" -timeout 120s -nostdin -trace_stat \
    > "sipp-uas-$label.out" 2>&1 &
  local spid=$!
  sleep 0.5
  timeout 140 "$PEER" uac "$port" "$calls" > "uac-$label.out"
  local rc=$?
  kill $spid 2>/dev/null; wait $spid 2>/dev/null
  local summary; summary=$(tail -1 "uac-$label.out")
  echo "sigwire UAC -> sipp uas ($label): $summary"
  grep -v ': completed$' "uac-$label.out" | grep '^call ' | sed 's/^/  /'
  [ "$rc" = 0 ] || return 1
  [ "$need" != all ] || grep -q "^uac: $calls completed, 0 failed" "uac-$label.out"
}

case_start in-clean sipp_calls_our_uas clean
case_start in-lost10 sipp_calls_our_uas lost10 -lost 10
case_start out-clean our_uac_calls_sipp clean 30 all
case_start out-lost10 our_uac_calls_sipp lost10 30 end -lost 10
cases_finish
echo "tsx sipp interop: $failures failures"
exit $((failures > 0))
