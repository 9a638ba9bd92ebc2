#!/usr/bin/env bash
# Builds the test bed's binaries from the Go module proxy, once, into a cache keyed by version:
#   ${DIPLOID_TESTBED_CACHE:-~/.cache/diploid-testbed}/<k8s version>/bin/
# Each binary has a stamp file recording what it was built from, so only missing or outdated
# binaries are rebuilt and a warm `build` returns at once. Prints progress while it works.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${DIPLOID_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/diploid-testbed}"
cache="$cache_root/$K8S_VERSION"
bin="$cache/bin"
src="$cache/src"
logs="$cache/logs"
mkdir -p "$bin" "$src" "$logs"

say() { printf '[testbed build] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# CI shells may lack the Go install folder on PATH.
[[ -x /usr/local/go/bin/go ]] && ! command -v go >/dev/null && PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "Go is not installed; the test bed's binaries are built from Go modules (need Go >= 1.26)."

export CGO_ENABLED=0
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

# stamp_key NAME: what a binary was built from. Its stamp file holds this key followed by the Go
# version used; only the key decides freshness, so a Go patch release doesn't force a rebuild.
stamp_key() {
  case "$1" in
    etcd) echo "etcd $ETCD_VERSION" ;;
    kwok) echo "kwok $KWOK_VERSION" ;;
    *) echo "$1 $K8S_VERSION $K8S_STAGING_VERSION" ;;
  esac
}
is_fresh() {
  [[ -x "$bin/$1" && -f "$bin/.$1.stamp" && "$(cat "$bin/.$1.stamp") " == "$(stamp_key "$1") "* ]]
}
mark_fresh() { echo "$(stamp_key "$1") $(go env GOVERSION)" >"$bin/.$1.stamp"; }

# run_with_progress LABEL LOG TOTAL CMD...: runs a `go build -v` command, printing every 30
# seconds how many of about TOTAL packages are compiled (a cold Kubernetes build takes minutes).
run_with_progress() {
  local label="$1" log="$2" total="$3"; shift 3
  local start=$SECONDS
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null || break
    local compiled downloads
    compiled="$(grep -cv '^go: ' "$log" || true)"
    downloads="$(grep -c '^go: downloading' "$log" || true)"
    say "$label: $compiled of at most $total packages compiled ($downloads modules downloaded), $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s elapsed"
  done
  if ! wait "$pid"; then
    say "$label FAILED after $((SECONDS - start))s; last lines of $log:"
    tail -n 40 "$log" >&2
    return 1
  fi
  say "$label: done in $((SECONDS - start))s"
}

# count_packages PKG...: how many packages a build compiles at most (for progress; '?' if unknown).
count_packages() {
  local n
  n="$(go list -deps "$@" 2>/dev/null | grep -c . || true)"
  if [[ "${n:-0}" -gt 0 ]]; then echo "$n"; else echo '?'; fi
}

build_kubernetes() {
  local wanted=() name
  for name in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    is_fresh "$name" || wanted+=("$name")
  done
  [[ ${#wanted[@]} -eq 0 ]] && { say "kubernetes $K8S_VERSION binaries are cached"; return; }

  say "building ${wanted[*]} from k8s.io/kubernetes $K8S_VERSION (cold: 10-25 minutes on 2 cores)"
  local dir="$src/kubernetes"
  mkdir -p "$dir"
  # k8s.io/kubernetes replaces its staging modules with local paths, which `go install` refuses.
  # A wrapper module requires it and points each staging module at its published version. The
  # list comes from that version's own go.mod, since it changes between releases.
  say "fetching k8s.io/kubernetes@$K8S_VERSION go.mod"
  local gomod
  gomod="$(cd "$dir" && GOFLAGS= go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$gomod" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"
  local staging
  staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$gomod")"
  [[ -n "$staging" ]] || die "found no staging modules in $gomod"
  {
    echo "module diploid.local/testbed-kubernetes"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    local m
    for m in $staging; do echo "	$m => $m $K8S_STAGING_VERSION"; done
    echo ")"
  } >"$dir/go.mod"
  # Keep whatever go.sum a previous run resolved; -mod=mod adds the rest.

  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local pkg="k8s.io/component-base/version"
  local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  local targets=()
  for name in "${wanted[@]}"; do targets+=("k8s.io/kubernetes/cmd/$name"); done
  local out="$dir/out"
  rm -rf "$out"; mkdir -p "$out"
  say "resolving modules (downloads a few hundred MB the first time)"
  local total
  total="$(cd "$dir" && count_packages -tags selinux,notest "${targets[@]}")"
  (cd "$dir" && run_with_progress "kubernetes" "$logs/kubernetes.log" "$total" \
    go build -v -tags selinux,notest -ldflags "$ldflags" -o "$out/" "${targets[@]}") \
    || die "building Kubernetes failed (log: $logs/kubernetes.log)"
  for name in "${wanted[@]}"; do
    mv -f "$out/$name" "$bin/$name"
    mark_fresh "$name"
  done
}

build_etcd() {
  is_fresh etcd && { say "etcd $ETCD_VERSION is cached"; return; }
  say "building etcd $ETCD_VERSION"
  local dir="$src/etcd"
  mkdir -p "$dir"
  # go.etcd.io/etcd/server/v3 replaces its sibling modules locally too; a wrapper main avoids that.
  cat >"$dir/go.mod" <<GOMOD
module diploid.local/testbed-etcd

go 1.26

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  cat >"$dir/main.go" <<'GO'
// Command etcd is etcd's own server, wrapped so it builds from the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$dir" && run_with_progress "etcd" "$logs/etcd.log" "$(count_packages .)" go build -v -ldflags "-s -w" -o "$bin/etcd.tmp" .) \
    || die "building etcd failed (log: $logs/etcd.log)"
  mv -f "$bin/etcd.tmp" "$bin/etcd"
  mark_fresh etcd
}

build_kwok() {
  if is_fresh kwok && [[ -d "$cache/kwok-stages" ]]; then say "kwok $KWOK_VERSION is cached"; return; fi
  say "building kwok $KWOK_VERSION"
  local dir="$src/kwok"
  mkdir -p "$dir"
  (cd "$dir" && GOBIN="$dir/bin" run_with_progress "kwok" "$logs/kwok.log" "?" \
    env GOFLAGS=-buildvcs=false go install -v -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION") \
    || die "building kwok failed (log: $logs/kwok.log)"
  mv -f "$dir/bin/kwok" "$bin/kwok"
  # kwok needs stage files to move nodes and pods along; the module ships them.
  local moddir
  moddir="$(cd "$dir" && GOFLAGS= go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$moddir/kustomize/stage" ]] || die "kwok module has no kustomize/stage folder at $moddir"
  rm -rf "$cache/kwok-stages"; mkdir -p "$cache/kwok-stages"
  local f
  for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [[ -f "$moddir/kustomize/stage/$f" ]] || die "kwok stage file $f is missing from the module"
    cp "$moddir/kustomize/stage/$f" "$cache/kwok-stages/"
  done
  chmod u+w "$cache/kwok-stages"/*
  mark_fresh kwok
}

# Everything runs from one function, so bash has parsed the whole file before it starts (editing
# the script during a long build can't derail the running one).
main() {
  # One build at a time per cache (a test run's setup and a shell may both ask for one).
  exec 9>"$cache/.build.lock"
  if ! flock -n 9; then
    say "another build is running in $cache; waiting for it"
    flock 9
  fi

  start=$SECONDS
  say "cache: $cache ($(go env GOVERSION))"
  # Smallest first, so a failure in a quick build shows before the long one.
  build_kwok
  build_etcd
  build_kubernetes
  say "all binaries ready in $bin ($((SECONDS - start))s)"
}

main "$@"; exit
