#!/usr/bin/env bash
# Calls per second and CPU time per call of SIP UAS programs under sipp's
# built-in uac scenario (INVITE, 200 with SDP, ACK, BYE, 200), side by side in
# one run, at rising fixed rates, each a bounded run of CALLS calls:
#
#   bench/sip_ua_load.sh BUILD_DIR [RATES] [CALLS]     (default "400 800 1600 3200", 2000)
#
#   sigwire   BUILD_DIR/examples/uas (UDP), one thread; UAS_ARGS adds options
#             (e.g. UAS_ARGS="--udp-batch 1": one datagram per system call)
#   sipp-uas  sipp's own built-in uas scenario
#   pjsua     PJSIP's pjsua --null-audio --auto-answer=200 --thread-cnt=1, only when
#             PJSUA=/path/to/pjsua is set (build it from a PJSIP tree; not a dependency)
#
# For each UAS and rate: calls sipp completed and failed, CPU time of the UAS
# process per call (utime+stime from /proc/PID/stat, before and after), and
# with SYSCALLS=1 the system calls per call (perf stat on the UAS; needs
# root). sipp runs with -l (calls in flight) = rate so it is never the cap.
set -uo pipefail
BUILD=$(cd "${1:?usage: sip_ua_load.sh BUILD_DIR [RATES] [CALLS]}" && pwd)
RATES=${2:-"400 800 1600 3200"}
CALLS=${3:-2000}
command -v sipp >/dev/null || { echo "sipp not found (Debian: sip-tester)" >&2; exit 1; }
WORK=$(mktemp -d)
UAS_PID=
trap '[ -n "$UAS_PID" ] && kill "$UAS_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
TICK=$(getconf CLK_TCK)

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_uas() {  # name port -> UAS_PID
  case $1 in
    sigwire) "$BUILD/examples/uas" --port "$2" ${UAS_ARGS:-} > "$WORK/uas.out" 2>&1 & ;;
    sipp-uas) sipp -sn uas -i 127.0.0.1 -p "$2" -nostdin -bg > "$WORK/uas.out" 2>&1 ;;
    pjsua) "$PJSUA" --null-audio --auto-answer=200 --thread-cnt=1 --local-port="$2" --no-tcp --log-level=0 \
             --app-log-level=0 > "$WORK/uas.out" 2>&1 < <(sleep 100000) & ;;
  esac
  UAS_PID=$!
  if [ "$1" = sipp-uas ]; then sleep 0.5; UAS_PID=$(pgrep -f "sipp -sn uas -i 127.0.0.1 -p $2" | head -1); fi
  sleep 0.5
}

uases="sigwire sipp-uas"
[ -n "${PJSUA:-}" ] && [ -x "${PJSUA:-}" ] && uases="$uases pjsua"
printf "%-9s %6s %8s %7s %11s %12s%s\n" uas rate calls failed "cpu/call" "calls/s" "$([ "${SYSCALLS:-0}" = 1 ] && echo '  syscalls/call')"
for rate in $RATES; do
  for uas in $uases; do
    port=$(free_port)
    start_uas "$uas" "$port"
    before=$(cpu_ticks "$UAS_PID")
    perf_pid=
    if [ "${SYSCALLS:-0}" = 1 ]; then
      perf stat -x, -e 'raw_syscalls:sys_enter' -p "$UAS_PID" -o "$WORK/perf" & perf_pid=$!
      sleep 0.3
    fi
    t0=$(date +%s.%N)
    timeout 300 sipp -sn uac 127.0.0.1:"$port" -i 127.0.0.1 -m "$CALLS" -r "$rate" -l "$rate" -d 0 \
      -timeout 200s -nostdin > "$WORK/sipp.out" 2>&1
    t1=$(date +%s.%N)
    [ -n "$perf_pid" ] && { kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null; }
    after=$(cpu_ticks "$UAS_PID")
    ok=$(grep -E "Successful call" "$WORK/sipp.out" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
    bad=$(grep -E "Failed call" "$WORK/sipp.out" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
    kill "$UAS_PID" 2>/dev/null; wait "$UAS_PID" 2>/dev/null; UAS_PID=
    cpu_us=$(awk -v a="$before" -v b="$after" -v n="${ok:-0}" -v t="$TICK" 'BEGIN { if (n > 0) printf "%.0f us", (b - a) / t * 1e6 / n; else print "-" }')
    cps=$(awk -v n="${ok:-0}" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
    sys=
    if [ -n "$perf_pid" ]; then
      sys=$(awk -F, -v n="${ok:-0}" '/raw_syscalls/ { if (n > 0) printf "  %.1f", $1 / n }' "$WORK/perf")
    fi
    printf "%-9s %6s %8s %7s %11s %12s%s\n" "$uas" "$rate" "${ok:-0}" "${bad:-?}" "$cpu_us" "$cps" "$sys"
  done
done
echo "(CPU time from /proc/PID/stat at ${TICK} ticks/s: with 2,000 calls one tick is 5 us per call)"
