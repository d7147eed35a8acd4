package testenv

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/devstack"
	"github.com/evidencevault/vault/internal/minioserver"
)

// LocalStack starts the local stack (make run) in dir, with its own MinIO,
// and waits for its env file. stop ends it (also at cleanup); out is what
// it printed; corsOrigins may call the API and the presigned URLs from
// browsers.
func LocalStack(t testing.TB, dir string, corsOrigins ...string) (env map[string]string, out *LockedBuffer, stop func() error) {
	t.Helper()
	port, err := minioserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	out = &LockedBuffer{}
	go func() {
		done <- devstack.Run(ctx, devstack.Options{
			Dir: filepath.Join(dir, ".local"), Addr: "127.0.0.1:" + strconv.Itoa(port), Out: out, Log: Logger(t), CORSOrigins: corsOrigins,
		})
	}()
	envFile := filepath.Join(dir, ".local", "env")
	deadline := time.Now().Add(90 * time.Second)
	for {
		if data, err := os.ReadFile(envFile); err == nil {
			env = parseEnv(t, data)
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("stack stopped before it was ready: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("stack not ready after 90 s")
		}
	}
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return env, out, stop
}

// LockedBuffer collects output written from other goroutines.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func parseEnv(t testing.TB, data []byte) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			t.Fatalf("env line %q is not NAME=value", sc.Text())
		}
		env[k] = v
	}
	return env
}
