//go:build tools

// Pins the generator's version in this module's go.mod/go.sum; generate.sh builds it from here.
package tools

import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
