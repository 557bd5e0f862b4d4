#!/usr/bin/env bash
# End-to-end WebSocket echo load test (builds nothing; loopback only).
#
#   bench/ws_load.sh BUILD_DIR [SECONDS_PER_RUN] [ROUNDS]   (defaults 2 s, 3 rounds: about 6 minutes)
#
# Echo servers: sigwire's examples/ws_echo_server --no-deflate, the same on
# Asio's io_uring backend (bench/ws_echo_server_io_uring, when built),
# bench/beast_echo_server (when built) and bench/epoll_echo_server (the
# ceiling). For each configuration -- 16 B / 1 KiB / 64 KiB binary messages,
# 1 and 64 connections, 1 and 16 messages in flight -- every server runs in
# turn, ROUNDS times (fresh process, free 127.0.0.1 port, bench/ws_load_client
# checking every echoed byte). Running the servers back to back per
# configuration, rather than one server through all configurations, keeps a
# shared VM's changing load out of the ratios. The table gives per server the
# median over rounds of messages/s, latency and server CPU per message, and
# the median of the per-round ratios to the ceiling and to Beast.
# SIZES, CONNS and INFLIGHTS (space-separated) narrow the matrix, e.g.
# SIZES=65536 CONNS=64 bench/ws_load.sh build 2 5. BASELINE=/path/to/an/older/
# ws_echo_server adds it as one more server ("baseline" column): before and
# after a change in one run.
set -euo pipefail
BUILD=$(cd "${1:?usage: ws_load.sh BUILD_DIR [SECONDS] [ROUNDS]}" && pwd)
SECS=${2:-2}
ROUNDS=${3:-3}
CLIENT="$BUILD/bench/ws_load_client"
OUT=$(mktemp)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -f "$OUT"; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {  # bounded: 5 s
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2; return 1
}

servers=(sigwire)
[ -x "$BUILD/bench/ws_echo_server_io_uring" ] && servers+=(uring)
[ -x "$BUILD/bench/beast_echo_server" ] && servers+=(beast)
servers+=(epoll)
[ -n "${BASELINE:-}" ] && servers+=(baseline)

server_command() {  # name port -> the command line, one word per line
  case $1 in
    sigwire) printf '%s\n' "$BUILD/examples/ws_echo_server" --port "$2" --bind 127.0.0.1 --no-deflate ;;
    uring) printf '%s\n' "$BUILD/bench/ws_echo_server_io_uring" --port "$2" --bind 127.0.0.1 --no-deflate ;;
    beast) printf '%s\n' "$BUILD/bench/beast_echo_server" "$2" ;;
    epoll) printf '%s\n' "$BUILD/bench/epoll_echo_server" "$2" ;;
    baseline) printf '%s\n' "$BASELINE" --port "$2" --bind 127.0.0.1 --no-deflate ;;
  esac
}

start_server() {  # name port; SERVER_PID is the server itself (its CPU is measured)
  local cmd; mapfile -t cmd < <(server_command "$1" "$2")
  "${cmd[@]}" >/dev/null 2>&1 &
  SERVER_PID=$!
}

run_one() {  # server size conns inflight round
  local port line; port=$(free_port)
  start_server "$1" "$port"
  wait_port "$port"
  line=$(timeout 60 "$CLIENT" --port "$port" --size "$2" --conns "$3" --inflight "$4" \
           --seconds "$SECS" --server-pid "$SERVER_PID" 2>&1 | grep RESULT || true)
  [ -n "$line" ] || line="RESULT msgs=0 msgs_per_s=0 p50_us=0 p99_us=0 server_cpu_us_per_msg=0 errors=FAILED"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  echo "$1 $2 $3 $4 $5 $line" >> "$OUT"
  echo "$1 size=$2 conns=$3 inflight=$4 round=$5: ${line#RESULT }" >&2
}

for size in ${SIZES:-16 1024 65536}; do
  for conns in ${CONNS:-1 64}; do
    for inflight in ${INFLIGHTS:-1 16}; do
      for round in $(seq "$ROUNDS"); do
        for server in "${servers[@]}"; do run_one "$server" "$size" "$conns" "$inflight" "$round"; done
      done
    done
  done
done

awk '
  { key = $2 " " $3 " " $4; r = $5
    for (i = 7; i <= NF; i++) { split($i, kv, "="); v[$1, key, r, kv[1]] = kv[2] }
    rounds[key] = (r > rounds[key] ? r : rounds[key]); has[$1] = 1
    if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
  function sz(b) { return b == 16 ? "16 B" : b == 1024 ? "1 KiB" : "64 KiB" }
  function median(a, m,    i, j, t) {  # sorts a[1..m] in place
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
  function med(s, k, f,    a, r, m) { m = 0; for (r = 1; r <= rounds[k]; r++) a[++m] = v[s, k, r, f] + 0; return median(a, m) }
  function medratio(s, t, k,    a, r, m) {
    m = 0; for (r = 1; r <= rounds[k]; r++) if (v[t, k, r, "msgs_per_s"] + 0 > 0) a[++m] = v[s, k, r, "msgs_per_s"] / v[t, k, r, "msgs_per_s"]
    return m ? sprintf("%.2f", median(a, m)) : "-" }
  function errs(k,    r, s, e) { e = ""; for (s in has) for (r = 1; r <= rounds[k]; r++) if (v[s, k, r, "errors"] != "0") e = e " " s ":" v[s, k, r, "errors"]; return e }
  END {
    print "| size | conns | in flight | sigwire msg/s | p50 / p99 µs | server CPU µs/msg | Beast msg/s | Beast CPU µs/msg | epoll ceiling msg/s | ceiling CPU µs/msg | sigwire/ceiling | sigwire/Beast | io_uring msg/s | io_uring/ceiling | baseline msg/s | baseline CPU µs/msg | baseline/ceiling |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, c, " ")
      printf "| %s | %s | %s | %d | %.1f / %.1f | %.2f | %s | %s | %d | %.2f | %s | %s | %s | %s | %s | %s | %s |%s\n", sz(c[1]), c[2], c[3],
        med("sigwire", k, "msgs_per_s"), med("sigwire", k, "p50_us"), med("sigwire", k, "p99_us"),
        med("sigwire", k, "server_cpu_us_per_msg"),
        ("beast" in has ? sprintf("%d", med("beast", k, "msgs_per_s")) : "-"),
        ("beast" in has ? sprintf("%.2f", med("beast", k, "server_cpu_us_per_msg")) : "-"),
        med("epoll", k, "msgs_per_s"), med("epoll", k, "server_cpu_us_per_msg"),
        medratio("sigwire", "epoll", k), ("beast" in has ? medratio("sigwire", "beast", k) : "-"),
        ("uring" in has ? sprintf("%d", med("uring", k, "msgs_per_s")) : "-"),
        ("uring" in has ? medratio("uring", "epoll", k) : "-"),
        ("baseline" in has ? sprintf("%d", med("baseline", k, "msgs_per_s")) : "-"),
        ("baseline" in has ? sprintf("%.2f", med("baseline", k, "server_cpu_us_per_msg")) : "-"),
        ("baseline" in has ? medratio("baseline", "epoll", k) : "-"), errs(k)
    }
    printf "\nmedians over %d rounds of %s s per server and configuration\n", rounds[order[1]], "'"$SECS"'"
  }' "$OUT"
