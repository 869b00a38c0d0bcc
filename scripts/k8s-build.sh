#!/usr/bin/env bash
# Builds the Kubernetes v1.20.2 server binaries the Kubernetes executor's tests run a private
# cluster with, from Debian's `kubernetes` source package (no registry ships them), once per
# machine: they are cached outside the repository in $REDUN_K8S_BIN (default
# /var/cache/redun-k8s-1.20.2), under a lock so that concurrent callers build once.
# About 16 CPU-minutes. See ../shared/infra/kubernetes.md for the measured steps.
#
# v1.20 vendors github.com/modern-go/reflect2 v1.0.1, which breaks under Go ≥ 1.18: the API
# server panics encoding or decoding JSON of objects with maps of named keys (a Node's
# capacity, a Pod's resources), which is what every JSON client (`@kubernetes/client-node`)
# gets. The build replaces it with Debian's reflect2 1.0.2 (API-compatible, the upstream fix).
# Each binary carries the recipe it was built with (`.recipe-NAME`): a binary of an older
# recipe is built again.
set -euo pipefail
BIN=${REDUN_K8S_BIN:-/var/cache/redun-k8s-1.20.2}
RECIPE=2
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet pause)
todo() {
  for b in "${BINARIES[@]}"; do
    if [ ! -x "$BIN/$b" ] || [ "$(cat "$BIN/.recipe-$b" 2>/dev/null)" != "$RECIPE" ]; then echo "$b"; fi
  done
}
[ -z "$(todo)" ] && exit 0
mkdir -p "$BIN"
exec 9>"$BIN.lock"
flock 9
mapfile -t NEED < <(todo)
[ ${#NEED[@]} -eq 0 ] && exit 0

export DEBIAN_FRONTEND=noninteractive
need=()
for p in golang-1.19-go golang-github-modern-go-reflect2-dev etcd-server etcd-client rsync make gcc curl openssl; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" >/dev/null ||
    { apt-get -o DPkg::Lock::Timeout=600 update >/dev/null && apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" >/dev/null; }
fi
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -f "$REFLECT2/reflect2.go" ] || { echo "k8s-build: $REFLECT2 is missing" >&2; exit 1; }

W=$(mktemp -d /var/tmp/redun-k8s-build.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/parts" "$W/lists/partial"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$W/parts/src.sources"
else
  sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$W/parts/src.list"
fi
APTO=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$W/parts" -o "Dir::State::Lists=$W/lists")
apt-get "${APTO[@]}" update >/dev/null 2>&1
(cd "$W" && apt-get "${APTO[@]}" source --download-only kubernetes >/dev/null 2>&1)
tar xzf "$W"/kubernetes_*.orig.tar.gz -C "$W"
cd "$W/kubernetes-1.20.2"
# reflect2 1.0.2 (see above): its Go files replace the vendored 1.0.1.
rm -f vendor/github.com/modern-go/reflect2/*.go vendor/github.com/modern-go/reflect2/*.s
cp "$REFLECT2"/*.go vendor/github.com/modern-go/reflect2/
cp "$REFLECT2"/*.s vendor/github.com/modern-go/reflect2/ 2>/dev/null || true
rm -f vendor/github.com/modern-go/reflect2/*_test.go
sed -i 's|^# github.com/modern-go/reflect2 v1.0.1$|# github.com/modern-go/reflect2 v1.0.2|' vendor/modules.txt
printf "KUBE_GIT_COMMIT='faecb196815e248d3ecfb03c680a4507229c2a56'\nKUBE_GIT_TREE_STATE='clean'\nKUBE_GIT_VERSION='v1.20.2'\nKUBE_GIT_MAJOR='1'\nKUBE_GIT_MINOR='20'\n" > "$W/version.env"
what=()
for b in "${NEED[@]}"; do [ "$b" != pause ] && what+=("cmd/$b"); done
if [ ${#what[@]} -gt 0 ]; then
  PATH=/usr/lib/go-1.19/bin:$PATH GOFLAGS= GOPROXY=off GOCACHE="$W/gocache" KUBE_GIT_VERSION_FILE="$W/version.env" \
    KUBE_BUILD_PLATFORMS=linux/amd64 \
    nice -n 10 make WHAT="${what[*]}" >"$W/make.log" 2>&1 ||
    { tail -40 "$W/make.log" >&2; exit 1; }
fi
for b in "${NEED[@]}"; do
  if [ "$b" = pause ]; then
    gcc -Os -static -DVERSION=v3.2 -o "$W/pause" build/pause/linux/pause.c
    src="$W/pause"
  else
    src="_output/bin/$b"
  fi
  strip "$src" || true
  install "$src" "$BIN/$b.tmp.$$" && mv "$BIN/$b.tmp.$$" "$BIN/$b"
  echo "$RECIPE" > "$BIN/.recipe-$b"
done
echo "built ${NEED[*]} (Kubernetes v1.20.2, recipe $RECIPE) in $BIN"
