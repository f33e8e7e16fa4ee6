#!/usr/bin/env bash
# Every benchmark behind docs/PERFORMANCE.md, in the order the document lists
# them. Figures are ratios to a reference measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo "== $*"; "$@" 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)' ; }
run go test ./wiki/markdown -run '^$' -bench 'GoldmarkGFM$|Render$|RenderRawHTML$' -benchmem -count 5
run go test ./cmd/hansewiki -run '^$' -bench ArticlePageUnderLoad -benchtime 1x
run go test ./cmd/hansewiki -run '^$' -bench FirstViewAfterPublish -benchtime 2s -count 3
run go test ./cmd/hansewiki -run '^$' -bench Import1000 -benchtime 1x -count 2
run go test ./auth -run '^$' -bench Can -benchtime 2s -count 3
run go test ./auth -run '^$' -bench Login50Concurrent -benchtime 1x
run go test ./wiki/textdiff -run '^$' -bench . -benchmem
run env LOAD_SECONDS=4 go test ./wiki/search -run "^$" -bench Search10k -benchtime 1x -timeout 20m
run go test ./workflow -run "^$" -bench SubmitApprove -benchtime 1x -timeout 30m
