import {
  Cache,
  Chunk,
  Context,
  Data,
  Duration,
  Effect,
  Fiber,
  Layer,
  Option,
  type Scope,
  Stream,
} from "effect"
import { parseEntries } from "./EntryRecord.ts"
import { type EnvdError, envdError } from "./EnvdError.ts"
import type { EntryInfo } from "./gen/filesystem/filesystem_pb.ts"
import { needsHome, resolvePath } from "./SandboxPath.ts"
import { collect, SandboxShell, type ShellResult } from "./SandboxShell.ts"
import type { SandboxTarget } from "./SandboxTarget.ts"
import * as ShellScript from "./ShellScript.ts"
import { supervise } from "./SupervisedProgram.ts"

/** File operations in a sandbox, each one exec of a small shell program (see ShellScript). */
export interface SandboxFilesShape {
  /** An absolute, normalized path (relative and `~` paths are under the home directory). */
  readonly resolve: (target: SandboxTarget, path: string) => Effect.Effect<string, EnvdError>
  readonly stat: (target: SandboxTarget, path: string) => Effect.Effect<EntryInfo, EnvdError>
  readonly listDir: (
    target: SandboxTarget,
    path: string,
    depth: number,
  ) => Effect.Effect<Array<EntryInfo>, EnvdError>
  readonly makeDir: (target: SandboxTarget, path: string) => Effect.Effect<EntryInfo, EnvdError>
  readonly move: (
    target: SandboxTarget,
    source: string,
    destination: string,
  ) => Effect.Effect<EntryInfo, EnvdError>
  readonly remove: (target: SandboxTarget, path: string) => Effect.Effect<void, EnvdError>
  /**
   * The file's bytes. Succeeds once the file is known to be readable (so a missing file fails
   * before any byte is sent); the scope owns the exec session.
   */
  readonly read: (target: SandboxTarget, path: string) => Effect.Effect<FileContent, EnvdError, Scope.Scope>
  /** Writes exactly `size` bytes of `content` (creating parent directories). */
  readonly write: (
    target: SandboxTarget,
    path: string,
    size: number,
    content: Stream.Stream<Uint8Array>,
  ) => Effect.Effect<EntryInfo, EnvdError>
}

export interface FileContent {
  /** Known when the file turned out to be empty. */
  readonly empty: boolean
  readonly bytes: Stream.Stream<Uint8Array, EnvdError>
}

export class SandboxFiles extends Context.Tag("@agent-sandbox/envd/SandboxFiles")<
  SandboxFiles,
  SandboxFilesShape
>() {}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

const checked = (what: string) => (result: ShellResult) =>
  result.exitCode === 0
    ? Effect.succeed(text(result.stdout))
    : Effect.fail(ShellScript.scriptFailure(result.exitCode, text(result.stderr), what))

const single = (what: string) => (output: string) => {
  const entry = parseEntries(output)[0]
  return entry === undefined
    ? Effect.fail(envdError("internal", `${what}: no entry information in ${JSON.stringify(output)}`))
    : Effect.succeed(entry)
}

/** Home directories change only with the image; they are asked for once per sandbox and kept a while. */
const homeCacheCapacity = 10_000
const homeCacheTtl = Duration.minutes(10)

export const make: Effect.Effect<SandboxFilesShape, never, SandboxShell> = Effect.gen(function* () {
  const shell = yield* SandboxShell

  const homes = yield* Cache.make({
    capacity: homeCacheCapacity,
    timeToLive: homeCacheTtl,
    lookup: (key: SandboxTarget) =>
      shell.run(key, ShellScript.homeArgv()).pipe(Effect.flatMap(checked("reading the home directory"))),
  })

  const resolve = (target: SandboxTarget, path: string) =>
    needsHome(path)
      ? // Keyed by where the sandbox runs only: its envs are a fresh object per request and would defeat the cache.
        Effect.map(
          homes.get(
            Data.struct({
              namespace: target.namespace,
              pod: target.pod,
              ...(target.container === undefined ? {} : { container: target.container }),
              ...(target.podUid === undefined ? {} : { podUid: target.podUid }),
            }),
          ),
          (home) => resolvePath(home || "/", path),
        )
      : Effect.succeed(resolvePath("/", path))

  const runChecked = (target: SandboxTarget, argv: ReadonlyArray<string>, what: string) =>
    shell.run(target, argv).pipe(Effect.flatMap(checked(what)))

  const stat = (target: SandboxTarget, path: string) =>
    resolve(target, path).pipe(
      Effect.flatMap((resolved) => runChecked(target, ShellScript.statArgv(resolved), `stat ${resolved}`)),
      Effect.flatMap(single("stat")),
    )

  const listDir = (target: SandboxTarget, path: string, depth: number) =>
    resolve(target, path).pipe(
      Effect.flatMap((resolved) =>
        runChecked(target, ShellScript.listDirArgv(resolved, Math.max(1, depth)), `list ${resolved}`),
      ),
      Effect.map(parseEntries),
    )

  const makeDir = (target: SandboxTarget, path: string) =>
    resolve(target, path).pipe(
      Effect.flatMap((resolved) =>
        runChecked(target, ShellScript.makeDirArgv(resolved), `mkdir ${resolved}`),
      ),
      Effect.flatMap(single("mkdir")),
    )

  const move = (target: SandboxTarget, source: string, destination: string) =>
    Effect.all([resolve(target, source), resolve(target, destination)]).pipe(
      Effect.flatMap(([from, to]) =>
        runChecked(target, ShellScript.moveArgv(from, to), `move ${from} to ${to}`),
      ),
      Effect.flatMap(single("move")),
    )

  const remove = (target: SandboxTarget, path: string) =>
    resolve(target, path).pipe(
      Effect.flatMap((resolved) =>
        runChecked(target, ShellScript.removeArgv(resolved), `remove ${resolved}`),
      ),
      Effect.asVoid,
    )

  const read = (target: SandboxTarget, path: string) =>
    Effect.gen(function* () {
      const resolved = yield* resolve(target, path)
      const process = yield* shell
        .spawn(target, { argv: ShellScript.readFileArgv(resolved) })
        .pipe(Effect.flatMap((spawned) => supervise(shell, target, spawned)))
      const stderr = yield* Effect.forkScoped(Stream.runCollect(process.stderr))
      const pull = yield* Stream.toPull(process.stdout)
      // The script checks the path before `cat` writes anything: the first chunk or the end tells.
      const first = yield* pull.pipe(
        // Pulls may yield empty chunks; wait for bytes or the end.
        Effect.repeat({ until: (chunk) => !Chunk.isEmpty(chunk) }),
        Effect.map(Option.some),
        Effect.catchAll((error) =>
          Option.isNone(error) ? Effect.succeed(Option.none()) : Effect.fail(error.value),
        ),
      )
      // A read that breaks off (e.g. an I/O error) must not pass for the whole file.
      const completed = Effect.flatMap(process.exit, (exit) =>
        exit._tag === "Exited" && exit.exitCode === 0
          ? Effect.void
          : Effect.fail(envdError("internal", `read ${resolved} broke off: ${JSON.stringify(exit)}`)),
      )
      const rest = Stream.concat(
        Stream.repeatEffectChunkOption(pull),
        Stream.drain(Stream.fromEffect(completed)),
      )
      if (Option.isSome(first)) {
        return {
          empty: false,
          bytes: Stream.concat(Stream.fromChunk(first.value), rest),
        } satisfies FileContent
      }
      const exit = yield* process.exit
      if (exit._tag === "Exited" && exit.exitCode === 0)
        return { empty: true, bytes: Stream.empty } satisfies FileContent
      const errors = text(Buffer.concat([...(yield* Fiber.join(stderr))]))
      return yield* Effect.fail(
        exit._tag === "Exited"
          ? ShellScript.scriptFailure(exit.exitCode, errors, `read ${resolved}`)
          : envdError("internal", `read ${resolved}: ${exit.message}`),
      )
    })

  const write = (target: SandboxTarget, path: string, size: number, content: Stream.Stream<Uint8Array>) =>
    Effect.gen(function* () {
      const resolved = yield* resolve(target, path)
      const result = yield* Effect.scoped(
        shell.spawn(target, { argv: ShellScript.writeFileArgv(resolved, size), stdin: content }).pipe(
          Effect.flatMap((process) => supervise(shell, target, process)),
          Effect.flatMap(collect),
        ),
      )
      const output = yield* checked(`write ${resolved}`)(result)
      return yield* single("write")(output)
    })

  return { resolve, stat, listDir, makeDir, move, remove, read, write }
})

export const layer: Layer.Layer<SandboxFiles, never, SandboxShell> = Layer.effect(SandboxFiles, make)
