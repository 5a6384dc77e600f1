#!/usr/bin/env bash
# Builds one of the project's Go tools from the Go module proxy into a cache outside the clone,
# keyed by its wrapper module's content, and prints the binary's path on the last line:
#   tools/gotools/build.sh helm      helm (helm.sh/helm/v3) for lint, template, install and test
#   tools/gotools/build.sh ocimage   writes the operator image as an OCI archive (go-containerregistry)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:?usage: build.sh helm|ocimage}
[ -f "$here/$tool/go.mod" ] || { echo "gotools: no wrapper module $tool" >&2; exit 2; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
shopt -s nullglob
key=$(cat "$here/build.sh" "$here/$tool"/go.mod "$here/$tool"/go.sum "$here/$tool"/*.go | sha256sum | cut -c1-16)
cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
bin="$cache/$tool-$key/$tool"

mkdir -p "$cache"
exec 9>"$cache/$tool-$key.lock"
flock 9
if [ -x "$bin" ]; then
  echo "$tool: cached in $bin" >&2
  echo "$bin"
  exit 0
fi
echo "$tool: building from the Go module proxy ($(date +%T))" >&2
start=$(date +%s)
mkdir -p "$(dirname "$bin")"
case "$tool" in
  helm)
    version=$(sed -n "s/^[[:space:]]*helm.sh\/helm\/v3 \(v[0-9.]*\).*/\1/p" "$here/helm/go.mod" | head -1)
    (cd "$here/helm" && go build -trimpath -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version" \
      -o "$bin.partial" helm.sh/helm/v3/cmd/helm) ;;
  *) (cd "$here/$tool" && go build -trimpath -ldflags='-s -w' -o "$bin.partial" .) ;;
esac
mv "$bin.partial" "$bin"
echo "$tool: built in $(( $(date +%s) - start ))s into $bin" >&2
echo "$bin"
