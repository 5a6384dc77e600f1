import { join } from "node:path"
import { Config, Context, Effect, Layer, Option, Schema } from "effect"
import { runProgram } from "./Program.ts"

/** helm could not be built or started, or a command of it failed. */
export class HelmError extends Schema.TaggedError<HelmError>()("HelmError", {
  reason: Schema.Literal("Unavailable", "Failed"),
  message: Schema.String,
}) {}

export interface HelmResult {
  readonly stdout: string
  readonly stderr: string
}

export interface HelmShape {
  /** The binary in use (built from the Go module proxy by tools/gotools/build.sh). */
  readonly path: string
  /** Runs helm to completion (killed when interrupted); a non-zero exit fails with its stderr. */
  readonly run: (
    args: ReadonlyArray<string>,
    env?: Readonly<Record<string, string>>,
  ) => Effect.Effect<HelmResult, HelmError>
}

export class Helm extends Context.Tag("@agent-sandbox/deploy/Helm")<Helm, HelmShape>() {}

const repoRoot = join(import.meta.dirname, "../../..")

/** The last line tools/gotools/build.sh prints is the binary's path. */
const buildTool = (tool: string) =>
  Effect.flatMap(runProgram(join(repoRoot, "tools/gotools/build.sh"), [tool]), ({ code, stdout, stderr }) =>
    code === 0
      ? Effect.succeed(stdout.trim().split("\n").at(-1) ?? "")
      : Effect.fail(
          new HelmError({
            reason: "Unavailable",
            message: `tools/gotools/build.sh ${tool}: ${stderr.trim()}`,
          }),
        ),
  )

const make = (path: string): HelmShape => ({
  path,
  run: (args, env) =>
    Effect.flatMap(runProgram(path, args, { ...process.env, ...env }), ({ code, stdout, stderr }) =>
      code === 0
        ? Effect.succeed({ stdout, stderr })
        : Effect.fail(
            new HelmError({
              reason: code === -1 ? "Unavailable" : "Failed",
              message: `helm ${args.join(" ")}: exit ${code}: ${stderr.trim()}`,
            }),
          ),
    ),
})

/** $AGENT_SANDBOX_HELM (what ./dev test builds), else built (or found in the cache) now. */
export const layer: Layer.Layer<Helm, HelmError> = Layer.effect(
  Helm,
  Effect.gen(function* () {
    const given = yield* Config.option(Config.string("AGENT_SANDBOX_HELM")).pipe(Effect.orDie)
    return make(Option.isSome(given) ? given.value : yield* buildTool("helm"))
  }),
)
