// What other packages may use of the server: the operator process as a Layer and its configuration
// (the test harness in @agent-sandbox/testing/operator starts replicas with them), API keys, and
// the CRD install of the local control plane.
export * as ApiKey from "./auth/ApiKey.ts"
export * as OperatorServer from "./OperatorServer.ts"
export * as ServerConfig from "./ServerConfig.ts"
export * as InstallCrds from "./setup/InstallCrds.ts"
