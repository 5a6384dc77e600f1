import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { KubeClient, type KubeError, ResourceType } from "@agent-sandbox/kube"
import { Duration, Effect, Schedule } from "effect"
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.js"
import { parse } from "yaml"

/** The repository's crds/ folder (generated from the domain Schemas). */
export const crdsDir = join(import.meta.dirname, "../../../../crds")

const established = (crd: CustomResourceDefinition) =>
  crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false

/**
 * Applies the CRDs (server-side apply: idempotent, safe from several processes at once) and waits
 * until the API server serves them. For the local control plane and tests; a cluster gets them
 * from the Helm chart.
 */
export const installCrds: Effect.Effect<void, KubeError.KubeError | string, KubeClient.KubeClient> =
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const files = (yield* Effect.promise(() => readdir(crdsDir))).filter((f) => f.endsWith(".yaml"))
    for (const file of files) {
      const crd = parse(
        yield* Effect.promise(() => readFile(join(crdsDir, file), "utf8")),
      ) as CustomResourceDefinition
      yield* client.apply(ResourceType.CustomResourceDefinition, crd as unknown as KubeClient.ApplyObject, {
        force: true,
        fieldManager: "agent-sandbox-setup",
      })
      yield* client.get(ResourceType.CustomResourceDefinition, crd.metadata?.name ?? "").pipe(
        Effect.filterOrFail(established, () => `${crd.metadata?.name} is not established yet`),
        Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo(Duration.seconds(30)))),
      )
    }
  })
