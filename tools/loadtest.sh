#!/usr/bin/env bash
# `make loadtest`: Hansewiki under load with wrk, beside reference handlers
# measured in the same run (see docs/PERFORMANCE.md). Arguments go to the
# load tool, e.g. `bash tools/loadtest.sh -mode pages -seconds 5`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
	echo "· installing wrk (Debian package wrk)" >&2
	if [ "$(id -u)" = 0 ]; then apt-get install -y -q wrk >/dev/null; else sudo apt-get install -y -q wrk >/dev/null; fi
fi
command -v wrk >/dev/null || { echo "wrk is missing and could not be installed" >&2; exit 1; }
exec go run ./tools/loadtest "$@"
