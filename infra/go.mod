// infra/ is the TypeScript CDK app. This file keeps it (and its node_modules,
// which ship Go templates) out of the vault module, so that go ./... skips it.
module github.com/evidencevault/vault/infra

go 1.26.0
