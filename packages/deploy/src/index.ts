export * as Helm from "./Helm.ts"
export * as OperatorPermissions from "./OperatorPermissions.ts"
