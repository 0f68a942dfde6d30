# otelaudit — developer entry points. `make test` is what CI runs.

GO ?= go
# Packages with concurrency run under the race detector.
RACE_PKGS := ./instrumentation/... ./internal/...

.PHONY: test services services-down vet demo bench bench-http bench-redaction fuzz

## test: start PostgreSQL and the MongoDB-wire server, then vet and run every test
test: services vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

## services: start the test services (scripts/services.sh up)
services:
	scripts/services.sh up

## services-down: stop the MongoDB-wire test server
services-down:
	scripts/services.sh down

## vet: gofmt and go vet, for the module and the tools
vet:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" >&2; exit 1)
	$(GO) vet ./...
	cd tools/ferretdb && $(GO) vet ./...

## demo: run the example service, send it a request mix, print the audit records
demo:
	$(GO) run ./examples/service -traffic -addr 127.0.0.1:0

## bench: in-process benchmarks: wrapper (bare, otelhttp, audithttp), masking, processors
bench:
	$(GO) test -run '^$$' -bench Handler -benchmem ./instrumentation/audithttp/
	$(GO) test -run '^$$' -bench . -benchmem ./internal/mask/
	$(GO) test -run '^$$' -bench . -benchtime 2000x -benchmem ./processor/sampling/

## bench-redaction: the masking processor next to contrib's redactionprocessor (its own module)
bench-redaction:
	cd benchmarks/redaction && $(GO) test -run '^$$' -bench . -benchtime 200x -benchmem .

## fuzz: run the masking fuzz targets for a while
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzJSON -fuzztime 60s ./internal/mask/
	$(GO) test -run '^$$' -fuzz FuzzQuery -fuzztime 30s ./internal/mask/
	$(GO) test -run '^$$' -fuzz FuzzText -fuzztime 60s ./internal/mask/

## bench-http: requests/s over loopback, bare vs otelhttp vs audithttp
bench-http:
	$(GO) test -run "^$$" -bench Loopback -benchtime 7x ./instrumentation/audithttp/
