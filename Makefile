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

test-go: ## mocked runs of the program for every stack, policy pack tests
	$(GO) test ./...

test-app: ## the books API against the real PostgreSQL and Redis
	$(MAKE) -C app test
