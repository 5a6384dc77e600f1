#!/usr/bin/env bash
# `npm run image` (through ./dev, after scripts/image.sh): the node agent's image (the chart's
# nodeAgent DaemonSet) as an OCI archive, made the way the operator's is: glibc from this machine's
# Debian packages, the Node 24 that ./dev runs, the bundle of packages/node-agent
# (dist/node-agent.mjs), the sandbox-enter helper (tools/node-agent/build-helper.sh, static) and
# util-linux's nsenter, ipcs and ipcrm (the recycle scrub, packages/node-agent/src/PodStateScrub.ts,
# runs them), in one reproducible layer (sorted, owned by root, every time SOURCE_DATE_EPOCH,
# default 0; the steps it shares with the operator's are scripts/image-layer.sh's). It runs as root: it enters containers (docs/security.md, "Node agent"). The same
# inputs give the same digest, printed on the last line.
#   scripts/node-agent-image.sh [out-dir]     default dist/image
# Import it: ctr -n k8s.io images import dist/image/agent-sandbox-node-agent.oci.tar
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/image-layer.sh
out=$(realpath -m "${1:-dist/image}")
image_init
ref="docker.io/agent-sandbox/node-agent:$version"
# node needs libstdc++ and libgcc_s; nsenter libselinux (and it libpcre2-8); ipcs and ipcrm only libc.
libs=$(scripts/debian-packages.sh libc6 libstdc++6 libgcc-s1 libselinux1 libpcre2-8-0 | tail -1)
util_linux=$(scripts/debian-packages.sh util-linux | tail -1)
helper=$(tools/node-agent/build-helper.sh | tail -1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bundle="$work/bundle"
mkdir -p "$bundle"
node --input-type=module -e "
  const { bundleNodeAgent } = await import('./packages/server/scripts/bundle.ts')
  await bundleNodeAgent(process.argv[1])
" "$bundle/node-agent.mjs" >&2
root="$work/rootfs"
image_rootfs "$root" "$libs" "$root/usr/bin" "$root/run"
# Of util-linux only the three programs the scrub runs.
for tool in nsenter ipcs ipcrm; do cp "$util_linux/root/usr/bin/$tool" "$root/usr/bin/$tool"; done
cp "$helper" "$root/usr/local/bin/sandbox-enter"
cp "$bundle/node-agent.mjs" "$bundle/node-agent.mjs.LEGAL.txt" "$root/app/"
printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
image_modes "$root" "$root/usr/local/bin/sandbox-enter" "$root"/usr/bin/*
image_layer "$root" "$work/rootfs.tar"

mkdir -p "$out"
digest=$(image_write "$work/rootfs.tar" "$out/agent-sandbox-node-agent.oci.tar" "$ref" 0:0 node-agent.mjs \
  agent-sandbox-node-agent "Node $(node --version); $(cat "$libs/versions" "$util_linux/versions" | xargs)" \
  8093/tcp)
echo "image: $ref ($digest) in $out/agent-sandbox-node-agent.oci.tar" >&2
echo "$digest"
