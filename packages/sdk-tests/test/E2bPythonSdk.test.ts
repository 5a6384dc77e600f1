/**
 * The Python SDK from PyPI, unchanged, newest (e2b 2.63.0: POST /v2/sandboxes) and an older 2.x
 * (e2b 2.20.3: POST /sandboxes and /sandboxes/{id}/connect): pytest (python/) runs in each SDK's
 * virtualenv (scripts/python-env.sh) against the server on loopback.
 */
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as PythonSuite from "./support/PythonSuite.ts"
import * as SdkServer from "./support/SdkServer.ts"

layer(SdkServer.layer("sdk-py"), { timeout: "600 seconds", excludeTestServices: true })(
  "the E2B Python SDK, unchanged",
  (it) => {
    it.effect(
      "every case passes with each SDK version",
      () =>
        Effect.gen(function* () {
          const server = yield* SdkServer.SdkServer
          const { missing, report } = yield* PythonSuite.notPassed(
            SdkServer.sdkEnvironment(server, server.keys.tenantA),
          )
          assert.deepStrictEqual(
            missing,
            { "e2b-2.63.0": [], "e2b-2.20.3": [] },
            `pytest cases that did not pass, per SDK version\n${report}`,
          )
        }),
      600_000,
    )
  },
)
