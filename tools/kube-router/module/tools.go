//go:build tools

// The NetworkPolicy enforcer of the real node's tests; this import keeps `go mod tidy` from dropping it.
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
