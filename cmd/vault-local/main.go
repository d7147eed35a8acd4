// Command vault-local runs the whole vault on this machine on a real MinIO:
// what `make run` starts. Ctrl-C stops it; the data stays in .local.
//
// Environment: VAULT_ADDR (default 127.0.0.1:8787), VAULT_LOCAL_DIR
// (default .local), VAULT_LOCK_MODE (COMPLIANCE, or GOVERNANCE for
// throw-away data), VAULT_CORS_ORIGINS (origins whose browser scripts may
// call the API and the presigned URLs, comma-separated; none by default),
// MINIO_BIN (default: the one scripts/minio.sh installs).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/evidencevault/vault/internal/devstack"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/logging"
	"github.com/evidencevault/vault/internal/vault"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := os.Getenv("VAULT_LOCAL_DIR")
	if dir == "" {
		dir = ".local"
	}
	origins, err := httpapi.ParseOrigins(os.Getenv("VAULT_CORS_ORIGINS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "vault-local: VAULT_CORS_ORIGINS:", err)
		os.Exit(2)
	}
	err = devstack.Run(ctx, devstack.Options{
		Dir:         dir,
		Addr:        os.Getenv("VAULT_ADDR"),
		MinIOBinary: os.Getenv("MINIO_BIN"),
		LockMode:    vault.LockMode(os.Getenv("VAULT_LOCK_MODE")),
		CORSOrigins: origins,
		Out:         os.Stdout,
		Log:         logging.New(os.Stderr, slog.LevelInfo),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "vault-local:", err)
		os.Exit(1)
	}
}
