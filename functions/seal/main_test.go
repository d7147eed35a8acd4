package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/evidencevault/vault/internal/assembly"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// TestSealFunction uploads without calling complete, then delivers the S3
// event AWS would send through the handler main gives lambda.Start.
func TestSealFunction(t *testing.T) {
	env := testenv.Get(t)
	store := env.Bucket(t, false)
	env.SetFunctionEnv(t, store.Bucket())
	ctx := context.Background()
	fn, err := assembly.SealHandler(ctx, os.Getenv, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}

	// An uploader starts an upload through the same service and PUTs it.
	c, err := assembly.FromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	v, err := assembly.New(ctx, c, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	alice := vault.NewContext(ctx, vault.Identity{Tenant: "demo", Subject: "alice@demo.example", Role: vault.RoleUploader})
	implantable, ai := false, true
	d, err := v.Service.CreateDossier(alice, vault.DossierInput{Name: "CardioScan AI", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K",
		Regulation: regulation.MDR, RiskClass: "IIa", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"})
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("hello")
	sum := sha256.Sum256(content)
	path := "test reports/validation+1.txt"
	tk, err := v.Service.StartUpload(alice, d.ID, vault.Document{Path: path, Title: "Validation", Kind: regulation.KindTestReport,
		Section: "MDR-II-6.1", Revision: "1", Language: "en", EffectiveDate: "2026-11-23", Author: "QA",
		File: vault.File{Name: "validation+1.txt", Size: 5, SHA256: hex.EncodeToString(sum[:]), ContentType: "text/plain"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := testenv.Curl(t, tk.Upload.Method, tk.Upload.URL, tk.Upload.Headers, content); got.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", got.Status, got.Body)
	}
	key := "evidence/demo/" + d.ID + "/" + path
	versions, err := store.Versions(ctx, key)
	if err != nil || len(versions) != 1 {
		t.Fatalf("versions: %v %v", versions, err)
	}

	// The recorded AWS event, pointed at this object. AWS URL-encodes the
	// key as a form value but leaves the slashes.
	data, err := os.ReadFile("testdata/s3-put.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.S3Event
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	ev.Records[0].S3.Bucket.Name = store.Bucket()
	ev.Records[0].S3.Object.Key = strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
	ev.Records[0].S3.Object.VersionID = versions[0]
	payload, _ := json.Marshal(ev)
	if _, err := lambda.NewHandler(fn).Invoke(ctx, payload); err != nil {
		t.Fatalf("seal: %v", err)
	}

	r, err := v.Service.Receipt(alice, "rcp_"+strings.TrimPrefix(tk.UploadID, "upl_"))
	if err != nil {
		t.Fatalf("no receipt after the event: %v", err)
	}
	if r.Predicate.Document.Path != path || r.Predicate.Storage.VersionID != versions[0] {
		t.Errorf("got receipt for %s@%s", r.Predicate.Document.Path, r.Predicate.Storage.VersionID)
	}
	// A redelivery (Lambda retries, S3 delivers at least once) changes nothing.
	if _, err := lambda.NewHandler(fn).Invoke(ctx, payload); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if vs, _ := v.Service.Versions(alice, d.ID, path); len(vs) != 1 {
		t.Errorf("redelivery made %d versions, want 1", len(vs))
	}
}
