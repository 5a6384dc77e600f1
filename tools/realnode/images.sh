#!/usr/bin/env bash
# Builds the real node's images here, from Debian packages (no registry is reachable), as
# docker archives that `ctr images import` reads, cached by content outside the clone:
#   pause.tar   agent-sandbox.local/pause:1        the Pod sandbox's PID 1 (pause/main.go)
#   base.tar    agent-sandbox.local/base:{1,2}     busybox-static
#   python.tar  agent-sandbox.local/python:{1,2}   Debian python3, pip, git, coreutils, bash
# Both tags of an image share its rootfs layer and differ in a second layer holding
# /etc/agent-sandbox-image (the tag's name), so an in-place swap changes real images. That layer
# also holds the containers' PID 1, /usr/local/sbin/sandbox-init (the pause program: it reaps
# orphans and exits at once on SIGTERM, so a restart does not wait out the grace period).
# The Debian rootfs is cached on its own (realnode-rootfs-python-<key>.tar): changing how the
# archives are assembled does not run mmdebstrap again.
# Prints the directory of the archives on the last line. Needs root (mmdebstrap) and
# tools/realnode/install-packages.sh's packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=bookworm
python_packages=python3,python3-pip,python3-venv,git,coreutils,procps,ca-certificates
mmdebstrap_options=(--quiet --variant=minbase --include="$python_packages"
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --aptopt='Acquire::Languages "none"'
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*')
key=$( (cat "$here/images.sh" "$here/pause/main.go" "$here/pause/go.mod"; dpkg-query -W busybox-static mmdebstrap) | sha256sum | cut -c1-16)
rootfs_key=$( (echo "$suite" "${mmdebstrap_options[@]}"; dpkg-query -W mmdebstrap) | sha256sum | cut -c1-16)
cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
out="$cache/realnode-images-$key"
mkdir -p "$cache"
exec 9>"$cache/realnode-images-$key.lock"
flock 9
if [ -f "$out/pause.tar" ] && [ -f "$out/base.tar" ] && [ -f "$out/python.tar" ]; then
  echo "real node images: cached in $out" >&2
  echo "$out"
  exit 0
fi
rm -rf "$out.partial" && mkdir -p "$out.partial"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

sha() { sha256sum "$1" | cut -d' ' -f1; }
# A reproducible tar of a directory's content (owners root, fixed mtimes: same rootfs, same digest).
tar_dir() { tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$1" -cf "$2" .; }

# archive <file> <name> <cmd-json> <rootfs layer tar> <tag>... : one docker archive, one config per tag.
archive() {
  local file=$1 name=$2 cmd=$3 layer=$4
  shift 4
  local dir="$work/archive-$name"
  rm -rf "$dir" && mkdir -p "$dir"
  local rootfs
  rootfs=$(sha "$layer")
  cp "$layer" "$dir/$rootfs.tar"
  local manifest="["
  for tag in "$@"; do
    mkdir -p "$work/marker-$tag/etc" "$work/marker-$tag/usr/local/sbin"
    echo "$name:$tag" >"$work/marker-$tag/etc/agent-sandbox-image"
    cp "$work/pause/pause" "$work/marker-$tag/usr/local/sbin/sandbox-init"
    tar_dir "$work/marker-$tag" "$work/marker-$tag.tar"
    local marker
    marker=$(sha "$work/marker-$tag.tar")
    mv "$work/marker-$tag.tar" "$dir/$marker.tar"
    cat >"$work/config-$tag.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":$cmd,"WorkingDir":"/"},
 "rootfs":{"type":"layers","diff_ids":["sha256:$rootfs","sha256:$marker"]}}
JSON
    local config
    config=$(sha "$work/config-$tag.json")
    mv "$work/config-$tag.json" "$dir/$config.json"
    [ "$manifest" = "[" ] || manifest="$manifest,"
    manifest="$manifest{\"Config\":\"$config.json\",\"RepoTags\":[\"agent-sandbox.local/$name:$tag\"],\"Layers\":[\"$rootfs.tar\",\"$marker.tar\"]}"
  done
  echo "$manifest]" >"$dir/manifest.json"
  tar -C "$dir" -cf "$file" .
}

echo "real node images: pause ($(date +%T))" >&2
mkdir -p "$work/pause"
(cd "$here/pause" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/pause/pause" .)
tar_dir "$work/pause" "$work/pause.tar"
archive "$out.partial/pause.tar" pause '["/pause"]' "$work/pause.tar" 1

echo "real node images: base ($(date +%T))" >&2
base="$work/base"
mkdir -p "$base/bin" "$base/tmp" "$base/etc" "$base/root" "$base/proc" "$base/sys" "$base/dev"
chmod 1777 "$base/tmp"
cp /bin/busybox "$base/bin/busybox"
for applet in $("$base/bin/busybox" --list); do
  [ -e "$base/bin/$applet" ] || ln -s busybox "$base/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$base/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$base/etc/group"
tar_dir "$base" "$work/base.tar"
archive "$out.partial/base.tar" base '["/usr/local/sbin/sandbox-init"]' "$work/base.tar" 1 2

rootfs="$cache/realnode-rootfs-python-$rootfs_key.tar"
if [ ! -f "$rootfs" ]; then
  echo "real node images: python, a Debian $suite rootfs by mmdebstrap ($(date +%T); a few minutes cold)" >&2
  # The machine's own apt sources (the mirror it can reach) when it has them in deb822 form.
  sources=/etc/apt/sources.list.d/debian.sources
  [ -f "$sources" ] || sources=/dev/null
  if [ "$sources" = /dev/null ]; then
    mmdebstrap "${mmdebstrap_options[@]}" --format=tar "$suite" "$rootfs.partial" >&2
  else
    mmdebstrap "${mmdebstrap_options[@]}" --format=tar "$suite" "$rootfs.partial" - <"$sources" >&2
  fi
  mv "$rootfs.partial" "$rootfs"
fi
archive "$out.partial/python.tar" python '["/usr/local/sbin/sandbox-init"]' "$rootfs" 1 2

rm -rf "$out" && mv "$out.partial" "$out"
echo "real node images: built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
