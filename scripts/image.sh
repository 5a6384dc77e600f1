#!/usr/bin/env bash
# `npm run image` (through ./dev): the operator image as an OCI archive, without Docker or a
# registry: glibc and libstdc++ from this machine's Debian packages, the Node 24 that ./dev runs,
# and the bundle of `npm run build` (dist/operator.mjs), in one layer made reproducible (sorted,
# owned by root, every time SOURCE_DATE_EPOCH, default 0), written by tools/gotools' ocimage
# (go-containerregistry). The same inputs give the same digest, printed on the last line.
#   scripts/image.sh [out-dir]     default dist/image
# Import it: ctr -n k8s.io images import dist/image/agent-sandbox-operator.oci.tar
# (or podman load -i, skopeo copy oci-archive:...). Docker users: see ./Dockerfile.
# The node agent's image (the chart's nodeAgent DaemonSet) is scripts/node-agent-image.sh's; `npm run
# image` runs both.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist/image}")
epoch=${SOURCE_DATE_EPOCH:-0}
version=$(sed -n 's/^appVersion: "\(.*\)"$/\1/p' chart/Chart.yaml)
ref="docker.io/agent-sandbox/operator:$version"

ocimage=$(tools/gotools/build.sh ocimage | tail -1)
libs=$(scripts/debian-packages.sh libc6 libstdc++6 libgcc-s1 | tail -1)
node_bin=$(command -v node)
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ] || { echo "image: needs Node 24 (run through ./dev)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node packages/server/scripts/bundle.ts >&2
node packages/wsproxy/scripts/bundle.ts >&2
root="$work/rootfs"
mkdir -p "$root/usr/local/bin" "$root/app" "$root/etc" "$root/tmp"
cp -a "$libs/root/." "$root/"
cp "$node_bin" "$root/usr/local/bin/node"
cp dist/operator.mjs dist/operator.mjs.LEGAL.txt dist/extproc.mjs dist/extproc.mjs.LEGAL.txt "$root/app/"
# wsproxy (the chart runs it from the same image: node /app/wsproxy.mjs) and its page.
cp -r dist/wsproxy.mjs dist/wsproxy.mjs.LEGAL.txt dist/wsproxy-page "$root/app/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
chmod 0755 "$root/usr/local/bin/node" && chmod 1777 "$root/tmp"
chmod -R u+rwX,go+rX,go-w "$root/app" "$root/etc"

tar --create --file="$work/rootfs.tar" --directory="$root" --sort=name --mtime="@$epoch" \
  --owner=0 --group=0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime .

mkdir -p "$out"
digest=$("$ocimage" -layer "$work/rootfs.tar" -out "$out/agent-sandbox-operator.oci.tar" -ref "$ref" \
  -created "$epoch" -user 65532:65532 -workdir /app \
  -entrypoint /usr/local/bin/node -entrypoint /app/operator.mjs \
  -env PATH=/usr/local/bin:/usr/bin:/bin -env NODE_ENV=production \
  -port 8080/tcp -port 8081/tcp -port 8082/tcp -port 8090/tcp -port 9003/tcp \
  -label "org.opencontainers.image.title=agent-sandbox-operator" \
  -label "org.opencontainers.image.version=$version" \
  -label "org.opencontainers.image.description=Node $(node --version); $(cat "$libs/versions" | xargs)")
echo "image: $ref ($digest) in $out/agent-sandbox-operator.oci.tar" >&2
echo "$digest"
