/**
 * Instruments of the E2B front door (:8090), in the operator's registry: requests by plane and
 * status, envd's request latency by RPC (a bounded set: the Connect method or /files), and the
 * time to open each exec session behind them.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { SandboxShell } from "@agent-sandbox/envd"
import { KubeConfig } from "@agent-sandbox/kube"
import { OperatorMetrics } from "@agent-sandbox/operator"
import { Effect, Exit, Layer } from "effect"
import { Counter, Histogram } from "prom-client"

export const requests = new Counter({
  name: "agent_sandbox_e2b_requests_total",
  help: "Requests to the E2B port, by plane (api: the E2B control API; envd: the sandbox data plane) and status code.",
  labelNames: ["plane", "code"] as const,
  registers: [OperatorMetrics.registry],
})

export const envdDuration = new Histogram({
  name: "agent_sandbox_envd_request_duration_seconds",
  help: "envd requests (each process, file or watch call, run through exec), from request to the end of the response.",
  labelNames: ["method"] as const,
  buckets: OperatorMetrics.latencyBuckets,
  registers: [OperatorMetrics.registry],
})

const envdMethod = (url: string | undefined): string => {
  const path = new URL(url ?? "/", "http://e2b.invalid").pathname
  if (path === "/files") return "files"
  return /^\/(process\.Process|filesystem\.Filesystem)\/[A-Za-z]+$/.test(path) ? path.slice(1) : "other"
}

/** Records the request once its response is finished (or the connection closed). */
export const observe = (req: IncomingMessage, res: ServerResponse, plane: "api" | "envd"): void => {
  if (!OperatorMetrics.isRecording()) return
  const start = performance.now()
  res.once("close", () => {
    requests.inc({ plane, code: String(res.statusCode) })
    if (plane === "envd")
      envdDuration.observe({ method: envdMethod(req.url) }, (performance.now() - start) / 1000)
  })
}

export const execOpenDuration = new Histogram({
  name: "agent_sandbox_exec_open_duration_seconds",
  help: "Time to open an exec session into a sandbox through the API server (each envd command and file operation runs in one), by result.",
  labelNames: ["result"] as const,
  buckets: OperatorMetrics.latencyBuckets,
  registers: [OperatorMetrics.registry],
})

/** The Kubernetes exec shell (SandboxShell.makeKube) with the time to open each session recorded. */
export const timedKubeShell: Layer.Layer<SandboxShell.SandboxShell, never, KubeConfig.KubeConfig> =
  Layer.effect(
    SandboxShell.SandboxShell,
    Effect.map(KubeConfig.KubeConfig, (config) => {
      const shell = SandboxShell.makeKube(config)
      const spawn: SandboxShell.SandboxShellShape["spawn"] = (target, options) =>
        Effect.suspend(() => {
          if (!OperatorMetrics.isRecording()) return shell.spawn(target, options)
          const start = performance.now()
          return shell
            .spawn(target, options)
            .pipe(
              Effect.onExit((exit) =>
                Effect.sync(() =>
                  execOpenDuration.observe(
                    { result: Exit.isSuccess(exit) ? "ok" : "error" },
                    (performance.now() - start) / 1000,
                  ),
                ),
              ),
            )
        })
      return {
        spawn,
        run: (target, argv, stdin) =>
          Effect.scoped(
            Effect.flatMap(
              spawn(target, { argv, ...(stdin !== undefined ? { stdin } : {}) }),
              SandboxShell.collect,
            ),
          ),
      }
    }),
  )
