import * as fs from "node:fs"
import { Effect, Option, Schema } from "effect"
import { pidGone, stopProcess } from "./ComponentProcess.ts"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import type { Launched } from "./Launch.ts"

/** What `cluster.ts up` leaves behind for `down` (and for a second `up`): state.json in the data dir. */
export const ClusterState = Schema.Struct({
  kubeconfigPath: Schema.String,
  server: Schema.String,
  dataDir: Schema.String,
  components: Schema.Array(
    Schema.Struct({ name: Schema.String, pid: Schema.Number, command: Schema.String }),
  ),
})
export type ClusterState = typeof ClusterState.Type

export const stateOf = (launched: Launched): ClusterState => ({
  kubeconfigPath: launched.kubeconfigPath,
  server: launched.server,
  dataDir: launched.dataDir,
  components: launched.components.map(({ name, pid, command }) => ({ name, pid, command })),
})

const decode = Schema.decodeUnknown(Schema.parseJson(ClusterState))

export const readState = (
  stateFile: string,
): Effect.Effect<Option.Option<ClusterState>, ControlPlaneError> =>
  fs.existsSync(stateFile)
    ? decode(fs.readFileSync(stateFile, "utf8")).pipe(
        Effect.map(Option.some),
        Effect.mapError(
          (cause) =>
            new ControlPlaneError({
              component: "cluster",
              reason: "StateInvalid",
              message: `${stateFile}: ${cause}`,
            }),
        ),
      )
    : Effect.succeed(Option.none())

export const writeState = (stateFile: string, state: ClusterState): Effect.Effect<void> =>
  Effect.sync(() => fs.writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 }))

/**
 * Whether the process with this pid is still the component we started: same executable and the data dir
 * on its command line, so a reused pid of some other process is never signalled.
 */
export const isOurs = (component: ClusterState["components"][number], dataDir: string): boolean => {
  try {
    const argv = fs.readFileSync(`/proc/${component.pid}/cmdline`, "utf8").split("\0")
    return argv[0] === component.command && argv.some((arg) => arg.includes(dataDir))
  } catch {
    return false
  }
}

export const allRunning = (state: ClusterState): boolean =>
  state.components.every((component) => isOurs(component, state.dataDir))

/** Stops the components that still run, in reverse start order (clients first, etcd last). */
export const stopAll = (state: ClusterState): Effect.Effect<void> =>
  Effect.forEach(
    [...state.components].reverse().filter((component) => isOurs(component, state.dataDir)),
    (component) =>
      Effect.logInfo(`stopping ${component.name} (pid ${component.pid})`).pipe(
        Effect.zipRight(stopProcess(component.pid, pidGone(component.pid))),
      ),
    { discard: true },
  )
