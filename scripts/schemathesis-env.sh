#!/usr/bin/env bash
# Schemathesis for the API fuzzing suite (packages/server/test/ApiFuzz.test.ts), from PyPI in a
# cached virtualenv (scripts/pip-tool-env.sh). Prints the path of the `st` command. Run by
# ./dev test and, when needed, by the suite itself.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/pip-tool-env.sh schemathesis "schemathesis==4.32.5")
echo "$venv/bin/st"
