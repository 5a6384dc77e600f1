#!/usr/bin/env bash
# Builds the node agent's namespace helper (packages/node-agent/helper/sandbox-enter.c) with the
# machine's gcc, statically, into ~/.cache/agent-sandbox/sandbox-enter-<hash of source and flags>,
# and prints its path. A cached build is reused.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source="$root/packages/node-agent/helper/sandbox-enter.c"
flags=(-O2 -static -Wall -Wextra -Werror -o)
cache="${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}"
hash="$( (cat "$source"; echo "${flags[*]}") | sha256sum | cut -c1-16)"
out="$cache/sandbox-enter-$hash"
if [ ! -x "$out" ]; then
  mkdir -p "$cache"
  gcc "${flags[@]}" "$out.partial" "$source"
  mv "$out.partial" "$out"
fi
echo "$out"
