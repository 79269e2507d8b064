# cellbot's everyday commands. `make test` is what CI runs (.ci/run) and what README gives.

GO ?= go

.PHONY: test run bench lint

# test installs redis-server when it is missing (the storage tests start real servers),
# then runs every test with the race detector.
test:
	scripts/ensure-redis
	$(GO) test -race ./...

# run starts the bot; set TELEGRAM_BOT_TOKEN first (README).
run:
	$(GO) run ./cmd/cellbot

# bench runs each benchmark once, as a smoke test; use -benchtime and benchstat to measure.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

# lint fails when a file is not gofmt'ed, or go vet or staticcheck finds something.
# staticcheck runs through `go run` at a fixed version, so nothing needs installing.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l found files to format:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
