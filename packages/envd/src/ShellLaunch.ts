/**
 * `launch` for any SandboxShell: its own where it has one (the node agent's, callbacks on a
 * socket), else one fiber per program driving `spawn`'s streams (exec through the API server),
 * so envd's process table has one way to run a command whatever the shell.
 */
import { Effect, Exit, FiberId, Mailbox, type Scope, Stream } from "effect"
import type { EnvdError } from "./EnvdError.ts"
import type {
  CommandExit,
  LaunchedProgram,
  LaunchListener,
  LaunchOptions,
  SandboxShellShape,
  TerminalSize,
} from "./SandboxShell.ts"
import type { SandboxTarget } from "./SandboxTarget.ts"

export type Launch = (
  target: SandboxTarget,
  options: LaunchOptions,
  listener: LaunchListener,
) => Effect.Effect<LaunchedProgram, EnvdError>

/** Through `spawn`: the session lives in a fiber of `scope` (closing the scope ends it). */
export const viaSpawn =
  (shell: SandboxShellShape, scope: Scope.Scope): Launch =>
  (target, options, listener) =>
    Effect.gen(function* () {
      const input = yield* Mailbox.make<Uint8Array>()
      const sizes = options.terminal !== undefined ? yield* Mailbox.make<TerminalSize>() : undefined
      if (sizes !== undefined && options.terminal !== undefined) sizes.unsafeOffer(options.terminal)
      const resumed = yield* Effect.makeLatch(true)
      let buffered = 0
      const session = Effect.gen(function* () {
        const exec = yield* shell.spawn(target, {
          argv: options.argv,
          tty: options.terminal !== undefined,
          stdin: Mailbox.toStream(input).pipe(
            Stream.tap((chunk) =>
              Effect.sync(() => {
                buffered -= chunk.length
              }),
            ),
          ),
          ...(sizes !== undefined ? { resize: Mailbox.toStream(sizes) } : {}),
        })
        const pump = (stream: Stream.Stream<Uint8Array, EnvdError>, deliver: (bytes: Uint8Array) => void) =>
          Stream.runForEach(stream, (bytes) =>
            Effect.zipRight(
              resumed.await,
              Effect.sync(() => deliver(bytes)),
            ),
          )
        yield* Effect.all([pump(exec.stdout, listener.stdout), pump(exec.stderr, listener.stderr)], {
          concurrency: 2,
          discard: true,
        })
        return yield* exec.exit
      })
      const fiber = yield* session.pipe(
        Effect.scoped,
        // Also when interrupted (`close`, or the scope closing): `end` is always called.
        Effect.onExit((exit: Exit.Exit<CommandExit, EnvdError>) => Effect.sync(() => listener.end(exit))),
        // `close` interrupts it, whatever region launched it.
        Effect.interruptible,
        Effect.forkIn(scope),
      )
      return {
        write: (bytes) => {
          if (input.unsafeOffer(bytes)) buffered += bytes.length
        },
        endInput: () => {
          input.unsafeDone(Exit.void)
        },
        resize: (size) => {
          sizes?.unsafeOffer(size)
        },
        bufferedInput: () => buffered,
        pause: () => resumed.unsafeClose(),
        resume: () => resumed.unsafeOpen(),
        close: () => fiber.unsafeInterruptAsFork(FiberId.none),
      } satisfies LaunchedProgram
    })

/** The shell's own `launch`, else `viaSpawn`. */
export const of = (shell: SandboxShellShape, scope: Scope.Scope): Launch =>
  shell.launch ?? viaSpawn(shell, scope)
