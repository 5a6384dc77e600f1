#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (driven by playwright-core, which brings no
# browser of its own here). Idempotent and fast when it is installed: apt is only asked when the
# package is missing. Prints the browser's path on success. Needs root to install.
set -euo pipefail
binary=/usr/bin/chromium
if [ ! -x "$binary" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "browser: not root, cannot install chromium" >&2
    exit 1
  fi
  # One install at a time on the machine (parallel test runs call this too).
  exec 9>/var/lock/agent-sandbox-browser-apt.lock
  flock 9
  if [ ! -x "$binary" ]; then
    echo "browser: installing chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1 || {
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
    }
  fi
fi
echo "$binary"
