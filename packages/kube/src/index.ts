export * as KubeConfig from "./KubeConfig.ts"
