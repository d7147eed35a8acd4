// Command schedule is the vault's scheduled work as an AWS Lambda function
// on an EventBridge schedule: lock extensions ahead of the market and
// pending timestamps, in every tenant.
package main

import "github.com/evidencevault/vault/internal/assembly"

func main() { assembly.Start("schedule", assembly.ScheduleHandler) }
