export * as KubeConfig from "./KubeConfig.ts"
export * as KubeError from "./KubeError.ts"
