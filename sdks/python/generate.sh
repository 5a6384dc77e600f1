#!/usr/bin/env bash
# The Python SDK, generated from docs/openapi.json by openapi-python-client into
# sdks/python/agent-sandbox-client/ (`npm run sdks`); `--check` fails when that folder is stale
# (`npm run sdks:check`, part of `npm run check`); `--venv` only prints the generator's virtualenv
# (made in the cache, reused while requirements.txt stays the same), which the SDK's test also uses.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}/python-sdk-generator"
wanted="$(sha256sum "$here/requirements.txt" | cut -c1-16)"
venv="$cache/$wanted"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$venv/.installed" ]; then
  echo "sdks: creating $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  touch "$venv/.installed"
fi
exec 9>&-
[ "${1:-}" = --venv ] && { echo "$venv"; exit 0; }

generate() { # <output folder>
  # ruff (a dependency of the generator) formats the output; it must be on PATH.
  PATH="$venv/bin:$PATH" openapi-python-client generate --path "$root/docs/openapi.json" \
    --output-path "$1" --meta pdm --overwrite >/dev/null
  rm -rf "$1/.ruff_cache"
  find "$1" -name __pycache__ -prune -exec rm -rf {} +
}

out="$here/agent-sandbox-client"
if [ "${1:-}" = --check ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp/out"
  if ! diff -r "$tmp/out" "$out" >/dev/null; then
    diff -r "$tmp/out" "$out" | head -20 >&2
    echo "sdks: sdks/python/agent-sandbox-client is stale: run npm run sdks" >&2
    exit 1
  fi
  echo "sdks: the Python SDK matches docs/openapi.json"
else
  generate "$out"
  echo "sdks: wrote sdks/python/agent-sandbox-client"
fi
