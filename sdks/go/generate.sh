#!/usr/bin/env bash
# The Go SDK, generated from docs/openapi.json by oapi-codegen into sdks/go/client.gen.go
# (`npm run sdks`); `--check` fails when that file is stale (`npm run sdks:check`, part of
# `npm run check`). oapi-codegen is built from the Go module proxy at the version pinned in
# sdks/go/tools/go.mod, into a cache outside the clone keyed by that module's content.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
key="$(cat "$here/tools/go.mod" "$here/tools/go.sum" | sha256sum | cut -c1-16)"
cache="${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}"
bin="$cache/oapi-codegen-$key/oapi-codegen"

# One build at a time per cache: concurrent callers wait, then find it built.
mkdir -p "$cache"
exec 9>"$cache/oapi-codegen-$key.lock"
flock 9
if [ ! -x "$bin" ]; then
  echo "sdks: building oapi-codegen into $(dirname "$bin")" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$here/tools" && go build -trimpath -ldflags='-s -w' -o "$bin.partial" github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen)
  mv "$bin.partial" "$bin"
fi
exec 9>&-

generate() { # <output file>
  "$bin" -config "$here/oapi-codegen.yaml" -o "$1" "$root/docs/openapi.json"
}

out="$here/client.gen.go"
if [ "${1:-}" = --check ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp/client.gen.go"
  if ! diff "$tmp/client.gen.go" "$out" >/dev/null; then
    diff "$tmp/client.gen.go" "$out" | head -20 >&2
    echo "sdks: sdks/go/client.gen.go is stale: run npm run sdks" >&2
    exit 1
  fi
  echo "sdks: the Go SDK matches docs/openapi.json"
else
  generate "$out"
  echo "sdks: wrote sdks/go/client.gen.go"
fi
