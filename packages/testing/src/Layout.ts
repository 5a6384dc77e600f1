import * as path from "node:path"

/** Where everything of one control plane lives inside its data directory. */
export interface Layout {
  readonly dataDir: string
  /** Keys and certificates (0700: exec'd commands run as an unprivileged user must not read them). */
  readonly pkiDir: string
  /** Kubeconfigs and component configuration files (0700, they embed client keys). */
  readonly configDir: string
  readonly logsDir: string
  /**
   * kube-apiserver's audit log (JSON lines): exec requests only, at Metadata level, so tests can
   * read the request URIs the API server records.
   */
  readonly auditLog: string
  readonly etcdDir: string
  /** Per-Pod working directories for KWOK exec: <podsDir>/<namespace>/<name>. */
  readonly podsDir: string
  /** The admin kubeconfig handed to tests and people. */
  readonly kubeconfigPath: string
  /** Pids and addresses of a detached control plane (scripts/cluster.ts). */
  readonly stateFile: string
}

export const layoutOf = (dataDir: string): Layout => ({
  dataDir,
  pkiDir: path.join(dataDir, "pki"),
  configDir: path.join(dataDir, "config"),
  logsDir: path.join(dataDir, "logs"),
  auditLog: path.join(dataDir, "logs", "kube-apiserver-audit.log"),
  etcdDir: path.join(dataDir, "etcd"),
  podsDir: path.join(dataDir, "pods"),
  kubeconfigPath: path.join(dataDir, "kubeconfig"),
  stateFile: path.join(dataDir, "state.json"),
})

export const logFileOf = (layout: Layout, component: string): string =>
  path.join(layout.logsDir, `${component}.log`)

export const configFileOf = (layout: Layout, name: string): string => path.join(layout.configDir, name)

/** A Pod's exec working directory. Namespace and Pod names are DNS labels/subdomains: never "..", never "/". */
export const podWorkdirOf = (podsDir: string, namespace: string, name: string): string =>
  path.join(podsDir, namespace, name)
