export { installCrds } from "../../src/setup/InstallCrds.ts"
