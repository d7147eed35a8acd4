package tamper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/evidencevault/vault/internal/evault"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/regulation"
	"github.com/evidencevault/vault/internal/s3store"
	"github.com/evidencevault/vault/internal/testenv"
	"github.com/evidencevault/vault/internal/vault"
	"github.com/minio/minio-go/v7"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const tenant = "acme"

var (
	uploader = vault.Identity{Tenant: tenant, Subject: "alice@acme.example", Role: vault.RoleUploader}
	// auditor is a notified body's, home tenant acme in its token; acme
	// grants them every dossier.
	auditor = vault.Identity{Home: tenant, Subject: "auditor@nb0197.example", Role: vault.RoleAuditor}
)

// The evidence the target holds before the attack.
var (
	reportV1 = []byte("software validation report, revision A\n")
	reportV2 = []byte("software validation report, revision B\n")
	cerV1    = []byte("clinical evaluation report\n")
)

const (
	reportPath = "test-reports/validation.txt"
	cerPath    = "clinical/cer.txt"
)

// target is a vault with a sealed dossier, its API, an auditor's evault
// that has pinned its key, and the operator's MinIO client.
type target struct {
	t       *testing.T
	env     *testenv.Env
	store   *s3store.Store
	bucket  string
	signer  *receipt.LocalSigner
	handler atomic.Pointer[http.Handler]
	api     string
	issuer  *testenv.Issuer
	config  string // evault's configuration directory
	work    string
	dossier vault.Dossier
	// The receipts sealed before the attack.
	report1, report2, cer *vault.Receipt
	// mc is the operator: root credentials, an ordinary S3 client.
	mc *minio.Client
	// added lists the documents sealed after the attack, path@version;
	// mu guards it, for attacks that seal concurrently.
	mu    sync.Mutex
	added []string
}

func newTarget(t *testing.T) *target {
	t.Helper()
	env := testenv.Get(t)
	tg := &target{t: t, env: env, store: env.Bucket(t, false), signer: testenv.Signer(t), mc: env.Root(t),
		config: t.TempDir(), work: t.TempDir()}
	tg.bucket = tg.store.Bucket()
	tg.issuer = testenv.NewIssuer(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*tg.handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	tg.api = srv.URL
	svc := tg.restart()

	ctx := vault.NewContext(context.Background(), uploader)
	implantable, ai := false, true
	var err error
	if tg.dossier, err = svc.CreateDossier(ctx, vault.DossierInput{Name: "Pulse oximeter AI", BasicUDIDI: "1987654Ad4X4bL5ttr2310c2K",
		Regulation: regulation.MDR, RiskClass: "IIb", Implantable: &implantable, HighRiskAI: &ai, NotifiedBody: "0197"}); err != nil {
		t.Fatal(err)
	}
	testenv.GrantAll(t, svc, uploader, auditor.Subject)
	tg.report1 = tg.seal(svc, reportPath, reportV1)
	tg.report2 = tg.seal(svc, reportPath, reportV2)
	tg.cer = tg.seal(svc, cerPath, cerV1)
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The auditor meets the vault before the attack: evault pins its key
	// and keeps its checkpoint.
	if code, out, errOut := tg.evault("log", "check"); code != 0 {
		t.Fatalf("log check before the attack: exit %d\n%s%s", code, out, errOut)
	}
	if rep := tg.audit(); !rep.OK() {
		t.Fatalf("audit before the attack: %v", rep.Problems)
	}
	return tg
}

// restart replaces the vault with a fresh process on the same bucket, as a
// cold Lambda would be: nothing it read before the attack is remembered.
func (tg *target) restart() *vault.Service {
	svc := vault.New(tg.store.Storage(), tg.signer, vault.Config{Bucket: tg.bucket, Logger: testenv.Logger(tg.t)})
	h := httpapi.New(svc, tg.issuer.Verifier(), testenv.Logger(tg.t)).Handler()
	tg.handler.Store(&h)
	return svc
}

func (tg *target) seal(svc *vault.Service, path string, body []byte) *vault.Receipt {
	t := tg.t
	t.Helper()
	ctx := vault.NewContext(context.Background(), uploader)
	tk, err := svc.StartUpload(ctx, tg.dossier.ID, document(path, body))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Put(t, tk.Upload, bytes.NewReader(body), int64(len(body)))
	r, err := svc.Complete(ctx, tk.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// evault runs the CLI as the auditor, against the target's API.
func (tg *target) evault(args ...string) (code int, stdout, stderr string) {
	tg.t.Helper()
	tok := tg.issuer.Token(tg.t, auditor)
	env := map[string]string{"EVAULT_API": tg.api, "EVAULT_TOKEN": tok}
	var out, errb bytes.Buffer
	m := &evault.Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }, Dir: tg.work, ConfigDir: tg.config}
	code = m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// audit runs the audit with the key the auditor pinned.
func (tg *target) audit() *vault.AuditReport {
	tg.t.Helper()
	rep, err := vault.AuditLog(context.Background(), tg.store.Storage(), tg.bucket, tenant, []receipt.Key{tg.signer.Key()})
	if err != nil {
		tg.t.Fatalf("audit: %v", err)
	}
	return rep
}

// The operator's tools: an ordinary S3 client.

// put writes a new version of key.
func (tg *target) put(key string, body []byte) {
	tg.t.Helper()
	if _, err := tg.mc.PutObject(context.Background(), tg.bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		tg.t.Fatalf("operator: put %s: %v", key, err)
	}
}

// hide puts a delete marker on key.
func (tg *target) hide(key string) {
	tg.t.Helper()
	if err := tg.mc.RemoveObject(context.Background(), tg.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		tg.t.Fatalf("operator: delete %s: %v", key, err)
	}
}

// copyOver copies the current version of src over dst, as a new version.
func (tg *target) copyOver(src, dst string) {
	tg.t.Helper()
	if _, err := tg.mc.CopyObject(context.Background(), minio.CopyDestOptions{Bucket: tg.bucket, Object: dst},
		minio.CopySrcOptions{Bucket: tg.bucket, Object: src}); err != nil {
		tg.t.Fatalf("operator: copy %s over %s: %v", src, dst, err)
	}
}

// get reads key's current version.
func (tg *target) get(key string) []byte {
	tg.t.Helper()
	o, err := tg.mc.GetObject(context.Background(), tg.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		tg.t.Fatalf("operator: get %s: %v", key, err)
	}
	defer o.Close()
	data, err := io.ReadAll(o)
	if err != nil {
		tg.t.Fatalf("operator: get %s: %v", key, err)
	}
	return data
}

// keys lists the keys under prefix.
func (tg *target) keys(prefix string) []string {
	tg.t.Helper()
	var out []string
	for o := range tg.mc.ListObjects(context.Background(), tg.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			tg.t.Fatalf("operator: list %s: %v", prefix, o.Err)
		}
		out = append(out, o.Key)
	}
	return out
}

// last returns the last key under prefix.
func (tg *target) last(prefix string) string {
	tg.t.Helper()
	keys := tg.keys(prefix)
	if len(keys) == 0 {
		tg.t.Fatalf("operator: nothing under %s", prefix)
	}
	return keys[len(keys)-1]
}

// Where the target's objects are.
func (tg *target) chainEntry(path string, n int) string {
	return fmt.Sprintf("vault/%s/versions/%s/%s/%010d.json", tenant, tg.dossier.ID, url.PathEscape(path), n)
}
func (tg *target) receiptObject(r *vault.Receipt) string {
	return "vault/" + tenant + "/receipts/" + r.Predicate.ReceiptID + ".json"
}
func (tg *target) evidence(path string) string {
	return "evidence/" + tenant + "/" + tg.dossier.ID + "/" + path
}

// keyEventEnvelope signs key event ev as the vault signs its own (its
// statement, by signer and others): what a holder of those keys can make.
// It returns the DSSE envelope and the leaf it would be in a log.
func keyEventEnvelope(t *testing.T, ev vault.KeyEvent, signer receipt.Signer, others ...receipt.Signer) (envelope, leaf []byte) {
	t.Helper()
	raw, _ := json.Marshal(ev)
	env, err := receipt.Sign(context.Background(), receipt.Statement{
		Subject:       []receipt.Subject{{Name: "key:" + ev.Key.KeyID, Digest: map[string]string{"sha256": ev.Key.KeyID}}},
		PredicateType: vault.KeyEventType, Predicate: raw}, signer, others...)
	if err != nil {
		t.Fatal(err)
	}
	envelope, _ = json.Marshal(env)
	leaf, _ = receipt.Payload(env)
	return envelope, leaf
}
