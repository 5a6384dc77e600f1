// The wsproxy process as Layers (main.ts launches them; tests and the harness start them in-process).
export * as ApiPassage from "./ApiPassage.ts"
export * as ExecTty from "./ExecTty.ts"
export * as TerminalAdmission from "./TerminalAdmission.ts"
export * as TerminalFrames from "./TerminalFrames.ts"
export * as TerminalSessions from "./TerminalSessions.ts"
export * as Wsproxy from "./Wsproxy.ts"
export * as WsproxyConfig from "./WsproxyConfig.ts"
