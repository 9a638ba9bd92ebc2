#!/usr/bin/env bash
# The images the bed's real node runs. No public registry is reachable here, so each is made on
# this machine from Debian packages (busybox, netcat-openbsd, nginx, redis, libc6 and the libraries their
# binaries link, Node.js from the installed `nodejs` package) and pushed to the bed's registry
# under the public name it stands in for. containerd's registry mirrors then resolve those
# public names (docker.io/..., registry.k8s.io/...) to these look-alikes. Each is a STAND-IN:
# same name, same user, same entrypoint and file layout as the original where tests rely on
# them, not the original's bytes.
#
#   images.sh build DIR            make the layers (tarballs) into DIR
#   images.sh push DIR REGISTRY    push every image to REGISTRY (host:port) with crane
#   images.sh list                 print "public name <tab> repository:tag in the bed's registry"
set -euo pipefail

say() { printf '[testbed images] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# public name | path in the bed's registry | layers | user | workdir | entrypoint (JSON-ish, comma
# separated) | cmd | env (space separated K=V)
images() {
  cat <<'LIST'
docker.io/library/busybox:1.36|library/busybox:1.36|glibc,busybox|0||||PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
docker.io/library/debian:bookworm-slim|library/debian:bookworm-slim|glibc,busybox,debian|0|||sh|PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
registry.k8s.io/pause:3.10.1|pause:3.10.1|pause|65535||/pause||
docker.io/library/node:20-alpine|library/node:20-alpine|glibc,busybox,node|0|||node|PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_VERSION=20
docker.io/nginxinc/nginx-unprivileged:1.27-alpine|nginxinc/nginx-unprivileged:1.27-alpine|glibc,busybox,nginx|101|||nginx,-g,daemon off;|PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
docker.io/library/redis:7.2-alpine|library/redis:7.2-alpine|glibc,busybox,redis|0|/data|docker-entrypoint.sh|redis-server|PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
docker.io/moby/buildkit:v0.34.2|moby/buildkit:v0.34.2|glibc,busybox,buildkit|0||buildkitd||PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
docker.io/fluent/fluent-bit:3.1|fluent/fluent-bit:3.1|glibc,busybox,fluent-bit|0||/fluent-bit/bin/fluent-bit|-c,/fluent-bit/etc/fluent-bit.conf|PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LIST
}

# pack ROOT TAR: a layer tarball owned by root, with stable order and times.
pack() {
  tar --sort=name --mtime='2000-01-01 00:00Z' --owner=0 --group=0 --numeric-owner -C "$1" -cf "$2" .
}

# copy_libs ROOT BINARY...: the shared libraries each binary links, taken from the extracted
# packages under ROOT or else from the host's Debian libraries, into ROOT.
copy_libs() {
  local root="$1"; shift
  local lib
  for lib in $(LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" ldd "$@" | awk '/=> \// { print $3 } /^\t\/lib64/ { print $1 }' | sort -u); do
    [[ "$lib" == "$root"* ]] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  if LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu" ldd "$@" | grep -q 'not found'; then
    die "libraries still missing for $*"
  fi
}

# extract DEBS_DIR ROOT PACKAGE...: downloads Debian packages and unpacks them into ROOT.
extract() {
  local debs="$1" root="$2"; shift 2
  mkdir -p "$debs" "$root"
  chmod 777 "$debs" # apt's download sandbox user must write here
  # A fresh machine may have no package lists yet: fetch them once and retry.
  (cd "$debs" && apt-get download -q "$@" >/dev/null 2>&1) \
    || { apt-get update -qq >/dev/null 2>&1 && (cd "$debs" && apt-get download -q "$@" >/dev/null 2>&1); } \
    || die "apt-get download $* failed"
  local p f
  for p in "$@"; do
    f="$(ls "$debs"/"${p}"_*.deb | head -n1)"
    dpkg-deb -x "$f" "$root"
  done
}

build() {
  local out="$1" work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  local debs="$work/debs" r

  # glibc: the dynamic loader and C library the Debian binaries below link.
  r="$work/glibc"
  extract "$debs" "$r" libc6
  rm -rf "$r/usr/share/doc" "$r/usr/share/lintian"
  pack "$r" "$out/glibc.tar"

  # busybox: Debian's busybox and a link per applet, plus the users the look-alikes run as. Its
  # nc lacks -z, which diploid's `after` step uses (the official image's has it): nc is
  # Debian's netcat-openbsd. (busybox-static's wget crashes here; the dynamic build's works.)
  r="$work/busybox"
  extract "$debs" "$work/bb-deb" busybox netcat-openbsd
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/home" "$r/var/run" "$r/usr/bin" "$r/usr/sbin" "$r/usr/local/bin"
  chmod 1777 "$r/tmp"
  cp "$work/bb-deb/bin/busybox" "$r/bin/busybox"
  local applet
  for applet in $("$r/bin/busybox" --list); do
    [[ "$applet" == busybox ]] || ln -sf busybox "$r/bin/$applet"
  done
  rm -f "$r/bin/nc"
  cp "$work/bb-deb/bin/nc.openbsd" "$r/bin/nc"
  copy_libs "$r" "$r/bin/busybox" "$r/bin/nc"
  (cd "$work/glibc" && find . ! -type d) | while read -r f; do rm -f "$r/$f"; done
  cat >"$r/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nginx:x:101:101:nginx:/nonexistent:/bin/false
redis:x:999:1000::/data:/bin/false
node:x:1000:1000::/home/node:/bin/sh
pause:x:65535:65535::/:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  printf 'root:x:0:\nnginx:x:101:\nnode:x:1000:\nnogroup:x:65534:\npause:x:65535:\n' >"$r/etc/group"
  printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
  pack "$r" "$out/busybox.tar"

  # debian: a minimal Debian-ish base on top of busybox and glibc.
  r="$work/debian"
  mkdir -p "$r/etc"
  echo 12.0 >"$r/etc/debian_version"
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm) (diploid test bed stand-in)"\nID=debian\nVERSION_ID="12"\n' >"$r/etc/os-release"
  pack "$r" "$out/debian.tar"

  # pause: the sandbox process (built by build.sh from a few lines of Go, static).
  r="$work/pause"
  mkdir -p "$r"
  cp "${PAUSE_BINARY:?PAUSE_BINARY names the built pause binary}" "$r/pause"
  pack "$r" "$out/pause.tar"

  # node: the installed nodejs package's node and npm.
  r="$work/node"
  local node_bin
  node_bin="$(command -v node)" || die "node is not installed"
  mkdir -p "$r/usr/local/bin" "$r/usr/local/lib" "$r/home/node"
  cp -L "$node_bin" "$r/usr/local/bin/node"
  if [[ -d /usr/lib/node_modules/npm ]]; then
    cp -a /usr/lib/node_modules "$r/usr/local/lib/node_modules"
    rm -rf "$r/usr/local/lib/node_modules/corepack"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
  fi
  # npm's `#!/usr/bin/env node` needs env where Alpine has it (busybox links only /bin here):
  # without it, `RUN npm ci` in a build on this image fails with "npm: not found".
  mkdir -p "$r/usr/bin"
  ln -s /bin/busybox "$r/usr/bin/env"
  copy_libs "$r" "$r/usr/local/bin/node"
  # Libraries glibc's layer already has stay out of this one.
  (cd "$work/glibc" && find . ! -type d) | while read -r f; do rm -f "$r/$f"; done
  pack "$r" "$out/node.tar"

  # nginx, unprivileged like nginxinc/nginx-unprivileged: uid 101, port 8080, every writable
  # path under /tmp, sites from /etc/nginx/conf.d.
  r="$work/nginx"
  extract "$debs" "$work/nginx-deb" nginx nginx-common
  mkdir -p "$r/usr/sbin" "$r/etc/nginx/conf.d" "$r/usr/share/nginx/html" "$r/var/log/nginx" "$r/var/lib/nginx"
  cp "$work/nginx-deb/usr/sbin/nginx" "$r/usr/sbin/nginx"
  cp "$work/nginx-deb/etc/nginx/mime.types" "$r/etc/nginx/mime.types"
  ln -sf /dev/stderr "$r/var/log/nginx/error.log"
  ln -sf /dev/stdout "$r/var/log/nginx/access.log"
  cat >"$r/etc/nginx/nginx.conf" <<'CONF'
worker_processes auto;
error_log /dev/stderr notice;
pid /tmp/nginx.pid;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /dev/stdout;
  client_body_temp_path /tmp/client_temp;
  proxy_temp_path /tmp/proxy_temp;
  fastcgi_temp_path /tmp/fastcgi_temp;
  uwsgi_temp_path /tmp/uwsgi_temp;
  scgi_temp_path /tmp/scgi_temp;
  sendfile on;
  include /etc/nginx/conf.d/*.conf;
}
CONF
  cat >"$r/etc/nginx/conf.d/default.conf" <<'CONF'
server {
  listen 8080;
  location / { root /usr/share/nginx/html; index index.html; }
}
CONF
  echo '<!doctype html><title>nginx stand-in</title><p>nginx (diploid test bed stand-in)' >"$r/usr/share/nginx/html/index.html"
  copy_libs "$r" "$r/usr/sbin/nginx"
  (cd "$work/glibc" && find . ! -type d) | while read -r f; do rm -f "$r/$f"; done
  pack "$r" "$out/nginx.tar"

  # redis: Debian's redis-server, with the official image's entrypoint rule (arguments starting
  # with '-' are redis-server's) and /data as its working folder.
  r="$work/redis"
  extract "$debs" "$work/redis-deb" redis-tools liblzf1 libjemalloc2
  mkdir -p "$r/usr/local/bin" "$r/data"
  cp "$work/redis-deb/usr/bin/redis-check-rdb" "$r/usr/local/bin/redis-check-rdb"
  cp "$work/redis-deb/usr/bin/redis-cli" "$r/usr/local/bin/redis-cli"
  # redis-server and redis-check-rdb are one binary that picks its role by its name.
  ln -s redis-check-rdb "$r/usr/local/bin/redis-server"
  mkdir -p "$r/usr/lib/x86_64-linux-gnu"
  cp -a "$work/redis-deb/usr/lib/x86_64-linux-gnu/." "$r/usr/lib/x86_64-linux-gnu/"
  copy_libs "$r" "$r/usr/local/bin/redis-check-rdb" "$r/usr/local/bin/redis-cli"
  (cd "$work/glibc" && find . ! -type d) | while read -r f; do rm -f "$r/$f"; done
  cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
# As the official image's entrypoint: options alone mean redis-server's options.
if [ "${1#-}" != "$1" ] || [ -z "$1" ]; then set -- redis-server "$@"; fi
# The official image builds redis with protected mode off (other pods must reach it); Debian's
# is on, so say it here, after a config file (which must come first) and before the user's options.
if [ "$1" = redis-server ]; then
  shift
  if [ -n "${1:-}" ] && [ "${1#-}" = "$1" ]; then conf="$1"; shift; set -- redis-server "$conf" --protected-mode no "$@"
  else set -- redis-server --protected-mode no "$@"; fi
fi
exec "$@"
SH
  chmod 755 "$r/usr/local/bin/docker-entrypoint.sh"
  chown 999:1000 "$r/data"
  tar --sort=name --mtime='2000-01-01 00:00Z' --numeric-owner -C "$r" -cf "$out/redis.tar" .

  # fluent-bit: a log agent look-alike in shell; it reads its config file (failing like the real
  # one when it is missing) and writes cpu records to stdout as its cpu input + stdout output do.
  r="$work/fluent-bit"
  mkdir -p "$r/fluent-bit/bin" "$r/fluent-bit/etc"
  cat >"$r/fluent-bit/bin/fluent-bit" <<'SH'
#!/bin/sh
# fluent-bit stand-in (diploid test bed): reads -c FILE, then emits a cpu record per second.
conf=/fluent-bit/etc/fluent-bit.conf
while [ $# -gt 0 ]; do case "$1" in -c) conf="$2"; shift 2 ;; *) shift ;; esac; done
[ -r "$conf" ] || { echo "[error] [config] could not open configuration file $conf" >&2; exit 1; }
echo "Fluent Bit v3.1 (diploid test bed stand-in), configuration $conf"
grep -i 'log_level' "$conf" | head -n1
trap 'echo "[engine] caught signal, exiting"; exit 0' TERM INT
i=0
while :; do
  set -- $(head -n1 /proc/stat)
  echo "[$i] cpu.local: [$(date +%s), {\"cpu_user\"=>$2, \"cpu_system\"=>$4}]"
  i=$((i + 1))
  sleep 1 & wait $!
done
SH
  chmod 755 "$r/fluent-bit/bin/fluent-bit"
  printf '[SERVICE]\n    log_level info\n[INPUT]\n    name cpu\n[OUTPUT]\n    name stdout\n    match *\n' >"$r/fluent-bit/etc/fluent-bit.conf"
  pack "$r" "$out/fluent-bit.tar"

  # buildkit: as moby/buildkit's image: buildkitd (OCI worker) and buildctl built by build.sh from
  # BuildKit's Go modules, Debian's runc, git for git contexts, and BuildKit's own
  # buildctl-daemonless.sh (from its module), which starts a buildkitd for one build.
  r="$work/buildkit"
  mkdir -p "$r/usr/bin" "$r/usr/lib/git-core" "$r/etc/buildkit" "$r/var/lib/buildkit" "$r/run/buildkit"
  cp "${BUILDKIT_BIN_DIR:?BUILDKIT_BIN_DIR names the folder of buildkitd and buildctl}/buildkitd" "$r/usr/bin/buildkitd"
  cp "$BUILDKIT_BIN_DIR/buildctl" "$r/usr/bin/buildctl"
  cp /usr/sbin/runc "$r/usr/bin/runc" || die "runc is not installed (apt-get install runc)"
  cp /usr/bin/git "$r/usr/bin/git" || die "git is not installed"
  # All of git-core: BuildKit's git source runs `git submodule`, a shell script there.
  cp -a /usr/lib/git-core/. "$r/usr/lib/git-core/"
  [[ -d /usr/share/git-core/templates ]] && { mkdir -p "$r/usr/share/git-core"; cp -a /usr/share/git-core/templates "$r/usr/share/git-core/"; }
  # git's TLS roots: the host's CA bundle, when there is one.
  if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then mkdir -p "$r/etc/ssl/certs"; cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"; fi
  copy_libs "$r" "$r/usr/bin/runc" "$r/usr/bin/git" $(find "$r/usr/lib/git-core" -type f -perm -u+x -exec sh -c 'head -c4 "$1" | grep -q ELF' sh {} \; -print)
  (cd "$work/glibc" && find . ! -type d) | while read -r f; do rm -f "$r/$f"; done
  cp "$BUILDKIT_BIN_DIR/buildctl-daemonless.sh" "$r/usr/bin/buildctl-daemonless.sh"
  chmod 755 "$r/usr/bin/buildctl-daemonless.sh"
  pack "$r" "$out/buildkit.tar"
  say "layers ready in $out: $(cd "$out" && ls ./*.tar | tr '\n' ' ')"
}

# quietly CMD...: runs CMD, showing its output only if it fails.
quietly() {
  local output
  output="$("$@" 2>&1)" || { printf '%s\n' "$output" >&2; die "failed: $*"; }
}

# push DIR REGISTRY: every image, as layers appended to an empty base plus its config.
push() {
  local dir="$1" registry="$2" crane="${CRANE:-crane}"
  local public path layers user workdir entrypoint cmd env
  while IFS='|' read -r public path layers user workdir entrypoint cmd env; do
    local ref="$registry/$path" args=() layer
    for layer in ${layers//,/ }; do args+=(-f "$dir/$layer.tar"); done
    quietly "$crane" append --insecure "${args[@]}" -t "$ref"
    local mutate=(--set-platform linux/amd64 -u "$user" -t "$ref")
    [[ -n "$workdir" ]] && mutate+=(-w "$workdir")
    [[ -n "$entrypoint" ]] && mutate+=(--entrypoint "$entrypoint")
    [[ -n "$cmd" ]] && mutate+=(--cmd "$cmd")
    local kv
    for kv in $env; do mutate+=(-e "$kv"); done
    quietly "$crane" mutate --insecure "$ref" "${mutate[@]}"
    say "pushed $public as $ref"
  done < <(images)
}

case "${1:-}" in
  build) build "${2:?usage: images.sh build DIR}" ;;
  push) push "${2:?usage: images.sh push DIR REGISTRY}" "${3:?usage: images.sh push DIR REGISTRY}" ;;
  list) images | awk -F'|' '{ print $1 "\t" $2 }' ;;
  *) die "usage: images.sh build DIR | push DIR REGISTRY | list" ;;
esac
