import { apiVersion, kinds, plurals } from "../ApiGroup.ts"
import { SandboxPool } from "./SandboxPool.ts"
import { SandboxTemplate } from "./SandboxTemplate.ts"

/**
 * The two custom resources where the API server serves them, decoded by their Schemas (defaults
 * filled in, unknown fields kept). Each is a kube `ResourceType` by its shape (domain imports no
 * kube), so the operator and the extproc watch the one definition.
 */
export const SandboxPoolResource = {
  apiVersion,
  kind: kinds.SandboxPool,
  plural: plurals.SandboxPool,
  namespaced: true,
  schema: SandboxPool,
}

export const SandboxTemplateResource = {
  apiVersion,
  kind: kinds.SandboxTemplate,
  plural: plurals.SandboxTemplate,
  namespaced: false,
  schema: SandboxTemplate,
}
