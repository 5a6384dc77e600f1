/**
 * The JS SDK from npm, unchanged, newest (e2b 2.51.0: POST /v2/sandboxes) and an older 2.x
 * (e2b 2.19.5: POST /sandboxes and /sandboxes/{id}/connect), against the server on loopback.
 */
import { layer } from "@effect/vitest"
import * as Newest from "e2b"
import * as Older from "e2b-2-19"
import { Effect, Layer } from "effect"
import * as JsSdkCases from "./support/JsSdkCases.ts"
import * as SdkServer from "./support/SdkServer.ts"

const sdks: ReadonlyArray<readonly [string, JsSdkCases.E2bSdk]> = [
  ["e2b 2.51.0", Newest],
  ["e2b 2.19.5", Older as unknown as JsSdkCases.E2bSdk],
]

const env = Layer.scopedDiscard(
  Effect.flatMap(SdkServer.SdkServer, (server) =>
    SdkServer.useSdkEnvironment(SdkServer.sdkEnvironment(server, server.keys.tenantA)),
  ),
).pipe(Layer.provideMerge(SdkServer.layer("sdk-js")))

layer(env, { timeout: "300 seconds", excludeTestServices: true })("the E2B JS SDK, unchanged", (it) => {
  for (const [version, sdk] of sdks) {
    it.effect(`${version}: commands (output, exit codes, envs, cwd, stdin, background, kill)`, () =>
      Effect.promise(() => JsSdkCases.commands(sdk)),
    )
    it.effect(`${version}: the sandbox's envVars in every command`, () =>
      Effect.promise(() => JsSdkCases.envVars(sdk)),
    )
    it.effect(`${version}: a runtime chosen by the template tag`, () =>
      Effect.promise(() => JsSdkCases.runtime(sdk)),
    )
    it.effect(`${version}: files (text, binary, 10 MB, list, exists, makeDir, rename, remove, watch)`, () =>
      Effect.promise(() => JsSdkCases.files(sdk)),
    )
    it.effect(`${version}: a PTY session`, () => Effect.promise(() => JsSdkCases.pty(sdk)))
    it.effect(`${version}: list, connect, getInfo, setTimeout and expiry, kill`, () =>
      Effect.promise(() => JsSdkCases.lifecycle(sdk)),
    )
  }
})
