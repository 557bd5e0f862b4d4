#!/bin/bash
# The user agent's examples against a real softphone and a real proxy from
# Debian, all on the loopback. Every run must show the call established and
# ended cleanly:
#   1. baresip (baresip-core) calls examples/uas over UDP and over TCP; uas
#      counts the call confirmed and ended, baresip logs "Call established".
#   2. examples/simplecall calls baresip (auto-answer) over UDP and over TCP
#      and exits 0.
#   3. Kamailio (kamailio, kamailio-websocket-modules) as registrar and
#      record-routing proxy: uas registers as bob, simplecall registers as
#      alice and calls bob through Kamailio; over UDP, then both over TCP,
#      then both over WebSocket (RFC 7118: our WS client; Kamailio reaches
#      uas over the connection its REGISTER opened), then both over TLS
#      (kamailio-tls-modules; both verify Kamailio's certificate against the
#      test CA) with sip:...;transport=tls URIs, and again with sips: URIs
#      (RFC 3261 §8.1.1.8: every Contact a SIPS URI), then both over secure
#      WebSocket (the WebSocket upgrade on Kamailio's TLS port); then over
#      UDP and TCP on ::1 (IPv6: bracketed Vias, Contacts and URIs).
#   4. Kamailio as the outbound proxy (RFC 3261 §8.1.1.1), over UDP and TCP:
#      both UAs register and call by domain name (sip:bob@sigwire.test,
#      which names no host: only Kamailio's location table resolves it),
#      every request outside the call carrying Route: <Kamailio;lr>, and the
#      INVITE a header of simplecall's --header (Kamailio logs both).
#   5. Kamailio as the edge proxy in front of uas as registrar (RFC 3327
#      Path), over UDP and TCP: uas registers bob through it (Kamailio adds
#      its Path), the registrar (uas --call-registered) calls bob through
#      that Path (Kamailio logs the INVITE and its Route), bob answers, the
#      registrar hangs up; bob unregisters through Kamailio (0 bindings left).
#   6. baresip registers at uas --registrar --flow-timer 2 over UDP as an
#      RFC 5626 outbound client (sipnat=outbound: reg-id, +sip.instance);
#      our 200 requires outbound and sets Flow-Timer 2, so baresip keeps its
#      flow alive with STUN Binding requests (RFC 5626 §4.4.2), which uas
#      answers on its SIP port: at least 3 in 8 s, one registration, then
#      baresip unregisters.
#   ua_peers_interop.sh PATH/TO/uas PATH/TO/simplecall
set -u
UAS=$(realpath "$1")
SIMPLECALL=$(realpath "$2")
. "$(dirname "$0")/interop/baresip.sh"
command -v baresip >/dev/null || { echo "FAIL: baresip not installed (Debian baresip-core)"; exit 1; }
KAMAILIO=$(command -v kamailio || echo /usr/sbin/kamailio)
[ -x "$KAMAILIO" ] || { echo "FAIL: kamailio not installed (Debian kamailio)"; exit 1; }
[ -n "$(find /usr/lib -path '*kamailio/modules/tls.so' -print -quit 2>/dev/null)" ] ||
  { echo "FAIL: Kamailio's TLS module not installed (Debian kamailio-tls-modules)"; exit 1; }
. "$(dirname "$0")/interop/lib.sh"  # WORK, PIDS, failures, fail, wait_for, make_cert (start_uas and stop_uas are this script's own)
make_cert || { echo "FAIL: openssl could not make a test certificate"; exit 1; }
cd "$WORK"

start_uas() {  # label, uas options... -> UAS_PID, UAS_PORT
  local label=$1; shift
  UAS_PORT=$(free_port_pair)
  "$UAS" --port "$UAS_PORT" "$@" > "uas-$label.out" 2> "uas-$label.err" &
  UAS_PID=$!
  PIDS+=("$UAS_PID")
  wait_for listening "uas-$label.out"
}
stop_uas() {  # label: stops uas and checks it saw one call confirmed and ended
  kill -TERM "$UAS_PID"; wait "$UAS_PID" 2>/dev/null
  grep -q "incoming=1 confirmed=1 ended=1 open=0" "uas-$1.err"
}

BARESIP_PORT=$(free_port_pair)
write_baresip_config "$WORK/baresip" "$BARESIP_PORT"

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
    fail "baresip -> uas over $transport (baresip exit $rc)"
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
KTLS=$(free_port_pair)
REGPORT=$(free_port_pair)  # case 5: uas as the registrar behind Kamailio
cat > kamailio-tls.cfg <<CFG
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = $WORK/tls/cert.pem
private_key = $WORK/tls/key.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
CFG
cat > kamailio.cfg <<CFG
#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
enable_tls=yes
listen=udp:127.0.0.1:$KPORT
listen=tcp:127.0.0.1:$KPORT
listen=udp:[::1]:$KPORT
listen=tcp:[::1]:$KPORT
listen=tls:127.0.0.1:$KTLS
loadmodule "tls.so"
modparam("tls", "config", "$WORK/kamailio-tls.cfg")
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "xlog.so"
loadmodule "path.so"
loadmodule "siputils.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"
modparam("usrloc", "db_mode", 0)
modparam("rr", "enable_full_lr", 1)
tcp_accept_no_cl=yes
# SIP over WebSocket (RFC 7118) on the TCP port, and over TLS (WSS) on the TLS
# port: the upgrade is an HTTP request on either.
# (Kamailio warns that WS routing wants nathelper or outbound: our WS clients'
# Contacts carry their real address and port, so its connection lookup finds them.)
event_route[xhttp:request] {
  if (\$hdr(Upgrade) =~ "websocket" && \$hdr(Connection) =~ "Upgrade" && \$rm =~ "GET") {
    if (ws_handle_handshake()) { exit; }
  }
  xhttp_reply("404", "Not Found", "", "");
}
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  # Case 5: for path.test Kamailio is the edge proxy in front of our registrar
  # on $REGPORT: it adds its Path (RFC 3327) to the REGISTER, and relays what
  # the registrar sends back through that Path.
  if (\$tu =~ "@path.test") {
    if (!is_method("REGISTER")) { xlog("L_INFO", "path edge: \$rm \$ru route \$hdr(Route)\n"); }
    loose_route();
    if (is_method("REGISTER")) {
      add_path();
      if (\$pr == "tcp") { \$du = "sip:127.0.0.1:$REGPORT;transport=tcp"; } else { \$du = "sip:127.0.0.1:$REGPORT"; }
      t_relay();
      exit;
    }
    record_route();
    t_relay();
    exit;
  }
  # Our outbound-proxy clients preload Route: <this proxy;lr> (RFC 3261 §8.1.1.1).
  if (is_present_hf("Route")) { xlog("L_INFO", "preloaded route: \$hdr(Route) for \$rm \$ru (X-Sigwire-Test: \$hdr(X-Sigwire-Test))\n"); }
  remove_hf("Route");
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
# udp6 and tcp6: UDP and TCP on ::1 (IPv6: every Via, Contact and URI bracketed).
for transport in udp tcp ws tls sips wss udp6 tcp6; do
  scheme=sip host=127.0.0.1 port=$KPORT suffix=";transport=${transport%6}" tls=() address=()
  case "$transport" in
    udp | udp6) suffix="" ;;
    tls | wss) port=$KTLS tls=(--ca "$WORK/tls/cert.pem") ;;
    sips) scheme=sips port=$KTLS suffix="" tls=(--ca "$WORK/tls/cert.pem") ;;
  esac
  case "$transport" in *6) host="[::1]" address=(--address ::1) ;; esac
  start_uas "kamailio-$transport" "${address[@]}" --register "$scheme:$host:$port$suffix" --user bob "${tls[@]}"
  wait_for "registration: registered" "uas-kamailio-$transport.out"
  timeout 20 "$SIMPLECALL" "$scheme:bob@$host:$port$suffix" --duration 1 --register "$scheme:$host:$port$suffix" \
    --user alice "${tls[@]}" < /dev/null > "simplecall-kamailio-$transport.out" 2>&1
  rc=$?
  # RFC 7118 §5.2: a WebSocket Contact says ;transport=ws over WSS too (Kamailio knows no "wss" there).
  contact="contact <$scheme:"
  case "$transport" in
    wss) contact="contact <sip:[^>]*;transport=ws>" ;;
    *6) contact="contact <sip:sigwire@\[::1\]:" ;;
  esac
  if stop_uas "kamailio-$transport" && [ "$rc" = 0 ] && grep -q "registration: registered.*$contact" "uas-kamailio-$transport.out"; then
    echo "simplecall (alice) -> Kamailio -> uas (bob), both registered over $transport: established and ended cleanly"
  else
    fail "through Kamailio over $transport (simplecall exit $rc)"
    cat "simplecall-kamailio-$transport.out" "uas-kamailio-$transport.out" "uas-kamailio-$transport.err"
    grep -E "ERROR|WARN" kamailio.log | tail -10
  fi
done

# 4. Kamailio as outbound proxy: targets by domain name
for transport in udp tcp; do
  proxy="sip:127.0.0.1:$KPORT"; [ "$transport" = tcp ] && proxy="$proxy;transport=tcp"
  routes_before=$(grep -c "preloaded route: <$proxy;lr> for INVITE sip:bob@sigwire.test (X-Sigwire-Test: via $transport)" kamailio.log)
  start_uas "kamailio-proxy-$transport" --register "sip:sigwire.test" --proxy "$proxy" --user bob
  wait_for "registration: registered" "uas-kamailio-proxy-$transport.out"
  timeout 20 "$SIMPLECALL" "sip:bob@sigwire.test" --duration 1 --register "sip:sigwire.test" --proxy "$proxy" \
    --user alice --header "X-Sigwire-Test: via $transport" < /dev/null > "simplecall-kamailio-proxy-$transport.out" 2>&1
  rc=$?
  routes_after=$(grep -c "preloaded route: <$proxy;lr> for INVITE sip:bob@sigwire.test (X-Sigwire-Test: via $transport)" kamailio.log)
  if stop_uas "kamailio-proxy-$transport" && [ "$rc" = 0 ] && [ "$routes_after" -gt "$routes_before" ] &&
     grep -q "preloaded route: <$proxy;lr> for REGISTER sip:sigwire.test" kamailio.log; then
    echo "simplecall (alice) -> Kamailio as outbound proxy over $transport -> uas (bob), both by domain: established and ended cleanly"
  else
    fail "Kamailio as outbound proxy over $transport (simplecall exit $rc)"
    cat "simplecall-kamailio-proxy-$transport.out" "uas-kamailio-proxy-$transport.out" "uas-kamailio-proxy-$transport.err"
    grep -E "ERROR|WARN|preloaded" kamailio.log | tail -10
  fi
done

# 5. Kamailio as edge proxy (Path) in front of uas as the registrar
for transport in udp tcp; do
  proxy="sip:127.0.0.1:$KPORT"; [ "$transport" = tcp ] && proxy="$proxy;transport=tcp"
  edge_before=$(grep -c "path edge: INVITE sip:[^ ]* route <sip:127.0.0.1:$KPORT" kamailio.log)
  "$UAS" --port "$REGPORT" --call-registered --hangup-after 300 > "uas-path-registrar-$transport.out" 2>&1 &
  registrar_pid=$!
  PIDS+=("$registrar_pid")
  wait_for listening "uas-path-registrar-$transport.out"
  start_uas "path-$transport" --register "sip:path.test" --proxy "$proxy" --user bob
  wait_for "call to sip:bob@path.test: disconnected" "uas-path-registrar-$transport.out" 10
  stop_uas "path-$transport"; bob_ok=$?  # bob unregisters through Kamailio on the way out
  wait_for "REGISTER sip:bob@path.test: 200, 0 binding" "uas-path-registrar-$transport.out" 3
  kill -TERM "$registrar_pid"; wait "$registrar_pid" 2>/dev/null
  edge_after=$(grep -c "path edge: INVITE sip:[^ ]* route <sip:127.0.0.1:$KPORT" kamailio.log)
  if [ "$bob_ok" = 0 ] && [ "$edge_after" -gt "$edge_before" ] &&
     grep -q "call to sip:bob@path.test: confirmed" "uas-path-registrar-$transport.out" &&
     grep -q "REGISTER sip:bob@path.test: 200, 0 binding" "uas-path-registrar-$transport.out"; then
    echo "uas (bob) registers through Kamailio (Path) at uas (registrar) over $transport, is called through that Path: established and ended cleanly"
  else
    fail "Path through Kamailio over $transport"
    cat "uas-path-registrar-$transport.out" "uas-path-$transport.out" "uas-path-$transport.err"
    grep -E "ERROR|WARN|path edge" kamailio.log | tail -10
  fi
done

# 6. baresip as an outbound client over UDP: STUN keep-alives answered
start_uas "stun" --registrar --flow-timer 2
STUN_BARESIP_PORT=$(free_port_pair)
write_baresip_config "$WORK/baresip-stun" "$STUN_BARESIP_PORT" "module uuid.so"
echo "<sip:barry@127.0.0.1:$UAS_PORT>;regint=60;sipnat=outbound;outbound=\"sip:127.0.0.1:$UAS_PORT\";answermode=auto" \
  > "$WORK/baresip-stun/accounts"
timeout 12 baresip -f "$WORK/baresip-stun" -t 8 < /dev/null > baresip-stun.out 2>&1
rc=$?
kill -TERM "$UAS_PID"; wait "$UAS_PID" 2>/dev/null
answered=$(sed -n 's/.* stun=\([0-9]*\)\/.*/\1/p' uas-stun.err)
if [ "$rc" = 0 ] && [ "${answered:-0}" -ge 3 ] && grep -aq "Using sipnat: 'outbound'" baresip-stun.out &&
   [ "$(grep -c '^REGISTER sip:barry@127.0.0.1' uas-stun.out)" = 2 ] && grep -q "200, 0 binding" uas-stun.out; then
  echo "baresip registers at uas as an RFC 5626 outbound client over udp: $answered STUN keep-alives answered in 8 s (Flow-Timer 2)"
else
  fail "baresip outbound STUN keep-alives over udp (baresip exit $rc, answered ${answered:-none})"
  cat uas-stun.out uas-stun.err; grep -av "^$" baresip-stun.out | tail -20
fi

echo "ua softphone/proxy interop: $failures failures"
exit $((failures > 0))
