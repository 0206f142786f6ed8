# The README's two commands are `make run` and `make test`; keep them working on a
# fresh machine with Go 1.26.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: help run build test test-e2e generate check-generate lint bench load playground playground-if-npm schema-contract schema-check image image-check

## help: list the targets
help:
	@sed -n 's/^## \([^:]*\): /  \1\t/p' $(MAKEFILE_LIST) | expand -t 20

## run: start the gateway (demo mode when WALDUR_API_URL is unset)
run: playground-if-npm
	@addr="$${LISTEN_ADDR:-:8080}"; host="$${addr%:*}"; port="$${addr##*:}"; \
	case "$$host" in ""|0.0.0.0|"[::]") host=localhost;; esac; \
	echo "Open http://$$host:$$port/ for GraphiQL (GraphQL at /query; stop with Ctrl-C)"
	$(GO) run -ldflags '$(LDFLAGS)' .

## build: build the gateway binary into bin/gateway
build: playground-if-npm
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/gateway .

## playground: bundle GraphiQL from pinned npm packages into playground/dist (embedded by go build)
PLAYGROUND_WEB := playground/web
playground: playground/dist/manifest.json
$(PLAYGROUND_WEB)/node_modules/.package-lock.json: $(PLAYGROUND_WEB)/package.json $(PLAYGROUND_WEB)/package-lock.json $(PLAYGROUND_WEB)/.npmrc
	cd $(PLAYGROUND_WEB) && npm ci
playground/dist/manifest.json: $(PLAYGROUND_WEB)/node_modules/.package-lock.json $(PLAYGROUND_WEB)/build.mjs $(wildcard $(PLAYGROUND_WEB)/src/*)
	cd $(PLAYGROUND_WEB) && npm run build

# Without npm, or when the npm build fails (no registry, an old Node), the
# gateway still builds and runs: "/" then says how to build GraphiQL. CI builds
# the playground with 'make playground', which does fail.
playground-if-npm:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: GraphiQL assets not built (the API works; see 'make playground')"; \
	elif ! $(MAKE) --no-print-directory playground; then \
		echo "warning: GraphiQL assets could not be built (the API works; see 'make playground')"; fi

## test: the whole Go test suite, with the race detector
test:
	$(GO) test -race ./...

## test-e2e: the ecosystem tests (graphql-http audit, Relay, Apollo Client, Federation, Chromium) against bin/gateway
test-e2e: build
	cd e2e && npm ci && npm test

## generate: regenerate gqlgen's code from graph/schema.graphqls (then rewritten: see internal/rewritegenerated)
generate:
	$(GO) tool gqlgen generate
	$(GO) run ./internal/rewritegenerated graph/generated.go

## check-generate: fail when the committed generated code is stale
check-generate: generate
	@git diff --exit-code -- graph gqlgen.yml || { echo "generated code is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- graph)" || { git status --porcelain -- graph; echo "make generate created files: commit them"; exit 1; }

## lint: gofmt, go vet and staticcheck
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$unformatted" || { echo "gofmt needed:"; echo "$$unformatted"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

## bench: the Go benchmarks (measure only)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## load: the gateway binary under load against direct-upstream baselines in one run (uncached, cached, a 50 ms upstream), on loopback
load: build
	$(GO) run ./cmd/loadrun -gateway bin/gateway -duration $${LOAD_DURATION:-5s} -concurrency $${LOAD_CONCURRENCY:-32} $(LOAD_ENV)

## schema-contract: rewrite schema/contract.graphql from the code (a breaking change needs ALLOW_BREAKING=1)
SCHEMA_TOOLS := schema/node_modules/.package-lock.json
$(SCHEMA_TOOLS): schema/package.json schema/package-lock.json schema/.npmrc
	cd schema && npm ci
schema-contract: $(SCHEMA_TOOLS)
	schema/contract.sh write

## schema-check: fail on a breaking change against schema/contract.graphql (graphql-inspector), or when it is stale
schema-check: $(SCHEMA_TOOLS)
	schema/contract.sh check

## image: build the container image offline with podman: FROM scratch, the static binary with GraphiQL, CA certificates, user 65532
IMAGE_NAME ?= localhost/waldur-quotas-gateway
IMAGE      ?= $(IMAGE_NAME):$(VERSION)
PODMAN     ?= podman
CA_CERTS   ?= /etc/ssl/certs/ca-certificates.crt
# GraphiQL is part of the image's promise: 'playground' (not -if-npm) fails
# rather than ship a binary without it. The context holds only the two files
# the Containerfile copies, so nothing else in the tree can leak into it.
image: playground
	@test -r $(CA_CERTS) || { echo "$(CA_CERTS) not found: install ca-certificates or set CA_CERTS"; exit 1; }
	rm -rf bin/image && mkdir -p bin/image
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS) -s -w' -o bin/image/gateway .
	cp $(CA_CERTS) bin/image/ca-certificates.crt
	$(PODMAN) build --pull=never --build-arg VERSION=$(VERSION) -f Containerfile -t $(IMAGE) -t $(IMAGE_NAME):latest bin/image
	@$(PODMAN) image inspect --format '{{.RepoTags}} {{.Size}} bytes, user {{.Config.User}}, entrypoint {{.Config.Entrypoint}}' $(IMAGE)

## image-check: check the built image: user, entrypoint, no shell, and that it serves read-only with no capabilities
image-check:
	PODMAN=$(PODMAN) .ci/check-image $(IMAGE)
