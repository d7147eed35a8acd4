package vault

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencevault/vault/internal/ledger"
	"github.com/evidencevault/vault/internal/receipt"
	"github.com/evidencevault/vault/internal/strictjson"
)

// A grant gives an auditor (by verified e-mail or by subject) read access
// to chosen dossiers of one tenant until a date. Grants and revocations
// are signed entries of the tenant's log, kept as records beside it: an
// auditor's access rests on what the log holds, not on what the bucket
// lists (docs/grants.md).

// GrantType names the predicate of a grant or revocation (docs/grants.md).
const GrantType = "https://evidencevault.dev/grant/v1"

// Grant events.
const (
	GrantGiven   = "grant"
	GrantRevoked = "revoke"
)

// MaxGrantYears bounds how far ahead a grant may run: access is renewed,
// not given for good.
const MaxGrantYears = 5

// grantCacheTTL is how long a process reuses a tenant's grants: a
// revocation takes effect everywhere within it.
const grantCacheTTL = 15 * time.Second

const grantIDPrefix = "gnt_"

var grantIDPattern = regexp.MustCompile(`^gnt_[a-z2-7]{26}$`)

// Grantee names an auditor: by the e-mail address their provider verified,
// or by their token's subject.
type Grantee struct {
	Email   string `json:"email,omitempty" validate:"required_without=Subject,excluded_with=Subject,omitempty,email_address"`
	Subject string `json:"subject,omitempty" validate:"required_without=Email,omitempty,subject"`
}

// matches reports whether the grantee is id.
func (g Grantee) matches(id Identity) bool {
	return g.Subject != "" && g.Subject == id.Subject || g.Email != "" && id.Email != "" && g.Email == id.Email
}

// GrantInput is the body of POST /v1/grants.
type GrantInput struct {
	Grantee  *Grantee `json:"grantee" validate:"required"`
	Dossiers []string `json:"dossiers" validate:"required,min=1,max=100,unique,dive,dossier_or_all"`
	// Until is the last moment of access, an RFC 3339 time.
	Until *time.Time `json:"until" validate:"required"`
	Note  string     `json:"note,omitempty" validate:"max=500,text"`
}

// GrantEvent is the predicate of a grant or a revocation.
type GrantEvent struct {
	Event    string    `json:"event"`
	GrantID  string    `json:"grantId"`
	Tenant   string    `json:"tenant"`
	Grantee  Grantee   `json:"grantee"`
	Dossiers []string  `json:"dossiers"`
	Until    time.Time `json:"until"`
	Note     string    `json:"note,omitempty"`
	By       Principal `json:"by"`
	At       time.Time `json:"at"`
}

// Grant is a grant as the vault serves it: what was granted, by whom, and
// whether it still holds.
type Grant struct {
	ID        string     `json:"id"`
	Tenant    string     `json:"tenant"`
	Grantee   Grantee    `json:"grantee"`
	Dossiers  []string   `json:"dossiers"`
	Until     time.Time  `json:"until"`
	Note      string     `json:"note,omitempty"`
	GrantedBy Principal  `json:"grantedBy"`
	GrantedAt time.Time  `json:"grantedAt"`
	LogIndex  int64      `json:"logIndex"`
	RevokedBy *Principal `json:"revokedBy,omitempty"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	// Status is active, expired or revoked, at the time of the answer.
	Status string `json:"status"`
}

// active: Until is the grant's last moment of access.
func (g Grant) active(now time.Time) bool { return g.RevokedAt == nil && !now.After(g.Until) }

func (g *Grant) settle(now time.Time) {
	switch {
	case g.RevokedAt != nil:
		g.Status = "revoked"
	case now.After(g.Until):
		g.Status = "expired"
	default:
		g.Status = "active"
	}
}

// grantEntryID names a grant event's log entry.
func grantEntryID(event, grantID string) string { return event + "-" + grantID }

// isGrantEvent reports whether a log entry id is a grant event's.
func isGrantEvent(id string) bool {
	return strings.HasPrefix(id, GrantGiven+"-"+grantIDPrefix) || strings.HasPrefix(id, GrantRevoked+"-"+grantIDPrefix)
}

func grantsPrefix(tenant string) string { return "vault/" + tenant + "/grants/" }

// granteeKey is where a grant is indexed under its grantee, so that an
// auditor finds the tenants that granted them: only a pointer, since the
// grant itself is read from the tenant's records and checked.
func granteeKey(g Grantee, tenant, grantID string) string {
	return granteePrefix(g) + tenant + "/" + grantID
}

func granteePrefix(g Grantee) string {
	name := "email:" + g.Email
	if g.Subject != "" {
		name = "sub:" + g.Subject
	}
	sum := sha256.Sum256([]byte(name))
	return "grantees/" + hex.EncodeToString(sum[:]) + "/"
}

// CreateGrant gives an auditor access to dossiers of the caller's tenant.
func (s *Service) CreateGrant(ctx context.Context, in GrantInput) (Grant, error) {
	id, err := caller(ctx)
	if err != nil {
		return Grant{}, err
	}
	if !id.CanWrite() {
		return Grant{}, errorf(CodeForbidden, "role %s may not grant access", id.Role)
	}
	if in.Grantee != nil {
		in.Grantee.Email = strings.ToLower(in.Grantee.Email)
	}
	fields := check(in)
	now := s.now()
	if in.Until != nil && !in.Until.After(now) {
		fields = append(fields, FieldError{Pointer: "/until", Detail: "must be in the future"})
	} else if in.Until != nil && in.Until.After(now.AddDate(MaxGrantYears, 0, 0)) {
		fields = append(fields, FieldError{Pointer: "/until", Detail: fmt.Sprintf("must be at most %d years ahead; renew a grant rather than give it for good", MaxGrantYears)})
	}
	if in.Grantee != nil && in.Grantee.Subject != "" && in.Grantee.Subject == id.Subject {
		fields = append(fields, FieldError{Pointer: "/grantee/subject", Detail: "is you: grants are for auditors"})
	}
	for i, d := range in.Dossiers {
		if d == AllDossiers || !dossierIDPattern.MatchString(d) {
			continue
		}
		switch _, err := s.dossierRecord(ctx, id.Tenant, d); {
		case errors.Is(err, ErrNotFound):
			fields = append(fields, FieldError{Pointer: fmt.Sprintf("/dossiers/%d", i), Detail: "is not a dossier of tenant " + id.Tenant})
		case err != nil:
			return Grant{}, fmt.Errorf("vault: grant: %w", err)
		}
	}
	if len(fields) > 0 {
		return Grant{}, invalid(fields)
	}
	ev := GrantEvent{Event: GrantGiven, GrantID: randomID(grantIDPrefix), Tenant: id.Tenant, Grantee: *in.Grantee, Dossiers: in.Dossiers,
		Until: in.Until.UTC(), Note: in.Note, By: principal(id), At: now.UTC()}
	a, err := s.appendGrantEvent(ctx, ev)
	if err != nil {
		return Grant{}, err
	}
	// The index only helps an auditor find the tenant; a failure here
	// loses no access (the grant is in the log), so it is only logged.
	if err := s.records.Create(ctx, granteeKey(ev.Grantee, id.Tenant, ev.GrantID), []byte(id.Tenant+"\n"), nil); err != nil && !errors.Is(err, ErrExists) {
		s.log.WarnContext(ctx, "grant: index under its grantee", "grant", ev.GrantID, "err", err)
	}
	s.forgetGrants(id.Tenant)
	g := grantOf(ev, a.Index)
	g.settle(now)
	s.log.InfoContext(ctx, "grant given", "tenant", id.Tenant, "grant", g.ID, "by", id.Subject, "dossiers", strings.Join(g.Dossiers, ","), "until", g.Until)
	return g, nil
}

func grantOf(ev GrantEvent, index int64) Grant {
	return Grant{ID: ev.GrantID, Tenant: ev.Tenant, Grantee: ev.Grantee, Dossiers: ev.Dossiers, Until: ev.Until,
		Note: ev.Note, GrantedBy: ev.By, GrantedAt: ev.At, LogIndex: index}
}

// RevokeGrant ends a grant of the caller's tenant. Revoking a revoked grant
// answers it as it stands.
func (s *Service) RevokeGrant(ctx context.Context, grantID string) (Grant, error) {
	id, err := caller(ctx)
	if err != nil {
		return Grant{}, err
	}
	if !id.CanWrite() {
		return Grant{}, errorf(CodeForbidden, "role %s may not revoke access", id.Role)
	}
	s.forgetGrants(id.Tenant)
	g, err := s.grant(ctx, id.Tenant, grantID)
	if err != nil || g.RevokedAt != nil {
		return g, err
	}
	ev := GrantEvent{Event: GrantRevoked, GrantID: g.ID, Tenant: g.Tenant, Grantee: g.Grantee, Dossiers: g.Dossiers, Until: g.Until,
		By: principal(id), At: s.now().UTC()}
	if _, err := s.appendGrantEvent(ctx, ev); err != nil {
		return Grant{}, err
	}
	s.forgetGrants(id.Tenant)
	g.RevokedBy, g.RevokedAt = &ev.By, &ev.At
	g.settle(s.now())
	s.log.InfoContext(ctx, "grant revoked", "tenant", id.Tenant, "grant", g.ID, "by", id.Subject)
	return g, nil
}

// Grants lists the grants of the caller's tenant, newest first: every one
// for members, an auditor's own for auditors.
func (s *Service) Grants(ctx context.Context) ([]Grant, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if id.Tenant == "" {
		return nil, errNoTenant()
	}
	all, err := s.tenantGrants(ctx, id.Tenant)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Grant
	for _, g := range slices.Backward(all) {
		if id.CanWrite() || g.Grantee.matches(id) {
			g.settle(now)
			out = append(out, g)
		}
	}
	return out, nil
}

// Grant returns one grant of the caller's tenant that the caller may see.
func (s *Service) Grant(ctx context.Context, grantID string) (Grant, error) {
	id, err := caller(ctx)
	if err != nil {
		return Grant{}, err
	}
	g, err := s.grant(ctx, id.Tenant, grantID)
	if err != nil {
		return Grant{}, err
	}
	if !id.CanWrite() && !g.Grantee.matches(id) {
		return Grant{}, errGrantNotFound(grantID)
	}
	return g, nil
}

func (s *Service) grant(ctx context.Context, tenant, grantID string) (Grant, error) {
	if !grantIDPattern.MatchString(grantID) {
		return Grant{}, errGrantNotFound(grantID)
	}
	all, err := s.tenantGrants(ctx, tenant)
	if err != nil {
		return Grant{}, err
	}
	for _, g := range all {
		if g.ID == grantID {
			g.settle(s.now())
			return g, nil
		}
	}
	return Grant{}, errGrantNotFound(grantID)
}

func errGrantNotFound(id string) *Error {
	return errorf(CodeNotFound, "no grant %s in this tenant", id)
}

func errNoTenant() *Error {
	return errorf(CodeInvalid, "name the tenant to act in: send the header Vault-Tenant: <tenant> (GET /v1/me lists the tenants that granted you access)")
}

// Authorize settles who a request acts as: a member in their own tenant,
// or an auditor in the tenant the request names (the Vault-Tenant header;
// else their token's), with the dossiers that tenant's active grants give
// them. tenant is "" when the request names none.
func (s *Service) Authorize(ctx context.Context, id Identity, tenant string) (Identity, error) {
	if tenant == "" {
		tenant = id.Home
	}
	switch {
	case tenant == "":
		return id, nil // an auditor acting in no tenant: only GET /v1/me answers
	case !validTenant(tenant):
		e := invalid([]FieldError{{"/Vault-Tenant", "is not a tenant id: 1 to 63 of a-z, 0-9 and -, not starting with -"}})
		e.Message = fmt.Sprintf("Vault-Tenant %q is not a tenant id", tenant)
		return Identity{}, e
	case id.Role != RoleAuditor && tenant != id.Home:
		return Identity{}, errorf(CodeForbidden, "you are a member of tenant %s, not of %s", id.Home, tenant)
	}
	id.Tenant = tenant
	if id.Role != RoleAuditor {
		return id, nil
	}
	all, err := s.tenantGrants(ctx, tenant)
	if err != nil {
		return Identity{}, err
	}
	now := s.now()
	id.Dossiers, id.Grants, id.granted = nil, nil, map[string]Grant{}
	granted := false
	for _, g := range all {
		if !g.Grantee.matches(id) {
			continue
		}
		granted = true
		if g.active(now) {
			id.Grants = append(id.Grants, g.ID)
			id.granted[g.ID] = g
			for _, d := range g.Dossiers {
				if !slices.Contains(id.Dossiers, d) {
					id.Dossiers = append(id.Dossiers, d)
				}
			}
		}
	}
	// An auditor whose grants have all ended reads no dossier, but still
	// the trail of their own access (docs/grants.md).
	if !granted {
		return Identity{}, errNoGrantNow(tenant)
	}
	return id, nil
}

func errNoGrantNow(tenant string) *Error {
	return errorf(CodeForbidden, "tenant %s has given you no grant that holds now; ask its team to grant you access", tenant)
}

// grantsEnded refuses an auditor in a tenant whose grants to them have
// all ended: what they may still do there is read their own access trail.
func (id Identity) grantsEnded() error {
	if id.Role == RoleAuditor && id.Tenant != "" && len(id.Dossiers) == 0 {
		return errNoGrantNow(id.Tenant)
	}
	return nil
}

// SignIn is how the vault's users sign in (GET /v1/auth/config): the
// provider's issuer, the vault's client id there, the scopes to ask for.
type SignIn struct {
	Issuer   string   `json:"issuer"`
	ClientID string   `json:"clientId"`
	Scopes   []string `json:"scopes"`
	// RedirectURI is the CLI's loopback callback when the provider takes
	// only registered ones (Cognito); empty when any loopback port will do.
	RedirectURI string `json:"redirectUri,omitempty"`
}

// Me describes the caller: who they are and, for an auditor, the active
// grants of every tenant that granted them access.
type Me struct {
	Identity Identity `json:"identity"`
	Grants   []Grant  `json:"grants"`
}

// WhoAmI answers GET /v1/me. It tells an auditor where they may act, so
// a tenant their token names that granted them nothing does not refuse it.
func (s *Service) WhoAmI(ctx context.Context) (*Me, error) {
	id, err := trailCaller(ctx)
	if err != nil {
		return nil, err
	}
	me := &Me{Identity: id, Grants: []Grant{}}
	if id.Role != RoleAuditor {
		return me, nil
	}
	var tenants []string
	for _, g := range []Grantee{{Subject: id.Subject}, {Email: id.Email}} {
		if g.Subject == "" && g.Email == "" {
			continue
		}
		objs, err := s.records.List(ctx, granteePrefix(g))
		if err != nil {
			return nil, fmt.Errorf("vault: grants of %s: %w", id.Subject, err)
		}
		for _, o := range objs {
			t, _, _ := strings.Cut(strings.TrimPrefix(o.Key, granteePrefix(g)), "/")
			if validTenant(t) && !slices.Contains(tenants, t) {
				tenants = append(tenants, t)
			}
		}
	}
	now := s.now()
	for _, t := range tenants {
		all, err := s.tenantGrants(ctx, t)
		if err != nil {
			return nil, err
		}
		for _, g := range all {
			if g.active(now) && g.Grantee.matches(id) {
				g.settle(now)
				me.Grants = append(me.Grants, g)
			}
		}
	}
	return me, nil
}

// appendGrantEvent signs a grant event and appends it to the tenant's log.
func (s *Service) appendGrantEvent(ctx context.Context, ev GrantEvent) (*ledger.Appended, error) {
	if err := s.ensureKeys(ctx, ev.Tenant); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("vault: grant: %w", err)
	}
	sum := sha256.Sum256([]byte(ev.GrantID))
	st := receipt.Statement{
		Subject:       []receipt.Subject{{Name: "grant:" + ev.GrantID, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}},
		PredicateType: GrantType,
		Predicate:     raw,
	}
	from, err := s.ledger.Size(ctx, ev.Tenant)
	if err != nil {
		return nil, fmt.Errorf("vault: grant: %w", ledgerError(err))
	}
	a, err := s.appendStatement(ctx, ev.Tenant, grantEntryID(ev.Event, ev.GrantID), st, from, s.signer)
	if err != nil {
		return nil, fmt.Errorf("vault: log grant: %w", err)
	}
	return a, nil
}

// grantCache holds each tenant's grants for grantCacheTTL. A tenant's
// generation counts the times its grants were forgotten: a read that
// began before a revocation does not put the list it read back.
type grantCache struct {
	mu          sync.Mutex
	tenants     map[string]cachedGrants
	generations map[string]uint64
}

type cachedGrants struct {
	grants []Grant
	at     time.Time
}

func (s *Service) forgetGrants(tenant string) {
	s.grantCache.mu.Lock()
	delete(s.grantCache.tenants, tenant)
	if s.grantCache.generations == nil {
		s.grantCache.generations = map[string]uint64{}
	}
	s.grantCache.generations[tenant]++
	s.grantCache.mu.Unlock()
}

// tenantGrants reads every grant of a tenant in log order, with its
// revocation. Each event is the record of a log entry: signed by a key
// the log's history allows at its index, and the entry the log holds
// there. Records that are not are someone else's: passed over, and named
// by the audit.
func (s *Service) tenantGrants(ctx context.Context, tenant string) ([]Grant, error) {
	now := s.now()
	s.grantCache.mu.Lock()
	if c, ok := s.grantCache.tenants[tenant]; ok && now.Sub(c.at) < grantCacheTTL && !now.Before(c.at) {
		s.grantCache.mu.Unlock()
		return c.grants, nil
	}
	generation := s.grantCache.generations[tenant]
	s.grantCache.mu.Unlock()

	objs, err := s.records.List(ctx, grantsPrefix(tenant))
	if err != nil {
		return nil, fmt.Errorf("vault: read grants: %w", err)
	}
	var events []grantRecord
	var log *loggedAt // read on the first record, once for all of them
	for _, o := range objs {
		id := strings.TrimSuffix(strings.TrimPrefix(o.Key, grantsPrefix(tenant)), ".json")
		if !isGrantEvent(id) || o.Key != entryKey(tenant, id) {
			continue
		}
		if log == nil {
			if log, err = s.logAt(ctx, tenant); err != nil {
				return nil, err
			}
		}
		rec, ok, err := s.grantEvent(ctx, log, id, o)
		if err != nil {
			return nil, err
		}
		if ok {
			events = append(events, rec)
		}
	}
	slices.SortFunc(events, func(a, b grantRecord) int { return cmp.Compare(a.index, b.index) })
	var grants []Grant
	for _, e := range events {
		i := slices.IndexFunc(grants, func(g Grant) bool { return g.ID == e.ev.GrantID })
		switch {
		case e.ev.Event == GrantGiven && i < 0:
			grants = append(grants, grantOf(e.ev, e.index))
		case e.ev.Event == GrantRevoked && i >= 0 && grants[i].RevokedAt == nil:
			grants[i].RevokedBy, grants[i].RevokedAt = &e.ev.By, &e.ev.At
		}
	}
	s.grantCache.mu.Lock()
	if s.grantCache.tenants == nil {
		s.grantCache.tenants = map[string]cachedGrants{}
	}
	if s.grantCache.generations[tenant] == generation {
		s.grantCache.tenants[tenant] = cachedGrants{grants: grants, at: now}
	}
	s.grantCache.mu.Unlock()
	return grants, nil
}

type grantRecord struct {
	index int64
	ev    GrantEvent
}

// loggedAt is what a tenant's kept records are checked against: the keys
// its log's history trusts, and its latest checkpoint as the vault reads it.
type loggedAt struct {
	tenant string
	trust  Trust
	cp     ledger.Checkpoint // zero while the log is empty
}

func (s *Service) logAt(ctx context.Context, tenant string) (*loggedAt, error) {
	trust, err := s.trust(ctx, tenant)
	if err != nil {
		return nil, err
	}
	cp, _, err := s.ledger.Latest(ctx, tenant)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return nil, fmt.Errorf("vault: read grants: %w", ledgerError(err))
	}
	return &loggedAt{tenant: tenant, trust: trust, cp: cp}, nil
}

// grantEvent reads the grant event kept at o: the first of its versions
// that is the log's entry id, whatever was written over or beside it.
func (s *Service) grantEvent(ctx context.Context, log *loggedAt, id string, o Object) (grantRecord, bool, error) {
	for _, v := range slices.Backward(o.Versions) {
		if v.DeleteMarker {
			continue
		}
		data, err := s.records.GetVersion(ctx, o.Key, v.ID)
		if err != nil {
			return grantRecord{}, false, fmt.Errorf("vault: read grant %s: %w", id, err)
		}
		rec, err := s.openGrantRecord(ctx, data, log, id)
		if err == nil {
			return rec, true, nil
		}
		s.log.WarnContext(ctx, "grant record is not the vault's", "object", o.Key, "err", err)
	}
	return grantRecord{}, false, nil
}

// openGrantRecord checks a kept grant event as openLogged does, and that
// it is the event its entry id names.
func (s *Service) openGrantRecord(ctx context.Context, data []byte, log *loggedAt, id string) (grantRecord, error) {
	index, st, _, err := s.openLogged(ctx, data, log, GrantType)
	if err != nil {
		return grantRecord{}, err
	}
	var ev GrantEvent
	if err := st.DecodePredicate(&ev); err != nil {
		return grantRecord{}, err
	}
	if grantEntryID(ev.Event, ev.GrantID) != id || ev.Tenant != log.tenant {
		return grantRecord{}, fmt.Errorf("it holds %s of tenant %s", grantEntryID(ev.Event, ev.GrantID), ev.Tenant)
	}
	return grantRecord{index: index, ev: ev}, nil
}

// openLogged checks a kept record of a log entry of predicateType: its
// statement, its signature by a key the history allows at its index, and
// that the log holds it there (a retired key's holder can sign a record
// and a tree of their own; they cannot put it in the log).
func (s *Service) openLogged(ctx context.Context, data []byte, log *loggedAt, predicateType string) (int64, *receipt.Statement, Bundle, error) {
	var b Bundle
	if err := strictjson.Unmarshal(data, &b); err != nil || b.Log == nil {
		return 0, nil, Bundle{}, fmt.Errorf("not a record of the log: %v", err)
	}
	env, st, err := receipt.Parse(b.Envelope)
	if err != nil {
		return 0, nil, Bundle{}, err
	}
	if st.PredicateType != predicateType {
		return 0, nil, Bundle{}, fmt.Errorf("predicate type %q, want %q", st.PredicateType, predicateType)
	}
	key, _, err := receipt.VerifySingle(ctx, env, log.trust.Public())
	if err != nil {
		return 0, nil, Bundle{}, err
	}
	if !log.trust.Allows(key.ID, b.Log.Index) {
		return 0, nil, Bundle{}, fmt.Errorf("key %s may not have signed entry %d", key.ID, b.Log.Index)
	}
	leaf, err := receipt.Payload(env)
	if err != nil {
		return 0, nil, Bundle{}, err
	}
	if err := s.logged(ctx, log, b.Log.Index, leaf); err != nil {
		return 0, nil, Bundle{}, err
	}
	return b.Log.Index, st, b, nil
}

// logged checks that the tenant's log, at the checkpoint the vault read,
// holds leaf at index.
func (s *Service) logged(ctx context.Context, log *loggedAt, index int64, leaf []byte) error {
	if index < 0 || index >= log.cp.Size {
		return fmt.Errorf("entry %d is beyond the log's %d entries", index, log.cp.Size)
	}
	proof, err := s.ledger.InclusionProof(ctx, log.tenant, index, log.cp.Size)
	if err != nil {
		return ledgerError(err)
	}
	return ledger.VerifyInclusion(log.cp, index, leaf, proof)
}
