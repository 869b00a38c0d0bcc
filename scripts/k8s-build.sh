#!/usr/bin/env bash
# Builds the Kubernetes v1.20.2 server binaries the Kubernetes executor's tests run a private
# cluster with, from Debian's `kubernetes` source package (no registry ships them), once per
# machine: they are cached outside the repository in $REDUN_K8S_BIN (default
# /var/cache/redun-k8s-1.20.2), under a lock so that concurrent callers build once.
# About 16 CPU-minutes. See ../shared/infra/kubernetes.md for the measured steps.
set -euo pipefail
BIN=${REDUN_K8S_BIN:-/var/cache/redun-k8s-1.20.2}
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet pause)
have_all() { for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done; }
have_all && exit 0
mkdir -p "$(dirname "$BIN")"
exec 9>"$BIN.lock"
flock 9
have_all && exit 0

export DEBIAN_FRONTEND=noninteractive
need=()
for p in golang-1.19-go etcd-server etcd-client rsync make gcc curl openssl; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi

W=$(mktemp -d /var/tmp/redun-k8s-build.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/parts" "$W/lists/partial"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$W/parts/src.sources"
else
  sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$W/parts/src.list"
fi
APTO=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$W/parts" -o "Dir::State::Lists=$W/lists")
apt-get "${APTO[@]}" update >/dev/null
(cd "$W" && apt-get "${APTO[@]}" source --download-only kubernetes >/dev/null)
tar xzf "$W"/kubernetes_*.orig.tar.gz -C "$W"
cd "$W/kubernetes-1.20.2"
printf "KUBE_GIT_COMMIT='faecb196815e248d3ecfb03c680a4507229c2a56'\nKUBE_GIT_TREE_STATE='clean'\nKUBE_GIT_VERSION='v1.20.2'\nKUBE_GIT_MAJOR='1'\nKUBE_GIT_MINOR='20'\n" > "$W/version.env"
PATH=/usr/lib/go-1.19/bin:$PATH GOFLAGS= GOPROXY=off GOCACHE="$W/gocache" KUBE_GIT_VERSION_FILE="$W/version.env" \
  KUBE_BUILD_PLATFORMS=linux/amd64 \
  nice -n 10 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet" >"$W/make.log" 2>&1 ||
  { tail -40 "$W/make.log" >&2; exit 1; }
gcc -Os -static -DVERSION=v3.2 -o "$W/pause" build/pause/linux/pause.c
strip "$W/pause" _output/bin/kube-apiserver _output/bin/kube-controller-manager _output/bin/kube-scheduler _output/bin/kubelet || true
tmp="$BIN.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
install -t "$tmp" _output/bin/kube-apiserver _output/bin/kube-controller-manager _output/bin/kube-scheduler _output/bin/kubelet "$W/pause"
rm -rf "$BIN" && mv "$tmp" "$BIN"
echo "built Kubernetes v1.20.2 server binaries in $BIN"
