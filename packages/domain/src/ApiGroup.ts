/** The API group of the sandbox resources, and the prefix of every label and annotation key. */
export const group = "sandbox.agent-sandbox.dev"
export const version = "v1alpha1"
export const apiVersion = `${group}/${version}` as const

/** `sandbox.agent-sandbox.dev/`: prefix of the labels and annotations the operator writes. */
export const keyPrefix = `${group}/` as const

/** `kubectl get agent-sandbox` lists every resource of the project. */
export const category = "agent-sandbox"

export const kinds = {
  SandboxTemplate: "SandboxTemplate",
  SandboxPool: "SandboxPool",
} as const

export const plurals = {
  SandboxTemplate: "sandboxtemplates",
  SandboxPool: "sandboxpools",
} as const

export const singulars = {
  SandboxTemplate: "sandboxtemplate",
  SandboxPool: "sandboxpool",
} as const

export const shortNames = {
  SandboxTemplate: "sbt",
  SandboxPool: "sbp",
} as const
