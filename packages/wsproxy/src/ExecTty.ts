/**
 * A login-like shell under a TTY in a sandbox container, through the data plane's exec
 * (envd's SandboxShell). The launcher prints the shell's pid first (envd's ShellScript), so when
 * the terminal goes away the shell and everything it started are killed: closing an exec does
 * not end the command on every runtime (KWOK's keeps it; containerd's may leave it).
 */
import {
  type EnvdError,
  LaunchOutput,
  SandboxShell,
  type SandboxTarget,
  ShellScript,
} from "@agent-sandbox/envd"
import { Deferred, Effect, Option, Queue, type Scope, Stream } from "effect"

export interface TerminalSize {
  readonly cols: number
  readonly rows: number
}

export interface TtyProcess {
  /** What the terminal shows (the launcher's pid line removed). Single consumer. */
  readonly output: Stream.Stream<Uint8Array, EnvdError.EnvdError>
  readonly write: (bytes: Uint8Array) => Effect.Effect<void>
  readonly resize: (size: TerminalSize) => Effect.Effect<void>
  /** How the shell ended. */
  readonly exit: Effect.Effect<SandboxShell.CommandExit, EnvdError.EnvdError>
  /** The shell's pid in the container, once it has started. */
  readonly pid: Effect.Effect<Option.Option<number>>
}

// bash where the image has it, else sh; both become the launcher's pid (exec).
const shellScript = "if command -v bash >/dev/null 2>&1; then exec bash -i; fi; exec sh -i"

export const argv = ShellScript.launchArgv({
  cmd: "/bin/sh",
  args: ["-c", shellScript],
  cwd: "",
  stdin: true,
  tty: true,
})

/** The shell's environment, sent on stdin once the launcher's pid line is out (see ShellScript.envBlock). */
const environment = ShellScript.envBlock({ TERM: "xterm-256color" })

/** How long the kill of a closed terminal's shell may take before the exec is dropped anyway. */
const killTimeout = "10 seconds"

/** Opens the TTY; closing the scope kills the shell (if still running) and the exec. */
export const open = (
  target: SandboxTarget.SandboxTarget,
  size: TerminalSize,
): Effect.Effect<TtyProcess, EnvdError.EnvdError, SandboxShell.SandboxShell | Scope.Scope> =>
  Effect.gen(function* () {
    const shell = yield* SandboxShell.SandboxShell
    const input = yield* Effect.acquireRelease(Queue.unbounded<Uint8Array>(), Queue.shutdown)
    const sizes = yield* Effect.acquireRelease(Queue.sliding<TerminalSize>(4), Queue.shutdown)
    yield* Queue.offer(sizes, size)
    const pid = yield* Deferred.make<number>()
    const process = yield* shell.spawn(target, {
      argv,
      tty: true,
      stdin: Stream.concat(
        Stream.unwrap(Effect.as(Deferred.await(pid), Stream.make(environment))),
        Stream.fromQueue(input),
      ),
      resize: Stream.fromQueue(sizes),
    })
    const ended = yield* Deferred.make<SandboxShell.CommandExit, EnvdError.EnvdError>()
    yield* Effect.forkScoped(Deferred.complete(ended, process.exit))
    // Runs before the exec's own finalizer (added earlier, so closed later): the shell is gone
    // before its connection is.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        if (yield* Deferred.isDone(ended)) return
        const known = yield* Deferred.poll(pid)
        if (Option.isNone(known)) return
        const running = yield* known.value
        yield* shell
          .run(target, ShellScript.signalArgv(running, "KILL"))
          .pipe(Effect.timeout(killTimeout), Effect.ignore)
      }),
    )
    const output = process.stdout.pipe(
      Stream.mapAccumEffect(LaunchOutput.awaitingPid, (state, chunk) => {
        const step = LaunchOutput.feed(state, chunk)
        return Effect.as(step.pid === undefined ? Effect.void : Deferred.succeed(pid, step.pid), [
          step.state,
          step.output,
        ] as const)
      }),
      Stream.filter((bytes) => bytes.length > 0),
    )
    return {
      output,
      write: (bytes) => Effect.asVoid(Queue.offer(input, bytes)),
      resize: (next) => Effect.asVoid(Queue.offer(sizes, next)),
      exit: Deferred.await(ended),
      pid: Effect.flatMap(Deferred.poll(pid), (found) =>
        Option.isNone(found) ? Effect.succeedNone : Effect.asSome(found.value),
      ),
    } satisfies TtyProcess
  })
