export * as Helm from "./Helm.ts"
export * as OperatorPermissions from "./OperatorPermissions.ts"
export * as Program from "./Program.ts"
export * as Promtool from "./Promtool.ts"
