#!/usr/bin/env bash
# Installs the Debian packages a real node needs on this machine (runc, the CNI plugins,
# iptables, nft to remove what the kubelet adds, ipset for kube-router's firewall), those its
# images are built from (busybox-static, mmdebstrap), and buildah
# (packages/deploy/test/Dockerfile.test.ts builds ./Dockerfile with it).
# Idempotent and fast when everything is installed: apt is only asked when a package is missing.
# Needs root; prints one line saying why when it cannot install (the real node is then reported
# unavailable).
set -euo pipefail
packages="runc containernetworking-plugins iptables nftables ipset busybox-static mmdebstrap buildah"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "realnode: not root, cannot install:$missing" >&2
  exit 1
fi
# One install at a time on the machine (parallel test runs call this too).
exec 9>/var/lock/agent-sandbox-realnode-apt.lock
flock 9
echo "realnode: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
