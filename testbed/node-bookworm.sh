#!/usr/bin/env bash
# A look-alike of `node:20-bookworm-slim` (the base of diploid's own image, see the Dockerfile),
# made here because no public registry is reachable. Unlike the busybox look-alikes of images.sh
# it is a real minimal Debian: `debootstrap --variant=minbase bookworm` from Debian's mirror, so
# `apt-get install` in a Dockerfile RUN step really runs. Node.js 20 and npm are this machine's
# (the installed `nodejs` package, as images.sh's `node:20-alpine` look-alike; Debian bookworm's
# own nodejs is 18), at the official image's paths (/usr/local/bin/node, /usr/local/bin/npm),
# with the official image's user `node` (uid 1000). STAND-IN: same name, Debian release, paths
# and user as the original, not its bytes.
#
#   node-bookworm.sh build DIR           rootfs tarball into DIR/rootfs.tar (cached: skipped when
#                                        DIR/.stamp matches this script and the node version)
#   node-bookworm.sh push DIR REGISTRY   push it as REGISTRY/library/node:20-bookworm-slim
#   node-bookworm.sh key                 the cache key (this script's hash and node's version)
set -euo pipefail

say() { printf '[testbed node-bookworm] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIRROR="${DIPLOID_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
REF_PATH="library/node:20-bookworm-slim"

key() {
  local node_version
  node_version="$(node --version 2>/dev/null)" || die "node is not installed"
  printf 'node-bookworm %s %s\n' "$(sha256sum "$here/node-bookworm.sh" | cut -c1-16)" "$node_version"
}

build() {
  local out="$1" want
  want="$(key)"
  mkdir -p "$out"
  if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$want" && -f "$out/rootfs.tar" ]]; then say "cached in $out"; return; fi
  command -v debootstrap >/dev/null || [[ -x /usr/sbin/debootstrap ]] || die "debootstrap is not installed (apt-get install debootstrap; scripts/system-deps installs it)"
  [[ "$(node --version)" == v20.* ]] || die "node 20 is needed on this machine, found $(node --version)"
  local work r
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  r="$work/root"
  say "debootstrap --variant=minbase bookworm from $MIRROR (a few minutes when cold)"
  local started=$SECONDS
  PATH="/usr/sbin:/sbin:$PATH" debootstrap --variant=minbase bookworm "$r" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  say "debootstrap done in $((SECONDS - started))s"
  # As the official slim images: no package lists or caches kept; apt reaches the same mirror.
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$MIRROR" "$MIRROR" >"$r/etc/apt/sources.list"
  rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin "$r/var/cache/apt/archives/"*.deb "$r/var/log/"*.log
  # Node.js 20 and npm at the official image's paths.
  mkdir -p "$r/usr/local/bin" "$r/usr/local/lib"
  cp -L "$(command -v node)" "$r/usr/local/bin/node"
  [[ -d /usr/lib/node_modules/npm ]] || die "npm is not installed at /usr/lib/node_modules/npm"
  mkdir -p "$r/usr/local/lib/node_modules"
  cp -a /usr/lib/node_modules/npm "$r/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
  # Every library node links must come from the Debian inside, not from this machine.
  if chroot "$r" /usr/bin/ldd /usr/local/bin/node 2>&1 | grep -q 'not found'; then
    chroot "$r" /usr/bin/ldd /usr/local/bin/node >&2 || true
    die "node needs libraries that minimal bookworm lacks"
  fi
  chroot "$r" /usr/local/bin/node --version >/dev/null || die "node does not run inside the new root"
  # The official image's user.
  chroot "$r" groupadd --gid 1000 node
  chroot "$r" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  tar --sort=name --mtime='2000-01-01 00:00Z' --numeric-owner -C "$r" -cf "$out/rootfs.tar" .
  printf '%s\n' "$want" >"$out/.stamp"
  say "rootfs ready: $out/rootfs.tar ($(du -m "$out/rootfs.tar" | cut -f1) MB)"
}

push() {
  local dir="$1" registry="$2" crane="${CRANE:-crane}" ref
  ref="$registry/$REF_PATH"
  [[ -f "$dir/rootfs.tar" ]] || die "no $dir/rootfs.tar: run build first"
  "$crane" append --insecure -f "$dir/rootfs.tar" -t "$ref" >/dev/null
  # The recipe's key as a label: a registry holding an older recipe's image is pushed again.
  "$crane" mutate --insecure "$ref" --set-platform linux/amd64 -t "$ref" \
    -l "dev.diploid.testbed.recipe=$(cat "$dir/.stamp")" \
    -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -e NODE_VERSION=20 \
    --entrypoint node >/dev/null
  say "pushed node:20-bookworm-slim (stand-in) as $ref"
}

case "${1:-}" in
  build) build "${2:?usage: node-bookworm.sh build DIR}" ;;
  push) push "${2:?usage: node-bookworm.sh push DIR REGISTRY}" "${3:?usage: node-bookworm.sh push DIR REGISTRY}" ;;
  key) key ;;
  *) die "usage: node-bookworm.sh build DIR | push DIR REGISTRY | key" ;;
esac
