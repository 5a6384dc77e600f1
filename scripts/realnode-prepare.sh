#!/usr/bin/env bash
# Gets the real node ready where the machine allows one (root): its Debian packages, its kubelet
# and containerd (Go module proxy), its images (built here); all cached, so fast after the first
# time. Elsewhere it says why in one line and succeeds: the real-node suites then report the node
# unavailable, and `./dev start` serves KWOK sandboxes. AGENT_SANDBOX_REAL_NODE=off skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${AGENT_SANDBOX_REAL_NODE:-}" = off ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "real node: unavailable: not root (the kubelet, containerd and runc need root)" >&2
  exit 0
fi
tools/realnode/install-packages.sh
tools/realnode/build.sh >/dev/null
tools/realnode/images.sh >/dev/null
