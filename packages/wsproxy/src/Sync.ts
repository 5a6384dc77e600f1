import { KubeClient, type KubeConfig } from "@agent-sandbox/kube"
import { Effect, Layer } from "effect"
import * as SyncApply from "./SyncApply.ts"
import { SyncConfig } from "./SyncConfig.ts"
import * as SyncHub from "./SyncHub.ts"
import * as SyncMember from "./SyncMember.ts"

/** The :9004 sync in the mode SyncConfig names (nothing when off), on a client of its own field manager. */
export const layer: Layer.Layer<never, unknown, SyncConfig | KubeConfig.KubeConfig> = Layer.unwrapEffect(
  Effect.map(SyncConfig, (config) => {
    switch (config.mode) {
      case "off":
        return Layer.empty
      case "hub":
        return SyncHub.layer
      case "member":
        return Layer.discard(SyncMember.layer)
    }
  }),
).pipe(Layer.provide(KubeClient.layerWith({ fieldManager: SyncApply.fieldManager })))
