# incasso: `make run` starts everything on this machine, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Pinned tool versions, installed into ./bin from the Go module proxy.
TEMPORAL_VERSION      := v1.5.1
SQLC_VERSION          := v1.31.1
STATICCHECK_VERSION   := v0.8.2
WORKFLOWCHECK_VERSION := v0.6.0

BIN   := $(CURDIR)/bin
TOOLS := $(BIN)/temporal-$(TEMPORAL_VERSION) $(BIN)/sqlc-$(SQLC_VERSION) \
         $(BIN)/staticcheck-$(STATICCHECK_VERSION) $(BIN)/workflowcheck-$(WORKFLOWCHECK_VERSION)
# Debian packages the tests use to check output against the real specs (XSD, QR code), and
# the browser that drives the web console end to end.
TEST_DEBS := libxml2-utils poppler-utils zbar-tools dmtx-utils chromium
TEST_CMDS := xmllint pdftoppm pdftotext zbarimg dmtxread chromium

.PHONY: help
help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: tools
tools: $(TOOLS) ## install the pinned tools into ./bin (fast when nothing changed)

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

.PHONY: build
build: ## build ./bin/incasso
	go build -o $(BIN)/incasso ./cmd/incasso

.PHONY: run
run: tools build ## run the whole stack here: Temporal dev server + UI, PostgreSQL, worker, API, simulators, mail sink
	$(BIN)/incasso dev

.PHONY: generate
generate: tools ## regenerate the sqlc query code from db/queries
	cd db && $(BIN)/sqlc generate

.PHONY: test-debs
test-debs: # install the Debian packages the tests need, when missing and we may
	@missing=""; for c in $(TEST_CMDS); do command -v $$c >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(TEST_DEBS)"; \
	    (apt-get install -y -qq $(TEST_DEBS) >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq $(TEST_DEBS) >/dev/null)); \
	  else echo "warning: install $(TEST_DEBS) (Debian) or the spec checks will be skipped"; fi; \
	fi

.PHONY: lint
lint: tools ## gofmt, go vet, staticcheck, workflowcheck, sqlc diff and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	go vet ./...
	$(BIN)/staticcheck ./...
	$(BIN)/workflowcheck ./workflows/...
	cd db && $(BIN)/sqlc diff && $(BIN)/sqlc vet

.PHONY: test
test: tools test-debs lint ## run every test, including the end-to-end test on a real Temporal dev server and PostgreSQL
	INCASSO_REQUIRE_E2E=1 go test -count=1 -timeout 10m ./...

.PHONY: bench
bench: tools ## measure campaign import (against psql \copy) and launch (against bare Temporal); not part of test
	go run ./cmd/incassobench

.PHONY: clean
clean: ## remove ./bin and the dev state in ./.data
	rm -rf $(BIN) .data
