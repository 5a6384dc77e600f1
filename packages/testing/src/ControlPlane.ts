import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { KubeConfig } from "@agent-sandbox/kube"
import { Context, Duration, Effect, Layer, type Scope } from "effect"
import { resolveBinDir } from "./Binaries.ts"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import type { ExecUser } from "./KwokConfig.ts"
import { type Launched, launch } from "./Launch.ts"

/** A running local control plane: where its admin kubeconfig is, its API server, and its data. */
export interface ControlPlaneShape {
  readonly kubeconfigPath: string
  /** https://127.0.0.1:<port> */
  readonly server: string
  readonly dataDir: string
  /** The components as started, their specs and etcd's URL (see Launch.Launched); absent for one this process did not start. */
  readonly launched?: Launched
}

export class ControlPlane extends Context.Tag("@agent-sandbox/testing/ControlPlane")<
  ControlPlane,
  ControlPlaneShape
>() {}

export interface ControlPlaneOptions {
  /** Prebuilt binaries; default $AGENT_SANDBOX_CONTROLPLANE_BIN, else tools/controlplane/build.sh. */
  readonly binDir?: string
  /** Default: a fresh temporary directory, removed when the scope closes. */
  readonly dataDir?: string
  /** Fake Nodes (default 3). */
  readonly nodes?: number
  /** How long a scheduled Pod stays Pending before it is Running and Ready (default 0; cold start). */
  readonly podReadyDelayMillis?: number
  /**
   * How long a container whose image was changed takes to run the new one (pull + start; default 0).
   * A Pod's own `kwok.agent-sandbox.dev/image-change-delay` annotation overrides it (KwokConfig).
   */
  readonly imageChangeDelayMillis?: number
  /** Who exec'd commands run as; default nobody (65534) when we are root, else ourselves. */
  readonly execUser?: ExecUser
  /** For each readiness wait (default 90 s: a loaded 2-core machine starts slowly). */
  readonly readyTimeout?: Duration.DurationInput
  /**
   * Keep the components out of the terminal's process group (default false): Ctrl-C then stops the
   * program, which stops them last, after its own shutdown has talked to the API server.
   */
  readonly ownSession?: boolean
}

/** nobody/nogroup: exists on every Linux machine and owns nothing. */
export const nobody: ExecUser = { uid: 65534, gid: 65534 }

/** Switching user needs root; without it commands already run unprivileged, as us. */
const defaultExecUser = (): ExecUser | undefined => (process.getuid?.() === 0 ? nobody : undefined)

/** Start everything; `detached` processes survive a successful scope (scripts/cluster.ts). */
export const start = (
  options: ControlPlaneOptions & { readonly dataDir: string; readonly detached: boolean },
): Effect.Effect<Launched, ControlPlaneError, Scope.Scope> =>
  Effect.gen(function* () {
    const binDir = yield* resolveBinDir(options.binDir)
    return yield* launch({
      binDir,
      dataDir: options.dataDir,
      detached: options.detached,
      ownSession: options.ownSession ?? false,
      nodes: options.nodes ?? 3,
      podReadyDelayMillis: options.podReadyDelayMillis ?? 0,
      imageChangeDelayMillis: options.imageChangeDelayMillis ?? 0,
      execUser: options.execUser ?? defaultExecUser(),
      readyTimeout: options.readyTimeout ?? Duration.seconds(90),
    })
  })

const temporaryDataDir: Effect.Effect<string, ControlPlaneError, Scope.Scope> = Effect.acquireRelease(
  Effect.tryPromise({
    try: () => fs.mkdtemp(path.join(os.tmpdir(), "agent-sandbox-cp-")),
    catch: (cause) =>
      new ControlPlaneError({ component: "data directory", reason: "SetupFailed", message: `${cause}` }),
  }),
  (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true })),
)

/** A control plane for the life of the scope: every process is stopped and its data removed on close. */
export const make = (
  options: ControlPlaneOptions = {},
): Effect.Effect<ControlPlaneShape, ControlPlaneError, Scope.Scope> =>
  Effect.gen(function* () {
    const dataDir = options.dataDir ?? (yield* temporaryDataDir)
    const launched = yield* start({ ...options, dataDir, detached: false })
    return {
      kubeconfigPath: launched.kubeconfigPath,
      server: launched.server,
      dataDir: launched.dataDir,
      launched,
    }
  })

export const layer = (options: ControlPlaneOptions = {}): Layer.Layer<ControlPlane, ControlPlaneError> =>
  Layer.scoped(ControlPlane, make(options))

/** The admin KubeConfig of a running control plane. */
export const layerKubeConfig: Layer.Layer<KubeConfig.KubeConfig, never, ControlPlane> = Layer.unwrapEffect(
  Effect.map(ControlPlane, (controlPlane) => KubeConfig.layerFromFile(controlPlane.kubeconfigPath)),
)
