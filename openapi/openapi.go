// Package openapi holds the vault's API contract, an OpenAPI 3.1 document:
// the routes, parameters, bodies, answers and problems the vault serves.
// The API serves it at GET /v1/openapi.yaml, and its tests check the
// router and every answer against it.
package openapi

import _ "embed"

// Document is the OpenAPI document (YAML).
//
//go:embed openapi.yaml
var Document []byte
