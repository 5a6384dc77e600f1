#!/usr/bin/env bash
# Python virtualenvs for the E2B Python SDK suites (packages/sdk-tests/python), one per SDK
# version in its requirements.txt, made in the cache outside the clone and reused while their
# requirements stay the same. Prints "<name> <venv directory>" per venv. Run by ./dev test and,
# when needed, by the suite itself.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}/python-sdk-tests"
pytest_requirement="pytest==8.4.2"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
grep -v '^\s*\(#\|$\)' packages/sdk-tests/python/requirements.txt | while read -r name requirements; do
  venv="$cache/$name"
  wanted="$requirements $pytest_requirement"
  if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$wanted" ]; then
    echo "python-env: creating $venv ($wanted)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $wanted >&2
    printf '%s' "$wanted" >"$venv/.installed"
  fi
  echo "$name $venv"
done
