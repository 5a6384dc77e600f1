import { KubeClient, type KubeError, Patch, ResourceType } from "@agent-sandbox/kube"
import { SandboxId, SandboxPod } from "@agent-sandbox/operator/internal"
import { Effect } from "effect"
import { type LoadOptions, type LoadResult, runLoad } from "../support/LoadLoop.ts"

/**
 * The ceiling an allocation can approach: the allocation's one write without anything around it.
 * Each operation is a merge PATCH of a different settled Pod carrying its resourceVersion, with the
 * very body the allocator sends (SandboxPod.claimPatch), through the same client the operator uses
 * (@agent-sandbox/kube KubeClient with its defaults: undici, HTTP/2, 4 connections). The Pods carry
 * no pool label, so the operator never sees them.
 */
const bareLabel = "bench.agent-sandbox.dev/bare"

export const bareName = (i: number) => `bare-${i}`

export const createBarePods = (namespace: string, count: number, image: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    Effect.forEach(
      Array.from({ length: count }, (_, i) => bareName(i)),
      (name) =>
        client.create(ResourceType.Pod, {
          metadata: { name, namespace, labels: { [bareLabel]: "true" } },
          spec: { containers: [{ name: "sandbox", image }] },
        }),
      { concurrency: 16, discard: true },
    ),
  )

const isSettled = (pod: {
  status?: { phase?: string; conditions?: Array<{ type: string; status: string }> }
}) =>
  pod.status?.phase === "Running" &&
  (pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false)

/** Waits until every bare Pod is Running and Ready: the scheduler and KWOK are done writing to them. */
export const awaitBarePods = (namespace: string, count: number) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    for (let attempt = 0; attempt < 600; attempt++) {
      const list = yield* client.list(ResourceType.Pod, { namespace, labelSelector: `${bareLabel}=true` })
      if (list.items.filter(isSettled).length >= count) return
      yield* Effect.sleep("200 millis")
    }
    return yield* Effect.fail(`bare Pods not Running+Ready within 120 s`)
  })

export interface PatchRun {
  readonly result: LoadResult
  /** 409s met (and retried after a fresh read); a settled Pod should give none. */
  readonly conflicts: number
}

/** Patches bare Pods 0..count-1 once each, `concurrency` at a time. */
export const patchLevel = (
  namespace: string,
  options: LoadOptions,
): Effect.Effect<PatchRun, KubeError.KubeError, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const listed = yield* client.list(ResourceType.Pod, { namespace, labelSelector: `${bareLabel}=true` })
    const versions = new Map(
      listed.items.map((p) => [p.metadata?.name ?? "", p.metadata?.resourceVersion ?? ""]),
    )
    let conflicts = 0
    const claim = (name: string): Effect.Effect<void, string> =>
      client
        .patch(
          ResourceType.Pod,
          name,
          Patch.merge(
            SandboxPod.claimPatch({
              resourceVersion: versions.get(name) ?? "",
              sandboxId: SandboxId.mint(),
              tenant: "bench",
              now: Date.now(),
              timeoutSeconds: 600,
              metadata: { bench: name },
            }),
          ),
          { namespace },
        )
        .pipe(
          Effect.asVoid,
          Effect.catchIf(
            (e) => e.reason === "Conflict" && conflicts < 1_000,
            () =>
              Effect.flatMap(client.get(ResourceType.Pod, name, { namespace }), (pod) =>
                Effect.suspend(() => {
                  conflicts++
                  versions.set(name, pod.metadata?.resourceVersion ?? "")
                  return claim(name)
                }),
              ),
          ),
          Effect.mapError((e) => (typeof e === "string" ? e : `${e.reason} (${e.status})`)),
        )
    const result = yield* runLoad(options, (i) => claim(bareName(i)))
    return { result, conflicts }
  })
