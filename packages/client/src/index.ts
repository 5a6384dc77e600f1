export * from "@agent-sandbox/domain/api"
export {
  AgentSandbox,
  type AgentSandboxOptions,
  type CallOptions,
  type CreateRequest,
  type ListFilter,
  SandboxHandle,
} from "./AgentSandbox.ts"
export * as AgentSandboxClient from "./AgentSandboxClient.ts"
export * as ClientConfig from "./ClientConfig.ts"
export * from "./ClientErrors.ts"
export * as Sandbox from "./Sandbox.ts"
export * as SandboxRpcClient from "./SandboxRpcClient.ts"
