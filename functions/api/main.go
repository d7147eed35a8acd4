// Command api is the vault's HTTP API as an AWS Lambda function behind an
// API Gateway HTTP API with a JWT authorizer.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/evidencevault/vault/internal/config"
	"github.com/evidencevault/vault/internal/logging"
)

func main() {
	log := logging.New(os.Stdout, slog.LevelInfo)
	h, err := config.APIHandler(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("api: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
