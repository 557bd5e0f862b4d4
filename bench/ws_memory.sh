#!/usr/bin/env bash
# Server memory per idle WebSocket connection (builds nothing; loopback only).
#
#   bench/ws_memory.sh BUILD_DIR [N ...]        (default N: 1000 10000)
#
# For each N and each server, bench/ws_memory_client opens N connections one
# by one and leaves them idle; the server's resident memory (VmRSS of
# /proc/PID/status) is read before the first connection and once all N are
# idle, and the difference divided by N is the figure per connection.
#   echo     upgrade, one 600-byte SIP-like text message and its echo, then idle
#   connect  TCP connection only, nothing sent
#   half     half an HTTP upgrade request sent, then nothing
# Servers: examples/ws_echo_server --no-deflate (sigwire plain), the same with
# permessage-deflate (its default policy, and --deflate-low-memory), and
# bench/beast_echo_server (Boost.Beast, when built; plain only).
# The file limit is raised for N = 10000 (needs root or a high hard limit).
# SERVERS and MODES (space-separated) narrow the matrix.
set -euo pipefail
BUILD=$(cd "${1:?usage: ws_memory.sh BUILD_DIR [N ...]}" && pwd)
shift
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1000 10000)
CLIENT="$BUILD/bench/ws_memory_client"
SERVERS=${SERVERS:-"sigwire deflate deflate-low beast"}
MODES=${MODES:-"echo connect half"}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

SERVER_PID=
CPID=
cleanup() {
  [ -n "$CPID" ] && kill "$CPID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "${FIFOS:-}" ] && rm -rf "$FIFOS"
}
trap cleanup EXIT

# The client runs with its standard input and output on two FIFOs: fd 3
# writes to it, fd 4 reads its READY / CLOSED lines.
FIFOS=$(mktemp -d)
mkfifo "$FIFOS/in" "$FIFOS/out"
start_client() {
  "$CLIENT" "$@" <"$FIFOS/in" >"$FIFOS/out" &
  CPID=$!
  exec 3>"$FIFOS/in" 4<"$FIFOS/out"
}
stop_client() {
  exec 3>&- 4<&-
  wait "$CPID" 2>/dev/null || true
  CPID=
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # bounded: 5 s
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2; return 1
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

server_command() {  # name port
  case $1 in
    sigwire) printf '%s\n' "$BUILD/examples/ws_echo_server" --port "$2" --no-deflate ;;
    deflate) printf '%s\n' "$BUILD/examples/ws_echo_server" --port "$2" ;;
    deflate-low) printf '%s\n' "$BUILD/examples/ws_echo_server" --port "$2" --deflate-low-memory ;;
    beast) printf '%s\n' "$BUILD/bench/beast_echo_server" "$2" ;;
  esac
}
client_flags() {  # server mode
  [ "$2" = echo ] || { echo "--mode $2"; return; }
  case $1 in deflate|deflate-low) echo "--mode echo --deflate" ;; *) echo "--mode echo" ;; esac
}

# measure SERVER MODE N: prints KiB per connection
measure() {
  local server=$1 mode=$2 n=$3 port cmd before after line
  port=$(free_port)
  mapfile -t cmd < <(server_command "$server" "$port")
  "${cmd[@]}" >/dev/null 2>&1 &
  SERVER_PID=$!
  wait_port "$port"
  sleep 0.2
  before=$(rss_kib "$SERVER_PID")
  start_client --port "$port" --conns "$n" $(client_flags "$server" "$mode")
  if ! read -r -t 300 line <&4 || [[ $line != READY* ]]; then
    echo "client failed ($server $mode $n): $line" >&2; return 1
  fi
  sleep 0.5
  after=$(rss_kib "$SERVER_PID")
  echo >&3
  stop_client
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }'
}

available() {
  case $1 in beast) [ -x "$BUILD/bench/beast_echo_server" ] ;; *) [ -x "$BUILD/examples/ws_echo_server" ] ;; esac
}

printf '%-12s %-8s' server mode
for n in "${COUNTS[@]}"; do printf ' %14s' "KiB/conn@$n"; done
echo
for mode in $MODES; do
  for server in $SERVERS; do
    available "$server" || continue
    [ "$server" = beast ] || [ "$server" = sigwire ] || [ "$mode" = echo ] || continue
    printf '%-12s %-8s' "$server" "$mode"
    for n in "${COUNTS[@]}"; do printf ' %14s' "$(measure "$server" "$mode" "$n")"; done
    echo
  done
done
