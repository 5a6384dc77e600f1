import { ApiGroup, SandboxPool } from "@agent-sandbox/domain"
import { ResourceType } from "@agent-sandbox/kube"

/** SandboxPools as the extproc watches them (capacity and port access), decoded by the domain Schema. */
export const SandboxPoolResource = ResourceType.customResource({
  group: ApiGroup.group,
  version: ApiGroup.version,
  kind: ApiGroup.kinds.SandboxPool,
  plural: ApiGroup.plurals.SandboxPool,
  namespaced: true,
  schema: SandboxPool,
})
