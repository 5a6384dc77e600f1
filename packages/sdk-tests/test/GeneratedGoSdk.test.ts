/**
 * The Go SDK generated from docs/openapi.json (sdks/go, oapi-codegen) against a live operator:
 * `go test` in sdks/go creates, gets, lists and releases, and sees a 401 and a 404 as the SDK's
 * typed response fields (JSON401, JSON404).
 */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { Eventually, FreePorts, TestCluster } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"

const run = promisify(execFile)
const sdkDir = join(import.meta.dirname, "../../../sdks/go")

layer(TestCluster.layer, { timeout: "600 seconds", excludeTestServices: true })(
  "the generated Go SDK",
  (it) => {
    it.scoped(
      "creates, gets, lists and releases; 401 and 404 are typed",
      () =>
        Effect.gen(function* () {
          const { namespace, system } = yield* OperatorNamespaces.make("go-sdk")
          yield* Pools.createPool(namespace, "warm", { replicas: 2 })
          const [apiPort, probePort] = yield* FreePorts.freePorts(2)
          const operator = yield* OperatorHarness.startOperator({
            namespace,
            systemNamespace: system,
            apiPort: apiPort!,
            probePort: probePort!,
          })
          const key = yield* OperatorHarness.mintKey(system, "go-team")
          yield* Eventually.eventually(
            Effect.flatMap(
              Effect.promise(() => fetch(`${operator.apiUrl}/v1/pools`, { headers: { "x-api-key": key } })),
              (r) => (r.status === 200 ? Effect.void : Effect.fail(r.status)),
            ),
          )
          // The module's dependencies come from the Go module proxy (go.sum pins them); the local
          // toolchain builds it, as for tools/controlplane.
          const { stdout } = yield* Effect.promise(() =>
            run("go", ["test", "-count=1", "-v", "./..."], {
              cwd: sdkDir,
              env: {
                ...process.env,
                GOFLAGS: "-mod=mod",
                GOTOOLCHAIN: "local",
                AGENT_SANDBOX_URL: operator.apiUrl,
                AGENT_SANDBOX_API_KEY: key,
                AGENT_SANDBOX_POOL: "warm",
              },
              timeout: 300_000,
            }).catch((error: { stdout?: string; stderr?: string; message: string }) => ({
              stdout: `${error.stdout ?? ""}\n${error.stderr ?? ""}\n${error.message}`,
            })),
          )
          for (const test of ["TestCreateGetListRelease", "TestUnknownKeyIsUnauthorized"]) {
            assert.include(stdout, `--- PASS: ${test}`, stdout)
          }
        }),
      600_000,
    )
  },
)
