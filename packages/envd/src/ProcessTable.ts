/**
 * The processes started in each sandbox, so they keep their identity across requests: a
 * command started by one request can be listed, attached to (several streams at once),
 * written to, resized and signalled by others, and keeps running when its first client goes
 * away, as with envd. Each process is one program the shell launched (ShellLaunch), driven by
 * plain callbacks: its output goes straight to the sinks attached to it, with no queue, stream
 * or fiber per command (what a command costs the node agent is mostly this). Its pid is the real
 * one in the sandbox (printed by the launcher before it execs the command).
 */
import { create } from "@bufbuild/protobuf"
import { Cause, Context, Effect, Exit, Layer, Runtime, type Scope } from "effect"
import { type EnvdError, envdError } from "./EnvdError.ts"
import { type ProcessConfig, type ProcessInfo, ProcessInfoSchema } from "./gen/process/process_pb.ts"
import * as LaunchOutput from "./LaunchOutput.ts"
import * as ProcessEnd from "./ProcessEnd.ts"
import {
  type CommandExit,
  type LaunchedProgram,
  type LaunchListener,
  SandboxShell,
  type TerminalSize,
} from "./SandboxShell.ts"
import { type SandboxTarget, targetKey } from "./SandboxTarget.ts"
import * as ShellLaunch from "./ShellLaunch.ts"
import * as ShellScript from "./ShellScript.ts"

export type OutputStream = "stdout" | "stderr" | "pty"

/** What a sink attached to a process sees: its pid first, its end last. */
export type ProcessOutput =
  | { readonly _tag: "Start"; readonly pid: number }
  | { readonly _tag: "Data"; readonly stream: OutputStream; readonly bytes: Uint8Array }
  | { readonly _tag: "End"; readonly report: ProcessEnd.EndReport }
  /** The session broke: the sandbox went away or could not be reached. */
  | { readonly _tag: "Lost"; readonly error: EnvdError }

/** Takes a process's outputs, synchronously, in order. */
export interface OutputSink {
  /** false: the sink holds enough; the process's output waits until the subscription's `resume`. */
  readonly push: (output: ProcessOutput) => boolean
}

/** A sink attached to a process. */
export interface Subscription {
  readonly pid: number
  /** The sink has room again after a `push` answered false. */
  readonly resume: () => void
  /** No more outputs to the sink; the process runs on. */
  readonly detach: () => void
}

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

export type Input = { readonly stdin: Uint8Array } | { readonly pty: Uint8Array }

export interface ProcessTableShape {
  /** Starts a command; succeeds once it runs, `sink` attached (it has seen Start). */
  readonly start: (
    target: SandboxTarget,
    spec: StartSpec,
    sink: OutputSink,
  ) => Effect.Effect<Subscription, EnvdError>
  /** Attaches `sink` to a running process (it sees Start, then the output from now on). */
  readonly attach: (
    target: SandboxTarget,
    selector: ProcessSelector,
    sink: OutputSink,
  ) => Effect.Effect<Subscription, EnvdError>
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

interface Attachment {
  readonly sink: OutputSink
  /** Its last push answered false and it has not resumed. */
  full: boolean
}

interface RunningProcess {
  readonly pid: number
  readonly tag: string | undefined
  readonly config: ProcessConfig
  readonly pty: boolean
  readonly program: LaunchedProgram
  readonly attachments: Set<Attachment>
  /** Attachments that are full: the program's output is paused while there is one. */
  full: number
  /** SendInput may write (stdin enabled or a terminal, and not closed). */
  inputOpen: boolean
  signalSent: ProcessEnd.SignalName | undefined
}

const describe = (selector: ProcessSelector): string =>
  "pid" in selector ? `process with pid ${selector.pid}` : `process with tag ${selector.tag}`

/** A lag the sink reported: the program pauses until every sink has room. */
const deliver = (process: RunningProcess, attachment: Attachment, output: ProcessOutput) => {
  if (attachment.sink.push(output) || attachment.full) return
  attachment.full = true
  process.full += 1
  if (process.full === 1) process.program.pause()
}

const subscription = (process: RunningProcess, attachment: Attachment): Subscription => {
  const unblock = () => {
    if (!attachment.full) return
    attachment.full = false
    process.full -= 1
    if (process.full === 0) process.program.resume()
  }
  return {
    pid: process.pid,
    resume: unblock,
    detach: () => {
      if (process.attachments.delete(attachment)) unblock()
    },
  }
}

/** How a program that ran ended, as its sinks see it. */
const finalOutput = (
  exit: Exit.Exit<CommandExit, EnvdError>,
  signalSent: ProcessEnd.SignalName | undefined,
) => {
  if (Exit.isFailure(exit)) {
    const failure = Cause.failureOption(exit.cause)
    return {
      _tag: "Lost",
      error:
        failure._tag === "Some" ? failure.value : envdError("unavailable", "the data plane is shutting down"),
    } satisfies ProcessOutput
  }
  return {
    _tag: "End",
    report:
      exit.value._tag === "Exited"
        ? ProcessEnd.fromExitCode(exit.value.exitCode, signalSent)
        : ProcessEnd.fromFailure(exit.value.message, signalSent),
  } satisfies ProcessOutput
}

/** Why a program that never printed its pid did not start (`said`: what it printed). */
const startFailure = (exit: Exit.Exit<CommandExit, EnvdError>, cmd: string, said: string): EnvdError => {
  if (Exit.isFailure(exit)) {
    const failure = Cause.failureOption(exit.cause)
    return failure._tag === "Some"
      ? failure.value
      : envdError("unavailable", "the data plane is shutting down")
  }
  return exit.value._tag === "Exited"
    ? ShellScript.scriptFailure(exit.value.exitCode, said, `starting ${cmd}`)
    : envdError("internal", `starting ${cmd}: ${exit.value.message} ${said}`.trim())
}

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
    const runtime = yield* Effect.runtime<never>()
    const launch = ShellLaunch.of(shell, scope)
    const sandboxes = new Map<string, Map<number, RunningProcess>>()
    const maxPerSandbox = options.maxPerSandbox ?? 256
    const maxStdinBufferBytes = options.maxStdinBufferBytes ?? 8 * 1024 * 1024
    /** Processes started and not yet ended, by sandbox (a starting one has no pid yet). */
    const active = new Map<string, number>()
    /** Every program launched and not yet ended: closing the table ends them. */
    const programs = new Set<LaunchedProgram>()
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const program of programs) program.close()
      }),
    )

    const register = (target: SandboxTarget, process: RunningProcess) => {
      const key = targetKey(target)
      const table = sandboxes.get(key) ?? new Map<number, RunningProcess>()
      table.set(process.pid, process)
      sandboxes.set(key, table)
    }

    const unregister = (target: SandboxTarget, process: RunningProcess) => {
      const key = targetKey(target)
      const table = sandboxes.get(key)
      if (table?.get(process.pid) === process) table.delete(process.pid)
      if (table?.size === 0) sandboxes.delete(key)
    }

    const release = (key: string) => {
      const left = (active.get(key) ?? 1) - 1
      if (left <= 0) active.delete(key)
      else active.set(key, left)
    }

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

    const start = (target: SandboxTarget, spec: StartSpec, sink: OutputSink) =>
      Effect.suspend(() => {
        const key = targetKey(target)
        const running = active.get(key) ?? 0
        if (running >= maxPerSandbox) {
          return Effect.fail(
            envdError(
              "resource_exhausted",
              `the sandbox already runs ${running} processes, the most this server allows (${maxPerSandbox})`,
            ),
          )
        }
        const envs = { ...target.envs, ...spec.config.envs }
        const invalid = Object.keys(envs).find((name) => !ShellScript.isValidEnvName(name))
        if (invalid !== undefined) {
          return Effect.fail(envdError("invalid_argument", `invalid environment variable name: ${invalid}`))
        }
        const pty = spec.pty !== undefined
        const keepInput = spec.stdin || pty
        const argv = ShellScript.launchArgv({
          cmd: spec.config.cmd,
          args: spec.config.args,
          cwd: spec.config.cwd ?? "",
          stdin: keepInput,
          tty: pty,
        })

        let launched: LaunchedProgram | undefined
        /** Calls made before the launch returned (its callbacks may run first). */
        let beforeLaunch: Array<(program: LaunchedProgram) => void> = []
        const withProgram = (use: (program: LaunchedProgram) => void) => {
          if (launched !== undefined) use(launched)
          else beforeLaunch.push(use)
        }
        // Stands for the program until it is launched (only pause/resume/close can come that early).
        const program: LaunchedProgram = {
          write: (bytes) => withProgram((p) => p.write(bytes)),
          endInput: () => withProgram((p) => p.endInput()),
          resize: (size) => withProgram((p) => p.resize(size)),
          bufferedInput: () => launched?.bufferedInput() ?? 0,
          pause: () => withProgram((p) => p.pause()),
          resume: () => withProgram((p) => p.resume()),
          close: () => withProgram((p) => p.close()),
        }
        // The environment goes first on stdin, never in argv (see ShellScript.envBlock); under a
        // terminal only once the launcher has turned echo off (its pid line is out).
        const sendEnvironment = () => {
          program.write(ShellScript.envBlock(envs))
          if (!keepInput) program.endInput()
        }

        let launchState: LaunchOutput.LaunchState = LaunchOutput.awaitingPid
        let heldStderr: Array<Uint8Array> = []
        let process: RunningProcess | undefined
        let ended = false
        const starter: Attachment = { sink, full: false }
        let starterGone = false
        let settled: Exit.Exit<Subscription, EnvdError> | undefined
        let onSettled: ((exit: Exit.Exit<Subscription, EnvdError>) => void) | undefined
        const settle = (exit: Exit.Exit<Subscription, EnvdError>) => {
          if (settled !== undefined) return
          settled = exit
          onSettled?.(exit)
        }
        let timer: ReturnType<typeof setTimeout> | undefined

        const publish = (output: ProcessOutput) => {
          if (process === undefined) return
          for (const attachment of process.attachments) deliver(process, attachment, output)
        }
        const data = (stream: OutputStream, bytes: Uint8Array) => {
          if (bytes.length > 0) publish({ _tag: "Data", stream, bytes })
        }

        const onStart = (pid: number) => {
          const started: RunningProcess = {
            pid,
            tag: spec.tag,
            config: spec.config,
            pty,
            program,
            attachments: new Set(starterGone ? [] : [starter]),
            full: 0,
            inputOpen: keepInput,
            signalSent: undefined,
          }
          process = started
          register(target, started)
          if (pty) sendEnvironment()
          if (spec.timeoutMs !== undefined && spec.timeoutMs > 0) {
            timer = setTimeout(
              () => Runtime.runFork(runtime)(Effect.ignore(signalProcess(target, started, "KILL"))),
              spec.timeoutMs,
            )
          }
          if (!starterGone) deliver(started, starter, { _tag: "Start", pid })
          const held = heldStderr
          heldStderr = []
          for (const bytes of held) data("stderr", bytes)
          settle(Exit.succeed(subscription(started, starter)))
        }

        const listener: LaunchListener = {
          stdout: (chunk) => {
            if (process !== undefined) return data(pty ? "pty" : "stdout", chunk)
            const step = LaunchOutput.feed(launchState, chunk)
            launchState = step.state
            if (step.pid === undefined) return
            onStart(step.pid)
            data(pty ? "pty" : "stdout", step.output)
          },
          stderr: (chunk) => {
            // stderr waits (in order) until the start is known.
            if (process !== undefined) data("stderr", chunk)
            else heldStderr.push(chunk)
          },
          end: (exit) => {
            if (ended) return
            ended = true
            release(key)
            clearTimeout(timer)
            if (launched !== undefined) programs.delete(launched)
            if (process === undefined) {
              const said = new TextDecoder().decode(
                Buffer.concat([LaunchOutput.heldBack(launchState), ...heldStderr]),
              )
              return settle(Exit.fail(startFailure(exit, spec.config.cmd, said)))
            }
            const running = process
            unregister(target, running)
            publish(finalOutput(exit, running.signalSent))
            running.attachments.clear()
          },
        }

        active.set(key, running + 1)
        // Launched whole or not at all (a launch cut short would leave a program waiting for its
        // environment); only the wait for its pid is the caller's to interrupt.
        return Effect.uninterruptibleMask((restore) =>
          launch(target, { argv, ...(spec.pty !== undefined ? { terminal: spec.pty } : {}) }, listener).pipe(
            Effect.tapError(() => Effect.sync(() => release(key))),
            Effect.flatMap((launchedProgram) => {
              launched = launchedProgram
              if (!ended) programs.add(launchedProgram)
              if (!pty) sendEnvironment()
              const early = beforeLaunch
              beforeLaunch = []
              for (const use of early) use(launchedProgram)
              return restore(
                Effect.async<Subscription, EnvdError>((resume) => {
                  if (settled !== undefined) return resume(settled)
                  onSettled = resume
                  // The caller went away before the start: the command runs on, unattached.
                  return Effect.sync(() => {
                    starterGone = true
                    process?.attachments.delete(starter)
                  })
                }),
              )
            }),
          ),
        )
      })

    const attach = (target: SandboxTarget, selector: ProcessSelector, sink: OutputSink) =>
      Effect.map(find(target, selector), (process) => {
        const attachment: Attachment = { sink, full: false }
        process.attachments.add(attachment)
        deliver(process, attachment, { _tag: "Start", pid: process.pid })
        return subscription(process, attachment)
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
        const pending = process.program.bufferedInput()
        if (pending + bytes.length > maxStdinBufferBytes) {
          return yield* Effect.fail(
            envdError(
              "resource_exhausted",
              `the process has ${pending} bytes of input it has not read yet; the most it may hold is ${maxStdinBufferBytes}`,
            ),
          )
        }
        if (!process.inputOpen)
          return yield* Effect.fail(envdError("internal", "stdin not enabled or closed"))
        process.program.write(bytes)
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
        if (!process.inputOpen) return
        process.inputOpen = false
        process.program.endInput()
      })

    const resize = (target: SandboxTarget, selector: ProcessSelector, size: TerminalSize) =>
      Effect.gen(function* () {
        const process = yield* find(target, selector)
        if (!process.pty) return yield* Effect.fail(envdError("internal", "tty not assigned to process"))
        process.program.resize(size)
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
