/**
 * An E2B templateID names a SandboxPool: `pool` (in the server's default namespace) or
 * `namespace/pool`. A `:tag` suffix (E2B's template tags) names one of the template's runtimes
 * (`pool:python`): the sandbox runs that runtime's image, swapped in place.
 */
export type TemplateRef =
  | {
      readonly _tag: "Pool"
      readonly namespace: string
      readonly pool: string
      readonly runtime?: string
    }
  | { readonly _tag: "Invalid"; readonly message: string }

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

export const parse = (templateId: string, defaultNamespace: string): TemplateRef => {
  const [name = "", tag] = templateId.split(":", 2)
  if (tag !== undefined && !dnsLabel.test(tag)) {
    return {
      _tag: "Invalid",
      message: `templateID '${templateId}': the tag must name a runtime (a DNS label)`,
    }
  }
  const parts = name.split("/")
  const [namespace, pool] = parts.length === 2 ? parts : [defaultNamespace, parts[0]]
  if (parts.length > 2 || namespace === undefined || pool === undefined) {
    return { _tag: "Invalid", message: `templateID '${templateId}' must be 'pool' or 'namespace/pool'` }
  }
  if (!dnsLabel.test(namespace) || !dnsLabel.test(pool)) {
    return {
      _tag: "Invalid",
      message: `templateID '${templateId}': namespace and pool must be DNS labels (lowercase letters, digits, '-')`,
    }
  }
  return tag === undefined
    ? { _tag: "Pool", namespace, pool }
    : { _tag: "Pool", namespace, pool, runtime: tag }
}

/** The templateID a sandbox is reported with: the pool, qualified when outside the default namespace. */
export const format = (namespace: string, pool: string, defaultNamespace: string): string =>
  namespace === defaultNamespace ? pool : `${namespace}/${pool}`
