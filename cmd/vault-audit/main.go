// Command vault-audit walks one tenant's whole Merkle log in the evidence
// bucket, recomputes the tree and checks every commit, checkpoint, tile and
// receipt against it, naming the first inconsistency (docs/ledger.md).
//
//	vault-audit -tenant acme -key vault-key.pem... [-trusted kept-checkpoint.txt]... [-json]
//
// Trust starts from -key, the vault's public key as the auditor pinned it
// (from the operator, a receipt bundle or evault's known vaults), never
// from the bucket: the log's key history leads from it to the others.
// It needs read access to the bucket only: VAULT_BUCKET, the AWS SDK's
// standard variables (AWS_ENDPOINT_URL_S3 for MinIO) and
// VAULT_S3_PATH_STYLE=true for MinIO. Exit status: 0 consistent,
// 1 inconsistencies found, 2 the audit could not run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/vault"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vault-audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "the tenant whose log to audit (required)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var trusted, keyFiles files
	fs.Var(&trusted, "trusted", "a signed checkpoint kept from earlier, which the log must still contain (repeatable)")
	fs.Var(&keyFiles, "key", "the vault's public key (PEM) that you pinned, which the log's key history must lead from (required, repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "vault-audit:", err); return 2 }
	if *tenant == "" {
		return fail(errors.New("-tenant is required"))
	}
	if len(keyFiles) == 0 {
		return fail(errors.New("-key is required: the vault's public key as you pinned it (evault keys --out saves it; never take it from the bucket)"))
	}
	var pinned []receipt.Key
	for _, f := range keyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return fail(err)
		}
		k, err := receipt.ParsePublicKey(data)
		if err != nil {
			return fail(fmt.Errorf("-key %s: %w", f, err))
		}
		pinned = append(pinned, k)
	}
	var kept [][]byte
	for _, f := range trusted {
		data, err := os.ReadFile(f)
		if err != nil {
			return fail(err)
		}
		kept = append(kept, data)
	}
	store, err := assembly.StoreFromEnv(ctx, getenv, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fail(err)
	}
	rep, err := vault.AuditLog(ctx, store.Storage(), store.Bucket(), *tenant, pinned, kept...)
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		err = json.NewEncoder(stdout).Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fail(err)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}
