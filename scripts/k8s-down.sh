#!/usr/bin/env bash
# Stops a cluster started by scripts/k8s-up.sh and removes what it left: the kubelet first (so
# nothing restarts pods), then the pods' containers on DOCKER_SOCK, the control plane, the
# kubelet's mounts under STATEDIR, and STATEDIR itself.
#
#   scripts/k8s-down.sh STATEDIR [DOCKER_SOCK]
set -uo pipefail
S=$1
SOCK=${2:-}
stop() {
  local f="$S/$1.pid" pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
stop kubelet
if [ -n "$SOCK" ] && [ -S "$SOCK" ]; then
  ids=$(DOCKER_HOST="unix://$SOCK" docker ps -aq --filter label=io.kubernetes.pod.name 2>/dev/null)
  # shellcheck disable=SC2086
  [ -n "$ids" ] && DOCKER_HOST="unix://$SOCK" docker rm -f $ids >/dev/null 2>&1
fi
for c in scheduler kcm apiserver etcd; do stop "$c"; done
grep -o " $S[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
rm -rf "$S"
exit 0
