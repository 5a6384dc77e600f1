/**
 * Some exec implementations leave a command running after its connection closes (KWOK's local
 * exec does, and neither passes on the end of stdin). Scripts that could wait forever (a watch
 * loop, an upload whose client went away) therefore print their pid on the first stdout line,
 * and closing the scope before they finish kills them and their descendants.
 */
import { Deferred, Effect, Option, type Scope, Stream } from "effect"
import type { EnvdError } from "./EnvdError.ts"
import * as LaunchOutput from "./LaunchOutput.ts"
import type { SandboxShellShape, ShellProcess } from "./SandboxShell.ts"
import type { SandboxTarget } from "./SandboxTarget.ts"
import * as ShellScript from "./ShellScript.ts"

/** How long the kill of a leftover program may take when its scope closes. */
const killTimeout = "10 seconds"

/** The program's own output (the pid line removed); killed if still running when the scope closes. */
export const supervise = (
  shell: SandboxShellShape,
  target: SandboxTarget,
  process: ShellProcess,
): Effect.Effect<ShellProcess, never, Scope.Scope> =>
  Effect.gen(function* () {
    const pid = yield* Deferred.make<number>()
    let finished = false
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const known = yield* Deferred.poll(pid)
        if (finished || Option.isNone(known)) return
        const running = yield* known.value
        yield* shell
          .run(target, ShellScript.signalArgv(running, "KILL"))
          // Interruptible, or the timeout could not end it inside this (uninterruptible) finalizer.
          .pipe(Effect.interruptible, Effect.timeout(killTimeout), Effect.ignore)
      }),
    )
    const stdout: Stream.Stream<Uint8Array, EnvdError> = process.stdout.pipe(
      Stream.mapAccumEffect(LaunchOutput.awaitingPid, (state, chunk) => {
        const step = LaunchOutput.feed(state, chunk)
        const recorded = step.pid === undefined ? Effect.void : Deferred.succeed(pid, step.pid)
        return Effect.as(recorded, [step.state, step.output] as const)
      }),
      Stream.filter((bytes) => bytes.length > 0),
    )
    const exit = Effect.tap(process.exit, () =>
      Effect.sync(() => {
        finished = true
      }),
    )
    return { stdout, stderr: process.stderr, exit }
  })
