/**
 * The entered process of each sandbox container this agent serves (EnteredProcess), started by
 * the first command and kept: replaced when the sandbox's container is another one (a restart in
 * place, a recycle: a new pid), dropped when it exits (its container ended) and stopped after
 * `idleSeconds` without a command. Never shared between containers: each is keyed by the sandbox
 * and checked against the container the runtime names for it.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs"
import * as path from "node:path"
import { SandboxTarget } from "@agent-sandbox/envd"
import { Clock, Context, Deferred, Effect, Exit, Layer, Schedule, type Scope } from "effect"
import * as EnteredProcess from "./EnteredProcess.ts"
import { NodeAgentConfig } from "./NodeAgentConfig.ts"
import type { NodeAgentError } from "./NodeAgentError.ts"
import type { SandboxContainer } from "./SandboxContainers.ts"

/** An entered process held for one command; `release` (plain, once) when the command has ended. */
export interface Held {
  readonly process: EnteredProcess.EnteredProcess
  readonly release: () => void
}

export interface EnteredProcessesShape {
  /** The container's entered process, started if needed, counted as busy until `release`. */
  readonly hold: (
    target: SandboxTarget.SandboxTarget,
    container: SandboxContainer,
  ) => Effect.Effect<Held, NodeAgentError>
  /** `hold` for as long as the scope: it counts as a command in flight. */
  readonly acquire: (
    target: SandboxTarget.SandboxTarget,
    container: SandboxContainer,
  ) => Effect.Effect<EnteredProcess.EnteredProcess, NodeAgentError, Scope.Scope>
}

export class EnteredProcesses extends Context.Tag("@agent-sandbox/node-agent/EnteredProcesses")<
  EnteredProcesses,
  EnteredProcessesShape
>() {}

interface Entry {
  readonly containerId: string
  readonly startTime: string
  readonly started: Deferred.Deferred<EnteredProcess.EnteredProcess, NodeAgentError>
  active: number
  lastUsed: number
}

/** Whether an entry may be stopped for idleness now. */
export const isIdle = (entry: { active: number; lastUsed: number }, now: number, idleMillis: number) =>
  entry.active === 0 && now - entry.lastUsed >= idleMillis

export const make: Effect.Effect<EnteredProcessesShape, never, NodeAgentConfig | Scope.Scope> = Effect.gen(
  function* () {
    const config = yield* NodeAgentConfig
    // The directory is this agent's alone (root, 0700): leftovers of an earlier run are removed.
    mkdirSync(config.socketDir, { recursive: true, mode: 0o700 })
    for (const name of readdirSync(config.socketDir))
      rmSync(path.join(config.socketDir, name), { force: true })
    const entries = new Map<string, Entry>()
    let sequence = 0

    const stopEntry = (key: string, entry: Entry) =>
      Effect.gen(function* () {
        if (entries.get(key) === entry) entries.delete(key)
        const started = yield* Deferred.poll(entry.started)
        if (started._tag === "Some") {
          const exit = yield* Effect.exit(started.value)
          if (Exit.isSuccess(exit)) yield* exit.value.stop
        }
      })

    const startEntry = (key: string, container: SandboxContainer, now: number) =>
      Effect.gen(function* () {
        const entry: Entry = {
          containerId: container.containerId,
          startTime: container.startTime,
          started: yield* Deferred.make<EnteredProcess.EnteredProcess, NodeAgentError>(),
          active: 0,
          lastUsed: now,
        }
        entries.set(key, entry)
        sequence += 1
        const socket = path.join(config.socketDir, `${sequence}.sock`)
        yield* EnteredProcess.start(config.helper, container, socket).pipe(
          Effect.tap((entered) =>
            Effect.zipRight(
              Effect.logInfo(`entered container ${entered.containerId} of ${key}: pid ${entered.pid}`),
              // Gone by itself (its container ended) or stopped: the next command starts another.
              Deferred.await(entered.exited).pipe(
                Effect.tap((how) =>
                  Effect.logInfo(`the entered process ${entered.pid} of ${key} ended (${how})`),
                ),
                Effect.zipRight(Effect.sync(() => entries.get(key) === entry && entries.delete(key))),
                Effect.forkDaemon,
              ),
            ),
          ),
          Effect.tapError(() => Effect.sync(() => entries.get(key) === entry && entries.delete(key))),
          Effect.intoDeferred(entry.started),
          Effect.forkDaemon,
        )
        return entry
      })

    const hold = (target: SandboxTarget.SandboxTarget, container: SandboxContainer) =>
      Effect.gen(function* () {
        const key = `${SandboxTarget.targetKey(target)}/${target.podUid ?? ""}`
        const clock = yield* Effect.clock
        const now = clock.unsafeCurrentTimeMillis()
        let entry = entries.get(key)
        if (
          entry !== undefined &&
          (entry.containerId !== container.containerId || entry.startTime !== container.startTime)
        ) {
          // Another container now: the old one's process must not serve it.
          yield* stopEntry(key, entry)
          entry = undefined
        }
        const current = entry ?? (yield* startEntry(key, container, now))
        current.active += 1
        current.lastUsed = now
        let released = false
        // Plain, not a finalizer: it runs once per command, where an Effect run costs more than the rest.
        const release = () => {
          if (released) return
          released = true
          current.active -= 1
          current.lastUsed = clock.unsafeCurrentTimeMillis()
        }
        return yield* Deferred.await(current.started).pipe(
          Effect.map((process): Held => ({ process, release })),
          Effect.onExit((exit) => (Exit.isFailure(exit) ? Effect.sync(release) : Effect.void)),
        )
      })

    const acquire = (target: SandboxTarget.SandboxTarget, container: SandboxContainer) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(restore(hold(target, container)), (held) =>
          Effect.as(
            Effect.addFinalizer(() => Effect.sync(held.release)),
            held.process,
          ),
        ),
      )

    const idleMillis = config.enteredIdleSeconds * 1000
    yield* Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.forEach(
        [...entries].filter(([, entry]) => isIdle(entry, now, idleMillis)),
        ([key, entry]) => stopEntry(key, entry),
        { discard: true },
      ),
    ).pipe(
      Effect.repeat(Schedule.spaced(`${Math.max(1, Math.floor(config.enteredIdleSeconds / 2))} seconds`)),
      Effect.forkScoped,
    )
    yield* Effect.addFinalizer(() =>
      Effect.forEach([...entries], ([key, entry]) => stopEntry(key, entry), { discard: true }),
    )
    return { hold, acquire } satisfies EnteredProcessesShape
  },
)

export const layer: Layer.Layer<EnteredProcesses, never, NodeAgentConfig> = Layer.scoped(
  EnteredProcesses,
  make,
)
