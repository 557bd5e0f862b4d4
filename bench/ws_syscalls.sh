#!/usr/bin/env bash
# System calls per echo, counted in the kernel for the server process only.
#
#   bench/ws_syscalls.sh BUILD_DIR [SECONDS]        (default 2 s per run)
#
# For each echo server (sigwire on Asio's epoll reactor, sigwire on Asio's
# io_uring backend when built, Beast when built, the minimal epoll server)
# runs bench/ws_load_client with 16 B messages on 1 and 64 connections
# (CONNS narrows it, e.g. CONNS=1), 1 and 16 in flight, under `perf stat -e 'syscalls:sys_enter_*' -p SERVER` (Debian
# linux-perf; needs root or kernel.perf_event_paranoid <= -1), and prints
# the calls per echo by name and in total.
set -euo pipefail
BUILD=$(cd "${1:?usage: ws_syscalls.sh BUILD_DIR [SECONDS]}" && pwd)
SECS=${2:-2}
command -v perf >/dev/null || { echo "perf not found (Debian: linux-perf)" >&2; exit 1; }
STAT=$(mktemp)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -f "$STAT"; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "server on port $1 did not start" >&2; return 1
}

count() {  # name, command... (PORT is replaced)
  local name=$1; shift
  for conns in ${CONNS:-1 64}; do
  for inflight in 1 16; do
    local port; port=$(free_port)
    "${@//PORT/$port}" >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_port "$port"
    perf stat -x, -e 'syscalls:sys_enter_*' -p "$SERVER_PID" -o "$STAT" &
    local perf_pid=$!
    sleep 0.3
    local line msgs
    line=$("$BUILD/bench/ws_load_client" --port "$port" --size 16 --conns "$conns" --inflight "$inflight" \
             --seconds "$SECS" | grep RESULT)
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    msgs=$(sed 's/.*msgs=\([0-9]*\).*/\1/' <<<"$line")
    awk -F, -v m="$msgs" -v name="$name" -v c="$conns" -v k="$inflight" '
      $1 ~ /^[0-9]+$/ && $1 > 0 && $3 ~ /sys_enter_/ {
        sub("syscalls:sys_enter_", "", $3); n[$3] = $1; total += $1 }
      END {
        line = ""
        for (s in n) if (n[s] / m >= 0.005) line = line sprintf(" %s %.3f", s, n[s] / m)
        printf "| %s | %d | %d | %.2f |%s |\n", name, c, k, total / m, line }' "$STAT"
  done
  done
}

echo "| server | conns | in flight | system calls per echo | by name |"
echo "|---|---:|---:|---:|---|"
count "sigwire (epoll)" "$BUILD/examples/ws_echo_server" --port PORT --bind 127.0.0.1 --no-deflate
count "sigwire (epoll, --keep-read-buffer)" "$BUILD/examples/ws_echo_server" --port PORT --bind 127.0.0.1 --no-deflate --keep-read-buffer
if [ -x "$BUILD/bench/ws_echo_server_io_uring" ]; then
  count "sigwire (io_uring)" "$BUILD/bench/ws_echo_server_io_uring" --port PORT --bind 127.0.0.1 --no-deflate
fi
if [ -x "$BUILD/bench/beast_echo_server" ]; then count "Beast" "$BUILD/bench/beast_echo_server" PORT; fi
count "epoll ceiling" "$BUILD/bench/epoll_echo_server" PORT
# BASELINE=/path/to/an/older/ws_echo_server: before and after a change.
if [ -n "${BASELINE:-}" ]; then count "baseline (epoll)" "$BASELINE" --port PORT --bind 127.0.0.1 --no-deflate; fi
