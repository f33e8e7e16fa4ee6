#!/usr/bin/env bash
# The whole test suite, with its set-up. Anything it needs and cannot find
# or install stops the run with a message: nothing is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "make test: $*" >&2; exit 1; }

command -v go >/dev/null || die "Go is not installed (https://go.dev/dl)"

# PostgreSQL: tests use TEST_DATABASE_URL, else 127.0.0.1:5432, else a
# private cluster from the installed server binaries.
if [ -z "${TEST_DATABASE_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  if ! command -v pg_config >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    die "no PostgreSQL: set TEST_DATABASE_URL, run a server on 127.0.0.1:5432, or install the server binaries (apt-get install postgresql)"
  fi
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

echo "== go vet"
go vet ./...

echo "== go test"
go test -count=1 -timeout 15m ./... "$@"
