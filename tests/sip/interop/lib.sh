# Shell helpers of the SIP interop scripts (sourced): a work folder removed on
# exit with every process started through `started`, and examples/uas
# started on free ports it reports itself.

WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
failures=0

started() { PIDS+=("$1"); }  # pid: killed on exit
fail() { failures=$((failures + 1)); echo "FAIL: $*"; }
# wait_for PATTERN FILE [SECONDS]: true once FILE has a line matching PATTERN
# (grep), false after SECONDS (5) without one.
wait_for() {
  for _ in $(seq $(( ${3:-5} * 10 ))); do grep -q "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# start_uas LABEL [uas options...]: every listener on a port of its choosing;
# sets UAS_PID and prints nothing. uas_port LABEL PROTO reads a port back
# ("udp and tcp", ws, tls, wss).
start_uas() {
  local label=$1; shift
  "$UAS" --port 0 "$@" > "$WORK/uas-$label.out" 2> "$WORK/uas-$label.err" &
  UAS_PID=$!
  started "$UAS_PID"
  local want=$(( 1 + $(printf '%s\n' "$@" | grep -c -E '^--(ws|tls|wss)-port$') ))
  for _ in $(seq 50); do
    [ "$(grep -c listening "$WORK/uas-$label.out" 2>/dev/null)" -ge "$want" ] && return 0
    sleep 0.1
  done
  echo "uas $label did not start:"; cat "$WORK/uas-$label.err"; return 1
}
uas_port() { grep "listening on $2 " "$WORK/uas-$1.out" | sed 's/.*://'; }
# stop_uas LABEL COUNT: stops uas; true when it saw COUNT calls confirmed and ended, none open.
stop_uas() {
  kill -TERM "$UAS_PID"; wait "$UAS_PID" 2>/dev/null
  grep -q "incoming=$2 confirmed=$2 ended=$2 open=0" "$WORK/uas-$1.err"
}

# A self-signed certificate for 127.0.0.1: cert.pem, key.pem and both.pem
# (certificate and key in one file, as baresip takes it) in $WORK/tls.
make_cert() {
  mkdir -p "$WORK/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" > /dev/null 2>&1 || return 1
  cat "$WORK/tls/cert.pem" "$WORK/tls/key.pem" > "$WORK/tls/both.pem"
}

# Independent cases at once: they wait on the network and on SIP timers, hardly
# on the CPU, so a script's wall time is its longest case instead of their sum.
# `case_start LABEL FUNCTION [ARGS...]` runs FUNCTION in its own folder
# $WORK/case-LABEL in the background (a case's own processes are stopped when
# it ends); `cases_finish` waits for every case, prints each one's output in
# the order they started and counts a non-zero return as one failure.
CASE_LABELS=()
CASE_PIDS=()
case_start() {
  local label=$1; shift
  mkdir -p "$WORK/case-$label"
  (
    trap 'kill $(jobs -p) 2>/dev/null' EXIT
    trap 'exit 143' TERM
    cd "$WORK/case-$label" && "$@"
  ) > "$WORK/case-$label.out" 2>&1 &
  started $!
  CASE_LABELS+=("$label")
  CASE_PIDS+=($!)
}
cases_finish() {
  local i rc
  for i in "${!CASE_LABELS[@]}"; do
    wait "${CASE_PIDS[$i]}"; rc=$?
    cat "$WORK/case-${CASE_LABELS[$i]}.out"
    [ "$rc" = 0 ] || failures=$((failures + 1))
  done
  CASE_LABELS=(); CASE_PIDS=()
}
