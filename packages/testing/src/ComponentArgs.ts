import * as path from "node:path"
import { Effect } from "effect"
import type { ComponentSpec } from "./ComponentProcess.ts"
import { freePorts } from "./FreePorts.ts"
import { type Layout, logFileOf } from "./Layout.ts"
import type { Pki } from "./Pki.ts"

/** Loopback ports of one control plane. */
export interface Ports {
  readonly etcdClient: number
  readonly etcdPeer: number
  readonly apiserver: number
  readonly controllerManager: number
  readonly scheduler: number
  /** KWOK's server: the "kubelet" port of every fake Node (exec, logs). */
  readonly kwok: number
}

/** Address ranges; nothing routes them, they only have to be valid and distinct. */
export const network = {
  serviceCidr: "10.96.0.0/16",
  /** The first address of the service range: the `kubernetes` Service. */
  serviceIp: "10.96.0.1",
  /** KWOK hands Pod IPs out of this; a /16 leaves room for thousands of Pods. */
  podCidr: "10.244.0.0/16",
} as const

/** Kubeconfigs and configuration files the components read. */
export interface ComponentFiles {
  readonly kubeconfigs: {
    readonly admin: string
    readonly controllerManager: string
    readonly scheduler: string
    readonly kwok: string
  }
  readonly schedulerConfig: string
  readonly kwokConfig: string
  readonly auditPolicy: string
}

/**
 * What kube-apiserver audits: exec requests (their URI carries the command line) and nothing else,
 * so the log stays small under load tests.
 */
export const auditPolicy = {
  apiVersion: "audit.k8s.io/v1",
  kind: "Policy",
  omitStages: ["RequestReceived"],
  rules: [
    { level: "Metadata", resources: [{ group: "", resources: ["pods/exec", "pods/attach"] }] },
    { level: "None" },
  ],
}

/** Client-side rate limits: the defaults (20 QPS for controllers) throttle benchmarks with hundreds of Pods. */
const clientQps = 200
const clientBurst = 400

/** Lease-based heartbeats: KWOK renews each Node's Lease well inside the node monitor grace period. */
export const nodeLeaseDurationSeconds = 40

const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const flags = (values: Record<string, string | number | boolean>): Array<string> =>
  Object.entries(values).map(([name, value]) => `--${name}=${value}`)

const goEnv = (home: string): Record<string, string> => ({ PATH: systemPath, HOME: home })

export const etcd = (binDir: string, layout: Layout, ports: Ports): ComponentSpec => {
  const client = `http://127.0.0.1:${ports.etcdClient}`
  const peer = `http://127.0.0.1:${ports.etcdPeer}`
  return {
    name: "etcd",
    command: path.join(binDir, "etcd"),
    args: flags({
      name: "agent-sandbox",
      "data-dir": layout.etcdDir,
      "listen-client-urls": client,
      "advertise-client-urls": client,
      "listen-peer-urls": peer,
      "initial-advertise-peer-urls": peer,
      "initial-cluster": `agent-sandbox=${peer}`,
      // Throwaway data: skipping fsync makes writes several times faster.
      "unsafe-no-fsync": true,
      "log-level": "warn",
    }),
    env: goEnv(layout.dataDir),
    logFile: logFileOf(layout, "etcd"),
  }
}

export const kubeApiserver = (
  binDir: string,
  layout: Layout,
  ports: Ports,
  pki: Pki,
  files: ComponentFiles,
): ComponentSpec => ({
  name: "kube-apiserver",
  command: path.join(binDir, "kube-apiserver"),
  args: flags({
    "etcd-servers": `http://127.0.0.1:${ports.etcdClient}`,
    "bind-address": "127.0.0.1",
    "advertise-address": "127.0.0.1",
    "secure-port": ports.apiserver,
    "tls-cert-file": pki.apiserver.cert,
    "tls-private-key-file": pki.apiserver.key,
    "client-ca-file": pki.caCert,
    "authorization-mode": "Node,RBAC",
    "service-account-issuer": "https://kubernetes.default.svc.cluster.local",
    "service-account-key-file": pki.serviceAccountPub,
    "service-account-signing-key-file": pki.serviceAccountKey,
    "service-cluster-ip-range": network.serviceCidr,
    "kubelet-client-certificate": pki.kubeletClient.cert,
    "kubelet-client-key": pki.kubeletClient.key,
    "kubelet-certificate-authority": pki.caCert,
    "kubelet-preferred-address-types": "InternalIP",
    // Loopback is not a valid endpoint address; nothing runs in-cluster here anyway.
    "endpoint-reconciler-type": "none",
    // Room for benchmarks: hundreds of Pods, a few hundred writes per second, many watches.
    "max-requests-inflight": 800,
    "max-mutating-requests-inflight": 400,
    "event-ttl": "15m",
    "allow-privileged": true,
    "audit-policy-file": files.auditPolicy,
    "audit-log-path": layout.auditLog,
    "audit-log-format": "json",
    "audit-log-maxsize": 100,
    "audit-log-maxbackup": 1,
  }),
  env: goEnv(layout.dataDir),
  logFile: logFileOf(layout, "kube-apiserver"),
})

export const kubeControllerManager = (
  binDir: string,
  layout: Layout,
  ports: Ports,
  pki: Pki,
  files: ComponentFiles,
): ComponentSpec => ({
  name: "kube-controller-manager",
  command: path.join(binDir, "kube-controller-manager"),
  args: flags({
    kubeconfig: files.kubeconfigs.controllerManager,
    "authentication-kubeconfig": files.kubeconfigs.controllerManager,
    "authorization-kubeconfig": files.kubeconfigs.controllerManager,
    "bind-address": "127.0.0.1",
    "secure-port": ports.controllerManager,
    "leader-elect": false,
    // The default set: garbage collector, namespace, service account, node lifecycle, ReplicaSet...
    controllers: "*",
    "use-service-account-credentials": true,
    "service-account-private-key-file": pki.serviceAccountKey,
    "root-ca-file": pki.caCert,
    "cluster-signing-cert-file": pki.caCert,
    "cluster-signing-key-file": pki.caKey,
    "service-cluster-ip-range": network.serviceCidr,
    "cluster-name": "agent-sandbox",
    "kube-api-qps": clientQps,
    "kube-api-burst": clientBurst,
  }),
  env: goEnv(layout.dataDir),
  logFile: logFileOf(layout, "kube-controller-manager"),
})

/** KubeSchedulerConfiguration: its client limits are only settable here. */
export const schedulerConfig = (kubeconfig: string) => ({
  apiVersion: "kubescheduler.config.k8s.io/v1",
  kind: "KubeSchedulerConfiguration",
  clientConnection: { kubeconfig, qps: clientQps, burst: clientBurst },
  leaderElection: { leaderElect: false },
})

export const kubeScheduler = (
  binDir: string,
  layout: Layout,
  ports: Ports,
  files: ComponentFiles,
): ComponentSpec => ({
  name: "kube-scheduler",
  command: path.join(binDir, "kube-scheduler"),
  args: flags({
    config: files.schedulerConfig,
    "authentication-kubeconfig": files.kubeconfigs.scheduler,
    "authorization-kubeconfig": files.kubeconfigs.scheduler,
    "bind-address": "127.0.0.1",
    "secure-port": ports.scheduler,
  }),
  env: goEnv(layout.dataDir),
  logFile: logFileOf(layout, "kube-scheduler"),
})

/** The annotation KWOK selects the Nodes it plays by. */
export const kwokNodeAnnotation = { key: "kwok.x-k8s.io/node", value: "fake" } as const

export const kwok = (
  binDir: string,
  layout: Layout,
  ports: Ports,
  pki: Pki,
  files: ComponentFiles,
): ComponentSpec => ({
  name: "kwok",
  command: path.join(binDir, "kwok"),
  args: flags({
    config: files.kwokConfig,
    kubeconfig: files.kubeconfigs.kwok,
    "manage-nodes-with-annotation-selector": `${kwokNodeAnnotation.key}=${kwokNodeAnnotation.value}`,
    // kube-apiserver reaches every fake kubelet at <InternalIP>:<kubelet port>, i.e. this server.
    "node-ip": "127.0.0.1",
    "node-port": ports.kwok,
    "server-address": `127.0.0.1:${ports.kwok}`,
    "tls-cert-file": pki.kwokServing.cert,
    "tls-private-key-file": pki.kwokServing.key,
    "node-lease-duration-seconds": nodeLeaseDurationSeconds,
    cidr: network.podCidr,
  }),
  // Exec'd commands inherit this environment. HOME without a .kwok/kwok.yaml: no config but ours.
  env: goEnv(layout.configDir),
  logFile: logFileOf(layout, "kwok"),
})

/** Exists once the helper watches Pods. */
export const podWorkdirsReadyFile = (layout: Layout): string =>
  path.join(layout.configDir, "pod-workdirs.ready")

/** The helper that gives each Pod its exec working directory (see PodWorkdirs.ts). */
export const podWorkdirs = (
  layout: Layout,
  files: ComponentFiles,
  owner: { readonly uid: number; readonly gid: number } | undefined,
): ComponentSpec => ({
  name: "pod-workdirs",
  command: process.execPath,
  args: [
    new URL("../scripts/pod-workdirs.ts", import.meta.url).pathname,
    ...flags({
      kubeconfig: files.kubeconfigs.admin,
      root: layout.podsDir,
      "ready-file": podWorkdirsReadyFile(layout),
    }),
    ...(owner ? flags({ uid: owner.uid, gid: owner.gid }) : []),
  ],
  env: { PATH: systemPath, HOME: layout.dataDir },
  logFile: logFileOf(layout, "pod-workdirs"),
})

/** Fresh loopback ports for every listener. */
export const freePortsFor = Effect.map(
  freePorts(6),
  ([etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok]): Ports => ({
    etcdClient: etcdClient!,
    etcdPeer: etcdPeer!,
    apiserver: apiserver!,
    controllerManager: controllerManager!,
    scheduler: scheduler!,
    kwok: kwok!,
  }),
)
