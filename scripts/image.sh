#!/usr/bin/env bash
# `npm run image` (through ./dev): the operator image as an OCI archive, without Docker or a
# registry: glibc and libstdc++ from this machine's Debian packages, the Node 24 that ./dev runs,
# and the bundle of `npm run build` (dist/operator.mjs), in one layer made reproducible (sorted,
# owned by root, every time SOURCE_DATE_EPOCH, default 0), written by tools/gotools' ocimage
# (go-containerregistry); the steps it shares with the node agent's are scripts/image-layer.sh's.
# The same inputs give the same digest, printed on the last line.
#   scripts/image.sh [out-dir]     default dist/image
# Import it: ctr -n k8s.io images import dist/image/agent-sandbox-operator.oci.tar
# (or podman load -i, skopeo copy oci-archive:...). Docker users: see ./Dockerfile.
# The node agent's image (the chart's nodeAgent DaemonSet) is scripts/node-agent-image.sh's; `npm run
# image` runs both.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/image-layer.sh
out=$(realpath -m "${1:-dist/image}")
image_init
ref="docker.io/agent-sandbox/operator:$version"
libs=$(scripts/debian-packages.sh libc6 libstdc++6 libgcc-s1 | tail -1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node packages/server/scripts/bundle.ts >&2
node packages/wsproxy/scripts/bundle.ts >&2
root="$work/rootfs"
image_rootfs "$root" "$libs"
cp dist/operator.mjs dist/operator.mjs.LEGAL.txt dist/extproc.mjs dist/extproc.mjs.LEGAL.txt "$root/app/"
# wsproxy (the chart runs it from the same image: node /app/wsproxy.mjs) and its page.
cp -r dist/wsproxy.mjs dist/wsproxy.mjs.LEGAL.txt dist/wsproxy-page "$root/app/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
image_modes "$root"
image_layer "$root" "$work/rootfs.tar"

mkdir -p "$out"
digest=$(image_write "$work/rootfs.tar" "$out/agent-sandbox-operator.oci.tar" "$ref" 65532:65532 operator.mjs \
  agent-sandbox-operator "Node $(node --version); $(cat "$libs/versions" | xargs)" \
  8080/tcp 8081/tcp 8082/tcp 8090/tcp 9003/tcp)
echo "image: $ref ($digest) in $out/agent-sandbox-operator.oci.tar" >&2
echo "$digest"
