// Package minioserver runs a real MinIO server as a child process: for the
// local stack (make run) and for integration tests, which each start one on
// free ports over a temporary directory.
package minioserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Version is the MinIO release scripts/minio.sh installs.
const Version = "v0.0.0-20260212201848-7aac2a2c5b7c"

// ErrNoBinary: no MinIO binary was found; scripts/minio.sh builds one.
var ErrNoBinary = errors.New("minioserver: no minio binary: run 'make test' or 'make run' (they install it), or set MINIO_BIN")

// Find returns the MinIO binary to run: $MINIO_BIN, else minio in
// $(go env GOPATH)/bin where scripts/minio.sh installs it, else minio on
// PATH.
func Find() (string, error) {
	if p := os.Getenv("MINIO_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("minioserver: MINIO_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	if gopath != "" {
		p := filepath.Join(filepath.SplitList(gopath)[0], "bin", "minio")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	return "", ErrNoBinary
}

// Config says how to run MinIO.
type Config struct {
	// Binary is the minio executable; Find() when empty.
	Binary string
	// Dir holds MinIO's data.
	Dir string
	// Port to listen on at 127.0.0.1; a free one when 0.
	Port int
	// RootUser and RootPassword; random when empty.
	RootUser, RootPassword string
	// Env adds environment variables, such as a webhook target.
	Env []string
	// Log receives MinIO's output; discarded when nil.
	Log io.Writer
}

// Server is a running MinIO.
type Server struct {
	// Endpoint is the S3 API's base URL, http://127.0.0.1:port.
	Endpoint               string
	RootUser, RootPassword string

	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
}

// Start runs MinIO and waits until it answers S3 requests.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = Find(); err != nil {
			return nil, err
		}
	}
	if cfg.RootUser == "" {
		cfg.RootUser = "vault-" + randomHex(4)
	}
	if cfg.RootPassword == "" {
		cfg.RootPassword = randomHex(16)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	port, console := cfg.Port, 0
	var err error
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if console, err = FreePort(); err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr,
		"--console-address", "127.0.0.1:"+strconv.Itoa(console), cfg.Dir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+cfg.RootUser,
		"MINIO_ROOT_PASSWORD="+cfg.RootPassword,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	cmd.Env = append(cmd.Env, cfg.Env...)
	cmd.Stdout, cmd.Stderr = cfg.Log, cfg.Log
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("minioserver: start %s: %w", bin, err)
	}
	s := &Server{Endpoint: "http://" + addr, RootUser: cfg.RootUser, RootPassword: cfg.RootPassword, cmd: cmd, exited: make(chan struct{})}
	go func() { s.exitErr = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// startTimeout bounds how long MinIO may take to answer; a cold start over a
// fresh directory takes about a second here.
const startTimeout = 60 * time.Second

// waitReady waits until MinIO serves the S3 API to its root user: a
// bucket listing with minio-go, the MinIO client, rather than the health
// probe alone, so that a started server is one that answers requests.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	c, err := minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(s.RootUser, s.RootPassword, ""), Region: "us-east-1", MaxRetries: 1})
	if err != nil {
		return fmt.Errorf("minioserver: client: %w", err)
	}
	for {
		if _, err := c.ListBuckets(ctx); err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("minioserver: exited during start: %v", s.exitErr)
		case <-ctx.Done():
			return fmt.Errorf("minioserver: not ready at %s: %w", s.Endpoint, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends MinIO: SIGTERM, then SIGKILL after 10 seconds.
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("minioserver: killed after SIGTERM timed out")
	}
}

// Signal sends sig to MinIO's process: tests pause it (SIGSTOP) or kill it.
func (s *Server) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// Running returns the process id of a running minio one of whose
// arguments is arg (its data directory, or its --address), for tools and
// tests that watch or signal the MinIO of a stack they did not start
// themselves. It reads /proc (Linux).
func Running(arg string) (int, bool) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		if len(args) > 1 && filepath.Base(args[0]) == "minio" && slices.Contains(args, arg) {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid, err == nil
		}
	}
	return 0, false
}

// Port is the port the S3 API listens on.
func (s *Server) Port() int {
	_, port, _ := strings.Cut(strings.TrimPrefix(s.Endpoint, "http://127.0.0.1"), ":")
	n, _ := strconv.Atoi(port)
	return n
}

// Exited is closed when MinIO's process ends.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// WebhookARN is the queue ARN of the webhook target WebhookEnv configures,
// for a bucket notification configuration.
const WebhookARN = "arn:minio:sqs::PRIMARY:webhook"

// WebhookEnv returns the environment that points MinIO's webhook target
// PRIMARY at url, with token as its bearer token. (MinIO's
// ListenBucketNotification streams nothing in the pinned build; its webhook
// target delivers.)
func WebhookEnv(url, token string) []string {
	return []string{
		"MINIO_NOTIFY_WEBHOOK_ENABLE_PRIMARY=on",
		"MINIO_NOTIFY_WEBHOOK_ENDPOINT_PRIMARY=" + url,
		"MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_PRIMARY=" + token,
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("minioserver: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
