#!/usr/bin/env bash
# Builds kube-router (cmd/kube-router, unchanged) from the Go module proxy through the wrapper
# module in module/, for the real node's NetworkPolicy tests (only its firewall is run there).
# Cached outside the clone, keyed by the wrapper's content, one build at a time (flock), like
# tools/peers/build.sh. Prints the directory holding `kube-router` on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
key=$(cat "$here"/build.sh "$here"/versions.env "$here"/module/go.mod "$here"/module/go.sum "$here"/module/tools.go | sha256sum | cut -c1-16)
cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
out="$cache/kube-router-$key"

mkdir -p "$cache"
exec 9>"$cache/kube-router-$key.lock"
flock 9

if [ -x "$out/kube-router" ]; then
  echo "kube-router: cached in $out" >&2
  echo "$out"
  exit 0
fi

. "$here/versions.env"
module=github.com/cloudnativelabs/kube-router/v2
if ! grep -q "^require $module $KUBE_ROUTER_VERSION\$" "$here/module/go.mod"; then
  echo "kube-router: module/go.mod does not require $module $KUBE_ROUTER_VERSION (versions.env)" >&2
  exit 1
fi
start=$(date +%s)
echo "kube-router: building $module@$KUBE_ROUTER_VERSION ($(date +%T); a cold build takes a few minutes)" >&2
rm -rf "$out.partial" && mkdir -p "$out.partial"
(cd "$here/module" && go build -trimpath -ldflags="-s -w -X $module/pkg/version.Version=$KUBE_ROUTER_VERSION" -o "$out.partial/kube-router" "$module/cmd/kube-router")
rm -rf "$out" && mv "$out.partial" "$out"
echo "kube-router: built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
