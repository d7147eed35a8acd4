# Evidence Vault. The two commands: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

FUNCTIONS := $(notdir $(wildcard functions/*))
# Lambda's provided.al2023 runtime on Graviton: a static arm64 binary named
# bootstrap, without the RPC shim (lambda.norpc).
LAMBDA_BUILD := GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags="-s -w"

.PHONY: run test bench build vet fmt-check clean

## run: start the whole vault locally on a real MinIO (Ctrl-C stops it)
run:
	@minio="$$(scripts/minio.sh)"; go build -o build/vault-local ./cmd/vault-local; \
	MINIO_BIN="$$minio" exec build/vault-local

## test: vet, then every test with the race detector, against a real MinIO
test: fmt-check vet
	@scripts/tools.sh
	MINIO_BIN="$$(scripts/minio.sh)" go test -race -count=1 -timeout 20m ./...

vet:
	go vet ./...

fmt-check:
	@files="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [[ -n "$$files" ]]; then echo "gofmt would change:"; echo "$$files"; exit 1; fi

## bench: upload, complete, concurrent-complete (ledger), 2 GiB multipart and seal, and verify figures against a real MinIO, each beside its baseline
bench:
	MINIO_BIN="$$(scripts/minio.sh)" go test -run '^$$' -bench 'Upload256|Latency' -benchtime 5x -count 1 -timeout 30m ./internal/bench/
	MINIO_BIN="$$(scripts/minio.sh)" go test -run '^$$' -bench 'Concurrent|Multipart2GiB|Verify1GiB' -benchtime 1x -count 1 -timeout 30m ./internal/bench/

## build: linux/arm64 bootstrap zips for provided.al2023, one per function
build: $(FUNCTIONS:%=build/%.zip)

build/%.zip: FORCE
	@mkdir -p build/$*
	$(LAMBDA_BUILD) -o build/$*/bootstrap ./functions/$*
	go tool build-lambda-zip -o $@ build/$*/bootstrap

FORCE:

clean:
	rm -rf build
