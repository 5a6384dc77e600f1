import { Exec, KubeConfig, type KubeError } from "@agent-sandbox/kube"
import { Chunk, Context, Effect, type Exit, Layer, type Scope, Stream } from "effect"
import { type EnvdError, envdError } from "./EnvdError.ts"
import type { SandboxTarget } from "./SandboxTarget.ts"

export interface TerminalSize {
  readonly cols: number
  readonly rows: number
}

export interface SpawnOptions {
  readonly argv: ReadonlyArray<string>
  /** Bytes for stdin; when the stream ends, stdin is closed where exec supports it. */
  readonly stdin?: Stream.Stream<Uint8Array>
  /** Run under a terminal (stderr is merged into stdout). */
  readonly tty?: boolean
  readonly resize?: Stream.Stream<TerminalSize>
}

/** How a command ended: an exit code, or a failure exec reported instead (e.g. "signal: killed"). */
export type CommandExit =
  | { readonly _tag: "Exited"; readonly exitCode: number }
  | { readonly _tag: "Failed"; readonly message: string }

/** A command running in a sandbox. Read stdout and stderr concurrently (each has one reader). */
export interface ShellProcess {
  readonly stdout: Stream.Stream<Uint8Array, EnvdError>
  readonly stderr: Stream.Stream<Uint8Array, EnvdError>
  /** Fails only when the connection to the sandbox is lost. */
  readonly exit: Effect.Effect<CommandExit, EnvdError>
}

export interface ShellResult {
  readonly exitCode: number
  readonly stdout: Uint8Array
  readonly stderr: Uint8Array
}

export interface LaunchOptions {
  readonly argv: ReadonlyArray<string>
  /** Run under a terminal of this size (stderr is merged into stdout). */
  readonly terminal?: TerminalSize
}

/**
 * Called as a launched program's output arrives, in order and synchronously; `end` exactly once,
 * last: how the program ended, or the connection's loss.
 */
export interface LaunchListener {
  readonly stdout: (bytes: Uint8Array) => void
  readonly stderr: (bytes: Uint8Array) => void
  readonly end: (exit: Exit.Exit<CommandExit, EnvdError>) => void
}

/** A launched program, driven in plain calls (no stream, fiber or queue of its own per program). */
export interface LaunchedProgram {
  /** Bytes for its stdin (or terminal), in order. */
  readonly write: (bytes: Uint8Array) => void
  /** Ends its stdin once what was written is sent. */
  readonly endInput: () => void
  readonly resize: (size: TerminalSize) => void
  /** Input written and not yet sent to the program. */
  readonly bufferedInput: () => number
  /** Stops delivering output (backpressure to the program) until `resume`. */
  readonly pause: () => void
  readonly resume: () => void
  /** Ends the session (the program is signalled, as when an exec connection closes); `end` follows. */
  readonly close: () => void
}

/** Runs programs in a sandbox's container; the data plane's only way in. */
export interface SandboxShellShape {
  /**
   * A program driven by callbacks, for what runs per command (envd's process table); a shell
   * without it is driven through `spawn` (see ShellLaunch). Succeeds once the program is asked for.
   */
  readonly launch?: (
    target: SandboxTarget,
    options: LaunchOptions,
    listener: LaunchListener,
  ) => Effect.Effect<LaunchedProgram, EnvdError>
  /** The scope owns the connection: closing it ends the exec session. */
  readonly spawn: (
    target: SandboxTarget,
    options: SpawnOptions,
  ) => Effect.Effect<ShellProcess, EnvdError, Scope.Scope>
  /** Runs to completion, holding all output in memory (for small outputs). */
  readonly run: (
    target: SandboxTarget,
    argv: ReadonlyArray<string>,
    stdin?: Stream.Stream<Uint8Array>,
  ) => Effect.Effect<ShellResult, EnvdError>
}

export class SandboxShell extends Context.Tag("@agent-sandbox/envd/SandboxShell")<
  SandboxShell,
  SandboxShellShape
>() {}

/** A Pod that is gone or an API server that cannot be reached both mean "sandbox unavailable". */
export const fromKubeError = (error: KubeError.KubeError): EnvdError => {
  switch (error.reason) {
    case "NotFound":
      return envdError("unavailable", `The sandbox was not found (${error.message})`)
    case "Unauthorized":
    case "Forbidden":
      return envdError("internal", `exec into the sandbox was refused: ${error.message}`)
    case "BadRequest":
      // e.g. the container is not running (yet/anymore)
      return envdError("unavailable", `the sandbox cannot run commands: ${error.message}`)
    default:
      return envdError("unavailable", `the connection to the sandbox failed: ${error.message}`)
  }
}

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => Buffer.concat(Chunk.toReadonlyArray(chunks))

/** Collects a spawned program's output and exit code. */
export const collect = (process: ShellProcess): Effect.Effect<ShellResult, EnvdError> =>
  Effect.all([Stream.runCollect(process.stdout), Stream.runCollect(process.stderr), process.exit], {
    concurrency: "unbounded",
  }).pipe(
    Effect.map(([stdout, stderr, exit]) => ({
      exitCode: exit._tag === "Exited" ? exit.exitCode : -1,
      stdout: concat(stdout),
      stderr:
        exit._tag === "Exited" ? concat(stderr) : Buffer.concat([concat(stderr), Buffer.from(exit.message)]),
    })),
  )

/** Through the Kubernetes exec API (WebSocket to the API server). */
export const makeKube = (config: KubeConfig.KubeConfig["Type"]): SandboxShellShape => {
  const spawn = (target: SandboxTarget, options: SpawnOptions) =>
    Exec.exec({
      namespace: target.namespace,
      pod: target.pod,
      ...(target.container !== undefined ? { container: target.container } : {}),
      command: options.argv,
      ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
      ...(options.tty === true ? { tty: true } : {}),
      ...(options.resize !== undefined ? { resize: options.resize } : {}),
    }).pipe(
      Effect.map(
        (process): ShellProcess => ({
          stdout: Stream.mapError(process.stdout, fromKubeError),
          stderr: Stream.mapError(process.stderr, fromKubeError),
          exit: process.status.pipe(
            Effect.map((status): CommandExit => ({ _tag: "Exited", exitCode: status.exitCode })),
            // A status without an exit code vs. a broken connection.
            Effect.catchAll((error) =>
              error.reason === "Transport"
                ? Effect.fail(fromKubeError(error))
                : Effect.succeed<CommandExit>({ _tag: "Failed", message: error.message }),
            ),
          ),
        }),
      ),
      Effect.mapError(fromKubeError),
      Effect.provideService(KubeConfig.KubeConfig, config),
    )
  return {
    spawn,
    run: (target, argv, stdin) =>
      Effect.scoped(
        Effect.flatMap(spawn(target, { argv, ...(stdin !== undefined ? { stdin } : {}) }), collect),
      ),
  }
}

export const layerKube: Layer.Layer<SandboxShell, never, KubeConfig.KubeConfig> = Layer.effect(
  SandboxShell,
  Effect.map(KubeConfig.KubeConfig, makeKube),
)
