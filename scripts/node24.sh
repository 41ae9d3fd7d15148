#!/usr/bin/env bash
# Prints the bin directory of a Node.js 24 (the LTS rerank-pool targets), fetching it on first use
# from the npm registry, which publishes Node's official binaries as packages (node-<os>-<arch>),
# so no network beyond what `npm ci` needs is used. Cached under
# ${XDG_CACHE_HOME:-~/.cache}/rerank-pool/node24: later runs cost no network at all.
#
#   PATH="$(scripts/node24.sh):$PATH" npm test
#
# RERANK_POOL_NODE24_DIR overrides the cache directory.
set -euo pipefail

cache="${RERANK_POOL_NODE24_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rerank-pool/node24}"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "node24: no Node binary package for $(uname -s); install Node 24 yourself" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node24: no Node binary package for $(uname -m); install Node 24 yourself" >&2; exit 1 ;;
esac
package="node-$os-$arch"
bin="$cache/node_modules/$package/bin"

usable() { [[ -x "$1/node" ]] && [[ "$("$1/node" --version 2>/dev/null)" == v24.* ]]; }

if ! usable "$bin"; then
  mkdir -p "$(dirname "$cache")"
  # Installed beside the cache and renamed into place, so an interrupted or concurrent run never
  # leaves (or uses) half a binary.
  staging="$(mktemp -d "$cache.tmp.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  echo "node24: fetching $package@24 from the npm registry into $cache" >&2
  # From the staging directory, so no project's .npmrc or workspaces take part.
  (cd "$staging" && npm install --prefix "$staging" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$package@24" >&2)
  usable "$staging/node_modules/$package/bin" || { echo "node24: $package@24 installed no working node" >&2; exit 1; }
  rm -rf "$cache"
  mv "$staging" "$cache" 2>/dev/null || usable "$bin" || { echo "node24: could not move Node 24 into $cache" >&2; exit 1; }
fi

echo "$bin"
