#!/usr/bin/env bash
# One PyPI tool in a virtualenv of its own in the cache outside the clone, reused while its
# requirement stays the same (envoy-env.sh, schemathesis-env.sh). Prints the venv's directory.
#   scripts/pip-tool-env.sh <cache name> <requirement>
set -euo pipefail
name=$1
requirement=$2
venv="${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}/$name"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$requirement" ]; then
  echo "pip-tool-env: creating $venv ($requirement)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2
  printf '%s' "$requirement" >"$venv/.installed"
fi
echo "$venv"
