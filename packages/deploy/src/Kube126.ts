import { join } from "node:path"
import { Effect, Schema } from "effect"
import { runProgram } from "./Program.ts"

/**
 * Whether manifests need nothing newer than Kubernetes 1.26: tools/gotools/kube126 decodes each
 * object strictly into the 1.26 API types (k8s.io/api and apiextensions-apiserver v0.26, from the
 * Go module proxy). It catches an apiVersion/kind 1.26 does not serve and any field 1.26 does not
 * know (strict decoding); it does not run 1.26's admission validation (value ranges, immutability).
 */

/** The checker could not be built or run, or an object needs a newer API. */
export class Kube126Error extends Schema.TaggedError<Kube126Error>()("Kube126Error", {
  reason: Schema.Literal("Unavailable", "NewerApiRequired"),
  message: Schema.String,
}) {}

const repoRoot = join(import.meta.dirname, "../../..")

/** API groups the chart may render that are not Kubernetes' own (the Prometheus Operator's). */
export const foreignGroups = ["monitoring.coreos.com"] as const

/** One line per object: `ok: …`, `served by a CRD above: …`, `not checked …`. */
export const check = (manifests: string): Effect.Effect<ReadonlyArray<string>, Kube126Error> =>
  Effect.gen(function* () {
    const built = yield* runProgram(join(repoRoot, "tools/gotools/build.sh"), ["kube126"])
    if (built.code !== 0)
      return yield* new Kube126Error({
        reason: "Unavailable",
        message: `tools/gotools/build.sh kube126: ${built.stderr.trim()}`,
      })
    const tool = built.stdout.trim().split("\n").at(-1) ?? ""
    const run = yield* runProgram(tool, ["-skip-group", foreignGroups.join(",")], process.env, manifests)
    const lines = run.stdout.trim().split("\n")
    if (run.code === 1)
      return yield* new Kube126Error({
        reason: "NewerApiRequired",
        message: lines.filter((l) => !l.startsWith("ok:")).join("\n"),
      })
    if (run.code !== 0)
      return yield* new Kube126Error({ reason: "Unavailable", message: `kube126: ${run.stderr.trim()}` })
    return lines
  })
