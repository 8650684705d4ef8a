# runner-migrate. `make demo` shows the main job (helm upgrade with runner-migrate against a real API
# server and a fake GitLab); `make test` runs every test. Both build
# what they need (Helm v3/v4, kube-apiserver, etcd) from the Go module proxy on first use (hack/tools.sh,
# cached in ~/.cache/runner-migrate/tools).

GO       ?= go
BIN      := bin/runner-migrate
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 30s
GOFILES   = $(shell find . -name '*.go' -not -path './.git/*')

.PHONY: build plugin test bench fuzz lint demo tools clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/runner-migrate

# The Helm 4 post-renderer plugin carries the binary in its own directory.
plugin:
	$(GO) build -ldflags "$(LDFLAGS)" -o plugins/runner-migrate-postrender/bin/runner-migrate ./cmd/runner-migrate

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
	rm -rf bin plugins/*/bin
