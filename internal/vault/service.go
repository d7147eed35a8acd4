package vault

import (
	"log/slog"
	"sync"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
)

// Config is the service's explicit configuration; main reads it from the
// environment, the library never does.
type Config struct {
	// Bucket is the evidence bucket's name, recorded in every receipt.
	Bucket string
	// LockMode is the Object Lock mode applied at sealing: Compliance in
	// production, Governance only where development asks for it.
	LockMode LockMode
	// UploadTTL is how long a presigned upload URL lives; 15 minutes if 0.
	UploadTTL time.Duration
	// MultipartTTL is how long a multipart upload may take from start to
	// complete, resumptions included; 7 days if 0 (the bucket's lifecycle
	// rule aborts incomplete multipart uploads after that).
	MultipartTTL time.Duration
	// SealBudget, when set, bounds the time one Complete call spends
	// hashing a multipart object before it returns SealPending; the
	// context's deadline bounds it too.
	SealBudget time.Duration
	// DownloadTTL is how long a presigned download URL lives; 5 minutes if 0.
	DownloadTTL time.Duration
	// Previous is the signer the vault's signer replaces, while a key
	// rotation is under way: it signs, with the new one, each tenant log's
	// rotation event, and its key stays trusted for what it signed. nil
	// outside a rotation.
	Previous receipt.Signer
	// Timestamps, when set, timestamps every receipt's signature
	// (timestamps.go); nil leaves receipts with the vault's clock alone.
	Timestamps Timestamper
	// Witnesses, when set, cosign the logs' checkpoints (witnesses.go).
	Witnesses Cosigner
	// Sequencing tunes how processes share a log's commits through
	// Storage.Scratch; zero fields take the ledger's defaults.
	Sequencing ledger.Sequencing
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Logger receives structured logs and access events; slog.Default if nil.
	Logger *slog.Logger
}

// Storage is where the vault keeps everything, split by what each flow
// needs. One S3 bucket with Object Lock (s3store) provides the first four;
// Scratch is a second bucket, without it.
type Storage struct {
	Records   Records
	Objects   Objects
	Uploads   Uploads
	Presigner Presigner
	// Scratch keeps transient state; without it the logs keep their head
	// hint among the records and each process commits on its own.
	Scratch Scratch
}

// Service is the vault's application logic, shared by the Lambda functions
// and the local server.
type Service struct {
	records   Records
	transient transient
	objects   Objects
	uploads   Uploads
	urls      Presigner
	ledger    *ledger.Log
	signer    receipt.Signer
	cfg       Config
	log       *slog.Logger

	publishMu sync.Mutex
	published bool

	keysMu sync.Mutex
	keys   map[string]*tenantKeys

	// dossiers caches dossier records, which never change, by key.
	dossiers sync.Map
	// sealed remembers the receipt ids of versions this process knows the
	// vault sealed (it sealed them, or checked their receipts), so that a
	// new version vouches for what it supersedes without reading it again.
	sealed sync.Map
	// signedEntries keeps the chain entries (as signedVersion returned
	// them) that agree with their signed receipts: the check a listing of
	// what the log holds would otherwise repeat per document and view.
	signedEntries sync.Map
	// finished remembers the receipt ids of uploads this process sealed
	// to the end (held, if under a legal hold), so that the storage
	// event of an upload its client completed costs one read.
	finished sync.Map
	// grantCache holds each tenant's grants for a few seconds.
	grantCache grantCache
	// stamps remembers when the timestamp authority last failed.
	stamps stampState
	// witnesses keeps each tenant's latest cosigned checkpoint.
	witnesses witnessState
	// lifecycles keeps the lifecycle records this process verified;
	// lifecycleMu has one mutex per dossier its appends take.
	lifecycles  lifecycleCache
	lifecycleMu sync.Map
}

// New returns a Service keeping its objects in st and signing receipts and
// checkpoints with signer.
func New(st Storage, signer receipt.Signer, cfg Config) *Service {
	if cfg.LockMode == "" {
		cfg.LockMode = Compliance
	}
	if cfg.UploadTTL == 0 {
		cfg.UploadTTL = 15 * time.Minute
	}
	if cfg.MultipartTTL == 0 {
		cfg.MultipartTTL = 7 * 24 * time.Hour
	}
	if cfg.DownloadTTL == 0 {
		cfg.DownloadTTL = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{records: st.Records, transient: transient{scratch: st.Scratch, records: st.Records}, objects: st.Objects, uploads: st.Uploads, urls: st.Presigner,
		signer: signer, cfg: cfg, log: cfg.Logger}
	s.ledger = newLedger(st.Records, signer, cfg, s.trust, st.Scratch, s.admitRecord)
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }
