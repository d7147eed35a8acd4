package assembly

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/evidencevault/vault/internal/apigw"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/logging"
	"github.com/evidencevault/vault/internal/oidcauth"
	"github.com/evidencevault/vault/internal/portal"
	"github.com/evidencevault/vault/internal/s3event"
	"github.com/evidencevault/vault/internal/vault"
)

// APIHandler is the api function's Lambda handler: API Gateway events into
// the same http.Handler the local server runs, verifying each caller's
// token with the configured provider (API Gateway's authorizer checks it
// first, and turns garbage away before the function runs).
func APIHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), error) {
	v, c, err := fromEnv(ctx, getenv, log)
	if err != nil {
		return nil, err
	}
	if c.OIDC.Issuer == "" {
		return nil, errors.New("assembly: VAULT_OIDC_ISSUER is not set: the api function verifies its callers' tokens")
	}
	return apigw.Handler(Web(API(v, c, Verifier(c.OIDC), log).Handler(), c)), nil
}

// PortalPath is where the web portal is served, beside the API.
const PortalPath = "/portal/"

// Web is the API with the web portal beside it at PortalPath.
func Web(api http.Handler, c Config) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PortalPath, portal.Handler(PortalPath, c.PortalConnect...))
	mux.Handle("/", api)
	return mux
}

// Verifier verifies the tokens of the configured provider.
func Verifier(o OIDC) *oidcauth.Verifier {
	return oidcauth.New(oidcauth.Config{Issuer: o.Issuer, Audience: o.ClientID,
		Claims: oidcauth.Claims{Tenant: o.TenantClaim, Role: o.RoleClaim, Email: o.EmailClaim}})
}

// API is the vault's HTTP API with its sign-in published.
func API(v *Vault, c Config, auth httpapi.Authenticator, log *slog.Logger) *httpapi.Server {
	opts := []httpapi.Option{httpapi.AllowOrigins(c.CORSOrigins...)}
	if c.OIDC.Issuer != "" {
		opts = append(opts, httpapi.WithSignIn(vault.SignIn{Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID, Scopes: c.OIDC.Scopes, RedirectURI: c.OIDC.RedirectURI}))
	}
	return httpapi.New(v.Service, auth, log, opts...)
}

// SealHandler is the seal function's Lambda handler: S3 ObjectCreated
// events into the same sealing code complete runs.
func SealHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (func(context.Context, events.S3Event) error, error) {
	v, c, err := fromEnv(ctx, getenv, log)
	if err != nil {
		return nil, err
	}
	seal := s3event.Handler(v.Service, c.Bucket, log)
	return func(ctx context.Context, ev events.S3Event) error {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			ctx = logging.WithRequestID(ctx, lc.AwsRequestID)
		}
		return seal(ctx, ev)
	}, nil
}

// ScheduleHandler is the schedule function's Lambda handler: on each
// EventBridge tick, the locks of dossiers on the market are extended and
// pending timestamps added, in every tenant.
func ScheduleHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (func(context.Context, events.EventBridgeEvent) (*vault.ScheduleRun, error), error) {
	v, _, err := fromEnv(ctx, getenv, log)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ev events.EventBridgeEvent) (*vault.ScheduleRun, error) {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			ctx = logging.WithRequestID(ctx, lc.AwsRequestID)
		}
		run, err := v.Service.RunSchedule(ctx)
		if run != nil {
			log.InfoContext(ctx, "schedule", "event", ev.ID, "extendedTenants", len(run.Extended), "stamped", run.Stamped, "pending", run.Pending, "err", err)
		}
		return run, err
	}, nil
}

func fromEnv(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Vault, Config, error) {
	c, err := FromEnv(getenv)
	if err != nil {
		return nil, Config{}, err
	}
	v, err := New(ctx, c, log)
	return v, c, err
}

var _ httpapi.Authenticator = (*oidcauth.Verifier)(nil)

// Start is a Lambda function's main: it builds the handler from the
// environment and runs it. A function whose configuration is wrong logs
// why and exits before it takes any event.
func Start[H any](name string, build func(context.Context, func(string) string, *slog.Logger) (H, error)) {
	log := logging.New(os.Stdout, slog.LevelInfo)
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error(name+": configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
