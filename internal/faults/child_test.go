package faults_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/vault"
)

// childEnv carries what a campaign's vault process needs.
const childEnv = "FAULTS_CHILD"

// childSpec is one vault process: it completes Uploads, in an order
// shuffled by Seed when set, and with KillAfter set kills itself (SIGKILL)
// the moment its KillAfter-th storage request has been answered.
type childSpec struct {
	S3              assembly.S3
	Bucket, Scratch string
	KeyPEM          string
	Uploads         []string
	Seed            uint64
	KillAfter       int64
}

type childResult struct {
	Receipts map[string]string // upload id -> receipt id
	Requests int64
	Errors   []string
}

// killingTransport counts storage requests and kills the process after
// the one it is told.
type killingTransport struct {
	n, after int64
	next     http.RoundTripper
	count    atomic.Int64
}

func (k *killingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := k.next.RoundTrip(r)
	if n := k.count.Add(1); k.after > 0 && n == k.after {
		// The request took effect at storage; the process learns
		// nothing more.
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	return resp, err
}

func child(spec string) int {
	var s childSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kt := &killingTransport{after: s.KillAfter, next: http.DefaultTransport}
	s.S3.HTTPClient = &http.Client{Transport: kt}
	svc, err := newVault(s.S3, s.Bucket, s.Scratch, []byte(s.KeyPEM))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	order := append([]string(nil), s.Uploads...)
	if s.Seed != 0 {
		rand.New(rand.NewPCG(s.Seed, s.Seed)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return 1
	}
	res := childResult{Receipts: map[string]string{}}
	for _, id := range order {
		r, err := svc.Complete(vault.NewContext(context.Background(), uploader), id)
		if err != nil {
			res.Errors = append(res.Errors, errorKind(err)+": "+err.Error())
			continue
		}
		res.Receipts[id] = r.Predicate.ReceiptID
	}
	svc.Flush(context.Background())
	res.Requests = kt.count.Load()
	json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// running is a started child, waiting for the word to go.
type running struct {
	cmd   *exec.Cmd
	stdin interface{ Write([]byte) (int, error) }
	out   *bufio.Reader
}

// startChild starts a vault process of the world's and waits until it is
// ready.
func (w *world) startChild(s childSpec) *running {
	w.t.Helper()
	s.S3, s.Bucket, s.Scratch, s.KeyPEM = w.s3(w.env.Endpoint), w.bucket, w.scratch, string(w.keyPEM)
	data, _ := json.Marshal(s)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(data))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := &running{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	if line, err := r.out.ReadString('\n'); err != nil || line != "ready\n" {
		w.t.Fatalf("child: %q %v", line, err)
	}
	return r
}

func (r *running) start() { r.stdin.Write([]byte("go\n")) }

// result waits for the child: its result, or killed when it died of
// SIGKILL.
func (r *running) result(t *testing.T) (res childResult, killed bool) {
	t.Helper()
	dec := json.NewDecoder(r.out)
	decErr := dec.Decode(&res)
	err := r.cmd.Wait()
	if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return res, true
	}
	if err != nil || decErr != nil {
		t.Fatalf("child: %v, %v", err, decErr)
	}
	return res, false
}
