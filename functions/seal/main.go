// Command seal is the vault's S3 ObjectCreated trigger as an AWS Lambda
// function: it seals uploads whose clients never called complete.
package main

import "github.com/evidencevault/vault/internal/assembly"

func main() { assembly.Start("seal", assembly.SealHandler) }
