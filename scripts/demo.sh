#!/usr/bin/env bash
# Builds sigwire's examples and runs the main demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/bootstrap.sh" demo
if [ -f build/demo/build.ninja ]; then
  meson setup --reconfigure build/demo -Dtests=disabled -Dbench=disabled -Dfuzz=disabled >/dev/null
else
  meson setup build/demo -Dtests=disabled -Dbench=disabled -Dfuzz=disabled >/dev/null
fi
ninja -C build/demo >/dev/null
echo "--- build/demo/examples/core_tour"
build/demo/examples/core_tour
