#!/usr/bin/env bash
# Builds ./Dockerfile, unchanged, with buildah (Debian's package; no Docker daemon, no registry):
# the two base images it names are made here under those exact names, from what this machine can
# reach: debian:bookworm-slim is a minbase Debian bookworm rootfs by mmdebstrap, and
# node:24-bookworm-slim is that plus the Node 24 ./dev runs and npm from the npm registry. Both
# are cached in buildah storage under $AGENT_SANDBOX_CACHE (keyed by their inputs); then
# `buildah bud --pull=never`. Needs root (vfs storage, chroot isolation) and Node 24 (./dev).
#   scripts/dockerfile-build.sh [tag]     default localhost/agent-sandbox/operator:dockerfile
# Prints the buildah storage flags on the last line, for `buildah $flags from <tag>` etc.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/agent-sandbox/operator:dockerfile}
[ "$(id -u)" = 0 ] || { echo "dockerfile-build: needs root (buildah with vfs storage)" >&2; exit 1; }
command -v buildah >/dev/null || { echo "dockerfile-build: buildah is not installed (apt-get install buildah)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "dockerfile-build: mmdebstrap is not installed" >&2; exit 1; }
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ] || { echo "dockerfile-build: needs Node 24 (run through ./dev)" >&2; exit 1; }

suite=bookworm
npm_version=${AGENT_SANDBOX_IMAGE_NPM:-11}
mmdebstrap_options=(--quiet --variant=minbase
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --aptopt='Acquire::Languages "none"'
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*')
node_bin=$(command -v node)
# Keyed by what the base images are made from (bump bases_recipe when the recipe below changes).
bases_recipe=1
key=$( (echo "$bases_recipe" "$suite" "${mmdebstrap_options[@]}" "$npm_version"; dpkg-query -W mmdebstrap buildah
  sha256sum "$node_bin") | sha256sum | cut -c1-16)
cache=${AGENT_SANDBOX_CACHE:-$HOME/.cache/agent-sandbox}
store="$cache/buildah-$key"
mkdir -p "$store"
exec 9>"$store.lock"
flock 9
# Own storage (not the machine's /var/lib/containers), vfs: works on any filesystem, no overlay.
flags="--root $store/root --runroot $store/run --storage-driver vfs"
# shellcheck disable=SC2086
bh() { buildah $flags "$@"; }

if ! bh inspect --type image docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
  echo "dockerfile-build: debian:bookworm-slim by mmdebstrap ($(date +%T); a minute or two cold)" >&2
  tar="$store/debian-$suite.tar"
  sources=/etc/apt/sources.list.d/debian.sources
  if [ -f "$sources" ]; then
    mmdebstrap "${mmdebstrap_options[@]}" --format=tar "$suite" "$tar.partial" - <"$sources" >&2
  else
    mmdebstrap "${mmdebstrap_options[@]}" --format=tar "$suite" "$tar.partial" >&2
  fi
  ctr=$(bh from scratch)
  bh add "$ctr" "$tar.partial" / >&2
  bh config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  bh commit --rm "$ctr" docker.io/library/debian:bookworm-slim >&2
  rm -f "$tar.partial"
fi

if ! bh inspect --type image docker.io/library/node:24-bookworm-slim >/dev/null 2>&1; then
  echo "dockerfile-build: node:24-bookworm-slim (Node $(node --version), npm@$npm_version)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null && mkdir npm && tar -xzf npm-*.tgz -C npm --strip-components=1)
  ctr=$(bh from --pull=never docker.io/library/debian:bookworm-slim)
  bh copy "$ctr" "$node_bin" /usr/local/bin/node >&2
  bh copy "$ctr" "$work/npm" /usr/local/lib/node_modules/npm >&2
  bh run --isolation chroot "$ctr" -- /bin/sh -c \
    'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version && npm --version' >&2
  bh config --cmd node "$ctr"
  bh commit --rm "$ctr" docker.io/library/node:24-bookworm-slim >&2
fi

# Where this machine reaches the npm registry through a TLS proxy of its own (NODE_EXTRA_CA_CERTS or
# npm's `cafile`), the build's RUN steps see that CA bundle and an npmrc naming it, as mounts: no
# image carries them.
mounts=()
cafile=${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ -f "$cafile" ]; then
  printf 'cafile=/run/agent-sandbox/ca.crt\n' >"$store/npmrc"
  mounts=(-v "$cafile:/run/agent-sandbox/ca.crt:ro" -v "$store/npmrc:/usr/local/etc/npmrc:ro")
fi
echo "dockerfile-build: buildah bud of ./Dockerfile as $tag ($(date +%T))" >&2
bh bud --pull=never --isolation chroot --layers=false "${mounts[@]}" -f Dockerfile -t "$tag" . >&2
# The image a previous build left under this tag, now nameless, would only fill the cache.
bh rmi --prune >/dev/null 2>&1 || true
echo "$flags"
