/**
 * The SDK load of bench:nodeagent run by a child process (sdkLoadMain.ts), so this process holds
 * only the E2B server and the operator: `run` hands the child one load and waits for its result;
 * the child's CPU is read from /proc around it (`pid`). Its environment is this process's (the
 * SDK's variables set by useSdkEnvironment before `start`).
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { Effect, Queue, Schema, type Scope } from "effect"
import type { LoadResult } from "../support/LoadLoop.ts"

const Load = Schema.Struct({ count: Schema.Number, concurrency: Schema.Number })
export const decodeLoad = Schema.decodeSync(Schema.parseJson(Load))

const Result = Schema.Struct({
  latencies: Schema.Array(Schema.Number),
  failures: Schema.Array(Schema.Tuple(Schema.String, Schema.Number)),
  attempted: Schema.Number,
  seconds: Schema.Number,
})
const Answer = Schema.Union(Schema.Struct({ ready: Schema.Literal(true) }), Result)
export type Answer = typeof Answer.Type
const decodeAnswer = Schema.decodeUnknownEither(Schema.parseJson(Answer))

export interface SdkLoadProcess {
  readonly pid: number
  readonly run: (load: typeof Load.Type) => Effect.Effect<LoadResult, string>
}

const entry = join(import.meta.dirname, "sdkLoadMain.ts")

/** The child, connected to `sandboxIds` and ready; stopped (stdin closed, then killed) with the scope. */
export const start = (
  sandboxIds: ReadonlyArray<string>,
  profileDir: string,
): Effect.Effect<SdkLoadProcess, string, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(
          process.execPath,
          [
            ...(profileDir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]),
            entry,
            ...sandboxIds,
          ],
          { stdio: ["pipe", "pipe", "inherit"] },
        ),
      ),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
          child.once("exit", () => {
            clearTimeout(timer)
            resume(Effect.void)
          })
          child.stdin?.end()
        }),
    )
    const lines = yield* Queue.unbounded<string>()
    createInterface({ input: child.stdout! }).on("line", (line) => Queue.unsafeOffer(lines, line))
    const exited = Effect.async<never, string>((resume) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resume(Effect.fail(`the SDK load process exited (${child.signalCode ?? child.exitCode})`))
        return
      }
      child.once("exit", (code, signal) =>
        resume(Effect.fail(`the SDK load process exited (${signal ?? code})`)),
      )
    })
    const next = Effect.raceFirst(Queue.take(lines), exited).pipe(
      Effect.flatMap((line) => {
        const answer = decodeAnswer(line)
        return answer._tag === "Right"
          ? Effect.succeed(answer.right)
          : Effect.fail(`SDK load process: ${line}`)
      }),
    )
    const ready = yield* next
    if (!("ready" in ready)) return yield* Effect.fail("the SDK load process answered before it was ready")
    return {
      pid: child.pid ?? 0,
      run: (load) =>
        Effect.gen(function* () {
          child.stdin?.write(`${JSON.stringify(load)}\n`)
          const answer = yield* next
          if ("ready" in answer) return yield* Effect.fail("the SDK load process said ready twice")
          return { ...answer, failures: new Map(answer.failures) }
        }),
    }
  })
