//go:build tools

// Package tools pins the FerretDB release that local development and tests run against.
package tools

import _ "github.com/FerretDB/FerretDB/cmd/ferretdb"
