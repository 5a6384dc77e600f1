/**
 * The real node's configuration files, as pure functions of its layout and ports: containerd's
 * TOML, the CNI network, the kubelet's KubeletConfiguration. Facts measured on this machine kind
 * (shared/REAL-NODE.md) are why some settings are what they are; the comments say which.
 */
import * as path from "node:path"
import { network, nodeTaint, type RealNodeLayout } from "./RealNodeLayout.ts"

/** The locally built pause image (tools/realnode/images.sh): nothing can be pulled here. */
export const pauseImage = "agent-sandbox.local/pause:1"

const toml = (value: string) => JSON.stringify(value)

export const containerdConfig = (layout: RealNodeLayout, runcPath: string): string => `version = 3
root = ${toml(layout.containerdRoot)}
state = ${toml(layout.containerdState)}
# NRI would open a socket under /var/run; nothing here uses it.
disabled_plugins = ["io.containerd.nri.v1.nri"]

[grpc]
  address = ${toml(layout.containerdSocket)}

[ttrpc]
  address = ${toml(`${layout.containerdSocket}.ttrpc`)}

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = ${toml(pauseImage)}

[plugins."io.containerd.cri.v1.runtime"]
  # No CAP_SYS_RESOURCE in this VM: runc cannot lower oom_score_adj below containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = ${toml(runcPath)}
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = ${toml(layout.cniConfDir)}
    max_conf_num = 1
`

/**
 * A bridge with the gateway address and host-local addresses. Pods reach their node's address
 * through the gateway (as in any cluster: hostNetwork Pods, such as the chart's operator without
 * kube-proxy, listen there); no default route and no masquerading (Pods need no way out).
 */
export const cniConflist = (layout: RealNodeLayout): string =>
  `${JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: network.cniNetwork,
      plugins: [
        {
          type: "bridge",
          bridge: network.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: network.podSubnet }]],
            routes: [{ dst: `${network.nodeIp}/32` }],
            dataDir: layout.cniIpamDir,
          },
        },
      ],
    },
    null,
    2,
  )}\n`

export interface KubeletPorts {
  /** The kubelet API (exec, logs) the API server reaches at the node IP. */
  readonly kubelet: number
  readonly healthz: number
}

export interface KubeletPki {
  readonly caCert: string
  readonly servingCert: string
  readonly servingKey: string
}

export const kubeletConfig = (layout: RealNodeLayout, ports: KubeletPorts, pki: KubeletPki) => ({
  apiVersion: "kubelet.config.k8s.io/v1beta1",
  kind: "KubeletConfiguration",
  address: network.nodeIp,
  port: ports.kubelet,
  readOnlyPort: 0,
  healthzBindAddress: "127.0.0.1",
  healthzPort: ports.healthz,
  tlsCertFile: pki.servingCert,
  tlsPrivateKeyFile: pki.servingKey,
  serverTLSBootstrap: false,
  rotateCertificates: false,
  authentication: {
    anonymous: { enabled: false },
    webhook: { enabled: true },
    x509: { clientCAFile: pki.caCert },
  },
  authorization: { mode: "Webhook" },
  podLogsDir: layout.podLogsDir,
  containerRuntimeEndpoint: `unix://${layout.containerdSocket}`,
  // This machine kind runs cgroup v1 (cgroup2 only at /sys/fs/cgroup/unified).
  failCgroupV1: false,
  cgroupDriver: "cgroupfs",
  failSwapOn: false,
  registerNode: true,
  registerWithTaints: [nodeTaint],
  // Our images are imported, never pulled: the image GC must not remove them.
  imageGCHighThresholdPercent: 100,
  imageGCLowThresholdPercent: 99,
  evictionHard: {
    "memory.available": "50Mi",
    "nodefs.available": "1%",
    "nodefs.inodesFree": "1%",
    "imagefs.available": "1%",
  },
  // Nothing in-cluster resolves names here; Pods get the host's resolver.
  resolvConf: "/etc/resolv.conf",
  // KUBE-FIREWALL and friends are not needed by anything here: fewer host changes to undo.
  makeIPTablesUtilChains: false,
  // Status changes (an in-place image swap's restart) reach the API server quickly.
  nodeStatusUpdateFrequency: "10s",
  shutdownGracePeriod: "0s",
  logging: { format: "text" },
})

export const kubeletArgs = (
  layout: RealNodeLayout,
  nodeName: string,
  labels: string,
): ReadonlyArray<string> => [
  `--config=${layout.kubeletConfig}`,
  `--kubeconfig=${layout.kubeletKubeconfig}`,
  `--root-dir=${layout.kubeletRoot}`,
  `--hostname-override=${nodeName}`,
  `--node-ip=${network.nodeIp}`,
  `--node-labels=${labels}`,
  "--v=1",
]

/** Where kube-router's copy of the control plane's (loopback) kubeconfig goes: inside the state root, so a leftover process is found by its path. */
export const kubeRouterKubeconfig = (layout: RealNodeLayout): string =>
  path.join(layout.stateRoot, "config", "kube-router.kubeconfig")

/**
 * kube-router as a NetworkPolicy enforcer only: its firewall (iptables + ipset on the node's
 * bridge), no BGP router, no service proxy, no health or metrics listener.
 */
export const kubeRouterArgs = (layout: RealNodeLayout, nodeName: string): ReadonlyArray<string> => [
  `--kubeconfig=${kubeRouterKubeconfig(layout)}`,
  `--hostname-override=${nodeName}`,
  "--run-firewall=true",
  "--run-router=false",
  "--run-service-proxy=false",
  "--run-loadbalancer=false",
  "--enable-ipv4=true",
  "--enable-ipv6=false",
  "--health-port=0",
  "--metrics-port=0",
  "--v=1",
]

export const containerdArgs = (layout: RealNodeLayout): ReadonlyArray<string> => [
  `--config=${layout.containerdConfig}`,
  "--log-level=warn",
]

export const cniConfFile = (layout: RealNodeLayout): string =>
  path.join(layout.cniConfDir, "10-agent-sandbox.conflist")
