/**
 * The processes started in each sandbox, so they keep their identity across requests: a
 * command started by one request can be listed, attached to (several streams at once),
 * written to, resized and signalled by others, and keeps running when its first client goes
 * away, as with envd. Each process is one exec session owned by the table's scope; its pid is
 * the real one in the sandbox (printed by the launcher before it execs the command).
 */
import { create } from "@bufbuild/protobuf"
import {
  Context,
  Deferred,
  Effect,
  Either,
  Exit,
  Layer,
  Mailbox,
  Option,
  PubSub,
  type Queue,
  type Scope,
  Stream,
} from "effect"
import { type EnvdError, envdError } from "./EnvdError.ts"
import { type ProcessConfig, type ProcessInfo, ProcessInfoSchema } from "./gen/process/process_pb.ts"
import * as LaunchOutput from "./LaunchOutput.ts"
import * as ProcessEnd from "./ProcessEnd.ts"
import { SandboxShell, type TerminalSize } from "./SandboxShell.ts"
import { type SandboxTarget, targetKey } from "./SandboxTarget.ts"
import * as ShellScript from "./ShellScript.ts"

export type OutputStream = "stdout" | "stderr" | "pty"

/** What subscribers of a process see after its start. */
export type ProcessOutput =
  | { readonly _tag: "Data"; readonly stream: OutputStream; readonly bytes: Uint8Array }
  | { readonly _tag: "End"; readonly report: ProcessEnd.EndReport }
  /** The exec session broke: the sandbox went away or could not be reached. */
  | { readonly _tag: "Lost"; readonly error: EnvdError }

export type ProcessSelector = { readonly pid: number } | { readonly tag: string }

export interface StartSpec {
  readonly config: ProcessConfig
  /** Run under a terminal of this size. */
  readonly pty?: TerminalSize
  readonly tag?: string
  /** Keep stdin open for SendInput (otherwise it is /dev/null). */
  readonly stdin: boolean
  /** Kill the process after this long (envd applies the Start request's deadline this way). */
  readonly timeoutMs?: number
}

export interface Attached {
  readonly pid: number
  /** Ends after the End or Lost item. */
  readonly outputs: Stream.Stream<ProcessOutput>
}

export type Input = { readonly stdin: Uint8Array } | { readonly pty: Uint8Array }

export interface ProcessTableShape {
  /** Starts a command; succeeds with its pid once it runs. The caller's scope owns the subscription. */
  readonly start: (target: SandboxTarget, spec: StartSpec) => Effect.Effect<Attached, EnvdError, Scope.Scope>
  readonly attach: (
    target: SandboxTarget,
    selector: ProcessSelector,
  ) => Effect.Effect<Attached, EnvdError, Scope.Scope>
  readonly list: (target: SandboxTarget) => Effect.Effect<Array<ProcessInfo>>
  readonly sendInput: (
    target: SandboxTarget,
    selector: ProcessSelector,
    input: Input,
  ) => Effect.Effect<void, EnvdError>
  readonly closeStdin: (target: SandboxTarget, selector: ProcessSelector) => Effect.Effect<void, EnvdError>
  readonly resize: (
    target: SandboxTarget,
    selector: ProcessSelector,
    size: TerminalSize,
  ) => Effect.Effect<void, EnvdError>
  readonly signal: (
    target: SandboxTarget,
    selector: ProcessSelector,
    signal: ProcessEnd.SignalName,
  ) => Effect.Effect<void, EnvdError>
}

export class ProcessTable extends Context.Tag("@agent-sandbox/envd/ProcessTable")<
  ProcessTable,
  ProcessTableShape
>() {}

interface RunningProcess {
  readonly pid: number
  readonly tag: string | undefined
  readonly config: ProcessConfig
  readonly pty: boolean
  readonly outputs: PubSub.PubSub<ProcessOutput>
  /** Set before the final item is published, so late subscribers never wait forever. */
  readonly finished: Deferred.Deferred<ProcessOutput>
  /** Stdin (when enabled) or the terminal's input. */
  readonly input: Mailbox.Mailbox<Uint8Array> | undefined
  /** Bytes offered to `input` and not yet sent to the process. */
  readonly pendingInput: { bytes: number }
  readonly sizes: Mailbox.Mailbox<TerminalSize> | undefined
  signalSent: ProcessEnd.SignalName | undefined
}

/** Output items a slow subscriber may lag behind before the command's output is paused. */
const outputCapacity = 256

const isFinal = (output: ProcessOutput): boolean => output._tag !== "Data"

const describe = (selector: ProcessSelector): string =>
  "pid" in selector ? `process with pid ${selector.pid}` : `process with tag ${selector.tag}`

export interface ProcessTableOptions {
  /** Processes running (or starting) at once in one sandbox; more: resource_exhausted (default 256). */
  readonly maxPerSandbox?: number
  /** Input bytes a process's stdin or terminal may hold unread; more: resource_exhausted (default 8 MiB). */
  readonly maxStdinBufferBytes?: number
}

export const makeWith = (
  options: ProcessTableOptions,
): Effect.Effect<ProcessTableShape, never, SandboxShell | Scope.Scope> =>
  Effect.gen(function* () {
    const shell = yield* SandboxShell
    const scope = yield* Effect.scope
    const sandboxes = new Map<string, Map<number, RunningProcess>>()
    const maxPerSandbox = options.maxPerSandbox ?? 256
    const maxStdinBufferBytes = options.maxStdinBufferBytes ?? 8 * 1024 * 1024
    /** Processes started and not yet ended, by sandbox (a starting one has no pid yet). */
    const active = new Map<string, number>()

    const register = (target: SandboxTarget, process: RunningProcess) =>
      Effect.sync(() => {
        const key = targetKey(target)
        const table = sandboxes.get(key) ?? new Map<number, RunningProcess>()
        table.set(process.pid, process)
        sandboxes.set(key, table)
      })

    const unregister = (target: SandboxTarget, process: RunningProcess) =>
      Effect.sync(() => {
        const key = targetKey(target)
        const table = sandboxes.get(key)
        if (table?.get(process.pid) === process) table.delete(process.pid)
        if (table?.size === 0) sandboxes.delete(key)
      })

    const find = (target: SandboxTarget, selector: ProcessSelector) =>
      Effect.suspend(() => {
        const table = sandboxes.get(targetKey(target))
        const found =
          "pid" in selector
            ? table?.get(selector.pid)
            : [...(table?.values() ?? [])].find((process) => process.tag === selector.tag)
        return found === undefined
          ? Effect.fail(envdError("not_found", `${describe(selector)} not found`))
          : Effect.succeed(found)
      })

    const outputsOf = (process: RunningProcess, subscription: Queue.Dequeue<ProcessOutput>) =>
      Effect.map(Deferred.poll(process.finished), (done) =>
        Option.isSome(done)
          ? Stream.fromEffect(done.value)
          : Stream.fromQueue(subscription).pipe(Stream.takeUntil(isFinal)),
      )

    const signalProcess = (target: SandboxTarget, process: RunningProcess, signal: ProcessEnd.SignalName) =>
      Effect.gen(function* () {
        process.signalSent = signal
        const result = yield* shell.run(target, ShellScript.signalArgv(process.pid, signal))
        if (result.exitCode !== 0) {
          return yield* Effect.fail(
            ShellScript.scriptFailure(result.exitCode, new TextDecoder().decode(result.stderr), "signal"),
          )
        }
      })

    const start = (target: SandboxTarget, spec: StartSpec) =>
      Effect.gen(function* () {
        const key = targetKey(target)
        const running = active.get(key) ?? 0
        if (running >= maxPerSandbox) {
          return yield* Effect.fail(
            envdError(
              "resource_exhausted",
              `the sandbox already runs ${running} processes, the most this server allows (${maxPerSandbox})`,
            ),
          )
        }
        const envs = { ...target.envs, ...spec.config.envs }
        const invalid = Object.keys(envs).find((name) => !ShellScript.isValidEnvName(name))
        if (invalid !== undefined) {
          return yield* Effect.fail(
            envdError("invalid_argument", `invalid environment variable name: ${invalid}`),
          )
        }
        const pty = spec.pty !== undefined
        const argv = ShellScript.launchArgv({
          cmd: spec.config.cmd,
          args: spec.config.args,
          cwd: spec.config.cwd ?? "",
          stdin: spec.stdin || pty,
          tty: pty,
        })
        const outputs = yield* PubSub.bounded<ProcessOutput>(outputCapacity)
        const subscription = yield* PubSub.subscribe(outputs)
        const started = yield* Deferred.make<number, EnvdError>()
        const finished = yield* Deferred.make<ProcessOutput>()
        const input = spec.stdin || pty ? yield* Mailbox.make<Uint8Array>() : undefined
        const pending = { bytes: 0 }
        const sizes = pty ? yield* Mailbox.make<TerminalSize>() : undefined
        if (sizes !== undefined && spec.pty !== undefined) sizes.unsafeOffer(spec.pty)

        let process: RunningProcess | undefined
        const run = Effect.gen(function* () {
          // The environment goes first on stdin, never in the exec URL (see ShellScript.envBlock);
          // under a terminal only once the launcher has turned echo off (its pid line is out).
          const block = Stream.make(ShellScript.envBlock(envs))
          const environment = pty
            ? Stream.unwrap(
                Effect.map(Deferred.await(started).pipe(Effect.exit), (exit) =>
                  Exit.isSuccess(exit) ? block : Stream.empty,
                ),
              )
            : block
          const exec = yield* shell.spawn(target, {
            argv,
            tty: pty,
            stdin:
              input === undefined
                ? environment
                : Stream.concat(
                    environment,
                    Mailbox.toStream(input).pipe(
                      Stream.tap((chunk) =>
                        Effect.sync(() => {
                          pending.bytes -= chunk.length
                        }),
                      ),
                    ),
                  ),
            ...(sizes !== undefined ? { resize: Mailbox.toStream(sizes) } : {}),
          })
          let launch: LaunchOutput.LaunchState = LaunchOutput.awaitingPid
          // stderr waits (in order) until the start is known; the lock keeps held and new chunks in order.
          const stderrLock = yield* Effect.makeSemaphore(1)
          let heldStderr: Array<Uint8Array> = []
          const publish = (stream: OutputStream, bytes: Uint8Array) =>
            bytes.length === 0 ? Effect.void : PubSub.publish(outputs, { _tag: "Data", stream, bytes })

          const onStart = (pid: number) =>
            Effect.gen(function* () {
              process = {
                pid,
                tag: spec.tag,
                config: spec.config,
                pty,
                outputs,
                finished,
                input,
                pendingInput: pending,
                sizes,
                signalSent: undefined,
              }
              yield* register(target, process)
              const running = process
              if (spec.timeoutMs !== undefined && spec.timeoutMs > 0) {
                yield* Effect.forkScoped(
                  Effect.sleep(spec.timeoutMs).pipe(
                    Effect.zipRight(signalProcess(target, running, "KILL")),
                    Effect.ignore,
                  ),
                )
              }
              yield* Deferred.succeed(started, pid)
              yield* stderrLock.withPermits(1)(
                Effect.suspend(() => {
                  const held = heldStderr
                  heldStderr = []
                  return Effect.forEach(held, (bytes) => publish("stderr", bytes), { discard: true })
                }),
              )
            })

          const stdoutPump = Stream.runForEach(exec.stdout, (chunk) =>
            Effect.suspend(() => {
              const step = LaunchOutput.feed(launch, chunk)
              launch = step.state
              const output = publish(pty ? "pty" : "stdout", step.output)
              return step.pid !== undefined ? Effect.zipRight(onStart(step.pid), output) : output
            }),
          )
          const stderrPump = Stream.runForEach(exec.stderr, (chunk) =>
            stderrLock.withPermits(1)(
              Effect.suspend(() => {
                if (process !== undefined) return publish("stderr", chunk)
                heldStderr.push(chunk)
                return Effect.void
              }),
            ),
          )
          const outcome = yield* Effect.all([stdoutPump, stderrPump], { concurrency: 2, discard: true }).pipe(
            Effect.zipRight(exec.exit),
            Effect.either,
          )

          if (process === undefined) {
            const said = new TextDecoder().decode(
              Buffer.concat([LaunchOutput.heldBack(launch), ...heldStderr]),
            )
            const error = Either.isLeft(outcome)
              ? outcome.left
              : outcome.right._tag === "Exited"
                ? ShellScript.scriptFailure(outcome.right.exitCode, said, `starting ${spec.config.cmd}`)
                : envdError(
                    "internal",
                    `starting ${spec.config.cmd}: ${outcome.right.message} ${said}`.trim(),
                  )
            return yield* Deferred.fail(started, error)
          }
          const running = process
          const final: ProcessOutput = Either.isLeft(outcome)
            ? { _tag: "Lost", error: outcome.left }
            : {
                _tag: "End",
                report:
                  outcome.right._tag === "Exited"
                    ? ProcessEnd.fromExitCode(outcome.right.exitCode, running.signalSent)
                    : ProcessEnd.fromFailure(outcome.right.message, running.signalSent),
              }
          yield* unregister(target, running)
          yield* Deferred.succeed(finished, final)
          yield* PubSub.publish(outputs, final)
        })

        active.set(key, running + 1)
        yield* run.pipe(
          Effect.scoped,
          Effect.ensuring(
            Effect.sync(() => {
              const left = (active.get(key) ?? 1) - 1
              if (left <= 0) active.delete(key)
              else active.set(key, left)
            }),
          ),
          Effect.catchAll((error) => Deferred.fail(started, error)),
          Effect.onExit((exit) =>
            Exit.isInterrupted(exit)
              ? Deferred.fail(started, envdError("unavailable", "the data plane is shutting down"))
              : Effect.void,
          ),
          Effect.forkIn(scope),
        )

        const pid = yield* Deferred.await(started)
        return { pid, outputs: Stream.fromQueue(subscription).pipe(Stream.takeUntil(isFinal)) }
      })

    const attach = (target: SandboxTarget, selector: ProcessSelector) =>
      Effect.gen(function* () {
        const process = yield* find(target, selector)
        const subscription = yield* PubSub.subscribe(process.outputs)
        return { pid: process.pid, outputs: yield* outputsOf(process, subscription) }
      })

    const list = (target: SandboxTarget) =>
      Effect.sync(() =>
        [...(sandboxes.get(targetKey(target))?.values() ?? [])].map((process) =>
          create(ProcessInfoSchema, {
            pid: process.pid,
            config: process.config,
            ...(process.tag !== undefined ? { tag: process.tag } : {}),
          }),
        ),
      )

    const sendInput = (target: SandboxTarget, selector: ProcessSelector, input: Input) =>
      Effect.gen(function* () {
        const process = yield* find(target, selector)
        const toPty = "pty" in input
        if (toPty !== process.pty) {
          return yield* Effect.fail(
            envdError(
              "internal",
              process.pty
                ? "tty assigned to process — input should be written to the pty, not the stdin"
                : "tty not assigned to process — input should be written to the stdin, not the tty",
            ),
          )
        }
        const bytes = toPty ? input.pty : input.stdin
        if (process.pendingInput.bytes + bytes.length > maxStdinBufferBytes) {
          return yield* Effect.fail(
            envdError(
              "resource_exhausted",
              `the process has ${process.pendingInput.bytes} bytes of input it has not read yet; the most it may hold is ${maxStdinBufferBytes}`,
            ),
          )
        }
        const accepted = process.input !== undefined && (yield* process.input.offer(bytes))
        if (accepted) process.pendingInput.bytes += bytes.length
        if (!accepted) return yield* Effect.fail(envdError("internal", "stdin not enabled or closed"))
      })

    const closeStdin = (target: SandboxTarget, selector: ProcessSelector) =>
      Effect.gen(function* () {
        const process = yield* find(target, selector)
        if (process.pty) {
          return yield* Effect.fail(
            envdError(
              "failed_precondition",
              "cannot close stdin for PTY process — send Ctrl+D (0x04) instead",
            ),
          )
        }
        if (process.input !== undefined) yield* process.input.end
      })

    const resize = (target: SandboxTarget, selector: ProcessSelector, size: TerminalSize) =>
      Effect.gen(function* () {
        const process = yield* find(target, selector)
        if (process.sizes === undefined)
          return yield* Effect.fail(envdError("internal", "tty not assigned to process"))
        yield* process.sizes.offer(size)
      })

    const signal = (target: SandboxTarget, selector: ProcessSelector, name: ProcessEnd.SignalName) =>
      Effect.flatMap(find(target, selector), (process) => signalProcess(target, process, name))

    return { start, attach, list, sendInput, closeStdin, resize, signal }
  })

export const make = makeWith({})

/** The table lives as long as the layer: closing it ends every exec session it holds. */
export const layerWith = (options: ProcessTableOptions): Layer.Layer<ProcessTable, never, SandboxShell> =>
  Layer.scoped(ProcessTable, makeWith(options))

export const layer: Layer.Layer<ProcessTable, never, SandboxShell> = layerWith({})
