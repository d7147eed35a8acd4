// Command seal is the vault's S3 ObjectCreated trigger as an AWS Lambda
// function: it seals uploads whose clients never called complete.
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
	h, err := config.SealHandler(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("seal: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
