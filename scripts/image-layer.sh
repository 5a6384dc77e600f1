# Sourced by scripts/image.sh and scripts/node-agent-image.sh (not run): the steps their images
# share. Each is one reproducible layer (sorted, owned by root, every time SOURCE_DATE_EPOCH,
# default 0) over glibc and friends from this machine's Debian packages and the Node 24 that ./dev
# runs, written by tools/gotools' ocimage (go-containerregistry): the same inputs give the same
# digest. Run from the repository's root.

# Sets epoch, version (the chart's appVersion), ocimage and node_bin; fails without Node 24.
image_init() {
  epoch=${SOURCE_DATE_EPOCH:-0}
  version=$(sed -n 's/^appVersion: "\(.*\)"$/\1/p' chart/Chart.yaml)
  ocimage=$(tools/gotools/build.sh ocimage | tail -1)
  node_bin=$(command -v node)
  [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ] || { echo "image: needs Node 24 (run through ./dev)" >&2; exit 1; }
}

# image_rootfs <root> <libs> [more dirs...]: the directories every image has (and those given), the
# Debian packages unpacked in <libs> (scripts/debian-packages.sh) and Node.
image_rootfs() {
  local root=$1 libs=$2
  shift 2
  mkdir -p "$root/usr/local/bin" "$root/app" "$root/etc" "$root/tmp" "$@"
  cp -a "$libs/root/." "$root/"
  cp "$node_bin" "$root/usr/local/bin/node"
}

# image_modes <root> [more executables...]: Node (and the programs given) executable, /tmp sticky,
# /app and /etc readable by everyone and writable by root only.
image_modes() {
  local root=$1
  shift
  chmod 0755 "$root/usr/local/bin/node" "$@"
  chmod 1777 "$root/tmp"
  chmod -R u+rwX,go+rX,go-w "$root/app" "$root/etc"
}

# image_layer <root> <tar>: the rootfs as one reproducible layer.
image_layer() {
  tar --create --file="$2" --directory="$1" --sort=name --mtime="@$epoch" \
    --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime .
}

# image_write <layer> <archive> <ref> <user> <entry> <title> <description> <port>...: the OCI
# archive of one layer running `node /app/<entry>` as <user> in /app; prints the manifest's digest.
image_write() {
  local layer=$1 archive=$2 ref=$3 user=$4 entry=$5 title=$6 description=$7 port ports=()
  shift 7
  for port in "$@"; do ports+=(-port "$port"); done
  "$ocimage" -layer "$layer" -out "$archive" -ref "$ref" \
    -created "$epoch" -user "$user" -workdir /app \
    -entrypoint /usr/local/bin/node -entrypoint "/app/$entry" \
    -env PATH=/usr/local/bin:/usr/bin:/bin -env NODE_ENV=production \
    "${ports[@]}" \
    -label "org.opencontainers.image.title=$title" \
    -label "org.opencontainers.image.version=$version" \
    -label "org.opencontainers.image.description=$description"
}
