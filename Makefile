# Books platform: the Pulumi program (infra/), its mocked tests (tests/), the
# policy pack (policy/) and the books API (app/, its own module).
# `make help` lists the targets.

GO ?= go
STACK ?= dev

.PHONY: help test test-go test-app vet

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

test: vet test-go test-app ## everything CI runs: vet, infra + policy tests, app tests (needs PostgreSQL and Redis)

vet: ## go vet and gofmt over the root module
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^app/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test-go: pulumi-cli ## mocked runs of the program for every stack, policy pack tests, offline previews
	$(GO) test ./...

test-app: ## the books API against the real PostgreSQL and Redis
	$(MAKE) -C app test

# --- offline preview (issue 8; docs/offline-preview.md) ----------------------

.PHONY: pulumi-cli preview-offline diagram

pulumi-cli: ## the pinned Pulumi CLI in .tools/bin: reused, linked from a compatible one on PATH, or built from the module proxy (minutes cold)
	@tools/pulumi/ensure-cli.sh

preview-offline: pulumi-cli ## real `pulumi preview` of STACK (default dev) with stand-in providers and the policy pack, no AWS; writes .preview/STACK/
	$(GO) run ./cmd/preview-offline -stack $(STACK)
	$(GO) run ./cmd/preview-render -tree .preview/$(STACK)/preview.json > .preview/$(STACK)/tree.txt
	@echo "reviewer's tree: .preview/$(STACK)/tree.txt"

diagram: pulumi-cli ## regenerate the README's architecture diagram from an offline preview of dev
	$(GO) run ./cmd/preview-offline -stack dev -color never > /dev/null
	$(GO) run ./cmd/preview-render -mermaid -readme README.md .preview/dev/preview.json
