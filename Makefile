# cellbot's everyday commands. `make test` is what CI runs (.ci/run) and what README gives.

GO ?= go

.PHONY: test run bench bench-10k lint

# test installs redis-server when it is missing (the storage tests start real servers),
# and Chromium (the sandbox's page test drives it), then runs every test with the race
# detector. The end-to-end package runs about ten minutes on two cores (real bot
# processes killed and restarted, Telegram's per-chat pace), past go test's default
# timeout of ten: hence thirty.
test:
	scripts/ensure-redis
	scripts/ensure-chromium
	$(GO) test -race -timeout 30m ./...

# run starts the bot with the settings in .env, when there is one (README), and
# the environment.
run:
	@set -a; if [ -f .env ]; then . ./.env; fi; set +a; $(GO) run ./cmd/cellbot

# bench runs each quick benchmark once, as a smoke test; use -benchtime and benchstat
# to measure. The 10,000-recipient broadcast keeps Telegram's limits, so it takes
# about six minutes: bench-10k (CELLBOT_BENCH_N=1500 make bench-10k for a shorter run).
bench:
	$(GO) test -run '^$$' -bench . -skip 'Broadcast10k' -benchtime 1x ./...

bench-10k:
	$(GO) test -run '^$$' -bench Broadcast10k -benchtime 1x -timeout 30m ./internal/delivery/

# lint fails when a file is not gofmt'ed, or go vet or staticcheck finds something.
# staticcheck runs through `go run` at a fixed version, so nothing needs installing.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l found files to format:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
