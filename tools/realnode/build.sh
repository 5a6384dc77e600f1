#!/usr/bin/env bash
# Builds the real node's kubelet and containerd (+ ctr and the runc shim) from the Go module
# proxy into a cache outside the clone, keyed by the wrapper modules' content (like
# tools/controlplane/build.sh). Prints where they are on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
key=$(cat "$here"/build.sh "$here"/versions.env "$here"/../controlplane/versions.env "$here"/*/go.mod "$here"/*/go.sum | sha256sum | cut -c1-16)
cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
bin="$cache/realnode-$key"
components="kubelet containerd ctr containerd-shim-runc-v2"

mkdir -p "$cache"
exec 9>"$cache/realnode-$key.lock"
flock 9

built=1
for c in $components; do [ -x "$bin/$c" ] || built=0; done
if [ "$built" = 1 ]; then
  echo "real node: cached in $bin" >&2
  echo "$bin"
  exit 0
fi

mkdir -p "$bin.partial"
step() { echo "real node: building $1 ($(date +%T); a cold build takes a few minutes)" >&2; }
start=$(date +%s)
. "$here/../controlplane/versions.env"
minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
kversion="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
kversion="$kversion -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
kversion="$kversion -X k8s.io/component-base/version.gitTreeState=clean"
step kubelet
(cd "$here/kubelet" && go build -trimpath -ldflags="-s -w $kversion" -o "$bin.partial/kubelet" k8s.io/kubernetes/cmd/kubelet)
. "$here/versions.env"
# The version containerd reports to the kubelet (containerd://v2.x.y) instead of "1.0.0+unknown".
cversion="-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
for c in containerd ctr containerd-shim-runc-v2; do
  step "$c"
  (cd "$here/containerd" && go build -trimpath -ldflags="-s -w $cversion" -o "$bin.partial/$c" "github.com/containerd/containerd/v2/cmd/$c")
done
rm -rf "$bin" && mv "$bin.partial" "$bin"
echo "real node: built in $(( $(date +%s) - start ))s into $bin" >&2
echo "$bin"
