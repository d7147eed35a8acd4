// Package soak runs the local stack under continuous uploads for a fixed
// time (make soak, docs/reliability.md): clients start, send and complete
// 1 KiB uploads through the API as the CLI does, and the report gives the
// completes, the errors by kind, p50 and p99, the memory and file
// descriptors of the stack's process and of its MinIO at start and end,
// and an audit of the whole log with its duration.
package soak

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evidencevault/vault/client"
	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/minioserver"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/vault"
)

// Options configure a soak.
type Options struct {
	// Server is the vault-local binary to run.
	Server string
	// Duration of the uploads, and how many clients send them at once.
	Duration time.Duration
	Clients  int
	// Out receives progress and the report.
	Out io.Writer
}

// Report is what a soak measured.
type Report struct {
	Completes     int
	Errors        map[string]int
	P50, P99      time.Duration
	Elapsed       time.Duration
	Start, End    Usage // the stack's process
	MinIOStart    Usage
	MinIOEnd      Usage
	AuditEntries  int64
	AuditProblems []string
	AuditTook     time.Duration
	// EventsQueued are the storage events (the seal's safety net) MinIO
	// still held for the stack when the uploads ended, and EventsDrained
	// how long they took to be delivered (0 if they were not within
	// drainWait).
	EventsQueued  int
	EventsDrained time.Duration
}

// drainWait bounds the wait for queued storage events.
const drainWait = 5 * time.Minute

// queuedEvents counts the events MinIO's webhook queue holds on disk.
func queuedEvents(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// Usage is one process's resident memory and open file descriptors.
type Usage struct {
	RSSKiB int64
	FDs    int
}

func (u Usage) String() string {
	return fmt.Sprintf("%.1f MiB RSS, %d fds", float64(u.RSSKiB)/1024, u.FDs)
}

// Run starts the stack in a temporary directory, soaks it and stops it.
func Run(ctx context.Context, o Options) (*Report, error) {
	dir, err := os.MkdirTemp("", "vault-soak-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	port, err := minioserver.FreePort()
	if err != nil {
		return nil, err
	}
	local := filepath.Join(dir, ".local")
	cmd := exec.Command(o.Server)
	cmd.Env = append(os.Environ(), "VAULT_LOCAL_DIR="+local, "VAULT_ADDR=127.0.0.1:"+strconv.Itoa(port), "VAULT_LOCK_MODE=GOVERNANCE")
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("soak: start %s: %w", o.Server, err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	}()
	env, err := waitEnv(ctx, filepath.Join(local, "env"))
	if err != nil {
		return nil, err
	}
	minio, err := minioPID(local)
	if err != nil {
		return nil, err
	}
	c, err := client.New(env["VAULT_URL"], env["VAULT_UPLOADER_TOKEN"], client.NewHTTPClient())
	if err != nil {
		return nil, err
	}
	implantable, ai := false, true
	d, err := c.CreateDossier(ctx, vault.DossierInput{Name: "Soak device", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K",
		Regulation: regulation.MDR, RiskClass: "IIa", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"})
	if err != nil {
		return nil, fmt.Errorf("soak: create dossier: %w", err)
	}
	rep := &Report{Errors: map[string]int{}, Start: usage(cmd.Process.Pid), MinIOStart: usage(minio)}
	fmt.Fprintf(o.Out, "soak: %d clients for %s against %s (stack %s; MinIO %s)\n", o.Clients, o.Duration, env["VAULT_URL"], rep.Start, rep.MinIOStart)

	var mu sync.Mutex
	var lat []time.Duration
	stop := time.Now().Add(o.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for n := range o.Clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				took, err := uploadOne(ctx, c, d.ID, fmt.Sprintf("soak/c%02d/doc-%06d.txt", n, i))
				mu.Lock()
				if err != nil {
					rep.Errors[kind(err)]++
				} else {
					lat = append(lat, took)
				}
				mu.Unlock()
			}
		})
	}
	tick := time.NewTicker(30 * time.Second)
	go func() {
		for range tick.C {
			mu.Lock()
			n := len(lat)
			mu.Unlock()
			fmt.Fprintf(o.Out, "soak: %s, %d completes, stack %s\n", time.Since(start).Round(time.Second), n, usage(cmd.Process.Pid))
		}
	}()
	wg.Wait()
	tick.Stop()
	rep.Elapsed = time.Since(start)
	rep.End, rep.MinIOEnd = usage(cmd.Process.Pid), usage(minio)
	rep.Completes = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		rep.P50, rep.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	events := filepath.Join(local, "minio-events")
	rep.EventsQueued = queuedEvents(events)
	for t0 := time.Now(); time.Since(t0) < drainWait; time.Sleep(time.Second) {
		if queuedEvents(events) == 0 {
			rep.EventsDrained = time.Since(t0)
			break
		}
	}
	if err := audit(ctx, local, env, rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// uploadOne starts an upload of 1 KiB, sends it to its presigned URL and
// completes it, as the CLI does, and returns how long complete took.
func uploadOne(ctx context.Context, c *client.Client, dossier, path string) (time.Duration, error) {
	body := make([]byte, 1024)
	rand.Read(body)
	sum := sha256.Sum256(body)
	tk, err := c.StartUpload(ctx, dossier, vault.Document{
		Path: path, Title: "Soak report", Kind: regulation.KindTestReport, Section: "MDR-II-6.1", Revision: "1",
		Language: "en", EffectiveDate: "2026-11-23", Author: "soak",
		File: vault.File{Name: filepath.Base(path), Size: 1024, SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"},
	}, client.StartOptions{})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, tk.Upload.Method, tk.Upload.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range tk.Upload.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("put: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("put: storage answered %d", resp.StatusCode)
	}
	t0 := time.Now()
	if _, err := c.Complete(ctx, tk.UploadID, nil); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// kind names an error for the report: the problem type, or what failed.
func kind(err error) string {
	var p *client.Problem
	if errors.As(err, &p) {
		return strings.TrimPrefix(p.Type, "https://evidencevault.dev/problems/")
	}
	if strings.HasPrefix(err.Error(), "put:") {
		return "put"
	}
	return "transport"
}

// audit audits the tenant's whole log from the stack's bucket, with the
// key pinned from the stack's signing key file, and times it.
func audit(ctx context.Context, local string, env map[string]string, rep *Report) error {
	keyPEM, err := os.ReadFile(filepath.Join(local, "signing-key.pem"))
	if err != nil {
		return err
	}
	signer, err := receipt.NewLocalSigner(keyPEM)
	if err != nil {
		return err
	}
	pub, err := receipt.NewKey(signer.Public().(*ecdsa.PublicKey))
	if err != nil {
		return err
	}
	creds, err := os.ReadFile(filepath.Join(local, "minio-credentials"))
	if err != nil {
		return err
	}
	f := strings.Fields(string(creds))
	if len(f) != 2 {
		return errors.New("soak: unreadable minio-credentials")
	}
	s3c, err := assembly.NewS3Client(ctx, assembly.S3{Endpoint: env["VAULT_S3_ENDPOINT"], Region: "us-east-1", AccessKey: f[0], SecretKey: f[1], PathStyle: true})
	if err != nil {
		return err
	}
	st := s3store.New(s3c, env["VAULT_BUCKET"], slog.New(slog.DiscardHandler)).Storage()
	t0 := time.Now()
	a, err := vault.AuditLog(ctx, st, env["VAULT_BUCKET"], env["VAULT_TENANT"], []receipt.Key{pub})
	rep.AuditTook = time.Since(t0)
	if err != nil {
		return fmt.Errorf("soak: audit: %w", err)
	}
	rep.AuditEntries, rep.AuditProblems = a.Size, a.Problems
	return nil
}

// waitEnv waits for the stack's env file, the sign that it is up.
func waitEnv(ctx context.Context, path string) (map[string]string, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if f, err := os.Open(path); err == nil {
			env := map[string]string{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), "="); ok {
					env[k] = v
				}
			}
			f.Close()
			return env, nil
		}
		if time.Now().After(deadline) {
			return nil, errors.New("soak: the stack was not up after 2 minutes")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// minioPID finds the MinIO serving the stack's data directory.
func minioPID(local string) (int, error) {
	if pid, ok := minioserver.Running(filepath.Join(local, "minio")); ok {
		return pid, nil
	}
	return 0, errors.New("soak: the stack's MinIO process not found")
}

// usage reads a process's resident memory and open descriptors (Linux).
func usage(pid int) Usage {
	var u Usage
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				u.RSSKiB, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		u.FDs = len(fds)
	}
	return u
}

// WriteText prints the report.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "\ncompletes:   %d in %s (%.1f/s)\n", r.Completes, r.Elapsed.Round(time.Second), float64(r.Completes)/r.Elapsed.Seconds())
	fmt.Fprintf(w, "errors:      %v\n", r.Errors)
	fmt.Fprintf(w, "complete:    p50 %s, p99 %s\n", r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond))
	fmt.Fprintf(w, "stack:       start %s, end %s\n", r.Start, r.End)
	fmt.Fprintf(w, "MinIO:       start %s, end %s\n", r.MinIOStart, r.MinIOEnd)
	status := "clean"
	if len(r.AuditProblems) > 0 {
		status = fmt.Sprintf("%d problems, first: %s", len(r.AuditProblems), r.AuditProblems[0])
	}
	drained := "not within " + drainWait.String()
	if r.EventsDrained > 0 || r.EventsQueued == 0 {
		drained = "drained in " + r.EventsDrained.Round(time.Second).String()
	}
	fmt.Fprintf(w, "events:      %d storage events queued at the end, %s\n", r.EventsQueued, drained)
	fmt.Fprintf(w, "audit:       %d entries in %s: %s\n", r.AuditEntries, r.AuditTook.Round(time.Millisecond), status)
}
