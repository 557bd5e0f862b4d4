#!/usr/bin/env bash
# Installs the Debian packages sigwire needs. Safe to run again.
#   scripts/bootstrap.sh demo   what the demo needs (scripts/deps/build.apt)
#   scripts/bootstrap.sh all    everything the test suite uses (scripts/deps/*.apt)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
what=${1:-all}

if [ "$what" = demo ]; then
  lists=("$here/deps/build.apt")
else
  lists=("$here"/deps/*.apt)
fi
mapfile -t pkgs < <(cat "${lists[@]}" | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)

# A package whose command may come from elsewhere (Node.js from NodeSource
# ships its own npm and conflicts with Debian's npm) is installed only when
# that command is missing: nodejs -> node, npm -> npm.
command_of() {
  case "$1" in
    nodejs) echo node ;;
    npm) echo npm ;;
    *) echo "" ;;
  esac
}

missing=()
for p in "${pkgs[@]}"; do
  cmd=$(command_of "$p")
  if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#pkgs[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done"
