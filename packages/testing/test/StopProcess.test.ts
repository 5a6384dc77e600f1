import { spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { stopProcess } from "../src/ComponentProcess.ts"

/** A node process that ignores SIGTERM, as a kube-apiserver whose etcd is gone does. */
const stubborn = Effect.gen(function* () {
  const exited = yield* Deferred.make<string>()
  const child = spawn(
    process.execPath,
    ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready')"],
    { stdio: ["ignore", "pipe", "ignore"] },
  )
  child.once("exit", (code, signal) => Deferred.unsafeDone(exited, Effect.succeed(signal ?? `exit ${code}`)))
  // Its SIGTERM handler is in place once it has said so.
  yield* Effect.async<void>((resume) => {
    child.stdout.once("data", () => resume(Effect.void))
  })
  return { pid: child.pid ?? 0, exited }
})

describe("stopProcess", () => {
  it.live(
    "in a finalizer (uninterruptible), kills a process that ignores SIGTERM once the grace period is over",
    () =>
      Effect.gen(function* () {
        const { pid, exited } = yield* stubborn
        yield* Effect.scoped(
          Effect.addFinalizer(() => stopProcess(pid, Deferred.await(exited), "300 millis")),
        )
        assert.strictEqual(yield* Deferred.await(exited), "SIGKILL")
      }),
    30_000,
  )
})
