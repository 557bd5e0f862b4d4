#!/usr/bin/env bash
# End-to-end WebSocket echo load test (builds nothing; loopback only).
#
#   bench/ws_load.sh BUILD_DIR [SECONDS_PER_CONFIG]      (default 3 s; about 2.5 minutes)
#
# Starts each echo server in turn on a free 127.0.0.1 port -- sigwire's
# examples/ws_echo_server --no-deflate, the same on Asio's io_uring backend
# (bench/ws_echo_server_io_uring, when built), bench/beast_echo_server (when built),
# bench/epoll_echo_server (the ceiling) -- runs bench/ws_load_client for
# 16 B / 1 KiB / 64 KiB binary messages on 1 and 64 connections with 1 and 16
# messages in flight, kills the server, and prints one markdown table with
# messages/s, p50/p99 latency, server CPU per message, and the ratios
# sigwire/ceiling and sigwire/Beast per configuration.
set -euo pipefail
BUILD=$(cd "${1:?usage: ws_load.sh BUILD_DIR [SECONDS]}" && pwd)
SECS=${2:-3}
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

run_server() {  # name, command...
  local name=$1; shift
  local port; port=$(free_port)
  "${@//PORT/$port}" >/dev/null 2>&1 &
  SERVER_PID=$!
  wait_port "$port"
  for size in 16 1024 65536; do
    for conns in 1 64; do
      for inflight in 1 16; do
        local line
        line=$(timeout 60 "$CLIENT" --port "$port" --size "$size" --conns "$conns" \
                 --inflight "$inflight" --seconds "$SECS" --server-pid "$SERVER_PID" 2>&1 | grep RESULT || true)
        [ -n "$line" ] || line="RESULT msgs=0 msgs_per_s=0 p50_us=0 p99_us=0 server_cpu_us_per_msg=0 errors=FAILED"
        echo "$name $size $conns $inflight $line" >> "$OUT"
        echo "$name size=$size conns=$conns inflight=$inflight: ${line#RESULT }" >&2
      done
    done
  done
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

run_server sigwire "$BUILD/examples/ws_echo_server" --port PORT --bind 127.0.0.1 --no-deflate
if [ -x "$BUILD/bench/ws_echo_server_io_uring" ]; then
  run_server uring "$BUILD/bench/ws_echo_server_io_uring" --port PORT --bind 127.0.0.1 --no-deflate
fi
if [ -x "$BUILD/bench/beast_echo_server" ]; then run_server beast "$BUILD/bench/beast_echo_server" PORT; fi
run_server epoll "$BUILD/bench/epoll_echo_server" PORT

awk '
  { split($0, f, " "); key = f[2] " " f[3] " " f[4]
    for (i = 6; i <= NF; i++) { split($i, kv, "="); v[$1, key, kv[1]] = kv[2] }
    if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
  function sz(b) { return b == 16 ? "16 B" : b == 1024 ? "1 KiB" : "64 KiB" }
  function ratio(a, b) { return (b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
  END {
    print "| size | conns | in flight | sigwire msg/s | p50 / p99 µs | server CPU µs/msg | Beast msg/s | Beast CPU µs/msg | epoll ceiling msg/s | ceiling CPU µs/msg | sigwire/ceiling | sigwire/Beast | io_uring msg/s | io_uring/ceiling |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, c, " ")
      s = v["sigwire", k, "msgs_per_s"]; b = v["beast", k, "msgs_per_s"]; e = v["epoll", k, "msgs_per_s"]
      u = v["uring", k, "msgs_per_s"]
      err = v["sigwire", k, "errors"] v["beast", k, "errors"] v["epoll", k, "errors"] v["uring", k, "errors"]
      printf "| %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%s\n", sz(c[1]), c[2], c[3], s,
        v["sigwire", k, "p50_us"], v["sigwire", k, "p99_us"], v["sigwire", k, "server_cpu_us_per_msg"],
        (b == "" ? "-" : b), (b == "" ? "-" : v["beast", k, "server_cpu_us_per_msg"]), e,
        v["epoll", k, "server_cpu_us_per_msg"], ratio(s, e), ratio(s, b),
        (u == "" ? "-" : u), (u == "" ? "-" : ratio(u, e)),
        (err ~ /^0*$/ ? "" : " errors: " err)
    }
  }' "$OUT"
