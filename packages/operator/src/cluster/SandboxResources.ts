import { ApiGroup, SandboxPool, SandboxTemplate } from "@agent-sandbox/domain"
import { ResourceType } from "@agent-sandbox/kube"

/** The two custom resources, decoded by their domain Schemas (defaults filled in, unknown fields kept). */
export const SandboxPoolResource = ResourceType.customResource({
  group: ApiGroup.group,
  version: ApiGroup.version,
  kind: ApiGroup.kinds.SandboxPool,
  plural: ApiGroup.plurals.SandboxPool,
  namespaced: true,
  schema: SandboxPool,
})

export const SandboxTemplateResource = ResourceType.customResource({
  group: ApiGroup.group,
  version: ApiGroup.version,
  kind: ApiGroup.kinds.SandboxTemplate,
  plural: ApiGroup.plurals.SandboxTemplate,
  namespaced: false,
  schema: SandboxTemplate,
})
