import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Eventually } from "@agent-sandbox/testing"
import { Effect } from "effect"
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.js"
import { parse } from "yaml"

const crdsDir = join(import.meta.dirname, "../../../../crds")

/** Applies crds/ (server-side apply: idempotent across test files) and waits until each is Established. */
export const installCrds = Effect.gen(function* () {
  const client = yield* KubeClient.KubeClient
  const files = (yield* Effect.promise(() => readdir(crdsDir))).filter((f) => f.endsWith(".yaml"))
  for (const file of files) {
    const crd = parse(
      yield* Effect.promise(() => readFile(join(crdsDir, file), "utf8")),
    ) as CustomResourceDefinition
    yield* client.apply(ResourceType.CustomResourceDefinition, crd as unknown as KubeClient.ApplyObject, {
      force: true,
      fieldManager: "agent-sandbox-tests",
    })
    yield* Eventually.eventually(
      Effect.flatMap(
        client.get(ResourceType.CustomResourceDefinition, crd.metadata?.name ?? ""),
        (current) =>
          current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
            ? Effect.void
            : Effect.fail("not established"),
      ),
    )
  }
})
