//go:build tools

// The peer the benchmarks run beside the operator; this import keeps `go mod tidy` from dropping it.
package tools

import _ "sigs.k8s.io/agent-sandbox/cmd/agent-sandbox-controller"
