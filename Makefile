# Sambung: `make run` starts the demo, `make test` runs every test.
# `make help` lists the targets.

GO          ?= go
BIN         := bin/sambung
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Extra arguments for `make run`, e.g. make run ARGS="--listen 0.0.0.0:8080"
ARGS        ?=
# Packages for `make test`, e.g. make test PKGS=./web/
PKGS        ?= ./...

.PHONY: help build run deps test test-short bench fuzz lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-11s %s\n", $$1, $$2}'

build: ## build bin/sambung (with the embedded speech engine and Opus when libpocketsphinx-dev and libopus-dev are installed)
	$(GO) build -tags "$$(bash scripts/tags.sh)" -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sambung

run: ## install the embedded speech engine and Opus if it can, build, and start the demo server (SQLite in ./data, http://127.0.0.1:8080/)
	@bash scripts/tags.sh install >/dev/null
	$(MAKE) --no-print-directory build
	exec ./$(BIN) serve $(ARGS)

deps: ## install what the tests need (Chromium, playwright-core; PostgreSQL on first test)
	bash scripts/deps.sh

lint: ## gofmt check, go vet, staticcheck, and the pages' JavaScript parsed as modules
	@out=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...)); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@# Through stdin: node --check FILE takes a module for a script and passes what does not parse.
	@for f in $$(find web/static web/e2e -path '*/node_modules' -prune -o \( -name '*.js' -o -name '*.mjs' \) -print); do \
	  node --input-type=module --check < $$f || { echo "$$f does not parse"; exit 1; }; done
	tags=$$(bash scripts/tags.sh); $(GO) vet -tags "$$tags" ./... && $(GO) run $(STATICCHECK) -tags "$$tags" ./...

test: deps lint ## install test dependencies, run every test with real peers, then 10000 inputs per fuzz target
	bash scripts/test.sh $(PKGS)
	FUZZTIME=10000x bash scripts/fuzz.sh

test-short: ## the quick tests only: no real peers
	$(GO) test -short -count=1 ./...

bench: ## run the benchmarks, on SQLite and a private PostgreSQL (a bridged call's media cost over 500 ticks, for a steady figure)
	bash scripts/bench.sh $(PKGS)

fuzz: ## run each fuzz target for FUZZTIME inputs (default 500000x)
	FUZZTIME=$(or $(FUZZTIME),500000x) bash scripts/fuzz.sh

clean: ## remove build output (not ./data)
	rm -rf bin web/e2e/artifacts
