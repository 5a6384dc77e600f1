import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { Deferred, Duration, Effect, Option, Schedule } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"

/** How to run one control plane component. */
export interface ComponentSpec {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** The whole environment: components never inherit ours (KWOK passes its own on to exec'd commands). */
  readonly env: Readonly<Record<string, string>>
  readonly logFile: string
}

/** A running component. */
export interface ComponentHandle {
  readonly name: string
  readonly pid: number
  readonly command: string
  readonly logFile: string
  /** Completes when the process has exited, with how it ended ("exit code 1", "signal SIGTERM"). */
  readonly exited: Effect.Effect<string>
}

/**
 * Starts a component with stdout and stderr appended to its log file. A detached component gets its own
 * session and does not keep this Node process alive, so it outlives us (scripts/cluster.ts up); with
 * ownSession alone it gets its own session (no terminal signals) but is still ours to stop.
 */
export const spawnComponent = (
  spec: ComponentSpec,
  options: { readonly detached: boolean; readonly ownSession?: boolean },
): Effect.Effect<ComponentHandle, ControlPlaneError> =>
  Effect.gen(function* () {
    const exited = yield* Deferred.make<string>()
    const child = yield* Effect.try({
      try: () => {
        const log = fs.openSync(spec.logFile, "a", 0o600)
        try {
          return spawn(spec.command, spec.args, {
            stdio: ["ignore", log, log],
            env: spec.env,
            detached: options.detached || options.ownSession === true,
          })
        } finally {
          fs.closeSync(log)
        }
      },
      catch: (cause) =>
        new ControlPlaneError({ component: spec.name, reason: "Exited", message: `cannot start: ${cause}` }),
    })
    child.once("exit", (code, signal) =>
      Deferred.unsafeDone(exited, Effect.succeed(signal ? `signal ${signal}` : `exit code ${code}`)),
    )
    child.once("error", (cause) =>
      Deferred.unsafeDone(exited, Effect.succeed(`spawn error: ${cause.message}`)),
    )
    if (options.detached) child.unref()
    if (child.pid === undefined) {
      const how = yield* Deferred.await(exited)
      return yield* new ControlPlaneError({
        component: spec.name,
        reason: "Exited",
        message: `${spec.name} could not be started (${spec.command}): ${how}`,
      })
    }
    return {
      name: spec.name,
      pid: child.pid,
      command: spec.command,
      logFile: spec.logFile,
      exited: Deferred.await(exited),
    }
  })

/** The last lines of a log file, for error messages. */
export const logTail = (logFile: string, lines = 25): string => {
  try {
    const text = fs.readFileSync(logFile, "utf8")
    return text
      .split("\n")
      .slice(-lines - 1)
      .join("\n")
      .trimEnd()
  } catch {
    return "(no log)"
  }
}

/** An error for a component that ended while it should be running, with the end of its log. */
export const exitedError = (handle: ComponentHandle, how: string): ControlPlaneError =>
  new ControlPlaneError({
    component: handle.name,
    reason: "Exited",
    message: `${handle.name} ended unexpectedly (${how}). Last lines of ${handle.logFile}:\n${logTail(handle.logFile)}`,
  })

/** Fails as soon as any of the components ends; never succeeds. Race it against a readiness wait. */
export const failOnAnyExit = (
  handles: ReadonlyArray<ComponentHandle>,
): Effect.Effect<never, ControlPlaneError> =>
  handles
    .map((handle) => Effect.flatMap(handle.exited, (how) => Effect.fail(exitedError(handle, how))))
    // raceFirst, not raceAll: raceAll would wait for a success, and these only ever fail.
    .reduce<Effect.Effect<never, ControlPlaneError>>(
      (first, next) => Effect.raceFirst(first, next),
      Effect.never,
    )

/**
 * Whether the process still runs. An exited process that is not our child stays a zombie until init reaps
 * it (seconds, on some machines), and signal 0 still reaches zombies: so read its state from /proc.
 */
const isAlive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state !== "Z" && state !== "X"
  } catch {
    return false
  }
}

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name)
  } catch {
    // Already gone.
  }
}

/** Completes once no process has this pid any more (for processes that are not our children). */
export const pidGone = (pid: number): Effect.Effect<void> =>
  Effect.suspend(() => (isAlive(pid) ? Effect.fail("alive") : Effect.void)).pipe(
    Effect.retry(Schedule.spaced(Duration.millis(50))),
    Effect.orDie,
  )

/**
 * SIGTERM, then SIGKILL if the process has not ended within the grace period. The waits are made
 * interruptible: this runs in finalizers, which are not, and a timeout can only cut short an
 * effect it can interrupt (a kube-apiserver whose etcd is gone ignores SIGTERM, and the wait for
 * it would never end).
 */
export const stopProcess = (
  pid: number,
  ended: Effect.Effect<unknown>,
  grace: Duration.DurationInput = Duration.seconds(5),
): Effect.Effect<void> =>
  Effect.gen(function* () {
    signal(pid, "SIGTERM")
    const inTime = yield* Effect.timeoutOption(Effect.interruptible(ended), grace)
    if (Option.isNone(inTime)) {
      signal(pid, "SIGKILL")
      yield* Effect.timeoutOption(Effect.interruptible(ended), Duration.seconds(5))
    }
  })

export const stopComponent = (handle: ComponentHandle): Effect.Effect<void> =>
  stopProcess(handle.pid, handle.exited)
