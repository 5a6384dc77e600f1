// The Pod working-directory helper as a process of its own, started next to KWOK (see src/PodWorkdirs.ts).
// Usage: pod-workdirs.ts --kubeconfig=<file> --root=<dir> [--uid=<n> --gid=<n>]
import { parseArgs } from "node:util"
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import * as PodWorkdirs from "../src/PodWorkdirs.ts"

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    root: { type: "string" },
    uid: { type: "string" },
    gid: { type: "string" },
  },
})
if (values.kubeconfig === undefined || values.root === undefined) {
  console.error("usage: pod-workdirs.ts --kubeconfig=<file> --root=<dir> [--uid=<n> --gid=<n>]")
  process.exit(2)
}
const owner =
  values.uid !== undefined && values.gid !== undefined
    ? { uid: Number(values.uid), gid: Number(values.gid) }
    : undefined

NodeRuntime.runMain(
  Effect.scoped(
    Effect.zipRight(
      PodWorkdirs.run({ kubeconfigPath: values.kubeconfig, root: values.root, owner }),
      Effect.never,
    ),
  ),
)
