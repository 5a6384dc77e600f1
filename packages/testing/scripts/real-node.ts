// A real node joined to the local control plane of $KUBECONFIG, until SIGINT/SIGTERM: prints
// "real node <name> ready" once its Node is Ready, then stops it and puts the host back on the
// signal. (The real-node suites start one themselves; this is for people and for the test of a
// runner killed mid-way.)
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import * as ProgressLogger from "../src/ProgressLogger.ts"
import * as RealNode from "../src/realnode/RealNode.ts"

/** What the script prints once its node is Ready. */
const readyLine = (nodeName: string) => `real node ${nodeName} is Ready`

const program = Effect.gen(function* () {
  const node = yield* RealNode.RealNode
  yield* Console.log(`${readyLine(node.nodeName)} (logs in ${node.logsDir})`)
  return yield* Effect.never
})

NodeRuntime.runMain(
  program.pipe(Effect.provide(RealNode.layerFromEnvironment()), Effect.provide(ProgressLogger.layer)),
)
