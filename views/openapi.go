package views

import _ "embed"

// openAPIDocument describes /api/v1. Tests check it against the route table
// and the real responses, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDocument []byte
