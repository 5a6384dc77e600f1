import { spawn } from "node:child_process"
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Eventually } from "@agent-sandbox/testing"
import { Effect } from "effect"
import { promtoolPath } from "../src/Promtool.ts"

/**
 * A real Prometheus (Debian's, beside promtool in the cache) on loopback, scraping `target` every
 * second into a scratch TSDB under `dir`; stopped with the scope. Returns its query function.
 */
export const startPrometheus = (options: {
  readonly dir: string
  readonly port: number
  readonly target: string
}) =>
  Effect.gen(function* () {
    const binary = join(dirname(yield* promtoolPath), "prometheus")
    mkdirSync(join(options.dir, "tsdb"), { recursive: true })
    const config = join(options.dir, "prometheus.yml")
    writeFileSync(
      config,
      JSON.stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        scrape_configs: [{ job_name: "agent-sandbox", static_configs: [{ targets: [options.target] }] }],
      }),
    )
    const url = `http://127.0.0.1:${options.port}`
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const log = createWriteStream(join(options.dir, "prometheus.log"))
        const child = spawn(
          binary,
          [
            `--config.file=${config}`,
            `--storage.tsdb.path=${join(options.dir, "tsdb")}`,
            `--web.listen-address=127.0.0.1:${options.port}`,
          ],
          { stdio: ["ignore", "pipe", "pipe"] },
        )
        child.stdout.pipe(log)
        child.stderr.pipe(log)
        return child
      }),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.kill("SIGKILL")
        }),
    )
    const logTail = () => readFileSync(join(options.dir, "prometheus.log"), "utf8").slice(-2000)
    yield* Eventually.eventually(
      Effect.suspend(() =>
        child.exitCode !== null
          ? Effect.fail(`prometheus exited (${child.exitCode})`)
          : Effect.flatMap(
              Effect.tryPromise(() => fetch(`${url}/-/ready`)),
              (r) => (r.ok ? Effect.void : Effect.fail("not ready")),
            ),
      ),
      { timeout: "60 seconds", interval: "200 millis" },
    ).pipe(Effect.mapError((e) => new Error(`prometheus not ready on ${url}: ${e}; log: ${logTail()}`)))
    /** An instant query now: the number of series it returns. */
    const query = (expr: string) =>
      Effect.tryPromise(async () => {
        const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)
        const body = (await response.json()) as {
          status: string
          error?: string
          data?: { result: unknown[] }
        }
        if (body.status !== "success") throw new Error(`${expr}: ${body.error}`)
        return body.data?.result.length ?? 0
      })
    return { url, query }
  })
