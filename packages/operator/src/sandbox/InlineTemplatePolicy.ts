import type { SandboxTemplateSpec } from "@agent-sandbox/domain"

/**
 * What an inline template (a SandboxPool's `spec.template`) may ask for. The operator creates the
 * pool's Pods under its own identity, so whoever may create a SandboxPool in a namespace would
 * otherwise get any Pod there: another service account's token, the node's filesystem, privileges,
 * the namespace's Secrets. An inline template may therefore use only what any workload may use
 * (close to the Pod Security "baseline" level, plus no service account and no Secrets or claims):
 * anything more goes in a SandboxTemplate, which is cluster-scoped and so written only by whoever
 * may write cluster-scoped objects. Pure: the pool controller refuses a pool that breaks it
 * (condition Ready=False, reason TemplateNotAllowed) and creates none of its Pods.
 */

/** Volume kinds an inline template may use: none of them reaches beyond the Pod. */
const allowedVolumeKinds: ReadonlySet<string> = new Set(["name", "emptyDir", "configMap", "downwardAPI"])

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value)

const objects = (value: unknown): ReadonlyArray<Record<string, unknown>> =>
  Array.isArray(value) ? value.filter(isObject) : []

/** One container's breaches (`where` names it in the messages). */
const containerBreaches = (container: Record<string, unknown>, where: string): Array<string> => {
  const found: Array<string> = []
  const security = isObject(container.securityContext) ? container.securityContext : {}
  if (security.privileged === true) found.push(`${where}: securityContext.privileged`)
  if (security.allowPrivilegeEscalation === true)
    found.push(`${where}: securityContext.allowPrivilegeEscalation`)
  const capabilities = isObject(security.capabilities) ? security.capabilities : {}
  if (Array.isArray(capabilities.add) && capabilities.add.length > 0)
    found.push(`${where}: securityContext.capabilities.add`)
  if (security.procMount !== undefined && security.procMount !== "Default")
    found.push(`${where}: securityContext.procMount`)
  if (isObject(security.windowsOptions) && security.windowsOptions.hostProcess === true)
    found.push(`${where}: securityContext.windowsOptions.hostProcess`)
  for (const port of objects(container.ports)) {
    if (port.hostPort !== undefined && port.hostPort !== 0) found.push(`${where}: ports[].hostPort`)
  }
  for (const env of objects(container.env)) {
    if (isObject(env.valueFrom) && env.valueFrom.secretKeyRef !== undefined)
      found.push(`${where}: env[].valueFrom.secretKeyRef`)
  }
  for (const from of objects(container.envFrom)) {
    if (from.secretRef !== undefined) found.push(`${where}: envFrom[].secretRef`)
  }
  return found
}

/** What the inline template asks for that it may not (empty: allowed). */
export const breaches = (template: SandboxTemplateSpec): ReadonlyArray<string> => {
  const pod = template.podTemplate as Record<string, unknown>
  const spec = isObject(pod.spec) ? pod.spec : {}
  const found: Array<string> = []
  for (const field of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    if (spec[field] === true) found.push(`spec.${field}`)
  }
  if (
    typeof spec.serviceAccountName === "string" &&
    spec.serviceAccountName !== "" &&
    spec.serviceAccountName !== "default"
  )
    found.push("spec.serviceAccountName")
  if (
    typeof spec.serviceAccount === "string" &&
    spec.serviceAccount !== "" &&
    spec.serviceAccount !== "default"
  )
    found.push("spec.serviceAccount")
  if (spec.automountServiceAccountToken === true) found.push("spec.automountServiceAccountToken")
  if (spec.nodeName !== undefined) found.push("spec.nodeName")
  const podSecurity = isObject(spec.securityContext) ? spec.securityContext : {}
  if (Array.isArray(podSecurity.sysctls) && podSecurity.sysctls.length > 0)
    found.push("spec.securityContext.sysctls")
  for (const volume of objects(spec.volumes)) {
    const kinds = Object.keys(volume).filter(
      (key) => volume[key] !== undefined && !allowedVolumeKinds.has(key),
    )
    if (kinds.length > 0) found.push(`spec.volumes[${String(volume.name)}]: ${kinds.join(", ")}`)
  }
  for (const [list, label] of [
    [spec.containers, "containers"],
    [spec.initContainers, "initContainers"],
    [spec.ephemeralContainers, "ephemeralContainers"],
  ] as const) {
    for (const container of objects(list))
      found.push(...containerBreaches(container, `${label}[${String(container.name)}]`))
  }
  return found
}
