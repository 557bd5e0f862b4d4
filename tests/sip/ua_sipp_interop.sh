#!/bin/bash
# The user agent (sip/ua) through its examples against sipp (Debian
# sip-tester) on the loopback. Every run must show every call succeed:
#   1. sipp's built-in uac scenario calls examples/uas: 500 calls over UDP, then
#      500 over TCP (one connection, -t t1); uas must end with no call open.
#      Then 100 + 100 over IPv6 (::1).
#   2. examples/simplecall calls sipp's built-in uas scenario over UDP and over
#      TCP: the call is confirmed, hung up after 1 s and simplecall exits 0.
#   3. examples/uas registers with sipp as the registrar
#      (tests/sip/sipp/register_401_registrar.xml): 401, then credentials sipp
#      verifies (alice/secret), then 200; uas must print "registered".
#   4. examples/uas as the registrar (--call-registered), over UDP and TCP:
#      sipp (tests/sip/sipp/register_uac.xml) registers sip:sipp@example.com
#      (answering uas's 401 as sipp/secret; MD5 only: sipp answers the first
#      challenge and knows no SHA-256) with a Contact naming a second
#      sipp (the built-in uas); the 200 must
#      list it with the expiry asked for; uas calls the address-of-record and
#      so reaches the second sipp at that Contact (answered, ended by uas);
#      the first sipp unregisters and the 200 must list no Contact.
# The cases run at once, each in its own folder with its own ports.
#   ua_sipp_interop.sh PATH/TO/uas PATH/TO/simplecall
set -u
UAS=$(realpath "$1")
SIMPLECALL=$(realpath "$2")
SCENARIOS=$(cd "$(dirname "$0")/sipp" && pwd)
command -v sipp >/dev/null || { echo "FAIL: sipp not installed (Debian sip-tester)"; exit 1; }
. "$(dirname "$0")/interop/lib.sh"  # WORK, failures, case_start, cases_finish

free_port() {  # a port free for both UDP and TCP on 127.0.0.1
  /usr/bin/python3 -c '
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'
}
successful() { grep -E "Successful call" "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}'; }

# 1. sipp uac -> uas, UDP then TCP, one uas process per address family:
# uac_through_uas LABEL ADDRESS CALLS (calls per transport)
uac_through_uas() {
  local label=$1 address=$2 calls=$3 host=$2 failed=0
  [[ "$address" == *:* ]] && host="[$address]"
  "$UAS" --port 0 --address "$address" > "uas-$label.out" 2> "uas-$label.err" &
  local uas_pid=$!
  for _ in $(seq 50); do grep -q listening "uas-$label.out" 2>/dev/null && break; sleep 0.1; done
  local port transport rc ok
  port=$(sed -n 's/.*listening on udp and tcp .*:\([0-9]*\)$/\1/p' "uas-$label.out")
  for transport in u1 t1; do
    timeout 120 sipp -sn uac "$host:$port" -t "$transport" -i "$address" -m "$calls" -r 100 -l 200 \
      -timeout 100s -timeout_error -nostdin -trace_err > "sipp-uac-$label-$transport.out" 2>&1
    rc=$?
    ok=$(successful "sipp-uac-$label-$transport.out")
    echo "sipp uac -> uas over $label $transport: sipp exit $rc, $ok of $calls calls successful"
    if [ "$rc" != 0 ] || [ "$ok" != "$calls" ]; then
      failed=1; tail -20 "sipp-uac-$label-$transport.out"; head -40 ./*_errors.log 2>/dev/null
    fi
  done
  kill -TERM "$uas_pid"; wait "$uas_pid" 2>/dev/null
  echo "  $(cat "uas-$label.err")"
  grep -q "confirmed=$((2 * calls)) ended=$((2 * calls)) open=0" "uas-$label.err" ||
    { failed=1; echo "FAIL: uas ($label) did not end every call"; }
  return $failed
}

# 2. simplecall -> sipp uas: simplecall_calls_sipp TRANSPORT (u1 or t1)
simplecall_calls_sipp() {
  local transport=$1 port rc src ok target
  port=$(free_port)
  timeout 60 sipp -sn uas -t "$transport" -i 127.0.0.1 -p "$port" -m 1 -timeout 50s -timeout_error -nostdin \
    > "sipp-uas-$transport.out" 2>&1 &
  local spid=$!
  sleep 0.5
  target="sip:service@127.0.0.1:$port"
  [ "$transport" = t1 ] && target="$target;transport=tcp"
  timeout 30 "$SIMPLECALL" "$target" --duration 1 < /dev/null > "simplecall-$transport.out" 2>&1
  rc=$?
  wait "$spid"; src=$?
  ok=$(successful "sipp-uas-$transport.out")
  echo "simplecall -> sipp uas over $transport: simplecall exit $rc ($(tail -1 "simplecall-$transport.out")), sipp exit $src, $ok of 1 successful"
  if [ "$rc" != 0 ] || [ "$src" != 0 ] || [ "$ok" != 1 ]; then
    cat "simplecall-$transport.out"; tail -20 "sipp-uas-$transport.out"; return 1
  fi
}

# 3. uas registers with sipp as the registrar (401 first)
uas_registers_with_sipp() {
  local sport port src ok
  sport=$(free_port)
  timeout 60 sipp -sf "$SCENARIOS/register_401_registrar.xml" -i 127.0.0.1 -p "$sport" -m 1 -timeout 30s -timeout_error \
    -nostdin > sipp-registrar.out 2>&1 &
  local spid=$!
  sleep 0.5
  port=$(free_port)
  "$UAS" --port "$port" --register "sip:127.0.0.1:$sport" --user alice --password secret > uas-reg.out 2>&1 &
  local uas_pid=$!
  wait "$spid"; src=$?
  for _ in $(seq 50); do grep -q "registration: registered" uas-reg.out && break; sleep 0.1; done
  kill -TERM "$uas_pid"; wait "$uas_pid" 2>/dev/null
  ok=$(successful sipp-registrar.out)
  echo "uas REGISTER -> sipp registrar (401 then 200): sipp exit $src, $ok of 1 successful; uas: $(grep registration: uas-reg.out | tr '\n' ';')"
  if [ "$src" != 0 ] || [ "$ok" != 1 ] || ! grep -q "registration: registered (last status 200" uas-reg.out; then
    cat uas-reg.out; tail -20 sipp-registrar.out; return 1
  fi
}

# 4. uas as registrar: sipp registers another sipp's Contact; uas calls it there
registered_sipp_is_called() {
  local t=$1 port callee_port reg_port cpid rc crc
  port=$(free_port); callee_port=$(free_port); reg_port=$(free_port)
  "$UAS" --port "$port" --call-registered --hangup-after 300 --registrar-realm example.com --registrar-user sipp:secret \
    --registrar-md5-only \
    > uas-registrar.out 2> uas-registrar.err &
  local uas_pid=$!
  timeout 30 sipp -sn uas -t "$t" -i 127.0.0.1 -p "$callee_port" -m 1 -timeout 20s -timeout_error -nostdin > sipp-callee.out 2>&1 &
  cpid=$!
  for _ in $(seq 50); do grep -q listening uas-registrar.out && break; sleep 0.1; done
  sleep 0.3  # the callee sipp binds its port
  timeout 30 sipp -sf "$SCENARIOS/register_uac.xml" -t "$t" -set callee_port "$callee_port" -i 127.0.0.1 -p "$reg_port" \
    -m 1 -timeout 20s -timeout_error -nostdin "127.0.0.1:$port" > sipp-register.out 2>&1
  rc=$?
  wait "$cpid"; crc=$?
  kill -TERM "$uas_pid"; wait "$uas_pid" 2>/dev/null
  echo "sipp registers at uas ($t), uas calls the other sipp at that Contact: register exit $rc, callee exit $crc," \
    "$(successful sipp-callee.out) of 1 answered; uas: $(grep -E '^(REGISTER|call to)' uas-registrar.out | tr '\n' ';')"
  if [ "$rc" != 0 ] || [ "$crc" != 0 ] || [ "$(successful sipp-callee.out)" != 1 ] ||
     ! grep -q "call to sip:sipp@example.com: confirmed" uas-registrar.out ||
     [ "$(grep '^REGISTER' uas-registrar.out | tail -1)" != "REGISTER sip:sipp@example.com: 200, 0 binding(s)" ]; then
    cat uas-registrar.out uas-registrar.err; tail -20 sipp-register.out; tail -20 sipp-callee.out; return 1
  fi
}

case_start ipv4 uac_through_uas IPv4 127.0.0.1 500
case_start ipv6 uac_through_uas IPv6 ::1 100
case_start simplecall-udp simplecall_calls_sipp u1
case_start simplecall-tcp simplecall_calls_sipp t1
case_start register uas_registers_with_sipp
case_start registrar-udp registered_sipp_is_called u1
case_start registrar-tcp registered_sipp_is_called t1
cases_finish

echo "ua sipp interop: $failures failures"
exit $((failures > 0))
