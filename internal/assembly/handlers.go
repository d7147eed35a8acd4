package assembly

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/evidencevault/vault/internal/apigw"
	"github.com/evidencevault/vault/internal/httpapi"
	"github.com/evidencevault/vault/internal/logging"
	"github.com/evidencevault/vault/internal/s3event"
)

// APIHandler is the api function's Lambda handler: API Gateway events into
// the same http.Handler the local server runs, with identities from API
// Gateway's JWT authorizer.
func APIHandler(ctx context.Context, getenv func(string) string, log *slog.Logger) (func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), error) {
	v, c, err := fromEnv(ctx, getenv, log)
	if err != nil {
		return nil, err
	}
	return apigw.Handler(httpapi.New(v.Service, apigw.Authenticator{}, log, httpapi.AllowOrigins(c.CORSOrigins...)).Handler()), nil
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

func fromEnv(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Vault, Config, error) {
	c, err := FromEnv(getenv)
	if err != nil {
		return nil, Config{}, err
	}
	v, err := New(ctx, c, log)
	return v, c, err
}

// API Gateway's JWT authorizer identifies the callers of the api function.
var _ httpapi.Authenticator = apigw.Authenticator{}

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
