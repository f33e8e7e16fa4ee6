# The two commands: `make run` runs Hansewiki, `make test` runs every test.
.PHONY: run demo test build bench loadtest

# A built binary rather than `go run`, which reports Ctrl-C as a failure
# even when the server shut down cleanly.
run: bin/hansewiki
	exec ./bin/hansewiki serve

# The demo content and demo accounts first (seed prints how to sign in),
# then the server.
demo: bin/hansewiki
	./bin/hansewiki seed --demo
	@echo "Anmelden / sign in: $${HANSEWIKI_BASE_URL:-http://localhost:8080}/login"
	exec ./bin/hansewiki serve

# Always rebuilt (go build skips what is current).
.PHONY: bin/hansewiki
bin/hansewiki:
	go build -o bin/hansewiki ./cmd/hansewiki

test:
	bash tools/test.sh

build:
	go build -o hansewiki ./cmd/hansewiki

bench:
	bash tools/bench.sh

# Signed-in and anonymous pages, and several instances, under load with wrk.
loadtest:
	bash tools/loadtest.sh
