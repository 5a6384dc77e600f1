import * as path from "node:path"

/**
 * Where the real node lives on the machine. Fixed paths, not per run: there is one real node per
 * machine at a time (MachineLock), and a runner that was killed leaves its state where the next
 * start finds and clears it (HostCleanup).
 */
export interface RealNodeLayout {
  /** Persistent side: containerd's root, the kubelet's root, configuration, PKI, logs, saved host state. */
  readonly stateRoot: string
  /** Volatile side (tmpfs /run): containerd's state and its socket. */
  readonly runRoot: string
  readonly containerdRoot: string
  readonly containerdState: string
  readonly containerdSocket: string
  readonly containerdConfig: string
  readonly kubeletRoot: string
  readonly kubeletConfig: string
  /** Containers' logs (instead of /var/log/pods). */
  readonly podLogsDir: string
  readonly kubeletKubeconfig: string
  readonly cniConfDir: string
  /** host-local's allocations (instead of /var/lib/cni/networks). */
  readonly cniIpamDir: string
  readonly pkiDir: string
  readonly logsDir: string
  /** What the host looked like before we changed it (HostState), removed once restored. */
  readonly hostStateFile: string
  readonly lockFile: string
}

export const layoutOf = (stateRoot: string, runRoot: string): RealNodeLayout => ({
  stateRoot,
  runRoot,
  containerdRoot: path.join(stateRoot, "containerd"),
  containerdState: path.join(runRoot, "containerd"),
  containerdSocket: path.join(runRoot, "containerd.sock"),
  containerdConfig: path.join(stateRoot, "config", "containerd.toml"),
  kubeletRoot: path.join(stateRoot, "kubelet"),
  kubeletConfig: path.join(stateRoot, "config", "kubelet.json"),
  podLogsDir: path.join(stateRoot, "pod-logs"),
  kubeletKubeconfig: path.join(stateRoot, "config", "kubelet.kubeconfig"),
  cniConfDir: path.join(stateRoot, "config", "cni"),
  cniIpamDir: path.join(stateRoot, "cni-ipam"),
  pkiDir: path.join(stateRoot, "pki"),
  logsDir: path.join(stateRoot, "logs"),
  hostStateFile: path.join(stateRoot, "host-state.json"),
  lockFile: path.join(path.dirname(stateRoot), `${path.basename(stateRoot)}.lock`),
})

export const defaultLayout = layoutOf("/var/lib/agent-sandbox-realnode", "/run/agent-sandbox-realnode")

/** Addresses and names on the host. The node IP is an extra /32 on lo: the kubelet rejects loopback node IPs. */
export const network = {
  nodeIp: "10.88.6.1",
  bridge: "asbr0",
  podSubnet: "10.88.0.0/24",
  cniNetwork: "agent-sandbox-realnode",
} as const

/** How Pods ask for the real node: its label, and the taint they must tolerate. */
export const nodeName = "agent-sandbox-real-node"
export const nodeLabel = { key: "agent-sandbox.dev/node", value: "real" } as const
export const nodeTaint = { key: "agent-sandbox.dev/real-node", value: "true", effect: "NoSchedule" } as const

/** The scheduling a Pod template needs to run on the real node (merge into its spec). */
export const podPlacement: {
  readonly nodeSelector: Record<string, string>
  readonly tolerations: Array<{ key: string; operator: string; effect: string }>
} = {
  nodeSelector: { [nodeLabel.key]: nodeLabel.value },
  tolerations: [{ key: nodeTaint.key, operator: "Exists", effect: nodeTaint.effect }],
}

/**
 * The Pod spec of a sandbox on the real node, as the suites and benches use it: the node's
 * placement, no service-account token, a 5 s grace period and one container `sandbox` on an image
 * imported into the node (never pulled). `container` adds to that container, `spec` to the spec.
 */
export const sandboxPodSpec = (
  image: string,
  extra: { readonly container?: object; readonly spec?: object } = {},
) => ({
  ...podPlacement,
  automountServiceAccountToken: false,
  terminationGracePeriodSeconds: 5,
  containers: [{ name: "sandbox", image, imagePullPolicy: "Never", ...extra.container }],
  ...extra.spec,
})
