/**
 * envd's SandboxShell on a node: each program runs through the sandbox-enter helper, which joins
 * the container's cgroups and namespaces and takes its user, capabilities and environment (see
 * helper/sandbox-enter.c), instead of an exec through the API server, the kubelet and runc. So
 * the process and filesystem services of packages/envd work here unchanged, and a file operation,
 * being a program in the container's mount namespace, cannot reach outside its root.
 */
import { spawn as spawnChild } from "node:child_process"
import { EnvdError, SandboxShell, type SandboxTarget } from "@agent-sandbox/envd"
import { NodeStream } from "@effect/platform-node"
import { Deferred, Effect, Layer, Stream } from "effect"
import type { ContainerProcess } from "./ContainerProcess.ts"
import type { NodeAgentError } from "./NodeAgentError.ts"
import { SandboxContainers } from "./SandboxContainers.ts"

/** The helper's own failure to enter (its message is on stderr). */
export const enterFailedExitCode = 125

const hex = (mask: bigint) => mask.toString(16)

/** The helper's arguments before `--` and the program's argv (see helper/sandbox-enter.c). */
export const helperArgs = (
  process: ContainerProcess,
  cgroupFiles: ReadonlyArray<string>,
  argv: ReadonlyArray<string>,
  terminal?: SandboxShell.TerminalSize,
): ReadonlyArray<string> => [
  String(process.pid),
  String(process.uid),
  String(process.gid),
  process.additionalGids.length === 0 ? "-" : process.additionalGids.join(","),
  process.cwd === "" ? "-" : process.cwd,
  hex(process.capabilities.bounding),
  hex(process.capabilities.effective),
  hex(process.capabilities.permitted),
  hex(process.capabilities.inheritable),
  process.noNewPrivileges ? "1" : "0",
  cgroupFiles.length === 0 ? "-" : cgroupFiles.join(":"),
  terminal === undefined ? "-" : `${terminal.cols}x${terminal.rows}`,
  "--",
  ...argv,
]

const unavailable = (error: NodeAgentError) => EnvdError.envdError("unavailable", error.message)

export const make = (helper: string) =>
  Effect.gen(function* () {
    const containers = yield* SandboxContainers

    const spawn = (target: SandboxTarget.SandboxTarget, options: SandboxShell.SpawnOptions) =>
      Effect.gen(function* () {
        const container = yield* Effect.mapError(containers.locate(target), unavailable)
        // A terminal starts at 80x24; the first size of `resize` follows at once.
        const terminal = options.tty === true ? { cols: 80, rows: 24 } : undefined
        const child = spawnChild(
          helper,
          helperArgs(container.process, container.cgroupFiles, options.argv, terminal),
          {
            env: container.process.env,
            stdio: [
              options.stdin === undefined && terminal === undefined ? "ignore" : "pipe",
              "pipe",
              "pipe",
              // fd 3: terminal sizes, one "COLS ROWS" line each.
              terminal === undefined ? "ignore" : "pipe",
            ],
          },
        )
        const exited = yield* Deferred.make<SandboxShell.CommandExit, EnvdError.EnvdError>()
        child.once("error", (error) =>
          Deferred.unsafeDone(
            exited,
            Effect.fail(
              EnvdError.envdError("unavailable", `the node agent cannot run its helper: ${error.message}`),
            ),
          ),
        )
        child.once("close", (code, signal) => {
          if (code === enterFailedExitCode) Effect.runSync(containers.forget(target))
          Deferred.unsafeDone(
            exited,
            Effect.succeed<SandboxShell.CommandExit>(
              code !== null
                ? { _tag: "Exited", exitCode: code }
                : { _tag: "Failed", message: `signal: ${signal}` },
            ),
          )
        })
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
          }),
        )
        const stdin = child.stdin
        if (options.stdin !== undefined && stdin !== null) {
          yield* options.stdin.pipe(
            Stream.runForEach((bytes) =>
              Effect.async<void>((resume) => {
                stdin.write(bytes, () => resume(Effect.void))
              }),
            ),
            Effect.ensuring(Effect.sync(() => stdin.end())),
            Effect.forkScoped,
          )
          // A program that exits without reading all of stdin must not fail the agent.
          stdin.on("error", () => {})
        }
        const sizes = child.stdio[3]
        if (options.resize !== undefined && sizes !== null && sizes !== undefined && "write" in sizes) {
          sizes.on("error", () => {})
          yield* options.resize.pipe(
            Stream.runForEach((size) => Effect.sync(() => sizes.write(`${size.cols} ${size.rows}\n`))),
            Effect.forkScoped,
          )
        }
        const output = (readable: NodeJS.ReadableStream | null) =>
          readable === null
            ? Stream.empty
            : NodeStream.fromReadable<EnvdError.EnvdError>(
                () => readable,
                (error) => EnvdError.envdError("internal", `reading the program's output failed: ${error}`),
              )
        return {
          stdout: output(child.stdout),
          stderr: output(child.stderr),
          exit: Deferred.await(exited),
        } satisfies SandboxShell.ShellProcess
      })

    return {
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

export const layer = (helper: string): Layer.Layer<SandboxShell.SandboxShell, never, SandboxContainers> =>
  Layer.effect(SandboxShell.SandboxShell, make(helper))
