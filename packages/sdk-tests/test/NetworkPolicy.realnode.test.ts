/**
 * A pool's `spec.network` as packets on the real node: the operator writes the pool's NetworkPolicy
 * (operator PoolNetworkPolicy) and kube-router's firewall (RealNode `networkPolicy: true`,
 * tools/kube-router) enforces it on the node's bridge. A sandbox of the pool connects to another
 * Pod's two listeners (busybox httpd on 8080 and 8081): all reachable with no policy, none with
 * egress Deny, exactly the allowed CIDR and port with an AllowList, and all again once the pool
 * allows egress. Real-node Pods have no default route: the listener is a Pod on the same bridge.
 * Stopping the node leaves no kube-router chain or ipset behind.
 */
import { Exec, KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Eventually, HostCommand, RealNode, TestCluster } from "@agent-sandbox/testing"
import { InPlace, OperatorNamespaces, Pools } from "@agent-sandbox/testing/operator"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"

const [base] = RealNode.images.base
const pool = "netpol"

/** kube-router's traces on the host: its iptables lines and its ipsets. */
const kubeRouterTraces = Effect.gen(function* () {
  const rules = yield* HostCommand.run("iptables-save", [])
  const sets = yield* HostCommand.run("ipset", ["list", "-n"])
  return {
    rules: rules.stdout
      .split("\n")
      .filter((line) => /KUBE-ROUTER|KUBE-POD-FW|KUBE-NWPLCY|kube-router/.test(line)),
    ipsets: sets.stdout.split("\n").filter((name) => /^(inet6:)?KUBE-/.test(name)),
  }
})

const listenerPod = (namespace: string) => ({
  apiVersion: "v1" as const,
  kind: "Pod" as const,
  metadata: { name: "listener", namespace, labels: { role: "listener" } },
  spec: RealNode.sandboxPodSpec(base, {
    container: {
      command: [
        "sh",
        "-c",
        "mkdir -p /w && echo hi > /w/index.html && httpd -p 8081 -h /w && httpd -f -p 8080 -h /w",
      ],
    },
  }),
})

const runningIp = (namespace: string, labelSelector: string) =>
  Eventually.eventually(
    Effect.flatMap(KubeClient.KubeClient, (client) =>
      client.list(ResourceType.Pod, { namespace, labelSelector }),
    ).pipe(
      Effect.flatMap((pods) => {
        const ready = pods.items.find(
          (pod) =>
            pod.metadata?.deletionTimestamp === undefined &&
            pod.status?.podIP !== undefined &&
            pod.status?.containerStatuses?.every((status) => status.ready) === true,
        )
        return ready === undefined
          ? Effect.fail(`no running Pod for ${labelSelector}`)
          : Effect.succeed({ name: ready.metadata!.name!, ip: ready.status!.podIP! })
      }),
    ),
    { timeout: "120 seconds" },
  )

/**
 * Whether the pool's sandbox gets the listener's page from ip:port: an HTTP/1.0 request through
 * busybox nc (2 s to connect; busybox-static's wget crashes in these images).
 */
const reaches = (namespace: string, ip: string, port: number) =>
  Effect.gen(function* () {
    const sandbox = yield* runningIp(namespace, `sandbox.agent-sandbox.dev/pool=${pool}`)
    const result = yield* Exec.execCollect({
      namespace,
      pod: sandbox.name,
      command: ["sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${ip} ${port}`],
    })
    return (
      result.exitCode === 0 &&
      result.stdout.startsWith("HTTP/1.1 200") &&
      result.stdout.endsWith("\r\n\r\nhi\n")
    )
  })

/** Waits until the sandbox reaches exactly the ports in `open` of the two listeners. */
const reachesExactly = (namespace: string, ip: string, open: ReadonlyArray<number>) =>
  Eventually.eventually(
    Effect.gen(function* () {
      const seen = { 8080: yield* reaches(namespace, ip, 8080), 8081: yield* reaches(namespace, ip, 8081) }
      const expected = { 8080: open.includes(8080), 8081: open.includes(8081) }
      return seen[8080] === expected[8080] && seen[8081] === expected[8081]
        ? Effect.void
        : Effect.fail(`reached ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`)
    }).pipe(Effect.flatten),
    { timeout: "90 seconds" },
  )

const open = { egress: { mode: "Allow", allow: null }, ingress: { mode: "Allow" } }
const denied = { egress: { mode: "Deny", allow: null }, ingress: { mode: "Allow" } }
const allowListTo = (ip: string) => ({
  egress: { mode: "AllowList", allow: [{ cidr: `${ip}/32`, ports: [{ port: 8080 }] }] },
  ingress: { mode: "Allow" },
})

describe("NetworkPolicy on the real node (kube-router)", () => {
  it.live(
    "a pool's egress Deny, AllowList and a switch back are enforced as traffic; stopping removes kube-router's rules and ipsets",
    () =>
      Effect.gen(function* () {
        const tracesBefore = yield* kubeRouterTraces
        let tracesDuring = tracesBefore
        let tracesAfter: typeof tracesBefore | undefined
        // Read before the machine lock is released (another suite's node may start right after). The
        // rest of the host's restoration is RealNode.realnode.test.ts's (packages/testing).
        const afterStop = Effect.gen(function* () {
          tracesAfter = yield* kubeRouterTraces
        })
        const scope = yield* Scope.make()
        const exit = yield* Effect.exit(
          Effect.gen(function* () {
            yield* Layer.buildWithScope(
              RealNode.layerFromEnvironment({ networkPolicy: true, afterStop }),
              scope,
            )
            const cluster = yield* Layer.buildWithScope(TestCluster.layer, scope)
            yield* Effect.gen(function* () {
              const { namespace, system } = yield* OperatorNamespaces.make("netpol")
              const client = yield* KubeClient.KubeClient
              yield* client.create(ResourceType.Pod, listenerPod(namespace), { namespace })
              const listener = yield* runningIp(namespace, "role=listener")
              yield* Pools.createPool(namespace, pool, {
                replicas: 1,
                network: { egress: { mode: "Allow" }, ingress: { mode: "Allow" } },
                template: {
                  podTemplate: {
                    spec: RealNode.sandboxPodSpec(base, { container: { command: ["sleep", "86400"] } }),
                  },
                },
              })
              yield* InPlace.runOperator(namespace, system, "netpol")

              // No policy: both listeners answer (they work, and the bridge passes them).
              yield* reachesExactly(namespace, listener.ip, [8080, 8081])
              yield* Pools.setNetwork(namespace, pool, denied)
              yield* reachesExactly(namespace, listener.ip, [])
              tracesDuring = yield* kubeRouterTraces
              yield* Pools.setNetwork(namespace, pool, allowListTo(listener.ip))
              yield* reachesExactly(namespace, listener.ip, [8080])
              yield* Pools.setNetwork(namespace, pool, open)
              yield* reachesExactly(namespace, listener.ip, [8080, 8081])
            }).pipe(Effect.provide(cluster), Scope.extend(scope))
          }),
        )
        yield* Scope.close(scope, Exit.void)
        assert.isTrue(Exit.isSuccess(exit), `the suite ran: ${Exit.isFailure(exit) ? exit.cause : ""}`)
        assert.isAbove(tracesDuring.rules.length, tracesBefore.rules.length, "kube-router added its rules")
        assert.isAbove(tracesDuring.ipsets.length, tracesBefore.ipsets.length, "and its ipsets")
        assert.deepStrictEqual(tracesAfter, tracesBefore, "none left once the node stopped")
      }),
    { timeout: 900_000 },
  )
})
