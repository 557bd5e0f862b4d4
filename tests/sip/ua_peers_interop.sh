#!/bin/bash
# The user agent's examples against a real softphone and a real proxy from
# Debian, all on the loopback. Every run must show the call established and
# ended cleanly:
#   1. baresip (baresip-core) calls examples/uas over UDP and over TCP; uas
#      counts the call confirmed and ended, baresip logs "Call established".
#   2. examples/simplecall calls baresip (auto-answer) over UDP and over TCP
#      and exits 0.
#   3. Kamailio (kamailio) as registrar and record-routing proxy: uas
#      registers as bob, simplecall registers as alice and calls bob through
#      Kamailio; over UDP, then both over TCP.
#   ua_peers_interop.sh PATH/TO/uas PATH/TO/simplecall
set -u
UAS=$(realpath "$1")
SIMPLECALL=$(realpath "$2")
command -v baresip >/dev/null || { echo "FAIL: baresip not installed (Debian baresip-core)"; exit 1; }
KAMAILIO=$(command -v kamailio || echo /usr/sbin/kamailio)
[ -x "$KAMAILIO" ] || { echo "FAIL: kamailio not installed (Debian kamailio)"; exit 1; }
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK"
failures=0

# A port free for UDP and TCP, with the next one free too (baresip puts TLS on port+1).
free_port_pair() {
  /usr/bin/python3 -c '
import socket
while True:
    socks = []
    try:
        t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]; socks.append(t)
        for port in (p, p + 1):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", port)); socks.append(u)
        t2 = socket.socket(); t2.bind(("127.0.0.1", p + 1)); socks.append(t2)
        print(p); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()'
}

start_uas() {  # label, uas options... -> UAS_PID, UAS_PORT
  local label=$1; shift
  UAS_PORT=$(free_port_pair)
  "$UAS" --port "$UAS_PORT" "$@" > "uas-$label.out" 2> "uas-$label.err" &
  UAS_PID=$!
  PIDS+=("$UAS_PID")
  for _ in $(seq 50); do grep -q listening "uas-$label.out" 2>/dev/null && break; sleep 0.1; done
}
stop_uas() {  # label: stops uas and checks it saw one call confirmed and ended
  kill -TERM "$UAS_PID"; wait "$UAS_PID" 2>/dev/null
  grep -q "incoming=1 confirmed=1 ended=1 open=0" "uas-$1.err"
}

# baresip's configuration: no sound card (aubridge), G.711, commands from -e.
BARESIP_PORT=$(free_port_pair)
mkdir -p baresip
cat > baresip/config <<CFG
poll_method epoll
sip_listen 127.0.0.1:$BARESIP_PORT
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module aubridge.so
module_app account.so
module_app menu.so
audio_player aubridge,nil
audio_source aubridge,nil
audio_alert aubridge,nil
rtp_ports 20000-20100
CFG
echo "<sip:baresip@127.0.0.1:$BARESIP_PORT>;regint=0;answermode=auto" > baresip/accounts

# 1. baresip -> uas
for transport in udp tcp; do
  start_uas "baresip-$transport"
  target="sip:uas@127.0.0.1:$UAS_PORT"
  [ "$transport" = tcp ] && target="$target;transport=tcp"
  timeout 20 baresip -f "$WORK/baresip" -e "/dial $target" -t 3 < /dev/null > "baresip-$transport.out" 2>&1
  rc=$?
  if stop_uas "baresip-$transport" && [ "$rc" = 0 ] && grep -aq "Call established" "baresip-$transport.out"; then
    echo "baresip -> uas over $transport: established and ended ($(cat "uas-baresip-$transport.err"))"
  else
    failures=$((failures + 1)); echo "FAIL: baresip -> uas over $transport (baresip exit $rc)"
    cat "uas-baresip-$transport.err"; grep -a -v "audio=" "baresip-$transport.out" | tail -20
  fi
done

# 2. simplecall -> baresip
timeout 30 baresip -f "$WORK/baresip" -t 20 < /dev/null > baresip-answer.out 2>&1 &
BARESIP_PID=$!
PIDS+=("$BARESIP_PID")
sleep 1
for transport in udp tcp; do
  target="sip:baresip@127.0.0.1:$BARESIP_PORT"
  [ "$transport" = tcp ] && target="$target;transport=tcp"
  timeout 20 "$SIMPLECALL" "$target" --duration 1 < /dev/null > "simplecall-baresip-$transport.out" 2>&1
  rc=$?
  echo "simplecall -> baresip over $transport: exit $rc ($(tail -1 "simplecall-baresip-$transport.out"))"
  [ "$rc" = 0 ] || { failures=$((failures + 1)); cat "simplecall-baresip-$transport.out"; }
done
kill "$BARESIP_PID" 2>/dev/null

# 3. through Kamailio: registrar (usrloc in memory) and record-routing proxy
KPORT=$(free_port_pair)
cat > kamailio.cfg <<CFG
#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
listen=udp:127.0.0.1:$KPORT
listen=tcp:127.0.0.1:$KPORT
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
modparam("usrloc", "db_mode", 0)
modparam("rr", "enable_full_lr", 1)
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  if (is_method("REGISTER")) { save("location"); exit; }
  record_route();
  if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
  t_relay();
}
CFG
mkdir -p kamailio-run
"$KAMAILIO" -f "$WORK/kamailio.cfg" -DD -E -Y "$WORK/kamailio-run" > kamailio.log 2>&1 &
KAMAILIO_PID=$!
PIDS+=("$KAMAILIO_PID")
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$KPORT") 2>/dev/null && break; sleep 0.1; done
for transport in udp tcp; do
  suffix=""
  [ "$transport" = tcp ] && suffix=";transport=tcp"
  start_uas "kamailio-$transport" --register "sip:127.0.0.1:$KPORT$suffix" --user bob
  for _ in $(seq 50); do grep -q "registration: registered" "uas-kamailio-$transport.out" && break; sleep 0.1; done
  timeout 20 "$SIMPLECALL" "sip:bob@127.0.0.1:$KPORT$suffix" --duration 1 --register "sip:127.0.0.1:$KPORT$suffix" \
    --user alice < /dev/null > "simplecall-kamailio-$transport.out" 2>&1
  rc=$?
  if stop_uas "kamailio-$transport" && [ "$rc" = 0 ] && grep -q "registration: registered" "uas-kamailio-$transport.out"; then
    echo "simplecall (alice) -> Kamailio -> uas (bob), both registered over $transport: established and ended cleanly"
  else
    failures=$((failures + 1)); echo "FAIL: through Kamailio over $transport (simplecall exit $rc)"
    cat "simplecall-kamailio-$transport.out" "uas-kamailio-$transport.out" "uas-kamailio-$transport.err"
    grep -E "ERROR|WARN" kamailio.log | tail -10
  fi
done

echo "ua softphone/proxy interop: $failures failures"
exit $((failures > 0))
