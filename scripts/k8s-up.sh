#!/usr/bin/env bash
# Starts a private single-node Kubernetes v1.20 cluster for the Kubernetes executor's tests:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a kubelet running pods on
# the Docker daemon at DOCKER_SOCK (which must use scripts/runc-clamp as its default runtime,
# and hold the image k8s.gcr.io/pause:3.2). Everything listens on free 127.0.0.1 ports.
#
#   scripts/k8s-up.sh BINDIR STATEDIR DOCKER_SOCK
#
# Writes STATEDIR/kubeconfig (admin token, the apiserver's self-signed CA), STATEDIR/*.pid and
# STATEDIR/*.log, and returns when the node is Ready and the `default` service account exists.
# scripts/k8s-down.sh STATEDIR DOCKER_SOCK stops it all. See ../shared/infra/kubernetes.md.
set -euo pipefail
B=$1
S=$2
SOCK=$3
mkdir -p "$S/pki" "$S/kubelet"
free_port() { python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])" 2>/dev/null ||
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
EP=$(free_port)
EPP=$(free_port)
AP=$(free_port)
KP=$(free_port)
HP=$(free_port)
fail() {
  echo "k8s-up: $1" >&2
  for f in "$S"/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }
  done
  exit 1
}
[ -f "$S/pki/sa.key" ] || {
  openssl genrsa -out "$S/pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$S/pki/sa.key" -pubout -out "$S/pki/sa.pub" 2>/dev/null
}
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$TOKEN,admin,admin,system:masters" >"$S/pki/tokens.csv"
AUTH=(-H "Authorization: Bearer $TOKEN")

etcd --name k --data-dir "$S/etcd" --listen-client-urls "http://127.0.0.1:$EP" \
  --advertise-client-urls "http://127.0.0.1:$EP" --listen-peer-urls "http://127.0.0.1:$EPP" \
  --initial-advertise-peer-urls "http://127.0.0.1:$EPP" --initial-cluster "k=http://127.0.0.1:$EPP" \
  --listen-metrics-urls "http://127.0.0.1:$(free_port)" \
  >"$S/etcd.log" 2>&1 &
echo $! >"$S/etcd.pid"

"$B/kube-apiserver" --etcd-servers "http://127.0.0.1:$EP" --bind-address 127.0.0.1 \
  --advertise-address 127.0.0.1 --secure-port "$AP" --insecure-port 0 --cert-dir "$S/pki" \
  --token-auth-file "$S/pki/tokens.csv" --authorization-mode RBAC --allow-privileged \
  --service-account-key-file "$S/pki/sa.pub" --service-account-signing-key-file "$S/pki/sa.key" \
  --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.96.0.0/24 \
  --kubelet-preferred-address-types Hostname >"$S/apiserver.log" 2>&1 &
echo $! >"$S/apiserver.pid"
API="https://127.0.0.1:$AP"
ok=""
for _ in $(seq 1 1200); do
  if curl -sk "${AUTH[@]}" "$API/readyz" 2>/dev/null | grep -q '^ok'; then ok=1 && break; fi
  kill -0 "$(cat "$S/apiserver.pid")" 2>/dev/null || fail "kube-apiserver exited"
  sleep 0.1
done
[ -n "$ok" ] || fail "kube-apiserver not ready after 120 s"

cat >"$S/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$API", certificate-authority: "$S/pki/apiserver.crt"}}]
users: [{name: admin, user: {token: "$TOKEN"}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
KC

"$B/kube-controller-manager" --kubeconfig "$S/kubeconfig" --leader-elect=false --bind-address 127.0.0.1 \
  --secure-port 0 --port 0 --service-account-private-key-file "$S/pki/sa.key" \
  --root-ca-file "$S/pki/apiserver.crt" --controllers '*' \
  >"$S/kcm.log" 2>&1 &
echo $! >"$S/kcm.pid"
"$B/kube-scheduler" --kubeconfig "$S/kubeconfig" --leader-elect=false --bind-address 127.0.0.1 \
  --secure-port 0 --port 0 >"$S/scheduler.log" 2>&1 &
echo $! >"$S/scheduler.pid"
"$B/kubelet" --kubeconfig "$S/kubeconfig" --container-runtime docker --docker-endpoint "unix://$SOCK" \
  --pod-infra-container-image k8s.gcr.io/pause:3.2 --cgroup-driver cgroupfs --fail-swap-on=false \
  --root-dir "$S/kubelet" --cert-dir "$S/kubelet/pki" --address 127.0.0.1 --port "$KP" \
  --read-only-port 0 --healthz-bind-address 127.0.0.1 --healthz-port "$HP" \
  --hostname-override localhost --cgroups-per-qos=false --enforce-node-allocatable= \
  --eviction-hard= --image-gc-high-threshold 100 --image-gc-low-threshold 99 \
  --serialize-image-pulls=false >"$S/kubelet.log" 2>&1 &
echo $! >"$S/kubelet.pid"

ok=""
for _ in $(seq 1 1800); do
  ready=$(curl -sk "${AUTH[@]}" "$API/api/v1/nodes/localhost" 2>/dev/null |
    tr -d ' \n' | grep -o '"type":"Ready","status":"True"' || true)
  sa=$(curl -sk -o /dev/null -w '%{http_code}' "${AUTH[@]}" \
    "$API/api/v1/namespaces/default/serviceaccounts/default" 2>/dev/null || true)
  if [ -n "$ready" ] && [ "$sa" = 200 ]; then ok=1 && break; fi
  for c in kubelet kcm scheduler; do
    kill -0 "$(cat "$S/$c.pid")" 2>/dev/null || fail "$c exited"
  done
  sleep 0.2
done
[ -n "$ok" ] || fail "node not Ready (or no default service account) after 360 s"
echo "$S/kubeconfig"
