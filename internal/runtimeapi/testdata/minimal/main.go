// Command minimal is the smallest aws-lambda-go function: the baseline that
// BenchmarkColdStart measures beside the vault's functions.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, in json.RawMessage) (string, error) { return "ok", nil })
}
