package minioserver_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evidencevault/vault/internal/minioserver"
)

func TestStartStop(t *testing.T) {
	srv, err := minioserver.Start(context.Background(), minioserver.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.Endpoint + "/minio/health/live")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("MinIO still running after Stop")
	}
	if _, err := http.Get(srv.Endpoint + "/minio/health/live"); err == nil {
		t.Error("MinIO still answering after Stop")
	}
}

func TestFindHonoursMINIO_BIN(t *testing.T) {
	t.Setenv("MINIO_BIN", filepath.Join(t.TempDir(), "no-such-minio"))
	if _, err := minioserver.Find(); err == nil {
		t.Error("a MINIO_BIN that does not exist was accepted")
	}
	t.Setenv("MINIO_BIN", "")
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	if _, err := minioserver.Find(); !errors.Is(err, minioserver.ErrNoBinary) {
		t.Errorf("got %v, want ErrNoBinary", err)
	}
}

func TestStartFailsClearly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "minio")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := minioserver.Start(context.Background(), minioserver.Config{Binary: bin, Dir: t.TempDir()})
	if err == nil {
		t.Fatal("a MinIO that exits at once was reported started")
	}
}
