import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { components, resolveBinDir } from "../src/Binaries.ts"
import * as ControlPlane from "../src/ControlPlane.ts"

const temporaryDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), prefix))),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })),
  )

/** Processes whose command line mentions `text`. */
const processesMentioning = (text: string): ReadonlyArray<string> =>
  fs.readdirSync("/proc").filter((entry) => {
    if (!/^\d+$/.test(entry)) return false
    try {
      return fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)
    } catch {
      return false
    }
  })

describe("a control plane that cannot start", () => {
  it.scopedLive(
    "names the failed component with the end of its log, and stops what had started",
    () =>
      Effect.gen(function* () {
        const realBin = yield* resolveBinDir(undefined)
        const fakeBin = yield* temporaryDir("agent-sandbox-fake-bin-")
        for (const name of components) {
          if (name !== "kube-apiserver") fs.symlinkSync(path.join(realBin, name), path.join(fakeBin, name))
        }
        const apiserver = path.join(fakeBin, "kube-apiserver")
        fs.writeFileSync(apiserver, "#!/bin/sh\necho 'Error: unknown flag: --made-up' >&2\nexit 3\n", {
          mode: 0o755,
        })
        const dataDir = yield* temporaryDir("agent-sandbox-failing-cp-")

        const error = yield* Effect.scoped(ControlPlane.make({ binDir: fakeBin, dataDir })).pipe(
          Effect.flip,
          Logger.withMinimumLogLevel(LogLevel.Warning),
        )

        assert.strictEqual(error._tag, "ControlPlaneError")
        assert.strictEqual(error.component, "kube-apiserver")
        assert.strictEqual(error.reason, "Exited")
        assert.include(error.message, "exit code 3")
        assert.include(error.message, "unknown flag: --made-up")
        // etcd was running; the scope's close stopped it.
        assert.deepStrictEqual(processesMentioning(dataDir), [])
      }),
    { timeout: 60_000 },
  )
})
