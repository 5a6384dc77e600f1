#!/usr/bin/env bash
# Unpacks Debian packages (this machine's apt sources, `apt-get download`: no install, no
# maintainer scripts, nothing started) into a cache directory keyed by their exact versions, and
# prints that directory on the last line. Used for promtool/prometheus (tests) and the libraries of
# the operator image:  scripts/debian-packages.sh prometheus
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: debian-packages.sh <package>..." >&2; exit 2; }
cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^  Candidate: //p'; }
versions=""
for p in "$@"; do
  v=$(candidate "$p")
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    # A fresh machine may have no package lists yet.
    echo "debian-packages: no candidate for $p; running apt-get update" >&2
    apt-get update -qq >&2 || true
    v=$(candidate "$p")
  fi
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    echo "debian-packages: no candidate for $p in this machine's apt sources" >&2
    exit 1
  fi
  versions="$versions $p=$v"
done
key=$(echo "$versions" | sha256sum | cut -c1-16)
dir="$cache/debian-$key"
mkdir -p "$cache"
exec 9>"$dir.lock"
flock 9
if [ ! -f "$dir/.complete" ]; then
  echo "debian-packages: unpacking$versions" >&2
  rm -rf "$dir.partial" && mkdir -p "$dir.partial/debs" "$dir.partial/root"
  # shellcheck disable=SC2086
  (cd "$dir.partial/debs" && apt-get download -q $versions 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
  for deb in "$dir.partial"/debs/*.deb; do dpkg-deb -x "$deb" "$dir.partial/root"; done
  [ "$(ls "$dir.partial"/debs/*.deb | wc -l)" -eq $# ] || { echo "debian-packages: download failed" >&2; exit 1; }
  echo "$versions" >"$dir.partial/versions"
  rm -rf "$dir" && mv "$dir.partial" "$dir" && touch "$dir/.complete"
fi
echo "$dir"
