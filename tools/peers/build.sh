#!/usr/bin/env bash
# Builds the peer the benchmarks compare with, sigs.k8s.io/agent-sandbox's controller
# (cmd/agent-sandbox-controller, unchanged), from the Go module proxy through the wrapper module in
# agent-sandbox/, and copies its CRDs (k8s/crds of the same module version) beside it. Cached outside
# the clone, keyed by the wrapper's content, one build at a time (flock), like
# tools/controlplane/build.sh. Prints the directory (agent-sandbox-controller, crds/) on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
key=$(cat "$here"/build.sh "$here"/versions.env "$here"/agent-sandbox/go.mod "$here"/agent-sandbox/go.sum | sha256sum | cut -c1-16)
cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
out="$cache/peer-agent-sandbox-$key"

mkdir -p "$cache"
exec 9>"$cache/peer-agent-sandbox-$key.lock"
flock 9

if [ -x "$out/agent-sandbox-controller" ] && [ -d "$out/crds" ]; then
  echo "peer agent-sandbox: cached in $out" >&2
  echo "$out"
  exit 0
fi

. "$here/versions.env"
module=sigs.k8s.io/agent-sandbox
start=$(date +%s)
echo "peer agent-sandbox: building $module@$AGENT_SANDBOX_PEER_VERSION ($(date +%T); a cold build takes a few minutes)" >&2
rm -rf "$out.partial" && mkdir -p "$out.partial/crds"
(cd "$here/agent-sandbox" && go build -trimpath -ldflags='-s -w' -o "$out.partial/agent-sandbox-controller" "$module/cmd/agent-sandbox-controller")
# The CRDs ship in the module's source (k8s/crds), which the build above has just downloaded.
src=$(cd "$here/agent-sandbox" && go mod download -json "$module@$AGENT_SANDBOX_PEER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || ! ls "$src"/k8s/crds/*.yaml >/dev/null 2>&1; then
  echo "peer agent-sandbox: no k8s/crds/*.yaml in the module source ($src)" >&2
  exit 1
fi
cp "$src"/k8s/crds/*.yaml "$out.partial/crds/"
chmod -R u+w "$out.partial/crds" # copied from the read-only module cache
rm -rf "$out" && mv "$out.partial" "$out"
echo "peer agent-sandbox: built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
