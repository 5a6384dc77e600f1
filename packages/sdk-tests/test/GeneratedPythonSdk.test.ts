/**
 * The Python SDK generated from docs/openapi.json (sdks/python, openapi-python-client) against a
 * live operator: create, get, list, release, and a 401 and a 404 as the SDK's typed models.
 */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { Eventually, FreePorts, TestCluster } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"

const run = promisify(execFile)
const sdkDir = join(import.meta.dirname, "../../../sdks/python")

layer(TestCluster.layer, { timeout: "600 seconds", excludeTestServices: true })(
  "the generated Python SDK",
  (it) => {
    it.scoped(
      "creates, gets, lists and releases; 401 and 404 are typed",
      () =>
        Effect.gen(function* () {
          const { namespace, system } = yield* OperatorNamespaces.make("py-sdk")
          yield* Pools.createPool(namespace, "warm", { replicas: 2 })
          const [apiPort, probePort] = yield* FreePorts.freePorts(2)
          const operator = yield* OperatorHarness.startOperator({
            namespace,
            systemNamespace: system,
            apiPort: apiPort!,
            probePort: probePort!,
          })
          const key = yield* OperatorHarness.mintKey(system, "py-team")
          yield* Eventually.eventually(
            Effect.flatMap(
              Effect.promise(() => fetch(`${operator.apiUrl}/v1/pools`, { headers: { "x-api-key": key } })),
              (r) => (r.status === 200 ? Effect.void : Effect.fail(r.status)),
            ),
          )
          // The generator's virtualenv (made or reused by the same script that generates the SDK).
          const venv = yield* Effect.promise(() =>
            run(join(sdkDir, "generate.sh"), ["--venv"], { timeout: 600_000 }).then((r) => r.stdout.trim()),
          )
          const { stdout } = yield* Effect.promise(() =>
            run(
              join(venv, "bin/python"),
              ["-m", "pytest", "-rA", "--tb=short", "-q", "-p", "no:cacheprovider"],
              {
                cwd: sdkDir,
                env: {
                  ...process.env,
                  AGENT_SANDBOX_URL: operator.apiUrl,
                  AGENT_SANDBOX_API_KEY: key,
                  AGENT_SANDBOX_POOL: "warm",
                  PYTHONDONTWRITEBYTECODE: "1",
                },
                timeout: 300_000,
              },
            ).catch((error: { stdout?: string; stderr?: string; message: string }) => ({
              stdout: `${error.stdout ?? ""}\n${error.stderr ?? ""}\n${error.message}`,
            })),
          )
          for (const test of ["test_create_get_list_release", "test_unknown_key_is_unauthorized"]) {
            assert.include(stdout, `PASSED tests/test_client.py::${test}`, stdout)
          }
        }),
      600_000,
    )
  },
)
