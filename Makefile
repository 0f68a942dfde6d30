# otelaudit — developer entry points. `make test` is what CI runs.

GO ?= go
# Packages with concurrency run under the race detector. That pass is -short:
# the durable spool's five-minute outage test (run in full by the first pass)
# then lasts 5 s.
RACE_PKGS := ./instrumentation/... ./internal/... ./processor/... ./store/... ./exporter/...

BIN := $(CURDIR)/bin
OCB := $(BIN)/builder
OCB_VERSION := v0.165.0
COLLECTOR := _build/otelcol-audit
# The collector is rebuilt when a component or the build config changes.
COLLECTOR_SRC := builder-config.yaml go.mod go.sum $(shell find auditconv internal processor exporter store -name '*.go' -not -name '*_test.go')

# Development tools, pinned in their own module (internal/tools/go.mod) and
# built from it into ./bin. mdatagen is v0.159.0, not the v0.165.0 of the
# collector release we build on: the module proxy refuses v0.165.0, and
# v0.161.0 needs a module it refuses too; v0.159.0 is the newest that builds,
# and the code it generates compiles and passes against collector v0.165.0.
# staticcheck is v0.8.2.
TOOLS_MOD := internal/tools/go.mod
MDATAGEN := $(BIN)/mdatagen
STATICCHECK := $(BIN)/staticcheck

.PHONY: test services services-down vet demo bench bench-collector bench-http bench-instructions bench-integrity bench-redaction bench-sdk-change bench-goals bench-latency-load fuzz collector lint generate check-generated tools

## test: start the services, check generated code, build the collector, vet, run every test (end-to-end included)
test: services check-generated vet collector
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -race -short $(RACE_PKGS)

## services: start the test services (scripts/services.sh up)
services:
	scripts/services.sh up

## services-down: stop the MongoDB-wire test server
services-down:
	scripts/services.sh down

## vet: gofmt and go vet, for the module and the tools
vet:
	@test -z "$$(gofmt -l $$(find . -name '*.go' -not -path './_build/*' -not -path './bin/*') | tee /dev/stderr)" || (echo "gofmt: files above need formatting" >&2; exit 1)
	$(GO) vet ./...
	cd tools/ferretdb && $(GO) vet ./...

## collector: build the otelcol-audit distribution with ocb into _build/
collector: $(COLLECTOR)

$(OCB):
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

$(COLLECTOR): $(OCB) $(COLLECTOR_SRC)
	$(OCB) --config builder-config.yaml
	@touch $@

## tools: build the pinned development tools into ./bin
tools: $(MDATAGEN) $(STATICCHECK)

$(MDATAGEN): $(TOOLS_MOD)
	cd internal/tools && $(GO) build -o $(MDATAGEN) go.opentelemetry.io/collector/cmd/mdatagen

$(STATICCHECK): $(TOOLS_MOD)
	cd internal/tools && $(GO) build -o $(STATICCHECK) honnef.co/go/tools/cmd/staticcheck

## generate: regenerate every component's metadata package, lifecycle test, documentation and README status block
generate: $(MDATAGEN)
	PATH="$(BIN):$$PATH" $(GO) generate ./...

## check-generated: fail when generated files differ from what `make generate` writes
check-generated: $(MDATAGEN)
	scripts/check-generated.sh

## lint: staticcheck, pinned in internal/tools
lint: $(STATICCHECK)
	$(STATICCHECK) ./...

## demo: services, collector, example service and traffic; prints the stored records
demo: services collector
	scripts/demo.sh

## bench: in-process benchmarks: wrapper (bare, otelhttp, audithttp), durable spool, masking, processors
bench:
	$(GO) test -run '^$$' -bench Handler -benchmem ./instrumentation/audithttp/
	$(GO) test -run '^$$' -bench 'Wrapper|SpoolWrite' -benchmem ./instrumentation/auditexport/
	$(GO) test -run '^$$' -bench . -benchmem ./internal/mask/
	$(GO) test -run '^$$' -bench . -benchtime 2000x -benchmem ./processor/samplingprocessor/

## bench-collector: the built collector → PostgreSQL against raw COPY of the same rows (services up)
bench-collector: collector
	scripts/services.sh up
	$(GO) test -run '^$$' -bench CollectorToPostgres -benchtime 1x -count 3 ./e2e/

## bench-instructions: the masking engine's instructions per document against json.Valid's (valgrind; steady on a busy machine)
bench-instructions:
	scripts/instructions.sh

## bench-integrity: store writes with integrity on vs off; verify vs reading the same records
bench-integrity:
	$(GO) test -run '^$$' -bench . -benchtime 10x ./internal/integrity/

## bench-sdk-change: audithttp's CPU per request with the log SDK as released and with scripts/sdklog-newrecord.patch, alternating
bench-sdk-change:
	scripts/sdk-change.sh 3

## bench-goals: every performance goal over RUNS runs (default 5): medians, ranges, runs meeting each goal, verdicts
RUNS ?= 5
bench-goals:
	scripts/bench-goals.sh $(RUNS)

## bench-latency-load: BenchmarkLatency at a quarter and half of the bare server's maximum, alternating, RUNS times
bench-latency-load:
	scripts/bench-goals.sh $(RUNS) 0.25 0.5

## bench-redaction: the masking processor next to contrib's redactionprocessor (its own module)
bench-redaction:
	cd benchmarks/redaction && $(GO) test -run '^$$' -bench . -benchtime 200x -benchmem .

## fuzz: run the masking fuzz targets for a while (FuzzDiff*: the engine against its reference, byte for byte)
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzJSON -fuzztime 60s ./internal/mask/
	$(GO) test -run '^$$' -fuzz FuzzQuery -fuzztime 30s ./internal/mask/
	$(GO) test -run '^$$' -fuzz FuzzText -fuzztime 60s ./internal/mask/
	$(GO) test -run '^$$' -fuzz FuzzBodyInPlace -fuzztime 60s ./internal/mask/
	$(GO) test -run '^$$' -fuzz '^FuzzDiffJSON$$' -fuzztime 60s ./internal/mask/
	$(GO) test -run '^$$' -fuzz '^FuzzDiffForm$$' -fuzztime 30s ./internal/mask/
	$(GO) test -run '^$$' -fuzz '^FuzzDiffHeader$$' -fuzztime 30s ./internal/mask/

## bench-http: requests/s over loopback, bare vs otelhttp vs audithttp, served (Loopback) and sent (Transport); p50/p99 at half load (Latency)
bench-http:
	$(GO) test -run "^$$" -bench "Loopback|Transport" -benchtime 7x ./instrumentation/audithttp/
	$(GO) test -run "^$$" -bench Latency -benchtime 5x ./instrumentation/audithttp/
