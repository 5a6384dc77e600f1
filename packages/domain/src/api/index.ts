// The API alone (models, errors, HttpApi and RpcGroup), without the CRD machinery: what clients need.
export * from "./AdminGroups.ts"
export * from "./ApiErrors.ts"
export * from "./ApiKeyModels.ts"
export * from "./Authentication.ts"
export * from "./SandboxApi.ts"
export * from "./SandboxModels.ts"
export * from "./SandboxRpcs.ts"
export * from "./Tenant.ts"
