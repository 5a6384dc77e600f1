/**
 * envd's SandboxShell on a node: each program runs in the sandbox's container through that
 * container's entered process (EnteredProcesses, helper/sandbox-enter.c), which is already in the
 * container's cgroups and namespaces with its user, capabilities and environment and forks the
 * program there: one unix connection per program carrying CommandFrame frames, instead of an exec
 * through the API server, the kubelet and runc (or a new helper per program). So the process and
 * filesystem services of packages/envd work here unchanged, and a file operation, being a program
 * in the container's mount namespace, cannot reach outside its root.
 */
import { connect, type Socket } from "node:net"
import { EnvdError, SandboxShell, type SandboxTarget } from "@agent-sandbox/envd"
import { NodeStream } from "@effect/platform-node"
import { Deferred, Effect, Exit, FiberId, Layer, Mailbox, Stream } from "effect"
import * as CommandFrame from "./CommandFrame.ts"
import { EnteredProcesses } from "./EnteredProcesses.ts"
import type { NodeAgentError } from "./NodeAgentError.ts"
import { SandboxContainers } from "./SandboxContainers.ts"

const unavailable = (error: NodeAgentError) => EnvdError.envdError("unavailable", error.message)

/** Output frames held for a slow reader before the connection is paused. */
const outputCapacity = 64

const connectTo = (socket: string) =>
  Effect.async<Socket, EnvdError.EnvdError>((resume) => {
    const connection = connect(socket)
    const onError = (error: Error) =>
      resume(
        Effect.fail(
          EnvdError.envdError("unavailable", `the sandbox's container cannot be reached: ${error.message}`),
        ),
      )
    connection.once("error", onError)
    connection.once("connect", () => {
      connection.off("error", onError)
      resume(Effect.succeed(connection))
    })
  })

const write = (connection: Socket, frame: Uint8Array) =>
  Effect.async<void>((resume) => {
    connection.write(frame, () => resume(Effect.void))
  })

/**
 * A launched program on its connection, in plain event handlers: frames decoded as they arrive
 * and handed to the listener; `release` once it has ended.
 */
const drive = (
  connection: Socket,
  listener: SandboxShell.LaunchListener,
  release: () => void,
): SandboxShell.LaunchedProgram => {
  let pending = CommandFrame.initial
  let done = false
  const lost = (message: string) => EnvdError.envdError("unavailable", message)
  const finish = (exit: Exit.Exit<SandboxShell.CommandExit, EnvdError.EnvdError>) => {
    if (done) return
    done = true
    release()
    listener.end(exit)
  }
  const send = (frame: Uint8Array) => {
    if (!done && connection.writable) connection.write(frame)
  }
  connection.on("data", (chunk: Buffer) => {
    if (done) return
    const [rest, frames] = CommandFrame.decode(pending, chunk)
    pending = rest
    for (const frame of frames) {
      switch (frame._tag) {
        case "Stdout":
          listener.stdout(frame.bytes)
          break
        case "Stderr":
          listener.stderr(frame.bytes)
          break
        case "Exit":
          // Nothing follows the exit; ending our side lets the entered process's supervisor go.
          connection.end()
          return finish(Exit.succeed(frame.exit))
        case "Invalid":
          connection.destroy()
          return finish(Exit.fail(lost(`the sandbox's entered process sent ${frame.message}`)))
      }
    }
  })
  // Checked before the error is made: a close follows every exit, and an error costs a stack trace.
  connection.on("error", (error) => {
    if (!done) finish(Exit.fail(lost(`the connection to the sandbox's container failed: ${error.message}`)))
  })
  connection.on("close", () => {
    if (!done) finish(Exit.fail(lost("the program's connection ended before its exit")))
  })
  return {
    write: (bytes) => {
      for (const frame of CommandFrame.encodeStdin(bytes)) send(frame)
    },
    endInput: () => send(CommandFrame.encode(CommandFrame.FrameType.stdinEnd)),
    resize: (size) => send(CommandFrame.encodeResize(size)),
    bufferedInput: () => connection.writableLength,
    pause: () => connection.pause(),
    resume: () => connection.resume(),
    close: () => {
      // Closed before the program's exit: the entered process sends it SIGTERM.
      finish(Exit.interrupt(FiberId.none))
      connection.destroy()
    },
  }
}

export const make: Effect.Effect<
  SandboxShell.SandboxShellShape,
  never,
  SandboxContainers | EnteredProcesses
> = Effect.gen(function* () {
  const containers = yield* SandboxContainers
  const entered = yield* EnteredProcesses

  const spawn = (target: SandboxTarget.SandboxTarget, options: SandboxShell.SpawnOptions) =>
    Effect.gen(function* () {
      const container = yield* Effect.mapError(containers.locate(target), unavailable)
      const process = yield* entered.acquire(target, container).pipe(
        Effect.tapError(() => containers.forget(target)),
        Effect.mapError(unavailable),
      )
      // A terminal starts at 80x24; the first size of `resize` follows at once.
      const terminal = options.tty === true ? { cols: 80, rows: 24 } : undefined
      const connection = yield* Effect.acquireRelease(connectTo(process.socket), (c) =>
        // Closed before the program's exit: the entered process sends it SIGTERM.
        Effect.sync(() => c.destroy()),
      )
      connection.on("error", () => {})
      connection.write(
        CommandFrame.encodeRequest({
          argv: options.argv,
          stdin: options.stdin !== undefined || terminal !== undefined,
          ...(terminal !== undefined ? { terminal } : {}),
        }),
      )
      const stdout = yield* Mailbox.make<Uint8Array, EnvdError.EnvdError>({ capacity: outputCapacity })
      const stderr = yield* Mailbox.make<Uint8Array, EnvdError.EnvdError>({ capacity: outputCapacity })
      const exited = yield* Deferred.make<SandboxShell.CommandExit, EnvdError.EnvdError>()
      const lost = (message: string) => EnvdError.envdError("unavailable", message)
      // The frames, in order; a full mailbox stops the reading (backpressure to the program).
      yield* NodeStream.fromReadable<EnvdError.EnvdError, Uint8Array>(
        () => connection,
        (error) => lost(`the connection to the sandbox's container failed: ${error}`),
      ).pipe(
        Stream.mapAccum(CommandFrame.initial, CommandFrame.decode),
        Stream.flattenIterables,
        // Nothing follows the exit; ending our side lets the entered process's supervisor go.
        Stream.takeUntil((frame) => frame._tag === "Exit"),
        Stream.ensuring(Effect.sync(() => connection.end())),
        Stream.runForEach((frame) => {
          switch (frame._tag) {
            case "Stdout":
              return stdout.offer(frame.bytes)
            case "Stderr":
              return stderr.offer(frame.bytes)
            case "Exit":
              return Deferred.succeed(exited, frame.exit)
            case "Invalid":
              return Effect.fail(lost(`the sandbox's entered process sent ${frame.message}`))
          }
        }),
        Effect.zipRight(
          Effect.suspend(() =>
            Deferred.isDone(exited).pipe(
              Effect.flatMap((done) =>
                done ? Effect.void : Effect.fail(lost("the program's connection ended before its exit")),
              ),
            ),
          ),
        ),
        Effect.exit,
        Effect.flatMap((result) =>
          Effect.all([
            stdout.done(result),
            stderr.done(result),
            result._tag === "Failure" ? Deferred.failCause(exited, result.cause) : Effect.void,
          ]),
        ),
        Effect.forkScoped,
      )
      if (options.stdin !== undefined) {
        yield* options.stdin.pipe(
          Stream.runForEach((bytes) =>
            Effect.forEach(CommandFrame.encodeStdin(bytes), (f) => write(connection, f)),
          ),
          Effect.zipRight(write(connection, CommandFrame.encode(CommandFrame.FrameType.stdinEnd))),
          Effect.forkScoped,
        )
      }
      if (options.resize !== undefined && terminal !== undefined) {
        yield* options.resize.pipe(
          Stream.runForEach((size) => write(connection, CommandFrame.encodeResize(size))),
          Effect.forkScoped,
        )
      }
      return {
        stdout: Mailbox.toStream(stdout),
        stderr: Mailbox.toStream(stderr),
        exit: Deferred.await(exited),
      } satisfies SandboxShell.ShellProcess
    })

  /** One connection per program, driven by callbacks (envd's process table runs commands so). */
  const launch = (
    target: SandboxTarget.SandboxTarget,
    options: SandboxShell.LaunchOptions,
    listener: SandboxShell.LaunchListener,
  ) =>
    Effect.gen(function* () {
      const container = yield* Effect.mapError(containers.locate(target), unavailable)
      // Counts the program as a command in flight of its entered process until it ends.
      const held = yield* entered.hold(target, container).pipe(
        Effect.tapError(() => containers.forget(target)),
        Effect.mapError(unavailable),
      )
      const connection = yield* connectTo(held.process.socket).pipe(
        Effect.onError(() => Effect.sync(held.release)),
      )
      connection.write(
        CommandFrame.encodeRequest({
          argv: options.argv,
          stdin: true,
          ...(options.terminal !== undefined ? { terminal: options.terminal } : {}),
        }),
      )
      return drive(connection, listener, held.release)
    })

  return {
    launch,
    spawn,
    run: (target, argv, stdin) =>
      Effect.scoped(
        Effect.flatMap(
          spawn(target, { argv, ...(stdin !== undefined ? { stdin } : {}) }),
          SandboxShell.collect,
        ),
      ),
  } satisfies SandboxShell.SandboxShellShape
})

export const layer: Layer.Layer<SandboxShell.SandboxShell, never, SandboxContainers | EnteredProcesses> =
  Layer.effect(SandboxShell.SandboxShell, make)
