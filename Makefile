# The two commands: `make run` runs Hansewiki, `make test` runs every test.
.PHONY: run demo test build bench loadtest

run:
	go run ./cmd/hansewiki serve

# The demo content first, then the server.
demo:
	go run ./cmd/hansewiki seed --demo
	go run ./cmd/hansewiki serve

test:
	bash tools/test.sh

build:
	go build -o hansewiki ./cmd/hansewiki

bench:
	bash tools/bench.sh
