package s3event_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/evidencevault/vault/internal/s3event"
	"github.com/evidencevault/vault/internal/vault"
)

func load(t *testing.T, name string) events.S3Event {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s3event.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestCreated(t *testing.T) {
	tests := []struct {
		file string
		want []s3event.Object
	}{
		{"aws-put.json", []s3event.Object{{Bucket: "evidence-vault-123456789012", Key: "evidence/demo/dos_abc/test reports/validation+1.txt", VersionID: "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"}}},
		{"minio-put.json", []s3event.Object{{Bucket: "t-bba12a1eb288", Key: "evidence/demo/dos_abc/test reports/validation+1.txt", VersionID: "5b93a423-da19-4074-a8d4-d7c209d45fbd"}}},
		// Sealing applies retention, which MinIO reports as ObjectCreated too.
		{"minio-put-retention.json", nil},
	}
	for _, tt := range tests {
		got := s3event.Created(load(t, tt.file))
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.file, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: got %+v, want %+v", tt.file, got[i], tt.want[i])
			}
		}
	}
}

// sealer records calls and answers with err.
type sealer struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (s *sealer) SealObject(_ context.Context, key, versionID string) (*vault.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, key+"@"+versionID)
	if s.err != nil {
		return nil, s.err
	}
	return &vault.Receipt{Predicate: vault.ReceiptPredicate{ReceiptID: "rcp_x"}}, nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestHandlerRetriesOnlyWhatRetryCanMend(t *testing.T) {
	ev := load(t, "minio-put.json")
	tests := []struct {
		name  string
		err   error
		retry bool
	}{
		{"sealed", nil, false},
		{"storage down", errors.New("s3store: connection refused"), true},
		{"unknown upload", &vault.Error{Code: vault.CodeNotFound, Message: "no upload"}, false},
		{"object vanished", vault.ErrNotFound, false},
		{"bytes differ", &vault.Error{Code: vault.CodeIntegrity, Message: "sha256 differs"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sealer{err: tt.err}
			err := s3event.Handler(s, "t-bba12a1eb288", quiet)(context.Background(), ev)
			if (err != nil) != tt.retry {
				t.Errorf("got %v, want retry=%v", err, tt.retry)
			}
			if len(s.calls) != 1 {
				t.Errorf("got %d seal calls, want 1", len(s.calls))
			}
		})
	}
	s := &sealer{}
	if err := s3event.Handler(s, "another-bucket", quiet)(context.Background(), ev); err != nil || len(s.calls) != 0 {
		t.Errorf("event of another bucket: got %v and %d calls, want it ignored", err, len(s.calls))
	}
}

func TestWebhook(t *testing.T) {
	body, err := os.ReadFile("testdata/minio-put.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, auth, body string
		sealErr          error
		want             int
	}{
		{"delivered", "Bearer secret", string(body), nil, http.StatusNoContent},
		{"no token", "", string(body), nil, http.StatusForbidden},
		{"wrong token", "Bearer guess", string(body), nil, http.StatusForbidden},
		{"not an event", "Bearer secret", "<xml/>", nil, http.StatusBadRequest},
		{"seal failed", "Bearer secret", string(body), errors.New("s3 down"), http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sealer{err: tt.sealErr}
			h := s3event.Webhook("secret", s3event.Handler(s, "t-bba12a1eb288", quiet), quiet)
			req := httptest.NewRequest(http.MethodPost, "/internal/minio-events", strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("got %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusForbidden && len(s.calls) != 0 {
				t.Error("sealed on an unauthenticated delivery")
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"aws-put.json", "minio-put.json", "minio-put-retention.json"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := s3event.Decode(data)
		if err != nil {
			return
		}
		for _, o := range s3event.Created(ev) {
			if strings.ContainsRune(o.Key, '%') && !strings.ContainsRune(string(data), '%') {
				t.Fatalf("decoded key %q gained a %%", o.Key)
			}
		}
	})
}
