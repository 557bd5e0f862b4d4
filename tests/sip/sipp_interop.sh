#!/bin/bash
# sipp (Debian sip-tester) runs its built-in UAC scenario (INVITE, ACK, BYE)
# against the sigwire UDP responder on the loopback. Fails without sipp.
set -u
RESPONDER="$1"
command -v sipp >/dev/null || { echo "FAIL: sipp not installed (Debian sip-tester)"; exit 1; }
WORK=$(mktemp -d)
trap 'kill $RPID 2>/dev/null; wait $RPID 2>/dev/null; rm -rf "$WORK"' EXIT
"$RESPONDER" 40 > "$WORK/port" 2> "$WORK/responder.log" &
RPID=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$WORK/port")
[ -n "$PORT" ] || { echo "responder did not start"; exit 1; }
cd "$WORK"
timeout 60 sipp -sn uac 127.0.0.1:"$PORT" -i 127.0.0.1 -m 50 -r 25 -l 10 -d 100 \
  -timeout 30s -timeout_error -nostdin -trace_err -trace_stat > sipp.out 2>&1
RC=$?
grep -E "Successful call|Failed call" sipp.out | tail -2
cat *_errors.log 2>/dev/null | head -40
echo "sipp exit status $RC"
exit $RC
