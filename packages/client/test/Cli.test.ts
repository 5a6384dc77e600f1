import { execFile } from "node:child_process"
import { join } from "node:path"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as Operator from "./support/Operator.ts"

const bin = join(import.meta.dirname, "../src/bin.ts")

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The installed CLI as a user runs it: its own process, configured from the environment. */
const cli = (env: Record<string, string>, ...args: ReadonlyArray<string>) =>
  Effect.async<Run>((resume) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resume(Effect.succeed({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr })),
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

layer(Operator.layer("cli"), { timeout: "180 seconds", excludeTestServices: true })(
  "the agent-sandbox CLI against a real operator",
  (it) => {
    it.effect(
      "keys, pools and sandboxes in json and table output",
      () =>
        Effect.gen(function* () {
          const { baseUrl, adminKey, namespace } = yield* Operator.Operator
          const admin = { AGENT_SANDBOX_URL: baseUrl, AGENT_SANDBOX_API_KEY: adminKey }

          const created = yield* cli(admin, "--output", "json", "keys", "create", "team-cli")
          assert.strictEqual(created.code, 0, created.stderr)
          const key = JSON.parse(created.stdout)
          assert.match(key.key, /^e2b_[0-9a-f]{40}$/)

          const listed = yield* cli(admin, "keys", "list")
          assert.strictEqual(listed.code, 0, listed.stderr)
          assert.match(listed.stdout, /^ID\s+TENANT\s+ADMIN\s+CREATED/)
          assert.include(listed.stdout, key.id)
          assert.notInclude(listed.stdout, key.key)

          // The new key through flags instead of the environment (once the key watch has it).
          const tenant = ["--url", baseUrl, "--api-key", key.key]
          const sandbox = yield* cli(
            {},
            ...tenant,
            "-o",
            "json",
            "sandboxes",
            "create",
            "--pool",
            "warm",
            "--metadata",
            "run=cli",
          ).pipe(
            Effect.flatMap((r) => (r.code === 0 ? Effect.succeed(JSON.parse(r.stdout)) : Effect.fail(r))),
            Effect.retry({ times: 20 }),
          )
          assert.strictEqual(sandbox.tenant, "team-cli")
          assert.deepStrictEqual(sandbox.metadata, { run: "cli" })

          const list = yield* cli({}, ...tenant, "-o", "json", "sandboxes", "list")
          assert.deepStrictEqual(
            JSON.parse(list.stdout).map((s: { id: string }) => s.id),
            [sandbox.id],
          )
          const table = yield* cli({}, ...tenant, "sandboxes", "get", sandbox.id)
          assert.match(
            table.stdout,
            new RegExp(`^ID\\s+POOL.*\\n${sandbox.id}\\s+${namespace}/warm\\s+team-cli`),
          )

          // exec over RPC: the command's output on ours, its exit code as ours.
          const exec = yield* cli(
            {},
            ...tenant,
            "sandboxes",
            "exec",
            sandbox.id,
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 4",
          )
          assert.deepStrictEqual([exec.code, exec.stdout, exec.stderr], [4, "out\n", "err\n"])

          const killed = yield* cli({}, ...tenant, "sandboxes", "kill", sandbox.id)
          assert.strictEqual(killed.code, 0, killed.stderr)
          const gone = yield* cli({}, ...tenant, "sandboxes", "get", sandbox.id)
          assert.strictEqual(gone.code, 1)
          assert.include(gone.stderr, "SandboxNotFoundError")

          // A tenant key may not manage keys.
          const forbidden = yield* cli({}, ...tenant, "keys", "list")
          assert.strictEqual(forbidden.code, 1)
          assert.include(forbidden.stderr, "ForbiddenError")

          const scaled = yield* cli(admin, "pools", "scale", `${namespace}/warm`, "--replicas", "2")
          assert.strictEqual(scaled.code, 0, scaled.stderr)
          const pools = yield* cli(admin, "-o", "json", "pools", "list")
          assert.strictEqual(
            JSON.parse(pools.stdout).find((p: { name: string }) => p.name === "warm").replicas,
            2,
          )

          const revoked = yield* cli(admin, "keys", "revoke", key.id)
          assert.strictEqual(revoked.code, 0, revoked.stderr)
          const refused = yield* cli({}, ...tenant, "sandboxes", "list")
          assert.strictEqual(refused.code, 1)
          assert.include(refused.stderr, "UnauthorizedError")
        }),
      // Some fifteen CLI processes, each loading the TypeScript sources afresh.
      { timeout: 300_000 },
    )

    it.effect(
      "usage errors and shell completion",
      () =>
        Effect.gen(function* () {
          const missingKey = yield* cli({}, "sandboxes", "list")
          assert.strictEqual(missingKey.code, 2)
          assert.include(missingKey.stdout + missingKey.stderr, "--api-key")
          const completion = yield* cli({}, "--completions", "bash")
          assert.strictEqual(completion.code, 0, completion.stderr)
          assert.include(completion.stdout, "agent-sandbox")
          assert.include(completion.stdout, "complete")
        }),
      { timeout: 120_000 },
    )
  },
)
