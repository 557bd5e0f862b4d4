#!/usr/bin/env bash
# Builds sigwire's examples and runs the main demo: a SIP call over
# WebSocket (RFC 7118) on loopback, every layer in play (examples/sip_ws_demo.cpp).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/bootstrap.sh" demo
options=(-Dtests=disabled -Dbench=disabled -Dfuzz=disabled)
if [ -f build/demo/build.ninja ]; then
  meson setup --reconfigure build/demo "${options[@]}" >/dev/null
else
  meson setup build/demo "${options[@]}" >/dev/null
fi
ninja -C build/demo examples/sip_ws_demo examples/core_tour >/dev/null
echo "--- build/demo/examples/sip_ws_demo"
build/demo/examples/sip_ws_demo
echo
echo "--- build/demo/examples/core_tour"
build/demo/examples/core_tour
echo
echo "Other examples: ninja -C build/demo, then build/demo/examples/{ws_echo_server,ws_client,sip_inspect,sdp_answer}"
