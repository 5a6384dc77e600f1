/**
 * Faults injected into a control plane this process started (chaos suites): kill a component
 * outright and start it again from the same spec (same flags, ports and data), stall it with
 * SIGSTOP/SIGCONT, and compact etcd so watches from an older resourceVersion get 410 Gone.
 * A component started again here is stopped when the scope closes.
 */
import { Effect, Scope } from "effect"
import {
  type ComponentHandle,
  type ComponentSpec,
  spawnComponent,
  stopComponent,
} from "./ComponentProcess.ts"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import type { Launched } from "./Launch.ts"

export interface ComponentFaults {
  /** SIGKILL, as a crash or an OOM kill: no shutdown at all. Completes once it has exited. */
  readonly kill: (component: string) => Effect.Effect<void, ControlPlaneError>
  /** Starts a killed component again with its original spec. */
  readonly start: (component: string) => Effect.Effect<void, ControlPlaneError>
  /** SIGSTOP: the process holds its sockets open and answers nothing. */
  readonly stall: (component: string) => Effect.Effect<void, ControlPlaneError>
  /** SIGCONT after a stall. */
  readonly resume: (component: string) => Effect.Effect<void, ControlPlaneError>
  /** Compacts etcd's history up to its current revision (physically); returns that revision. */
  readonly compactEtcd: Effect.Effect<number, ControlPlaneError>
}

const failed = (component: string, message: string) =>
  new ControlPlaneError({ component, reason: "Exited", message })

/** etcd's v3 JSON gateway (the same API etcdctl speaks over gRPC). */
const etcdCall = (etcdUrl: string, path: string, body: unknown) =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(`${etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body) })
      const text = await response.text()
      if (!response.ok) throw new Error(`${response.status} ${text}`)
      return JSON.parse(text) as { header?: { revision?: string } }
    },
    catch: (cause) => failed("etcd", `${path}: ${cause}`),
  })

export const make = (launched: Launched): Effect.Effect<ComponentFaults, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const current = new Map<string, ComponentHandle>(launched.components.map((h) => [h.name, h]))
    const specs = new Map<string, ComponentSpec>(launched.specs.map((s) => [s.name, s]))
    const handleOf = (component: string) =>
      Effect.fromNullable(current.get(component)).pipe(
        Effect.mapError(() => failed(component, `no running component named ${component}`)),
      )
    const signal = (component: string, name: NodeJS.Signals) =>
      Effect.flatMap(handleOf(component), (handle) =>
        Effect.try({
          try: () => process.kill(handle.pid, name),
          catch: (cause) => failed(component, `${name}: ${cause}`),
        }),
      )
    return {
      kill: (component) =>
        Effect.gen(function* () {
          const handle = yield* handleOf(component)
          yield* signal(component, "SIGKILL")
          yield* handle.exited
          current.delete(component)
        }),
      start: (component) =>
        Effect.gen(function* () {
          const spec = specs.get(component)
          if (spec === undefined) return yield* failed(component, `no spec for ${component}`)
          const handle = yield* Effect.acquireRelease(
            spawnComponent(spec, { detached: false }),
            stopComponent,
          ).pipe(Scope.extend(scope))
          current.set(component, handle)
        }),
      stall: (component) => signal(component, "SIGSTOP"),
      resume: (component) => signal(component, "SIGCONT"),
      compactEtcd: Effect.gen(function* () {
        // Any range read answers with the store's current revision in its header.
        const range = yield* etcdCall(launched.etcdUrl, "/v3/kv/range", {
          key: Buffer.from("/").toString("base64"),
        })
        const revision = Number(range.header?.revision ?? "0")
        yield* etcdCall(launched.etcdUrl, "/v3/kv/compaction", { revision: String(revision), physical: true })
        return revision
      }),
    }
  })
