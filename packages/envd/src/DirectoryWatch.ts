/**
 * Watching a directory in a sandbox by polling (no inotify through exec): one long-running
 * exec prints a snapshot of the tree each time the server sends it a line, and consecutive
 * snapshots are diffed into envd's events. WatchDir streams them; the Python SDK's polling
 * watcher (CreateWatcher / GetWatcherEvents / RemoveWatcher) buffers them per watcher id.
 */
import { randomUUID } from "node:crypto"
import {
  Chunk,
  Clock,
  Context,
  Duration,
  Effect,
  Fiber,
  Layer,
  Option,
  Schedule,
  type Scope,
  Stream,
} from "effect"
import { type EnvdError, envdError } from "./EnvdError.ts"
import { SandboxFiles } from "./SandboxFiles.ts"
import { SandboxShell } from "./SandboxShell.ts"
import { type SandboxTarget, targetKey } from "./SandboxTarget.ts"
import * as ShellScript from "./ShellScript.ts"
import { supervise } from "./SupervisedProgram.ts"
import * as WatchSnapshot from "./WatchSnapshot.ts"

export interface DirectoryWatchShape {
  /** Events under `path` (names relative to it); succeeds once the first snapshot is taken. */
  readonly watch: (
    target: SandboxTarget,
    path: string,
    recursive: boolean,
  ) => Effect.Effect<Stream.Stream<WatchSnapshot.WatchEvent, EnvdError>, EnvdError, Scope.Scope>
  readonly createWatcher: (
    target: SandboxTarget,
    path: string,
    recursive: boolean,
  ) => Effect.Effect<string, EnvdError>
  /** Events since the last call (at most `bufferedEventsLimit`, oldest dropped). */
  readonly takeEvents: (
    target: SandboxTarget,
    watcherId: string,
  ) => Effect.Effect<Array<WatchSnapshot.WatchEvent>, EnvdError>
  readonly removeWatcher: (target: SandboxTarget, watcherId: string) => Effect.Effect<void, EnvdError>
}

export class DirectoryWatch extends Context.Tag("@agent-sandbox/envd/DirectoryWatch")<
  DirectoryWatch,
  DirectoryWatchShape
>() {}

export interface DirectoryWatchOptions {
  /** Time between snapshots. */
  readonly pollInterval?: Duration.DurationInput
  /** A polling watcher nobody asked for events this long is removed. */
  readonly idleWatcherTimeout?: Duration.DurationInput
  /** Watches (WatchDir streams and polling watchers) open at once per sandbox; more: resource_exhausted (default 64). */
  readonly maxWatchersPerSandbox?: number
}

const bufferedEventsLimit = 10_000
const tick = new TextEncoder().encode("\n")

interface Watcher {
  readonly target: string
  readonly events: Array<WatchSnapshot.WatchEvent>
  lastPolled: number
  fiber: Fiber.RuntimeFiber<void> | undefined
}

const snapshots = (
  stdout: Stream.Stream<Uint8Array, EnvdError>,
): Stream.Stream<WatchSnapshot.Snapshot, EnvdError> => {
  const decoder = new TextDecoder()
  return stdout.pipe(
    Stream.mapAccum(WatchSnapshot.emptySplitter, (splitter, chunk) => {
      const next = WatchSnapshot.splitSnapshots(splitter, decoder.decode(chunk, { stream: true }))
      return [next.splitter, next.snapshots]
    }),
    Stream.flattenIterables,
  )
}

export const make = (
  options: DirectoryWatchOptions = {},
): Effect.Effect<DirectoryWatchShape, never, SandboxShell | SandboxFiles | Scope.Scope> =>
  Effect.gen(function* () {
    const shell = yield* SandboxShell
    const files = yield* SandboxFiles
    const scope = yield* Effect.scope
    const pollInterval = Duration.decode(options.pollInterval ?? "500 millis")
    const idleTimeout = Duration.toMillis(options.idleWatcherTimeout ?? "10 minutes")
    const watchers = new Map<string, Watcher>()
    const maxWatchers = options.maxWatchersPerSandbox ?? 64
    /** Open watches by sandbox: each holds an exec session until its scope closes. */
    const open = new Map<string, number>()

    const holdSlot = (target: SandboxTarget) =>
      Effect.acquireRelease(
        Effect.suspend(() => {
          const key = targetKey(target)
          const count = open.get(key) ?? 0
          if (count >= maxWatchers) {
            return Effect.fail(
              envdError(
                "resource_exhausted",
                `the sandbox already has ${count} directory watchers, the most this server allows (${maxWatchers})`,
              ),
            )
          }
          open.set(key, count + 1)
          return Effect.succeed(key)
        }),
        (key) =>
          Effect.sync(() => {
            const left = (open.get(key) ?? 1) - 1
            if (left <= 0) open.delete(key)
            else open.set(key, left)
          }),
      )

    const watch = (target: SandboxTarget, path: string, recursive: boolean) =>
      Effect.gen(function* () {
        yield* holdSlot(target)
        const resolved = yield* files.resolve(target, path)
        const exec = yield* shell
          .spawn(target, {
            argv: ShellScript.watchArgv(resolved, recursive),
            stdin: Stream.repeatEffectWithSchedule(Effect.succeed(tick), Schedule.spaced(pollInterval)),
          })
          .pipe(Effect.flatMap((process) => supervise(shell, target, process)))
        const stderr = yield* Effect.forkScoped(Stream.runCollect(exec.stderr))
        const pull = yield* Stream.toPull(snapshots(exec.stdout).pipe(Stream.rechunk(1)))
        const first = yield* pull.pipe(
          // Pulls may yield empty chunks; wait for a snapshot or the end.
          Effect.repeat({ until: (chunk) => !Chunk.isEmpty(chunk) }),
          Effect.map((chunk) => Chunk.head(chunk)),
          Effect.catchAll((error) =>
            Option.isNone(error) ? Effect.succeed(Option.none()) : Effect.fail(error.value),
          ),
        )
        if (Option.isNone(first)) {
          const exit = yield* exec.exit
          const said = new TextDecoder().decode(Buffer.concat([...(yield* Fiber.join(stderr))]))
          return yield* Effect.fail(
            exit._tag === "Exited"
              ? ShellScript.scriptFailure(exit.exitCode, said, `watch ${resolved}`)
              : envdError("internal", `watch ${resolved}: ${exit.message}`),
          )
        }
        return Stream.repeatEffectChunkOption(pull).pipe(
          Stream.mapAccum(first.value, (before, after) => [
            after,
            WatchSnapshot.diffSnapshots(before, after),
          ]),
          Stream.flattenIterables,
        )
      })

    const ownWatcher = (target: SandboxTarget, watcherId: string) =>
      Effect.suspend(() => {
        const watcher = watchers.get(watcherId)
        return watcher === undefined || watcher.target !== targetKey(target)
          ? Effect.fail(envdError("not_found", `watcher with id ${watcherId} not found`))
          : Effect.succeed(watcher)
      })

    const createWatcher = (target: SandboxTarget, path: string, recursive: boolean) =>
      Effect.gen(function* () {
        const id = randomUUID()
        const watcher: Watcher = {
          target: targetKey(target),
          events: [],
          lastPolled: yield* Clock.currentTimeMillis,
          fiber: undefined,
        }
        const idle = Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          return now - watcher.lastPolled > idleTimeout
        }).pipe(
          Effect.repeat({
            schedule: Schedule.spaced(Duration.millis(Math.min(idleTimeout, 60_000))),
            until: (x) => x,
          }),
        )
        // The watch is opened in the watcher's own scope (its fiber), so it outlives this request.
        const started = yield* Effect.makeLatch(false)
        let failure: EnvdError | undefined
        const run = Effect.scoped(
          Effect.gen(function* () {
            const events = yield* watch(target, path, recursive)
            yield* started.open
            yield* Stream.runForEach(events, (event) =>
              Effect.sync(() => {
                watcher.events.push(event)
                if (watcher.events.length > bufferedEventsLimit) watcher.events.shift()
              }),
            )
          }),
        ).pipe(
          Effect.raceFirst(idle),
          Effect.catchAll((error) =>
            Effect.sync(() => {
              failure = error
            }),
          ),
          Effect.ensuring(
            Effect.sync(() => {
              if (watchers.get(id) === watcher) watchers.delete(id)
            }),
          ),
          Effect.ensuring(started.open),
          Effect.asVoid,
        )
        watchers.set(id, watcher)
        watcher.fiber = yield* Effect.forkIn(run, scope)
        yield* started.await
        if (failure !== undefined) return yield* Effect.fail(failure)
        return id
      })

    const takeEvents = (target: SandboxTarget, watcherId: string) =>
      Effect.gen(function* () {
        const watcher = yield* ownWatcher(target, watcherId)
        watcher.lastPolled = yield* Clock.currentTimeMillis
        return watcher.events.splice(0, watcher.events.length)
      })

    const removeWatcher = (target: SandboxTarget, watcherId: string) =>
      Effect.gen(function* () {
        const watcher = yield* ownWatcher(target, watcherId)
        watchers.delete(watcherId)
        if (watcher.fiber !== undefined) yield* Fiber.interrupt(watcher.fiber)
      })

    return { watch, createWatcher, takeEvents, removeWatcher }
  })

export const layer = (
  options: DirectoryWatchOptions = {},
): Layer.Layer<DirectoryWatch, never, SandboxShell | SandboxFiles> =>
  Layer.scoped(DirectoryWatch, make(options))
