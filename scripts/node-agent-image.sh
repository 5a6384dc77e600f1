#!/usr/bin/env bash
# `npm run image` (through ./dev, after scripts/image.sh): the node agent's image (the chart's
# nodeAgent DaemonSet) as an OCI archive, made the way the operator's is: glibc from this machine's
# Debian packages, the Node 24 that ./dev runs, the bundle of packages/node-agent
# (dist/node-agent.mjs), the sandbox-enter helper (tools/node-agent/build-helper.sh, static) and
# util-linux's nsenter, ipcs and ipcrm (the recycle scrub, packages/node-agent/src/PodStateScrub.ts,
# runs them), in one reproducible layer (sorted, owned by root, every time SOURCE_DATE_EPOCH,
# default 0). It runs as root: it enters containers (docs/security.md, "Node agent"). The same
# inputs give the same digest, printed on the last line.
#   scripts/node-agent-image.sh [out-dir]     default dist/image
# Import it: ctr -n k8s.io images import dist/image/agent-sandbox-node-agent.oci.tar
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist/image}")
epoch=${SOURCE_DATE_EPOCH:-0}
version=$(sed -n 's/^appVersion: "\(.*\)"$/\1/p' chart/Chart.yaml)
ref="docker.io/agent-sandbox/node-agent:$version"

ocimage=$(tools/gotools/build.sh ocimage | tail -1)
# node needs libstdc++ and libgcc_s; nsenter libselinux (and it libpcre2-8); ipcs and ipcrm only libc.
libs=$(scripts/debian-packages.sh libc6 libstdc++6 libgcc-s1 libselinux1 libpcre2-8-0 | tail -1)
util_linux=$(scripts/debian-packages.sh util-linux | tail -1)
helper=$(tools/node-agent/build-helper.sh | tail -1)
node_bin=$(command -v node)
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ] || { echo "image: needs Node 24 (run through ./dev)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bundle="$work/bundle"
mkdir -p "$bundle"
node --input-type=module -e "
  const { bundleNodeAgent } = await import('./packages/server/scripts/bundle.ts')
  await bundleNodeAgent(process.argv[1])
" "$bundle/node-agent.mjs" >&2
root="$work/rootfs"
mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/app" "$root/etc" "$root/tmp" "$root/run"
cp -a "$libs/root/." "$root/"
# Of util-linux only the three programs the scrub runs.
for tool in nsenter ipcs ipcrm; do cp "$util_linux/root/usr/bin/$tool" "$root/usr/bin/$tool"; done
cp "$node_bin" "$root/usr/local/bin/node"
cp "$helper" "$root/usr/local/bin/sandbox-enter"
cp "$bundle/node-agent.mjs" "$bundle/node-agent.mjs.LEGAL.txt" "$root/app/"
printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
chmod 0755 "$root/usr/local/bin/node" "$root/usr/local/bin/sandbox-enter" "$root"/usr/bin/*
chmod 1777 "$root/tmp"
chmod -R u+rwX,go+rX,go-w "$root/app" "$root/etc"

tar --create --file="$work/rootfs.tar" --directory="$root" --sort=name --mtime="@$epoch" \
  --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime .

mkdir -p "$out"
digest=$("$ocimage" -layer "$work/rootfs.tar" -out "$out/agent-sandbox-node-agent.oci.tar" -ref "$ref" \
  -created "$epoch" -user 0:0 -workdir /app \
  -entrypoint /usr/local/bin/node -entrypoint /app/node-agent.mjs \
  -env PATH=/usr/local/bin:/usr/bin:/bin -env NODE_ENV=production \
  -port 8093/tcp \
  -label "org.opencontainers.image.title=agent-sandbox-node-agent" \
  -label "org.opencontainers.image.version=$version" \
  -label "org.opencontainers.image.description=Node $(node --version); $(cat "$libs/versions" "$util_linux/versions" | xargs)")
echo "image: $ref ($digest) in $out/agent-sandbox-node-agent.oci.tar" >&2
echo "$digest"
