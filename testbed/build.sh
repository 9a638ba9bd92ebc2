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
    containerd | containerd-shim-runc-v2 | ctr) echo "$1 $CONTAINERD_VERSION" ;;
    crane) echo "crane $CRANE_VERSION" ;;
    crictl) echo "crictl $CRICTL_VERSION" ;;
    traefik) echo "traefik $TRAEFIK_VERSION" ;;
    coredns) echo "coredns $COREDNS_VERSION" ;;
    pause) echo "pause 1" ;;
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
  for name in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy; do
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

build_containerd() {
  local wanted=() name
  for name in containerd containerd-shim-runc-v2 ctr; do is_fresh "$name" || wanted+=("$name"); done
  [[ ${#wanted[@]} -eq 0 ]] && { say "containerd $CONTAINERD_VERSION is cached"; return; }
  say "building ${wanted[*]} from containerd $CONTAINERD_VERSION (cold: about 3 minutes)"
  local dir="$src/containerd"
  mkdir -p "$dir"
  # No replace directives in containerd's go.mod, so `go install` works. Pure Go: the snapshotters
  # that need cgo are left out (the bed uses overlayfs).
  local pkgs=()
  for name in "${wanted[@]}"; do pkgs+=("github.com/containerd/containerd/v2/cmd/$name@$CONTAINERD_VERSION"); done
  (cd "$dir" && GOBIN="$dir/bin" run_with_progress "containerd" "$logs/containerd.log" "?" \
    env GOFLAGS=-buildvcs=false go install -v -tags "no_btrfs no_devmapper no_zfs" \
      -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" "${pkgs[@]}") \
    || die "building containerd failed (log: $logs/containerd.log)"
  for name in "${wanted[@]}"; do mv -f "$dir/bin/$name" "$bin/$name"; mark_fresh "$name"; done
}

build_crane() {
  is_fresh crane && { say "crane $CRANE_VERSION is cached"; return; }
  say "building crane $CRANE_VERSION"
  local dir="$src/crane"
  mkdir -p "$dir"
  (cd "$dir" && GOBIN="$dir/bin" run_with_progress "crane" "$logs/crane.log" "?" \
    env GOFLAGS=-buildvcs=false go install -v -ldflags "-s -w" "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION") \
    || die "building crane failed (log: $logs/crane.log)"
  mv -f "$dir/bin/crane" "$bin/crane"
  mark_fresh crane
}

build_crictl() {
  is_fresh crictl && { say "crictl $CRICTL_VERSION is cached"; return; }
  say "building crictl $CRICTL_VERSION"
  local dir="$src/crictl"
  mkdir -p "$dir"
  (cd "$dir" && GOBIN="$dir/bin" run_with_progress "crictl" "$logs/crictl.log" "?" \
    env GOFLAGS=-buildvcs=false go install -v -ldflags "-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION") \
    || die "building crictl failed (log: $logs/crictl.log)"
  mv -f "$dir/bin/crictl" "$bin/crictl"
  mark_fresh crictl
}

build_coredns() {
  is_fresh coredns && { say "coredns $COREDNS_VERSION is cached"; return; }
  say "building coredns $COREDNS_VERSION (the plugins the bed uses)"
  local dir="$src/coredns"
  mkdir -p "$dir"
  # CoreDNS's own main links every plugin (cloud DNS SDKs included); its documented way to pick
  # plugins is a main that imports coremain plus the wanted plugins, which register themselves.
  cat >"$dir/go.mod" <<GOMOD
module diploid.local/testbed-coredns

go 1.26

require github.com/coredns/coredns $COREDNS_VERSION
GOMOD
  cat >"$dir/main.go" <<'GO'
// Command coredns is CoreDNS with the plugins the test bed's cluster DNS needs.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The directive list decides plugin order; it lives in dnsserver whatever is linked in.
var _ = dnsserver.Directives

func main() { coremain.Run() }
GO
  (cd "$dir" && run_with_progress "coredns" "$logs/coredns.log" "$(count_packages .)" go build -v -ldflags "-s -w" -o "$bin/coredns.tmp" .) \
    || die "building coredns failed (log: $logs/coredns.log)"
  mv -f "$bin/coredns.tmp" "$bin/coredns"
  mark_fresh coredns
}

build_traefik() {
  is_fresh traefik && { say "traefik $TRAEFIK_VERSION is cached"; return; }
  say "building traefik $TRAEFIK_VERSION (cold: about 10 minutes)"
  local dir="$src/traefik"
  mkdir -p "$dir"
  # Traefik's go.mod replaces two modules with its own forks and excludes one version; `go install`
  # refuses both, so a wrapper module requires Traefik and repeats them, read from its go.mod.
  local gomod
  gomod="$(cd "$dir" && GOFLAGS= go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "$gomod" ]] || die "could not download github.com/traefik/traefik/v3@$TRAEFIK_VERSION"
  grep -q '=> \./' "$gomod" && die "traefik $TRAEFIK_VERSION replaces a module with a local path; pick another version"
  {
    printf 'module diploid.local/testbed-traefik\n\ngo 1.26\n\nrequire github.com/traefik/traefik/v3 %s\n\n' "$TRAEFIK_VERSION"
    sed -n '/^replace (/,/^)/p; /^replace [^(]/p; /^exclude /p' "$gomod"
  } >"$dir/go.mod"
  local version_pkg="github.com/traefik/traefik/v3/pkg/version"
  (cd "$dir" && run_with_progress "traefik" "$logs/traefik.log" "$(count_packages github.com/traefik/traefik/v3/cmd/traefik)" \
    go build -v -ldflags "-s -w -X $version_pkg.Version=$TRAEFIK_VERSION -X $version_pkg.Codename=testbed" -o "$bin/traefik.tmp" github.com/traefik/traefik/v3/cmd/traefik) \
    || die "building traefik failed (log: $logs/traefik.log)"
  mv -f "$bin/traefik.tmp" "$bin/traefik"
  # The CRDs it serves: Gateway API's (the version Traefik tests against) and its own Middleware & co.
  local moddir
  moddir="$(cd "$dir" && GOFLAGS= go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$cache/traefik-crds"; mkdir -p "$cache/traefik-crds"
  cp "$moddir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" "$cache/traefik-crds/traefik.yml"
  cp "$moddir"/integration/fixtures/k8s/00-experimental-*.yml "$cache/traefik-crds/gateway-api.yml"
  chmod u+w "$cache/traefik-crds"/*
  mark_fresh traefik
}

build_pause() {
  is_fresh pause && { say "pause is cached"; return; }
  say "building pause (the pod sandbox's process)"
  local dir="$src/pause"
  mkdir -p "$dir"
  # What registry.k8s.io/pause runs: sleep until told to stop, reaping orphans as PID 1 must.
  printf 'module diploid.local/testbed-pause\n\ngo 1.26\n' >"$dir/go.mod"
  cat >"$dir/main.go" <<'GO'
// Command pause holds a pod's namespaces open, as registry.k8s.io/pause does.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
GO
  (cd "$dir" && go build -ldflags "-s -w" -o "$bin/pause.tmp" .) || die "building pause failed"
  mv -f "$bin/pause.tmp" "$bin/pause"
  mark_fresh pause
}

build_images() {
  # Keyed by images.sh itself: changing the recipe remakes the layers.
  local stamp="$cache/images/.stamp" want="images $(sha256sum "$here/images.sh" | cut -c1-16)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then say "images are cached"; return; fi
  say "making the bed's image layers from Debian packages"
  rm -rf "$cache/images"; mkdir -p "$cache/images"
  PAUSE_BINARY="$bin/pause" bash "$here/images.sh" build "$cache/images" || die "making the images failed"
  echo "$want" >"$stamp"
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
  local step steps=("$@")
  # With arguments, build only those steps (kwok etcd pause crane crictl coredns containerd images kubernetes traefik).
  [[ ${#steps[@]} -eq 0 ]] && steps=(kwok etcd pause crane crictl coredns containerd images kubernetes traefik)
  for step in "${steps[@]}"; do "build_$step"; done
  say "all binaries ready in $bin ($((SECONDS - start))s)"
}

main "$@"; exit
