#!/bin/bash
# The user agent's examples over WebSocket (RFC 7118), TLS and secure
# WebSocket against real peers on the loopback. Every run must show the call
# established and ended cleanly:
#   1. The two browser SIP stacks, run by node without WebRTC: SIP.js (npm
#      sip.js@0.21.2 with a media-less session description handler,
#      interop/sipjs_peer.mjs) and JsSIP (npm jssip@3.13.8 with a fake
#      RTCPeerConnection, interop/jssip_peer.mjs) talk to examples/uas over
#      WS and over WSS: MESSAGE, INVITE, INFO (and with SIP.js a re-INVITE)
#      answered 2xx, the peer's BYE answered 200; then uas hangs up itself
#      (--hangup-after): its BYE goes to the peer's .invalid Contact and must
#      arrive over the peer's own WebSocket (RFC 7118 §5.2). And the other
#      way: each registers its address-of-record at uas (--call-registered,
#      its registrar), uas calls that address, its INVITE reaching the
#      peer's .invalid Contact over the peer's WebSocket (JsSIP registers
#      with RFC 5626 reg-id and +sip.instance), uas hangs up, the peer
#      unregisters and uas holds no binding. uas asks for digest credentials
#      (401, realm example.com), which each peer answers. And both register
#      one address-of-record: uas rings the two at once (--fork 2), one
#      answers, the other is cancelled while it rings (its CANCEL says
#      "Call completed elsewhere", RFC 3326).
#   1b. SIP.js in headless Chromium, with the browser's own WebRTC (a fake
#      microphone; interop/chromium_sipjs.mjs), over WS and WSS to uas
#      --webrtc: SIP.js calls uas (Chromium accepts uas's DTLS-SRTP answer),
#      and SIP.js registers and is called by uas (Chromium answers uas's
#      offer, which reaches it over its WebSocket).
#   2. baresip (baresip-core) calls uas over TLS, and simplecall calls
#      baresip over TLS (both verify the certificate against the test CA).
#   3. simplecall calls uas over TLS, sips:, WS and WSS (sip: with wss, and
#      sips: with ws as RFC 7118 §5.2 writes it); an untrusted
#      certificate ends the call with 503 and exit 1.
#   ua_ws_tls_interop.sh PATH/TO/uas PATH/TO/simplecall NPM_PREFIX
set -u
UAS=$(realpath "$1")
SIMPLECALL=$(realpath "$2")
NPM_PREFIX=$(mkdir -p "$3" && realpath "$3")
PEERS=$(cd "$(dirname "$0")/interop" && pwd)
. "$(dirname "$0")/interop/lib.sh"
. "$(dirname "$0")/interop/baresip.sh"
command -v node >/dev/null || { echo "FAIL: node not installed (Debian nodejs)"; exit 1; }
command -v baresip >/dev/null || { echo "FAIL: baresip not installed (Debian baresip-core)"; exit 1; }
command -v "${CHROMIUM:-chromium}" >/dev/null || { echo "FAIL: chromium not installed (Debian chromium)"; exit 1; }
NPM_PACKAGES=(sip.js@0.21.2 jssip@3.13.8 ws@8)
for package in "${NPM_PACKAGES[@]}"; do
  installed=$(node -p "require('$NPM_PREFIX/node_modules/${package%@*}/package.json').version" 2>/dev/null)
  case "${package#*@}" in "$installed"|"${installed%%.*}") continue ;; esac
  npm install --no-audit --no-fund --prefix "$NPM_PREFIX" "${NPM_PACKAGES[@]}" > "$WORK/npm.log" 2>&1 ||
    { echo "FAIL: npm install ${NPM_PACKAGES[*]}"; tail -5 "$WORK/npm.log"; exit 1; }
  break
done
make_cert || { echo "FAIL: openssl could not make a test certificate"; exit 1; }
CERT="$WORK/tls/cert.pem"
KEY="$WORK/tls/key.pem"
cd "$WORK"

# 1. SIP.js and JsSIP -> uas over WS and WSS; the peer's BYE, then ours
node_peer() {  # peer label url target hold|wait-bye
  NODE_EXTRA_CA_CERTS="$CERT" NPM_PREFIX="$NPM_PREFIX" timeout 20 node "$PEERS/$1_peer.mjs" "$3" "$4" "$5" \
    > "$1-$2.out" 2>&1
}
node_peers_call_uas() {
  for peer in sipjs:SIP.js jssip:JsSIP; do
    name=${peer#*:}; peer=${peer%:*}
    for scheme in ws wss; do
      for who in "$peer" uas; do
        label="$scheme-$who-hangs-up"
        hold=300
        opts=(--"$scheme"-port 0 --cert "$CERT" --key "$KEY")
        [ "$who" = uas ] && { hold=wait-bye; opts+=(--hangup-after 300); }
        start_uas "$peer-$label" "${opts[@]}" || { fail "uas did not start"; continue; }
        port=$(uas_port "$peer-$label" "$scheme")
        node_peer "$peer" "$label" "$scheme://127.0.0.1:$port" "sip:uas@127.0.0.1:$port;transport=$scheme" "$hold"
        rc=$?
        if stop_uas "$peer-$label" 1 && [ "$rc" = 0 ] && grep -q "MESSAGE: hello from $name" "$WORK/uas-$peer-$label.out"; then
          echo "$name -> uas over $scheme, $who hangs up: $(tr '\n' ' ' < "$peer-$label.out")"
        else
          fail "$name -> uas over $scheme, $who hangs up (node exit $rc)"
          cat "$peer-$label.out" "$WORK/uas-$peer-$label.out" "$WORK/uas-$peer-$label.err"
        fi
      done
    done
  done
  for peer in sipjs:SIP.js jssip:JsSIP; do
    name=${peer#*:}; peer=${peer%:*}
    for scheme in ws wss; do
      label="$scheme-registers-uas-calls"
      start_uas "$peer-$label" --"$scheme"-port 0 --cert "$CERT" --key "$KEY" --call-registered --hangup-after 300 \
        --registrar-realm example.com --registrar-user "$peer:pw-$peer" || { fail "uas did not start"; continue; }
      port=$(uas_port "$peer-$label" "$scheme")
      SIP_PASSWORD="pw-$peer" node_peer "$peer" "$label" "$scheme://127.0.0.1:$port" "sip:$peer@example.com" registered
      rc=$?
      kill -TERM "$UAS_PID"; wait "$UAS_PID" 2>/dev/null
      out="$WORK/uas-$peer-$label.out"
      if [ "$rc" = 0 ] && grep -q "incoming=0 confirmed=1 ended=1 open=0" "$WORK/uas-$peer-$label.err" &&
         grep -q "call to sip:$peer@example.com: confirmed" "$out" &&
         [ "$(grep "^REGISTER" "$out" | tail -1)" = "REGISTER sip:$peer@example.com: 200, 0 binding(s)" ]; then
        echo "$name registers at uas over $scheme, uas calls it: $(tr '\n' ' ' < "$peer-$label.out")"
      else
        fail "$name registers at uas over $scheme, uas calls it (node exit $rc)"
        cat "$peer-$label.out" "$out" "$WORK/uas-$peer-$label.err"
      fi
    done
  done
  # A forked call (user_agent::make_call_all): JsSIP and SIP.js register one
  # address-of-record; uas rings both at once; the one that answers wins and
  # the other, ringing, is cancelled (487). Each way round, over WS and WSS.
  for pair in ws:jssip:sipjs wss:sipjs:jssip; do
    IFS=: read -r scheme answers rings <<< "$pair"
    label="$scheme-fork-$answers-answers"
    start_uas "$label" --"$scheme"-port 0 --cert "$CERT" --key "$KEY" --call-registered --fork 2 --hangup-after 300 \
      --registrar-realm example.com --registrar-user "bob:pw-bob" || { fail "uas did not start"; continue; }
    port=$(uas_port "$label" "$scheme")
    SIP_PASSWORD=pw-bob node_peer "$answers" "$label" "$scheme://127.0.0.1:$port" sip:bob@example.com registered &
    answering=$!
    SIP_PASSWORD=pw-bob node_peer "$rings" "$label" "$scheme://127.0.0.1:$port" sip:bob@example.com registered-ring
    rc_rings=$?
    wait "$answering"
    rc_answers=$?
    kill -TERM "$UAS_PID"; wait "$UAS_PID" 2>/dev/null
    out="$WORK/uas-$label.out"
    if [ "$rc_answers" = 0 ] && [ "$rc_rings" = 0 ] && grep -q "CALL established" "$answers-$label.out" &&
       grep -qF 'CANCEL received (Reason: SIP;cause=200;text="Call completed elsewhere")' "$rings-$label.out" &&
       grep -q "disconnected (last status 487)" "$out" &&
       grep -q "incoming=0 confirmed=1 ended=2 open=0" "$WORK/uas-$label.err"; then
      echo "uas forks a call to $answers and $rings over $scheme: $answers answers, $rings is cancelled (487; Reason: call completed elsewhere)"
    else
      fail "forked call over $scheme ($answers exit $rc_answers, $rings exit $rc_rings)"
      cat "$answers-$label.out" "$rings-$label.out" "$out" "$WORK/uas-$label.err"
    fi
  done
  [ "$failures" = 0 ]
}

# 1b. SIP.js in headless Chromium <-> uas --webrtc over WS and WSS, both directions
chromium_sipjs_with_uas() {
  for scheme in ws wss; do
    for mode in call registered; do
      label="chromium-$scheme-$mode"
      opts=(--"$scheme"-port 0 --cert "$CERT" --key "$KEY" --webrtc)
      target_of() { echo "sip:uas@127.0.0.1:$1;transport=$scheme"; }
      [ "$mode" = registered ] && opts+=(--call-registered --hangup-after 300 --registrar-realm example.com
                                         --registrar-user chromium:pw-chromium)
      start_uas "$label" "${opts[@]}" || { fail "uas did not start"; continue; }
      port=$(uas_port "$label" "$scheme")
      target=$(target_of "$port")
      [ "$mode" = registered ] && target="sip:chromium@example.com"
      SIP_PASSWORD=pw-chromium NPM_PREFIX="$NPM_PREFIX" timeout 60 node "$PEERS/chromium_sipjs.mjs" \
        "$scheme://127.0.0.1:$port" "$target" "$mode" > "$label.out" 2>&1
      rc=$?
      kill -TERM "$UAS_PID"; wait "$UAS_PID" 2>/dev/null
      expected="incoming=1 confirmed=1 ended=1 open=0"
      [ "$mode" = registered ] && expected="incoming=0 confirmed=1 ended=1 open=0"
      if [ "$rc" = 0 ] && grep -q "$expected" "$WORK/uas-$label.err"; then
        echo "SIP.js in Chromium, $mode, over $scheme: $(tr '\n' ' ' < "$label.out")"
      else
        fail "SIP.js in Chromium, $mode, over $scheme (node exit $rc)"
        cat "$label.out" "$WORK/uas-$label.out" "$WORK/uas-$label.err"
      fi
    done
  done
  [ "$failures" = 0 ]
}

# 2. baresip <-> uas / simplecall over TLS (baresip listens for TLS on its port + 1)
baresip_over_tls() {
  BARESIP_PORT=$(free_port_pair)
  write_baresip_config "$WORK/baresip" "$BARESIP_PORT" "sip_certificate $WORK/tls/both.pem" "sip_cafile $CERT"
  start_uas baresip-tls --tls-port 0 --cert "$CERT" --key "$KEY" || fail "uas did not start"
  port=$(uas_port baresip-tls tls)
  timeout 20 baresip -f "$WORK/baresip" -e "/dial sip:uas@127.0.0.1:$port;transport=tls" -t 3 < /dev/null > baresip-tls.out 2>&1
  rc=$?
  if stop_uas baresip-tls 1 && [ "$rc" = 0 ] && grep -aq "Call established" baresip-tls.out; then
    echo "baresip -> uas over tls: established and ended ($(cat "$WORK"/uas-baresip-tls.err))"
  else
    fail "baresip -> uas over tls (baresip exit $rc)"; cat "$WORK"/uas-baresip-tls.err; grep -a -v "audio=" baresip-tls.out | tail -20
  fi
  timeout 30 baresip -f "$WORK/baresip" -t 10 < /dev/null > baresip-answer.out 2>&1 &
  BARESIP_PID=$!
  started "$BARESIP_PID"
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$((BARESIP_PORT + 1))") 2>/dev/null && break; sleep 0.1; done
  timeout 20 "$SIMPLECALL" "sip:baresip@127.0.0.1:$((BARESIP_PORT + 1));transport=tls" --duration 1 --ca "$CERT" \
    < /dev/null > simplecall-baresip-tls.out 2>&1
  rc=$?
  echo "simplecall -> baresip over tls: exit $rc ($(tail -1 simplecall-baresip-tls.out))"
  [ "$rc" = 0 ] || { fail "simplecall -> baresip over tls"; cat simplecall-baresip-tls.out; }
  kill "$BARESIP_PID" 2>/dev/null
  [ "$failures" = 0 ]
}

# 3. simplecall -> uas over every secure and WebSocket transport, and an untrusted certificate
simplecall_calls_uas() {
  start_uas own --ws-port 0 --tls-port 0 --wss-port 0 --cert "$CERT" --key "$KEY" || fail "uas did not start"
  tls=$(uas_port own tls); ws=$(uas_port own ws); wss=$(uas_port own wss)
  for target in "sip:uas@127.0.0.1:$tls;transport=tls" "sips:uas@127.0.0.1:$tls" \
                "sip:uas@127.0.0.1:$ws;transport=ws" "sip:uas@127.0.0.1:$wss;transport=wss" \
                "sips:uas@127.0.0.1:$wss;transport=ws"; do  # RFC 7118 §5.2: sips: + ws is WSS
    timeout 20 "$SIMPLECALL" "$target" --duration 1 --ca "$CERT" < /dev/null > simplecall.out 2>&1
    rc=$?
    echo "simplecall -> uas $target: exit $rc ($(tail -1 simplecall.out))"
    [ "$rc" = 0 ] || { fail "simplecall -> uas $target"; cat simplecall.out; }
  done
  timeout 20 "$SIMPLECALL" "sip:uas@127.0.0.1:$tls;transport=tls" --duration 1 < /dev/null > simplecall-untrusted.out 2>&1
  rc=$?
  if [ "$rc" = 1 ] && grep -q "disconnected (last status 503" simplecall-untrusted.out; then
    echo "simplecall -> uas over tls, certificate not trusted: refused, 503, exit 1"
  else
    fail "untrusted certificate (exit $rc)"; cat simplecall-untrusted.out
  fi
  stop_uas own 5 || { fail "uas counts after simplecall"; cat "$WORK"/uas-own.err; }
  [ "$failures" = 0 ]
}

# The three groups at once (each in its own folder): node, baresip and simplecall wait on
# timers and peers far more than on the CPU.
case_start node-peers node_peers_call_uas
case_start chromium chromium_sipjs_with_uas
case_start baresip baresip_over_tls
case_start simplecall simplecall_calls_uas
cases_finish

echo "ua ws/tls interop: $failures failures"
exit $((failures > 0))
