/**
 * A program of an image's unpacked rootfs run on this host without a container runtime (its own
 * glibc, Node and bundle, through chroot), against the cluster: the admin kubeconfig copied to the
 * rootfs' /tmp/kubeconfig, the image config's environment plus the caller's, and ready once a URL
 * answers 200. What RootfsOperator and RootfsNodeAgent share. Killed (SIGKILL) with the scope.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, copyFileSync } from "node:fs"
import { join } from "node:path"
import { type Duration, Effect, type Scope } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import { eventually } from "./Eventually.ts"

export interface RootfsProcessOptions {
  /** Named in errors, e.g. "rootfs operator". */
  readonly component: string
  /** The image's unpacked root filesystem; the admin kubeconfig is copied to its /tmp/kubeconfig. */
  readonly rootfs: string
  /** The program and arguments that run the image's entrypoint in the rootfs (a chroot, maybe in `unshare`). */
  readonly command: ReadonlyArray<string>
  /** The image config's environment, as `NAME=value` entries. */
  readonly imageEnv: ReadonlyArray<string>
  /** Over the image's environment (KUBECONFIG is set to /tmp/kubeconfig). */
  readonly env: Readonly<Record<string, string>>
  /** Ready once a GET here answers 200. */
  readonly readyUrl: string
  /** The cluster's admin kubeconfig (default $KUBECONFIG: the suites' shared control plane). */
  readonly kubeconfigPath?: string | undefined
  /** How long `readyUrl` may take to answer 200 (default 60 s). */
  readonly readyWithin?: Duration.DurationInput | undefined
}

const exited = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

/** The last `limit` characters a process printed: what the failure message shows. */
const outputTail = (child: ChildProcess, limit = 4000) => {
  let text = ""
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString("utf8")).slice(-limit)
  }
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  return () => text
}

export const start = (options: RootfsProcessOptions): Effect.Effect<void, ControlPlaneError, Scope.Scope> =>
  Effect.gen(function* () {
    const [program = "", ...args] = options.command
    yield* Effect.try({
      try: () => {
        const kubeconfig = join(options.rootfs, "tmp/kubeconfig")
        copyFileSync(options.kubeconfigPath ?? process.env.KUBECONFIG ?? "", kubeconfig)
        // Readable by an image's non-root user (the copy keeps the original's 0600).
        chmodSync(kubeconfig, 0o644)
      },
      catch: (cause) =>
        new ControlPlaneError({
          component: options.component,
          reason: "SetupFailed",
          message: String(cause),
        }),
    })
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(program, args, {
          env: {
            ...Object.fromEntries(options.imageEnv.map((entry) => entry.split("=", 2))),
            KUBECONFIG: "/tmp/kubeconfig",
            ...options.env,
          },
          stdio: ["ignore", "pipe", "pipe"],
        }),
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL")).pipe(Effect.zipRight(exited(child))),
    )
    const output = outputTail(child)
    yield* eventually(
      Effect.tryPromise({
        try: () => fetch(options.readyUrl),
        catch: (cause) => String(cause),
      }).pipe(Effect.flatMap((r) => (r.ok ? Effect.void : Effect.fail(`${r.status}`)))),
      { timeout: options.readyWithin ?? "60 seconds", interval: "250 millis" },
    ).pipe(
      Effect.mapError(
        (last) =>
          new ControlPlaneError({
            component: options.component,
            reason: "NotReady",
            message: `${options.command.join(" ")}: ${options.readyUrl} never answered 200 (${last}); its output: ${output()}`,
          }),
      ),
    )
  })
