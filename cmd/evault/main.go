// Command evault is the Evidence Vault CLI for uploaders and auditors; see
// `evault --help` and README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/evidencevault/vault/internal/evault"
	"golang.org/x/term"
)

// version is set by release builds (make release: -ldflags -X).
var version string

func main() {
	// Ctrl-C cancels the context: uploads stop with their state kept, and
	// running the same command again resumes them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := &evault.Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Terminal: term.IsTerminal(int(os.Stderr.Fd())), Version: version}
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
