# Books platform: the Pulumi program (infra/), its mocked tests (tests/), the
# policy pack (policy/) and the books API (app/, its own module).
# `make help` lists the targets.

GO ?= go
STACK ?= dev

.PHONY: help test test-go test-app vet

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

test: vet test-go test-app container-test ## everything CI runs: vet, infra + policy tests, app tests (needs PostgreSQL and Redis), the container rehearsal

vet: ## go vet and gofmt over the root module
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^app/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(MAKE) -C app vet

# `make vet` has already vetted every package (tests included), so the test
# run skips go test's own vet pass, and test binaries are linked without
# DWARF (-w; stack traces keep their symbols): both cut the edit-to-result
# loop (make bench-loop) without dropping a test.
TESTFLAGS ?= -vet=off -ldflags=-w

test-go: pulumi-cli ## mocked runs of the program for every stack, policy pack tests, offline previews
	$(GO) test $(TESTFLAGS) ./...

.PHONY: bench-loop
bench-loop: ## time an edit of infra/ -> mocked tests of both stacks on a copy of the tree (PREVIEW=1 adds the warm offline previews)
	TESTFLAGS="$(TESTFLAGS)" GO="$(GO)" tools/bench-loop.sh

test-app: ## the books API against the real PostgreSQL and Redis
	$(MAKE) -C app test

# --- offline preview (issue 8; docs/offline-preview.md) ----------------------

.PHONY: pulumi-cli preview-offline diagram

pulumi-cli: ## the pinned Pulumi CLI in .tools/bin: reused, linked from a compatible one on PATH, or built from the module proxy (minutes cold)
	@tools/pulumi/ensure-cli.sh

# POLICY_PACKS: the policy pack directories, any runtime (default: policy/ only),
# e.g. POLICY_PACKS="policy ../org-pack".
POLICY_PACKS ?=

preview-offline: pulumi-cli ## real `pulumi preview` of STACK (default dev) with stand-in providers and the policy pack(s) POLICY_PACKS, no AWS; writes .preview/STACK/
	$(GO) run ./cmd/preview-offline -stack $(STACK) $(addprefix -policy-pack=,$(POLICY_PACKS))
	$(GO) run ./cmd/preview-render -tree .preview/$(STACK)/preview.json > .preview/$(STACK)/tree.txt
	@echo "reviewer's tree: .preview/$(STACK)/tree.txt"

diagram: pulumi-cli ## regenerate the README's architecture diagram from an offline preview of dev
	$(GO) run ./cmd/preview-offline -stack dev -color never > /dev/null
	$(GO) run ./cmd/preview-render -mermaid -readme README.md .preview/dev/preview.json

# --- delivery (issue 9; README "Delivery", .github/workflows) ----------------

ACTIONLINT_VERSION ?= v1.7.12
GOLANGCI_LINT_VERSION ?= v2.15.0
TOOLS_BIN := $(CURDIR)/.tools/bin
# Every tracked shell script, plus the stand-ins the script tests put on PATH.
SHELL_SCRIPTS = $$(git ls-files '*.sh' .ci/run 'scripts/testdata/bin/*' 'offline/shims/*')

.PHONY: lint lint-shell lint-actions lint-go actionlint golangci-lint secrets verify-rollout smoke-test drift

lint: lint-shell lint-actions lint-go ## shellcheck, actionlint and golangci-lint (both modules), all pinned

lint-shell: ## shellcheck every shell script (apt-get install shellcheck; missing fails under CI, skips loudly elsewhere)
	@if ! command -v shellcheck >/dev/null 2>&1; then \
		echo "REQUIRED PROGRAM MISSING: shellcheck (apt-get install shellcheck)"; \
		if [ -n "$$CI" ]; then exit 1; fi; echo "lint-shell SKIPPED because CI is not set"; exit 0; \
	fi; shellcheck -x $(SHELL_SCRIPTS) && echo "shellcheck: ok"

lint-actions: actionlint ## actionlint over .github/workflows (runs shellcheck on every run: block)
	$(TOOLS_BIN)/actionlint && echo "actionlint: ok"

lint-go: golangci-lint ## golangci-lint (.golangci.yml) over the root module and app/
	$(TOOLS_BIN)/golangci-lint run ./...
	cd app && $(TOOLS_BIN)/golangci-lint run --config ../.golangci.yml ./...

actionlint: ## install the pinned actionlint into .tools/bin (go install; reused when the version matches)
	@$(TOOLS_BIN)/actionlint -version 2>/dev/null | head -1 | grep -qx '$(ACTIONLINT_VERSION)' || \
		{ echo "installing actionlint $(ACTIONLINT_VERSION)"; GOBIN=$(TOOLS_BIN) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION); }

golangci-lint: ## install the pinned golangci-lint into .tools/bin (go install, minutes cold; reused when the version matches)
	@$(TOOLS_BIN)/golangci-lint version 2>/dev/null | grep -q 'version $(GOLANGCI_LINT_VERSION:v%=%) ' || \
		{ echo "installing golangci-lint $(GOLANGCI_LINT_VERSION)"; GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); }

# The script tests in `go test ./...` run actionlint and shellcheck.
test-go: actionlint

secrets: ## generate the stack secrets STACK needs (idempotent; ROTATE="--rotate cacheAuthToken" or --rotate-all to replace)
	PATH="$$PATH:$(TOOLS_BIN)" scripts/secrets.sh --stack $(STACK) $(ROTATE)

verify-rollout: ## fail unless ECS runs the task definition STACK exported, COMPLETED (needs AWS credentials)
	scripts/verify-rollout.sh --stack $(STACK)

smoke-test: ## the seed's curl flow against STACK's API with a Cognito token (needs AWS credentials)
	scripts/smoke-test.sh --stack $(STACK)

drift: ## drift check of STACK against AWS: pulumi preview --refresh --expect-no-changes, changed resources as Markdown (needs AWS credentials)
	scripts/drift.sh --stack $(STACK)

# --- cost estimate (issue 19; README "Cost estimate") -------------------------

FORMAT ?= table

.PHONY: cost

cost: ## monthly and hourly cost of STACK from its mocked graph, cost/prices.yaml and cost/usage/STACK.yaml (FORMAT=table|markdown|json)
	$(GO) run ./cmd/cost -stack $(STACK) -format $(FORMAT)

# --- container rehearsal (issue 20; README "Container rehearsal") -----------

.PHONY: container-test

container-test: ## build app/ with BuildKit on stand-in bases (native + linux/arm64) and run it as the dev task definition says (starts dockerd as root; no engine: fails under CI, skips loudly elsewhere)
	@tests/container/engine.sh
	$(GO) vet -tags container ./tests/container/
	$(GO) test -tags container -count=1 -v -timeout 50m -run TestContainerRehearsal ./tests/container/
