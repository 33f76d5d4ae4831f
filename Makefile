# incasso: `make run` starts everything on this machine, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Pinned tool versions, installed into ./bin from the Go module proxy.
TEMPORAL_VERSION      := v1.5.1
SQLC_VERSION          := v1.31.1
STATICCHECK_VERSION   := v0.8.2
WORKFLOWCHECK_VERSION := v0.6.0
OAPI_CODEGEN_VERSION  := v2.8.2

BIN   := $(CURDIR)/bin
TOOLS := $(BIN)/temporal-$(TEMPORAL_VERSION) $(BIN)/sqlc-$(SQLC_VERSION) \
         $(BIN)/staticcheck-$(STATICCHECK_VERSION) $(BIN)/workflowcheck-$(WORKFLOWCHECK_VERSION) \
         $(BIN)/oapi-codegen-$(OAPI_CODEGEN_VERSION)
# Debian packages: xmllint validates XML against the XSDs in devstack/specs (the bank simulator
# of `make run` needs it too); the tests also read the notices' PDF and codes, and drive the web
# console in a browser.
RUN_DEBS  := libxml2-utils
RUN_CMDS  := xmllint
TEST_DEBS := $(RUN_DEBS) poppler-utils zbar-tools dmtx-utils chromium
TEST_CMDS := $(RUN_CMDS) pdftoppm pdftotext zbarimg dmtxread chromium

# install-debs: install the packages $(2) when a command of $(1) is missing and we may (root).
define install-debs
	@missing=""; for c in $(1); do command -v $$c >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(2)"; \
	    (apt-get install -y -qq $(2) >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq $(2) >/dev/null)); \
	  else echo "warning: install the Debian packages $(2): some checks need them"; fi; \
	fi
endef

.PHONY: help
help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: tools
tools: ## install the pinned tools into ./bin, in parallel (fast when nothing changed)
	@$(MAKE) --no-print-directory -j4 $(TOOLS)

# Each tool is built once per version; bin/<tool> links to the pinned build.
$(BIN)/temporal-%:
	GOBIN=$(BIN)/.build go install github.com/temporalio/cli/cmd/temporal@$*
	mv $(BIN)/.build/temporal $@ && ln -sf $(notdir $@) $(BIN)/temporal
$(BIN)/sqlc-%:
	GOBIN=$(BIN)/.build go install github.com/sqlc-dev/sqlc/cmd/sqlc@$*
	mv $(BIN)/.build/sqlc $@ && ln -sf $(notdir $@) $(BIN)/sqlc
$(BIN)/staticcheck-%:
	GOBIN=$(BIN)/.build go install honnef.co/go/tools/cmd/staticcheck@$*
	mv $(BIN)/.build/staticcheck $@ && ln -sf $(notdir $@) $(BIN)/staticcheck
$(BIN)/workflowcheck-%:
	GOBIN=$(BIN)/.build go install go.temporal.io/sdk/contrib/tools/workflowcheck@$*
	mv $(BIN)/.build/workflowcheck $@ && ln -sf $(notdir $@) $(BIN)/workflowcheck
$(BIN)/oapi-codegen-%:
	GOBIN=$(BIN)/.build go install github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@$*
	mv $(BIN)/.build/oapi-codegen $@ && ln -sf $(notdir $@) $(BIN)/oapi-codegen

.PHONY: build
build: ## build ./bin/incasso (production: API, worker, CLI) and ./bin/incasso-dev (the stack with its simulators)
	go build -o $(BIN)/ ./cmd/incasso ./cmd/incasso-dev

.PHONY: run
run: tools run-debs build ## run the whole stack here: Temporal dev server + UI, PostgreSQL, worker, API, simulators, mail sink
	$(BIN)/incasso-dev

.PHONY: run-debs
run-debs: # install xmllint for the bank simulator, when missing and we may
	$(call install-debs,$(RUN_CMDS),$(RUN_DEBS))

# The client of the API that `incasso campaign` uses, generated from the contract.
API_SPEC   := api/openapi.yaml
API_CLIENT := clients/incassoapi/client.gen.go
OAPI_GEN    = $(BIN)/oapi-codegen -config clients/incassoapi/oapi-codegen.yaml

.PHONY: generate
generate: tools ## regenerate the sqlc query code from db/queries, and the API client from api/openapi.yaml
	cd db && $(BIN)/sqlc generate
	$(OAPI_GEN) -o $(API_CLIENT) $(API_SPEC)

.PHONY: test-debs
test-debs: # install the Debian packages the tests need, when missing and we may
	$(call install-debs,$(TEST_CMDS),$(TEST_DEBS))

.PHONY: lint
lint: tools ## gofmt, go vet, staticcheck, workflowcheck, sqlc diff and vet, the API client up to date; nothing outside the repository is read
	@! git grep -n '\.\./shared' -- ':!*.md' || (echo "the lines above read a path outside the repository"; exit 1)
	@! git grep -nE '\.(SetDebtStatus|MarkDebtPaid|CancelDebt)\(' -- '*.go' ':!*_test.go' ':!db/dbgen/' ':!clients/incassoapi/' ':!services/debts/status.go' || (echo "the lines above write a debt's status: services/debts (status.go) is its one writer"; exit 1)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	go vet ./...
	$(BIN)/staticcheck ./...
	$(BIN)/workflowcheck ./workflows/...
	cd db && $(BIN)/sqlc diff && $(BIN)/sqlc vet
	@gen=$$(mktemp) && $(OAPI_GEN) -o $$gen $(API_SPEC) && cmp -s $$gen $(API_CLIENT); ok=$$?; rm -f $$gen; \
	  test $$ok = 0 || (echo "$(API_CLIENT) is not what $(API_SPEC) generates: make generate"; exit 1)

.PHONY: test
test: tools test-debs lint ## run every test, including the end-to-end test on a real Temporal dev server and PostgreSQL
	INCASSO_REQUIRE_E2E=1 go test -count=1 -timeout 10m ./...

.PHONY: bench
bench: tools ## measure campaign import (against psql \copy) and launch (against bare Temporal); not part of test
	go run ./cmd/incassobench

FUZZ_EXECS ?= 1000000
FUZZ_ONLY  ?= .
.PHONY: fuzz
fuzz: ## fuzz every parser of outside input (FUZZ_ONLY: a regexp on "package Target"), FUZZ_EXECS (1,000,000) executions each; prints rate and largest RSS, keeps the corpus grown in testdata/fuzz; not part of test
	@bins=$$(mktemp -d); trap 'rm -rf "$$bins"' EXIT; failed=0; for pkg in $$(git grep -l '^func Fuzz' -- '*_test.go' | xargs -n1 dirname | sort -u); do \
	  for fn in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go | cut -d' ' -f2); do \
	    echo "$$pkg $$fn" | grep -Eq -- '$(FUZZ_ONLY)' || continue; \
	    [ -x $$bins/$$(echo $$pkg | tr / _).test ] || go test -c -fuzz=. -o $$bins/$$(echo $$pkg | tr / _).test ./$$pkg || exit 1; \
	    cache="$$(go env GOCACHE)/fuzz/incasso/$$pkg"; start=$$(date +%s); \
	    out=$$(cd $$pkg && /usr/bin/time -f 'largest RSS %M KiB' $$bins/$$(echo $$pkg | tr / _).test -test.run '^$$' -test.fuzz "^$$fn$$" \
	      -test.fuzztime $(FUZZ_EXECS)x -test.fuzzcachedir "$$cache" 2>&1) || { echo "$$out" | tail -30; echo "FAIL: $$pkg $$fn (the failing input is in $$pkg/testdata/fuzz/$$fn)"; failed=1; continue; }; \
	    if [ -d "$$cache/$$fn" ]; then mkdir -p $$pkg/testdata/fuzz/$$fn && cp -n "$$cache/$$fn/"* $$pkg/testdata/fuzz/$$fn/; fi; \
	    secs=$$(( $$(date +%s) - start + 1 )); \
	    echo "$$pkg $$fn: $(FUZZ_EXECS) execs in $$secs s ($$(( $(FUZZ_EXECS) / secs ))/s), $$(echo "$$out" | grep '^fuzz: elapsed' | tail -1 | grep -o 'new interesting: [0-9]* (total: [0-9]*)'), $$(echo "$$out" | grep '^largest RSS')"; \
	  done; \
	done; exit $$failed

.PHONY: chaos
chaos: tools run-debs ## a campaign of CHAOS_DEBTS (10,000) under SIGKILLed workers, a PostgreSQL restart, GPD 503s and SMTP drops, then the checks; SCALE=1 the scale-out run (2 APIs, 2,000 debts); not part of test
	CHAOS_DEBTS=$(CHAOS_DEBTS) CHAOS_SCALE=$(SCALE) go run ./cmd/incassochaos

.PHONY: clean
clean: ## remove ./bin and the dev state in ./.data
	rm -rf $(BIN) .data
