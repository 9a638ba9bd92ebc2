#!/usr/bin/env bash
# Builds diploid's own image from the project's Dockerfile with BuildKit on this machine and
# pushes it to the bed's registry. Called by controller-image.ts, under a lock, only when the
# registry lacks the tag. BuildKit is the bed's (buildkitd and buildctl built by build.sh from
# BuildKit's Go modules) with its OCI worker on Debian's runc, as root on the host; RUN steps use
# the host's network, so `apt-get install` reaches Debian's mirror and `npm ci` the npm registry.
# The base image `node:20-bookworm-slim` is the look-alike of node-bookworm.sh, resolved through
# a `docker.io` mirror to the bed's registry.
#
#   controller-image.sh CONTEXT REF REGISTRY
# Environment: BIN_DIR (buildkitd, buildctl, crane), NODE_BOOKWORM_DIR (its cached rootfs),
# BUILDKIT_ROOT (buildkitd's state, kept between builds as a layer cache).
set -euo pipefail

say() { printf '[controller-image] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

context="${1:?usage: controller-image.sh CONTEXT REF REGISTRY}"
ref="${2:?usage: controller-image.sh CONTEXT REF REGISTRY}"
registry="${3:?usage: controller-image.sh CONTEXT REF REGISTRY}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${BIN_DIR:?BIN_DIR names the bed binaries}"
crane="$bin/crane"

# Another process may have pushed it while we waited for the lock.
if "$crane" manifest --insecure "$ref" >/dev/null 2>&1; then say "$ref is in the registry"; exit 0; fi

# The base image: made once per recipe (cached), pushed when the registry's copy is another recipe's.
base="$registry/library/node:20-bookworm-slim"
bash "$here/node-bookworm.sh" build "${NODE_BOOKWORM_DIR:?NODE_BOOKWORM_DIR names the base image cache}"
want="$(cat "$NODE_BOOKWORM_DIR/.stamp")"
have="$("$crane" config --insecure "$base" 2>/dev/null | sed -n 's/.*"dev.diploid.testbed.recipe":"\([^"]*\)".*/\1/p' || true)"
if [[ "$have" != "$want" ]]; then CRANE="$crane" bash "$here/node-bookworm.sh" push "$NODE_BOOKWORM_DIR" "$registry"; fi

state="$(mktemp -d)"
root="${BUILDKIT_ROOT:?BUILDKIT_ROOT names the buildkitd state folder}"
mkdir -p "$root"
cat >"$state/buildkitd.toml" <<TOML
[worker.oci]
  enabled = true
  binary = "/usr/sbin/runc"
  snapshotter = "overlayfs"
[worker.containerd]
  enabled = false
[registry."docker.io"]
  mirrors = ["$registry"]
[registry."$registry"]
  http = true
TOML
sock="unix://$state/buildkitd.sock"
"$bin/buildkitd" --config "$state/buildkitd.toml" --root "$root" --addr "$sock" >"$state/buildkitd.log" 2>&1 &
daemon=$!
cleanup() {
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  rm -rf "$state"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  "$bin/buildctl" --addr "$sock" debug workers >/dev/null 2>&1 && break
  kill -0 "$daemon" 2>/dev/null || { cat "$state/buildkitd.log" >&2; die "buildkitd stopped"; }
  sleep 0.2
done
"$bin/buildctl" --addr "$sock" debug workers >/dev/null || { cat "$state/buildkitd.log" >&2; die "buildkitd did not answer"; }

# This machine's egress re-signs TLS with its own CA (NODE_EXTRA_CA_CERTS names the bundle that
# holds it): npm inside the build trusts it through the Dockerfile's optional `extra_ca` secret.
secret=()
if [[ -n "${NODE_EXTRA_CA_CERTS:-}" && -s "$NODE_EXTRA_CA_CERTS" ]]; then secret=(--secret "id=extra_ca,src=$NODE_EXTRA_CA_CERTS"); fi
say "building $ref from $context"
"$bin/buildctl" --addr "$sock" build \
  "${secret[@]}" \
  --frontend dockerfile.v0 \
  --local context="$context" \
  --local dockerfile="$context" \
  --output "type=image,name=$ref,push=true,registry.insecure=true" \
  --progress plain
say "pushed $ref"
