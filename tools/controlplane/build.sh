#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok from the Go
# module proxy into a cache outside the clone, keyed by the wrapper modules' content, so a
# fresh clone on the same machine reuses the binaries. Prints where they are on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
key=$(cat "$here"/build.sh "$here"/versions.env "$here"/*/go.mod "$here"/*/go.sum "$here"/etcd/main.go | sha256sum | cut -c1-16)
cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
bin="$cache/controlplane-$key"
components="etcd kube-apiserver kube-controller-manager kube-scheduler kwok"

# One build at a time per cache: concurrent callers (parallel test runs) wait, then find it cached.
mkdir -p "$cache"
exec 9>"$cache/controlplane-$key.lock"
flock 9

built=1
for c in $components; do [ -x "$bin/$c" ] || built=0; done
if [ "$built" = 1 ]; then
  echo "control plane: cached in $bin" >&2
  echo "$bin"
  exit 0
fi

mkdir -p "$bin.partial"
step() { echo "control plane: building $1 ($(date +%T); a cold build takes several minutes)" >&2; }
start=$(date +%s)
step etcd
(cd "$here/etcd" && go build -trimpath -ldflags='-s -w' -o "$bin.partial/etcd" .)
# A real version instead of "v0.0.0-master+$Format:%H$", which kubectl version and Helm cannot parse.
. "$here/versions.env"
minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
kversion="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
kversion="$kversion -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
kversion="$kversion -X k8s.io/component-base/version.gitTreeState=clean"
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  step "$c"
  (cd "$here/kubernetes" && go build -trimpath -ldflags="-s -w $kversion" -o "$bin.partial/$c" "k8s.io/kubernetes/cmd/$c")
done
step kwok
(cd "$here/kwok" && go build -trimpath -ldflags='-s -w' -o "$bin.partial/kwok" sigs.k8s.io/kwok/cmd/kwok)
rm -rf "$bin" && mv "$bin.partial" "$bin"
echo "control plane: built in $(( $(date +%s) - start ))s into $bin" >&2
echo "$bin"
