package runtimeapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/runtimeapi"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

// BenchmarkColdStart measures, for each function, the time from starting
// its bootstrap process to its first response under the Runtime API (the
// event already waiting, as in a Lambda cold start), and the size of the
// binary as make build ships it (linux/arm64) and as run here, beside the
// smallest aws-lambda-go function as the baseline of this machine. Targets
// (issue 5): at most 50 ms and at most 20 MB.
func BenchmarkColdStart(b *testing.B) {
	env := testenv.Get(b)
	store := env.Bucket(b, false)
	env.SetFunctionEnv(b, store.Bucket())
	const trials = 15
	events := map[string][][]byte{
		"api":     repeat(readFile(b, "../../functions/api/testdata/get-keys.json"), 2*trials),
		"seal":    sealEvents(b, store.Bucket(), 2*trials),
		"minimal": repeat([]byte(`{}`), 2*trials),
	}
	for _, name := range []string{"minimal", "api", "seal"} {
		pkg := "../../functions/" + name
		if name == "minimal" {
			pkg = "./testdata/minimal"
		}
		bin := buildPackage(b, pkg)
		hostSize := size(b, bin)
		armSize := size(b, crossBuild(b, pkg))
		var took, inits, warm []time.Duration
		for i := range trials {
			api, err := runtimeapi.Start()
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan runtimeapi.Result, 1)
			go func() { done <- invoke(b, api, events[name][2*i]) }()
			time.Sleep(5 * time.Millisecond) // the event is queued before the process starts
			start := time.Now()
			cmd := boot(b, bin, api, name)
			r := <-done
			if r.Error != nil {
				b.Fatalf("%s: %s", name, r.Error)
			}
			took = append(took, r.At.Sub(start))
			inits = append(inits, api.FirstPoll().Sub(start))
			// The same work again in the now warm process.
			again := time.Now()
			if r := invoke(b, api, events[name][2*i+1]); r.Error != nil {
				b.Fatalf("%s: %s", name, r.Error)
			}
			warm = append(warm, time.Since(again))
			cmd.Process.Kill()
			cmd.Wait()
			api.Close()
		}
		slices.Sort(took)
		slices.Sort(inits)
		slices.Sort(warm)
		median, worst, init, hot := took[len(took)/2], took[len(took)-1], inits[len(inits)/2], warm[len(warm)/2]
		b.ReportMetric(float64(hot.Microseconds())/1000, name+"-warm-ms")
		b.ReportMetric(float64(init.Microseconds())/1000, name+"-init-ms")
		b.ReportMetric(float64(median.Microseconds())/1000, name+"-cold-start-ms")
		b.ReportMetric(float64(worst.Microseconds())/1000, name+"-cold-start-max-ms")
		b.ReportMetric(float64(armSize)/(1<<20), name+"-arm64-MB")
		b.Logf("%s: cold start to first response median %v (init %v; the same request warm %v), max %v over %d starts; bootstrap %.1f MiB linux/arm64, %.1f MiB here (targets 50 ms, 20 MB)",
			name, median.Round(100*time.Microsecond), init.Round(100*time.Microsecond), hot.Round(100*time.Microsecond), worst.Round(100*time.Microsecond), trials, float64(armSize)/(1<<20), float64(hostSize)/(1<<20))
	}
}

func repeat(p []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = p
	}
	return out
}

func size(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// crossBuild builds the bootstrap exactly as make build does.
func crossBuild(b *testing.B, pkg string) string {
	out := filepath.Join(b.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// sealEvents uploads n files without completing them and returns the S3
// event of each, so that every cold start seals a real upload.
func sealEvents(b *testing.B, bucket string, n int) [][]byte {
	ctx := context.Background()
	c, err := assembly.FromEnv(os.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	v, err := assembly.New(ctx, c, testenv.Logger(b))
	if err != nil {
		b.Fatal(err)
	}
	alice := vault.NewContext(ctx, vault.Identity{Tenant: "demo", Subject: "alice@demo.example", Role: vault.RoleUploader})
	implantable, ai := false, false
	d, err := v.Service.CreateDossier(alice, vault.DossierInput{Name: "Cold start", BasicUDIDI: "12345ANJ", Regulation: regulation.MDR,
		RiskClass: "IIa", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"})
	if err != nil {
		b.Fatal(err)
	}
	var recorded events.S3Event
	if err := json.Unmarshal(readFile(b, "../../functions/seal/testdata/s3-put.json"), &recorded); err != nil {
		b.Fatal(err)
	}
	var out [][]byte
	for i := range n {
		body := []byte(fmt.Sprintf("report %d\n", i))
		sum := sha256.Sum256(body)
		path := fmt.Sprintf("reports/r%02d.txt", i)
		tk, err := v.Service.StartUpload(alice, d.ID, vault.Document{Path: path, Title: "Report", Kind: regulation.KindTestReport,
			Section: "MDR-II-6.1", Revision: "1", Language: "en", EffectiveDate: "2026-11-23", Author: "QA",
			File: vault.File{Name: filepath.Base(path), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}})
		if err != nil {
			b.Fatal(err)
		}
		if got := testenv.Curl(b, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, body); got.Status != http.StatusOK {
			b.Fatalf("PUT: %d", got.Status)
		}
		key := "evidence/demo/" + d.ID + "/" + path
		ev := recorded
		ev.Records = []events.S3EventRecord{recorded.Records[0]}
		ev.Records[0].S3.Bucket.Name = bucket
		ev.Records[0].S3.Object.Key = strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
		ev.Records[0].S3.Object.VersionID = ""
		p, _ := json.Marshal(ev)
		out = append(out, p)
	}
	return out
}
