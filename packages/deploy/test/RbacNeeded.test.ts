import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubeClient, type KubeObject, ResourceType } from "@agent-sandbox/kube"
import { ControlPlane, Eventually, FreePorts, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { type Duration, Effect, Either, Layer, Schedule } from "effect"
import { stringify } from "yaml"
import { Helm, OperatorPermissions } from "../src/index.ts"
import { runProgram } from "../src/Program.ts"
import { chartDir, find, type Rendered, template } from "./ChartFiles.ts"
import { containerEnvironment, startOperator } from "./ChartOperator.ts"
import { serviceAccountKubeconfig } from "./ServiceAccountKubeconfig.ts"

// Each rule the chart grants is needed: the chart's RBAC objects are applied with one permission
// left out, and a short run of two operator replicas as that ServiceAccount (leader election, a
// warm pool filled, an allocation and its release, an E2B round trip with a command, a caller
// waiting on the follower for an empty pool) stops at a Forbidden for exactly that permission.
// With every rule it completes without one. The operators run on this host (KWOK nodes), with the
// environment the chart's Deployment gives them.
// The operators are cluster-wide (the default install), so the suite has a control plane of its
// own: they see no other suite's pools, and no other suite's operator sees (and writes) its pools.

const cluster = Layer.provideMerge(
  Layer.provideMerge(KubeClient.layer, ControlPlane.layerKubeConfig),
  ControlPlane.layer({ nodes: 1 }),
)

const SandboxPool = ResourceType.make<KubeObject.KubeObject & { status?: { idleReplicas?: number } }>({
  apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
  kind: "SandboxPool",
  plural: "sandboxpools",
  namespaced: true,
})

/** What the chart renders that the ServiceAccount's access is made of (no Deployment: we run the operator). */
const accessKinds = [
  "ServiceAccount",
  "Secret",
  "Lease",
  "Role",
  "RoleBinding",
  "ClusterRole",
  "ClusterRoleBinding",
]

/** kubectl as the suite's own control plane's admin. */
const kubectl = (args: ReadonlyArray<string>, input?: string) =>
  Effect.flatMap(ControlPlane.ControlPlane, ({ kubeconfigPath }) =>
    Effect.flatMap(
      runProgram("/usr/bin/kubectl", ["--kubeconfig", kubeconfigPath, ...args], process.env, input),
      (r) =>
        r.code === 0 ? Effect.succeed(r.stdout) : Effect.fail(`kubectl ${args.join(" ")}: ${r.stderr}`),
    ),
  )

const yamlOf = (objects: ReadonlyArray<unknown>) => objects.map((o) => stringify(o)).join("---\n")

/** How a run ended: every step done, or the step it stopped at and why. */
type Outcome =
  | { readonly _tag: "Completed"; readonly forbidden: ReadonlyArray<string> }
  | { readonly _tag: "Stopped"; readonly step: string; readonly error: string; readonly logs: string }

/**
 * RBAC's words for a refused request: `... is forbidden: User "..." cannot get resource "leases" ...`
 * (not other 403s, such as a namespace being deleted refusing new objects).
 */
const forbiddenLines = (text: string) =>
  text.split("\n").filter((line) => /forbidden: User .* cannot \S+ resource/.test(line))

/**
 * Whether `text` holds the API server's refusal of exactly this permission: its Status message
 * (quotes escaped or not, as logged), or for exec, a WebSocket upgrade, the 403 itself (the
 * client reads no body from a refused upgrade).
 */
const refusedIn = (p: OperatorPermissions.Permission, text: string) =>
  new RegExp(`cannot ${p.verb} resource \\\\?"${p.resource}\\\\?" in API group \\\\?"${p.group}\\\\?"`).test(
    text,
  ) ||
  (p.resource === "pods/exec" &&
    /exec into the sandbox was refused: Unexpected server response: 403/.test(text))

const json = (response: Response) =>
  Effect.promise(() => response.text()).pipe(
    Effect.flatMap((text) =>
      response.ok
        ? Effect.succeed(text === "" ? {} : JSON.parse(text))
        : Effect.fail(`${response.status} ${text}`),
    ),
  )

const run = (index: number, removed: OperatorPermissions.Permission | undefined) =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* KubeClient.KubeClient
      const release = `rbac-needed-${index}`
      const system = yield* TestNamespace.make(`${release}-system`)
      const sandboxes = yield* TestNamespace.make(`${release}-sandboxes`)
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), `${release}-`))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true })),
      )

      // The chart's objects for this release, its roles less the removed permission.
      const rendered = yield* template(release, system, { defaultNamespace: sandboxes })
      const access = rendered
        .filter((o) => accessKinds.includes(o.kind))
        .map(
          (o): Rendered =>
            removed !== undefined && (o.kind === "Role" || o.kind === "ClusterRole")
              ? { ...o, rules: OperatorPermissions.rulesWithout(o.rules, removed) }
              : o,
        )
      yield* Effect.acquireRelease(kubectl(["apply", "-f", "-"], yamlOf(access)), () =>
        kubectl([
          "delete",
          "clusterrole,clusterrolebinding",
          "-l",
          `app.kubernetes.io/instance=${release}`,
          "--ignore-not-found",
        ]).pipe(Effect.ignore),
      )
      // Its own template (cluster-scoped), a warm pool of one and an empty pool.
      yield* Effect.acquireRelease(
        kubectl(
          ["apply", "-f", "-"],
          yamlOf([
            {
              apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
              kind: "SandboxTemplate",
              metadata: { name: release },
              spec: {
                podTemplate: {
                  spec: {
                    containers: [{ name: "sandbox", image: "busybox:1.36", command: ["sleep", "infinity"] }],
                  },
                },
              },
            },
            ...[
              ["warm", 1],
              ["empty", 0],
            ].map(([name, replicas]) => ({
              apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
              kind: "SandboxPool",
              metadata: { name, namespace: sandboxes },
              spec: {
                templateRef: { name: release },
                replicas,
                // The warm pool's NetworkPolicy: applied now, deleted when network is removed below.
                ...(name === "warm" ? { network: { egress: { mode: "Deny" } } } : {}),
              },
            })),
          ]),
        ),
        // The pools go first, so no later run's leader reconciles them in a namespace being deleted.
        () =>
          kubectl(["delete", "sandboxpool", "--all", "-n", sandboxes, "--wait=false"]).pipe(
            Effect.zipRight(
              kubectl(["delete", "sandboxtemplate", release, "--ignore-not-found", "--wait=false"]),
            ),
            Effect.ignore,
          ),
      )
      const key = Buffer.from(
        find(rendered, "Secret", `${release}-agent-sandbox-admin-key`).data.key,
        "base64",
      ).toString("utf8")

      const deployment = find(rendered, "Deployment")
      const kubeconfig = yield* serviceAccountKubeconfig({
        adminKubeconfig: (yield* ControlPlane.ControlPlane).kubeconfigPath,
        namespace: system,
        serviceAccount: deployment.spec.template.spec.serviceAccountName,
        dir,
      })
      const free = yield* FreePorts.freePorts(8)
      const replicas = [0, 1].map((r) => {
        const [api = 0, probes = 0, e2b = 0, metrics = 0] = free.slice(r * 4, r * 4 + 4)
        return { ports: { api, probes, e2b, metrics }, logFile: join(dir, `operator-${r}.log`) }
      })
      for (const [r, replica] of replicas.entries())
        yield* startOperator({
          env: {
            ...containerEnvironment(deployment, `${release}-${r}`, replica.ports),
            // Short, so that a caller waiting in vain ends the run soon.
            AGENT_SANDBOX_MAX_WAIT_MS: "20000",
          },
          kubeconfig,
          logFile: replica.logFile,
        })

      const logs = () =>
        replicas.map((r) => {
          try {
            return readFileSync(r.logFile, "utf8")
          } catch {
            return ""
          }
        })
      // Ends a step as soon as an operator logs a refusal.
      const refused = Effect.repeat(
        Effect.suspend(() => {
          const lines = logs().flatMap(forbiddenLines)
          return lines.length > 0 ? Effect.fail(`an operator was refused: ${lines[0]}`) : Effect.void
        }),
        Schedule.spaced("200 millis"),
      ).pipe(Effect.zipRight(Effect.never))
      // An operator logs a refusal before it answers the request it refused, but the line reaches
      // its log file a moment after the answer: a step that failed is the refusal's if one is
      // logged within two seconds.
      const refusalOr = (error: unknown) =>
        Effect.raceFirst(refused, Effect.zipRight(Effect.sleep("2 seconds"), Effect.fail(error)))
      const step = <A, R>(
        name: string,
        effect: Effect.Effect<A, unknown, R>,
        timeout: Duration.DurationInput = "45 seconds",
      ) =>
        Eventually.eventually(effect, { timeout, interval: "250 millis" }).pipe(
          Effect.raceFirst(refused),
          Effect.catchAll(refusalOr),
          Effect.mapError((error) => ({ step: name, error: String(error) })),
        )
      const once = <A, R>(name: string, effect: Effect.Effect<A, unknown, R>) =>
        Effect.raceFirst(effect, refused).pipe(
          Effect.catchAll(refusalOr),
          Effect.mapError((error) => ({ step: name, error: String(error) })),
        )

      const metricsOf = (port: number) =>
        Effect.tryPromise(() => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()))

      const scenario = Effect.gen(function* () {
        for (const [r, replica] of replicas.entries())
          yield* step(
            `replica ${r} ready`,
            Effect.flatMap(
              Effect.tryPromise(() => fetch(`http://127.0.0.1:${replica.ports.probes}/readyz`)),
              (response) => (response.ok ? Effect.void : Effect.fail(`readyz ${response.status}`)),
            ),
          )
        // The leader (whichever replica took the Lease) fills the warm pool and writes its status.
        const leader = yield* step(
          "one replica leads",
          Effect.flatMap(
            Effect.forEach(replicas, (replica) => metricsOf(replica.ports.metrics)),
            (texts) => {
              const index = texts.findIndex((t) => t.includes("\nagent_sandbox_leader 1"))
              return index === -1 ? Effect.fail("no leader yet") : Effect.succeed(index)
            },
          ),
        )
        yield* step(
          "the leader fills the warm pool and writes its status",
          Effect.flatMap(client.get(SandboxPool, "warm", { namespace: sandboxes }), (pool) =>
            pool.status?.idleReplicas === 1
              ? Effect.void
              : Effect.fail(`status ${JSON.stringify(pool.status)}`),
          ),
        )
        // Everything else through the follower: what any replica does, not only the leader.
        const follower = replicas[1 - leader]?.ports ?? { api: 0, e2b: 0 }
        const api = (path: string, init: RequestInit = {}) =>
          Effect.flatMap(
            Effect.promise(() =>
              fetch(`http://127.0.0.1:${follower.api}${path}`, {
                ...init,
                headers: { "x-api-key": key, "content-type": "application/json" },
              }),
            ),
            json,
          )
        const allocated = yield* once(
          "allocate from the warm pool",
          api("/v1/sandboxes", { method: "POST", body: JSON.stringify({ pool: "warm" }) }),
        )
        const sandboxId = String(allocated.id)
        yield* once("release it", api(`/v1/sandboxes/${sandboxId}`, { method: "DELETE" }))
        yield* step(
          "its Pod is ended and the pool warm again",
          Effect.flatMap(
            Effect.all([
              client.list(ResourceType.Pod, {
                namespace: sandboxes,
                labelSelector: `sandbox.agent-sandbox.dev/sandbox-id=${sandboxId}`,
              }),
              client.get(SandboxPool, "warm", { namespace: sandboxes }),
            ]),
            ([pods, pool]) =>
              pods.items.length === 0 && pool.status?.idleReplicas === 1
                ? Effect.void
                : Effect.fail(
                    `${pods.items.length} Pods of ${sandboxId}, status ${JSON.stringify(pool.status)}`,
                  ),
          ),
        )
        Object.assign(process.env, {
          E2B_API_URL: `http://127.0.0.1:${follower.e2b}`,
          E2B_SANDBOX_URL: `http://127.0.0.1:${follower.e2b}`,
          E2B_API_KEY: key,
        })
        const output = yield* once(
          "an E2B round trip with a command",
          Effect.tryPromise({
            try: async () => {
              const { Sandbox } = await import("e2b")
              const sandbox = await Sandbox.create("warm", { timeoutMs: 60_000 })
              try {
                return (await sandbox.commands.run("echo checked")).stdout
              } finally {
                await sandbox.kill()
              }
            },
            catch: (error) => String(error),
          }),
        )
        if (output !== "checked\n") return yield* Effect.fail({ step: "E2B command output", error: output })
        // The follower publishes its waiting caller; the leader makes a Pod for it.
        yield* once(
          "a caller waiting on the follower for an empty pool gets a Pod",
          api("/v1/sandboxes", { method: "POST", body: JSON.stringify({ pool: "empty" }) }),
        )
        // A smaller warm target: the leader deletes the idle Pod.
        yield* once(
          "scale the warm pool to zero",
          kubectl([
            "patch",
            "sandboxpool",
            "warm",
            "-n",
            sandboxes,
            "--type",
            "merge",
            "-p",
            '{"spec":{"replicas":0,"network":null}}',
          ]),
        )
        yield* step(
          "the leader deletes its idle Pod",
          Effect.flatMap(
            client.list(ResourceType.Pod, {
              namespace: sandboxes,
              labelSelector: "sandbox.agent-sandbox.dev/pool=warm",
            }),
            (pods) =>
              pods.items.every((pod) => pod.metadata?.labels?.["sandbox.agent-sandbox.dev/state"] !== "idle")
                ? Effect.void
                : Effect.fail(`${pods.items.length} Pods left`),
          ),
        )
        // With network removed, the leader deletes the pool's NetworkPolicy (it may do so after the
        // idle Pod is gone, so the run waits for it rather than ending first).
        yield* step(
          "the leader deletes the warm pool's NetworkPolicy",
          Effect.flatMap(
            client.list(ResourceType.NetworkPolicy, {
              namespace: sandboxes,
              labelSelector: "sandbox.agent-sandbox.dev/pool=warm",
            }),
            (policies) =>
              policies.items.length === 0
                ? Effect.void
                : Effect.fail(`${policies.items.length} NetworkPolicies left`),
          ),
        )
      })
      const outcome: Outcome = Either.match(yield* Effect.either(scenario), {
        onLeft: ({ step, error }) => ({ _tag: "Stopped", step, error, logs: logs().join("\n") }),
        onRight: () => ({ _tag: "Completed", forbidden: logs().flatMap(forbiddenLines) }),
      })
      return outcome
    }),
  )

// Real time: the runs wait on a real cluster and processes (no TestClock).
layer(Layer.mergeAll(cluster, Helm.layer), { timeout: "5 minutes", excludeTestServices: true })(
  "the chart's RBAC",
  (it) => {
    it.effect(
      "every permission is needed: without any one of them the operator is refused and stops; with all it completes",
      () =>
        Effect.gen(function* () {
          // The chart's CRDs, as helm installs them.
          yield* kubectl(["apply", "-f", join(chartDir, "crds")])
          yield* kubectl([
            "wait",
            "--for=condition=Established",
            "crd/sandboxtemplates.sandbox.agent-sandbox.dev",
            "crd/sandboxpools.sandbox.agent-sandbox.dev",
          ])
          const all = yield* run(0, undefined)
          assert.deepStrictEqual(all, { _tag: "Completed", forbidden: [] })
          const results: Array<string> = []
          // The chart's defaults: no node agents, so neither their Leases nor their grant key is
          // granted (NodeAgent.realnode.test.ts is where those are used).
          for (const [i, permission] of OperatorPermissions.operatorPermissionsWith({
            nodeAgents: false,
          }).entries()) {
            const outcome = yield* run(i + 1, permission)
            const line = OperatorPermissions.line(permission)
            results.push(
              outcome._tag === "Completed"
                ? `${line}: completed without it`
                : refusedIn(permission, outcome.error) || refusedIn(permission, outcome.logs)
                  ? `${line}: refused, stopped at "${outcome.step}"`
                  : `${line}: stopped at "${outcome.step}" but not refused it: ${outcome.error.slice(0, 400)}`,
            )
          }
          assert.deepStrictEqual(
            results.filter((r) => !r.includes(": refused, stopped at")),
            [],
            results.join("\n"),
          )
        }),
      // About 4.5 minutes on a quiet 2-core host (20 runs of two operator processes).
      1_800_000,
    )
  },
)
