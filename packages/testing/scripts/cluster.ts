// The local control plane for people: `up` starts it in the background under <repo>/.cluster and prints
// `export KUBECONFIG=...`; `down` stops it and removes .cluster. (npm run cluster:up / cluster:down)
import * as fs from "node:fs"
import * as path from "node:path"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Option } from "effect"
import * as ControlPlane from "../src/ControlPlane.ts"
import * as DetachedCluster from "../src/DetachedCluster.ts"
import { layoutOf } from "../src/Layout.ts"
import * as ProgressLogger from "../src/ProgressLogger.ts"

const clusterDir = path.join(new URL("../../..", import.meta.url).pathname, ".cluster")
const layout = layoutOf(clusterDir)

const printExport = (kubeconfigPath: string) => Console.log(`export KUBECONFIG=${kubeconfigPath}`)

const removeClusterDir = Effect.sync(() => fs.rmSync(clusterDir, { recursive: true, force: true }))

const up = Effect.gen(function* () {
  const previous = yield* DetachedCluster.readState(layout.stateFile).pipe(
    Effect.catchAll(() => Effect.succeed(Option.none())),
  )
  if (Option.isSome(previous) && DetachedCluster.allRunning(previous.value)) {
    yield* Effect.logInfo(`already up at ${previous.value.server}`)
    return yield* printExport(previous.value.kubeconfigPath)
  }
  if (Option.isSome(previous)) {
    yield* Effect.logInfo("a previous control plane is partly down: clearing it")
    yield* DetachedCluster.stopAll(previous.value)
  }
  yield* removeClusterDir
  const launched = yield* Effect.scoped(ControlPlane.start({ dataDir: clusterDir, detached: true }))
  yield* DetachedCluster.writeState(layout.stateFile, DetachedCluster.stateOf(launched))
  yield* Effect.logInfo(`logs in ${layout.logsDir}; stop with: npm run cluster:down`)
  yield* printExport(launched.kubeconfigPath)
})

const down = Effect.gen(function* () {
  const state = yield* DetachedCluster.readState(layout.stateFile).pipe(
    Effect.catchAll(() => Effect.succeed(Option.none())),
  )
  if (Option.isNone(state) && !fs.existsSync(clusterDir)) {
    return yield* Effect.logInfo("not running")
  }
  if (Option.isSome(state)) yield* DetachedCluster.stopAll(state.value)
  yield* removeClusterDir
  yield* Effect.logInfo("stopped, .cluster removed")
})

const command = process.argv[2]
const program =
  command === "up"
    ? up
    : command === "down"
      ? down
      : Console.error("usage: cluster.ts up|down").pipe(Effect.zipRight(Effect.sync(() => process.exit(2))))

NodeRuntime.runMain(
  program.pipe(
    Effect.catchTag("ControlPlaneError", (error) =>
      Console.error(`control plane: ${error.component} failed (${error.reason}): ${error.message}`).pipe(
        Effect.zipRight(Effect.sync(() => process.exit(1))),
      ),
    ),
    Effect.provide(ProgressLogger.layer),
  ),
  { disablePrettyLogger: true },
)
