// Command api is the vault's HTTP API as an AWS Lambda function behind an
// API Gateway HTTP API with a JWT authorizer.
package main

import "github.com/evidencevault/vault/internal/assembly"

func main() { assembly.Start("api", assembly.APIHandler) }
