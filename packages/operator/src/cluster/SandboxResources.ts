/** The two custom resources as kube resource types: defined once in the domain, beside their Schemas. */
export { SandboxPoolResource, SandboxTemplateResource } from "@agent-sandbox/domain"
