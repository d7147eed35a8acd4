# Evidence Vault. The two commands: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

FUNCTIONS := $(notdir $(wildcard functions/*))
# Lambda's provided.al2023 runtime on Graviton: a static arm64 binary named
# bootstrap, without the RPC shim (lambda.norpc).
LAMBDA_BUILD := GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags="-s -w"

# cdk synth and the infra tests run without AWS credentials, as in CI.
CDK_OFFLINE := env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
	AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true

.PHONY: screenshots run test infra-test synth deploy bench soak build release vet fmt-check clean

## run: start the whole vault locally on a real MinIO (Ctrl-C stops it)
run:
	@scripts/portal.sh
	@minio="$$(scripts/minio.sh)"; go build -o build/vault-local ./cmd/vault-local; \
	MINIO_BIN="$$minio" exec build/vault-local

## test: vet, every Go test with the race detector against a real MinIO, Debian's Chromium and cosign, then the infra checks
test: fmt-check vet
	@scripts/tools.sh
	@scripts/portal.sh
	MINIO_BIN="$$(scripts/minio.sh)" CHROMIUM_BIN="$$(scripts/chromium.sh)" COSIGN_BIN="$$(scripts/cosign.sh)" go test -race -count=1 -timeout 20m ./...
	$(MAKE) infra-test

infra/node_modules: infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --loglevel=error
	touch infra/node_modules

## infra-test: CDK assertion tests and cdk-nag (node --test), then cdk synth without AWS credentials
infra-test: build infra/node_modules
	cd infra && $(CDK_OFFLINE) npm test --silent
	cd infra && $(CDK_OFFLINE) npx cdk synth --quiet --no-notices

## screenshots: the portal's main pages, from its browser tests, into docs/img/
screenshots:
	@scripts/portal.sh
	mkdir -p docs/img
	PORTAL_SCREENSHOTS="$$PWD/docs/img" MINIO_BIN="$$(scripts/minio.sh)" CHROMIUM_BIN="$$(scripts/chromium.sh)" go test -count=1 -run 'TestPortal(Upload|Auditor)' ./internal/devstack/

## release: cross-build evault for Linux, macOS and Windows (amd64, arm64) into dist/ with SHA256SUMS (VERSION=v1.2.0)
release:
	scripts/release.sh dist

## synth: write the CloudFormation template to infra/cdk.out/EvidenceVault.template.json
synth: build infra/node_modules
	cd infra && $(CDK_OFFLINE) npm run build --silent && $(CDK_OFFLINE) npx cdk synth --quiet --no-notices
	@echo "template: infra/cdk.out/EvidenceVault.template.json"

## deploy: JWT_ISSUER=https://… JWT_AUDIENCE=… make deploy (or COGNITO=true SIGNIN_DOMAIN=prefix make deploy); see docs/deploy.md
deploy: build infra/node_modules
	@if [[ -z "$${COGNITO:-}" && ( -z "$${JWT_ISSUER:-}" || -z "$${JWT_AUDIENCE:-}" ) ]]; then \
	  echo "make deploy: set JWT_ISSUER and JWT_AUDIENCE, or COGNITO=true and SIGNIN_DOMAIN (docs/deploy.md)" >&2; exit 2; fi
	@if [[ -n "$${COGNITO:-}" && -z "$${SIGNIN_DOMAIN:-}" ]]; then \
	  echo "make deploy: COGNITO=true needs SIGNIN_DOMAIN, the prefix of the hosted sign-in domain (docs/deploy.md)" >&2; exit 2; fi
	cd infra && npm run build --silent && npx cdk deploy --require-approval broadening \
	  $$( [[ -n "$${COGNITO:-}" ]] && echo "-c cognito=true -c cognitoDomainPrefix=$$SIGNIN_DOMAIN" || echo "--parameters JwtIssuer=$$JWT_ISSUER --parameters JwtAudience=$$JWT_AUDIENCE $${TENANT_CLAIM:+--parameters TenantClaim=$$TENANT_CLAIM} $${ROLE_CLAIM:+--parameters RoleClaim=$$ROLE_CLAIM} $${CLI_REDIRECT_URI:+--parameters CliRedirectUri=$$CLI_REDIRECT_URI}" ) \
	  $${RETENTION_DAYS:+-c defaultRetentionDays=$$RETENTION_DAYS} \
	  $${SIGNING_KEY_GENERATION:+-c signingKeyGeneration=$$SIGNING_KEY_GENERATION} \
	  $${PREVIOUS_SIGNING_KEY_ARN:+-c previousSigningKeyArn=$$PREVIOUS_SIGNING_KEY_ARN} \
	  $${CORS_ORIGINS:+-c corsOrigins=$$CORS_ORIGINS} \
	  $${TSA_URL:+-c tsaUrl=$$TSA_URL -c tsaRootsFile=$$TSA_ROOTS_FILE} \
	  $${TSA_POLICY:+-c tsaPolicy=$$TSA_POLICY} $${TSA_QUALIFIED:+-c tsaQualified=$$TSA_QUALIFIED} \
	  $${TSA_AUTH_SECRET_ARN:+-c tsaAuthSecretArn=$$TSA_AUTH_SECRET_ARN} \
	  $${WITNESSES:+-c "witnesses=$$WITNESSES"} $${WITNESS_QUORUM:+-c witnessQuorum=$$WITNESS_QUORUM}

vet:
	go vet ./...

fmt-check:
	@files="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [[ -n "$$files" ]]; then echo "gofmt would change:"; echo "$$files"; exit 1; fi

## bench: upload, complete, concurrent-complete (ledger), timestamps and witnesses, retention extension, 2 GiB multipart and seal, verify, and the portal's verify and first load against a real MinIO and Chromium, each beside its baseline
bench:
	MINIO_BIN="$$(scripts/minio.sh)" go test -run '^$$' -bench 'Upload256|Latency' -benchtime 5x -count 1 -timeout 30m ./internal/bench/
	MINIO_BIN="$$(scripts/minio.sh)" go test -run '^$$' -bench 'Concurrent|Multipart2GiB|Verify1GiB|IndependentTrust|ExtendRetention' -benchtime 1x -count 1 -timeout 30m ./internal/bench/
	MINIO_BIN="$$(scripts/minio.sh)" go test -run '^$$' -bench 'ColdStart' -benchtime 1x -count 1 -timeout 10m ./internal/runtimeapi/
	@scripts/portal.sh
	MINIO_BIN="$$(scripts/minio.sh)" CHROMIUM_BIN="$$(scripts/chromium.sh)" go test -run '^$$' -bench 'Portal' -benchtime 1x -count 1 -timeout 30m ./internal/bench/

## soak: SOAK_MINUTES of continuous 1 KiB uploads from SOAK_CLIENTS clients against the local stack, then an audit of the whole log (not part of make test)
SOAK_MINUTES ?= 5
SOAK_CLIENTS ?= 16
soak:
	@scripts/portal.sh
	@minio="$$(scripts/minio.sh)"; go build -o build/vault-local ./cmd/vault-local; \
	MINIO_BIN="$$minio" go run ./cmd/vault-soak -server build/vault-local -minutes $(SOAK_MINUTES) -clients $(SOAK_CLIENTS)

## build: linux/arm64 bootstrap zips for provided.al2023, one per function
build: $(FUNCTIONS:%=build/%.zip)

build/%.zip: FORCE
	@scripts/portal.sh
	@mkdir -p build/$*
	$(LAMBDA_BUILD) -o build/$*/bootstrap ./functions/$*
	go tool build-lambda-zip -o $@ build/$*/bootstrap

FORCE:

clean:
	rm -rf build infra/dist infra/cdk.out
