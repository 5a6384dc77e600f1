// The Pod working-directory helper as a process of its own, started next to KWOK (see src/PodWorkdirs.ts).
// It touches --ready-file once it watches Pods. Stops on SIGTERM/SIGINT.
// Usage: pod-workdirs.ts --kubeconfig=<file> --root=<dir> --ready-file=<file> [--uid=<n> --gid=<n>]
// (No @effect/platform-node runtime: it would double this process' start time and memory.)
import * as fs from "node:fs"
import { parseArgs } from "node:util"
import { Effect, Fiber } from "effect"
import * as PodWorkdirs from "../src/PodWorkdirs.ts"

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    root: { type: "string" },
    "ready-file": { type: "string" },
    uid: { type: "string" },
    gid: { type: "string" },
  },
})
const { kubeconfig, root } = values
const readyFile = values["ready-file"]
if (kubeconfig === undefined || root === undefined || readyFile === undefined) {
  console.error(
    "usage: pod-workdirs.ts --kubeconfig=<file> --root=<dir> --ready-file=<file> [--uid=<n> --gid=<n>]",
  )
  process.exit(2)
}
const owner =
  values.uid !== undefined && values.gid !== undefined
    ? { uid: Number(values.uid), gid: Number(values.gid) }
    : undefined

const fiber = Effect.runFork(
  Effect.scoped(
    PodWorkdirs.run({ kubeconfigPath: kubeconfig, root, owner }).pipe(
      Effect.zipRight(Effect.sync(() => fs.writeFileSync(readyFile, ""))),
      Effect.zipRight(Effect.never),
    ),
  ),
)
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    Effect.runPromise(Fiber.interrupt(fiber)).finally(() => process.exit(0))
  })
}
