#!/usr/bin/env bash
# Schemathesis (PyPI) for the API fuzzing suite (packages/testing/test/chaos-fuzz): installed in a
# virtualenv in the cache outside the clone and reused while the version stays the same. Prints the
# path of the `st` command. Run by ./dev test and, when needed, by the suite itself.
set -euo pipefail
cd "$(dirname "$0")/.."
version="4.32.5"
venv="${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}/schemathesis"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "schemathesis==$version" ]; then
  echo "schemathesis-env: creating $venv (schemathesis==$version)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version" >&2
  printf '%s' "schemathesis==$version" >"$venv/.installed"
fi
echo "$venv/bin/st"
