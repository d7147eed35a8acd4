// Command vault-soak runs the local stack under continuous uploads for a
// fixed time and reports what held (make soak; docs/reliability.md).
//
//	vault-soak -server build/vault-local -minutes 5 -clients 16
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/evidencevault/vault/internal/soak"
)

func main() {
	server := flag.String("server", "build/vault-local", "the vault-local binary to run")
	minutes := flag.Float64("minutes", 5, "how long to upload")
	clients := flag.Int("clients", 16, "how many clients upload at once")
	flag.Parse()
	if *minutes <= 0 || *clients < 1 {
		fmt.Fprintln(os.Stderr, "vault-soak: -minutes must be positive and -clients at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := soak.Run(ctx, soak.Options{Server: *server, Duration: time.Duration(*minutes * float64(time.Minute)), Clients: *clients, Out: os.Stdout})
	if rep != nil {
		rep.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vault-soak:", err)
		os.Exit(1)
	}
	if len(rep.AuditProblems) > 0 || len(rep.Errors) > 0 {
		os.Exit(1)
	}
}
