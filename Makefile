# runner-migrate. `make demo` shows the main job (helm upgrade with runner-migrate against a real API
# server and a fake GitLab); `make test` runs every test. Both build
# what they need (Helm v3/v4, kube-apiserver, etcd) from the Go module proxy on first use (hack/tools.sh,
# cached in ~/.cache/runner-migrate/tools).

GO       ?= go
BIN      := bin/runner-migrate
# The version is the plugins' (plugin.yaml); the commit says which source, "-dirty" with changes. The
# plugin install hook (scripts/install-binary.sh) stamps the binary it builds the same way.
VERSION  := $(shell sed -n 's/^version: *//p' plugin.yaml)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell [ -z "$$(git status --porcelain 2>/dev/null)" ] || echo -dirty)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# make dist: release tarballs of both Helm plugins per OS/arch (hack/dist).
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
DIST      ?= dist
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
FUZZTIME ?= 30s
GOFILES   = $(shell find . -name '*.go' -not -path './.git/*')

.PHONY: build dist test bench fuzz lint demo tools clean

# Static (CGO_ENABLED=0): a post-renderer starts on every helm template, and the dynamic loader alone
# costs about a millisecond of every start.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/runner-migrate

dist:
	$(GO) run ./hack/dist -out "$(DIST)" -platforms "$(PLATFORMS)" -commit "$(COMMIT)" -mtime "$(SOURCE_DATE_EPOCH)" -go "$(GO)"

tools:
	hack/tools.sh

test: lint
	env $$(hack/tools.sh) $(GO) test -count=1 ./...

bench:
	env $$(hack/tools.sh) $(GO) test -run '^$$' -bench . -benchmem ./...

fuzz:
	$(GO) test ./rewrite -run '^$$' -fuzz FuzzRewrite -fuzztime $(FUZZTIME)
	$(GO) test ./internal/lint/values -run '^$$' -fuzz FuzzScanMatchesYAML -fuzztime $(FUZZTIME)
	$(GO) test ./internal/migrate -run '^$$' -fuzz FuzzMigrateValues -fuzztime $(FUZZTIME)
	$(GO) test ./internal/releases -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)

lint:
	@unformatted=$$(gofmt -l $(GOFILES)); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

demo: build
	$(GO) run ./hack/runner-migrate-demo

clean:
	rm -rf bin plugins/*/bin $(DIST)
