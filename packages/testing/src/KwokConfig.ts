import type * as k8s from "@kubernetes/client-node"
import { kwokNodeAnnotation } from "./ComponentArgs.ts"

/** Who exec'd commands run as: an unprivileged user, so a test command cannot damage the machine. */
export interface ExecUser {
  readonly uid: number
  readonly gid: number
}

export interface KwokConfigOptions {
  /** Root of the per-Pod exec working directories: <podsDir>/<namespace>/<name>. */
  readonly podsDir: string
  /** Undefined when we are not root: commands then run as our own (already unprivileged) user. */
  readonly execUser: ExecUser | undefined
  /** How long a scheduled Pod stays Pending before KWOK reports it Running and Ready (cold start). */
  readonly podReadyDelayMillis: number
  /**
   * How long a container whose image changed takes to run the new image (pull + start): until then
   * its status keeps the old image, not Ready. Default 0.
   */
  readonly imageChangeDelayMillis?: number
}

/**
 * Per-Pod overrides of the delays, as Go duration strings ("750ms", "2s") in the Pod's annotations:
 * one shared control plane can then play slow images for one test and fast ones for another.
 */
export const DelayAnnotation = {
  ready: "kwok.agent-sandbox.dev/ready-delay",
  imageChange: "kwok.agent-sandbox.dev/image-change-delay",
} as const

/**
 * Images KWOK plays as failing to pull (ErrImagePull, never Ready), as a kubelet reports an image
 * that does not exist: a tag starting with "fail" (`busybox:fail`, `x:failing-1`) or a registry host
 * starting with "invalid." (`invalid.example/x:1`). A Go (RE2) regular expression.
 */
export const failingImagePattern = "(:fail[^/@]*$|(^|/)invalid[.])"

/**
 * An image ID as containerd reports one: the repository and a content digest. The digest is a hash
 * of the name and tag (a digest in the reference is dropped), so `x:1` and `x:1@sha256:<that digest>`
 * name the same content, as they would in a registry.
 */
const imageIdOf = (image: string): string =>
  `(printf "%s@sha256:%s" (regexReplaceAll "(:[^:/@]*)?(@.*)?$" ${image} "") (sha256sum (regexReplaceAll "@.*$" ${image} "")))`

/** A Go template string literal (Go's quoting rules match JSON's for ordinary paths). */
const goString = (value: string): string => JSON.stringify(value)

const podWorkdirExpr = (podsDir: string): string =>
  `printf "%s/%s/%s" ${goString(podsDir)} .metadata.namespace .metadata.name`

/**
 * A KWOK Exec for the Pod, applied by the Pod's first stage before the Pod turns Ready: commands run
 * locally, in the Pod's own working directory, as the unprivileged user. Owned by the Pod, so the garbage
 * collector removes it with the Pod.
 */
const execTemplate = (options: KwokConfigOptions): string => `
{{ $workdir := ${podWorkdirExpr(options.podsDir)} }}
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Exec
metadata:
  name: {{ .metadata.name | Quote }}
  namespace: {{ .metadata.namespace | Quote }}
  ownerReferences:
  - apiVersion: v1
    kind: Pod
    name: {{ .metadata.name | Quote }}
    uid: {{ .metadata.uid | Quote }}
spec:
  execs:
  - local:
      workDir: {{ $workdir | Quote }}
      envs:
      - name: HOME
        value: {{ $workdir | Quote }}
${
  options.execUser
    ? `      securityContext:
        runAsUser: ${options.execUser.uid}
        runAsGroup: ${options.execUser.gid}`
    : ""
}
`

/** Running and Ready: what a kubelet reports once every container has started and passed its probes. */
const podReadyStatus = `
{{ $now := Now }}
{{ $uid := .metadata.uid }}
{{ $hostIP := NodeIPWith .spec.nodeName }}
{{ $podIP := PodIPWith .spec.nodeName (or .spec.hostNetwork false) (or .metadata.uid "") (or .metadata.name "") (or .metadata.namespace "") }}
phase: Running
startTime: {{ $now | Quote }}
hostIP: {{ $hostIP | Quote }}
hostIPs:
- ip: {{ $hostIP | Quote }}
podIP: {{ $podIP | Quote }}
podIPs:
- ip: {{ $podIP | Quote }}
conditions:
- type: PodReadyToStartContainers
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: ContainersReady
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ range .spec.readinessGates }}
- type: {{ .conditionType | Quote }}
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: {{ ${imageIdOf(".image")} | Quote }}
  containerID: {{ printf "kwok://%s/%s/0" $uid .name | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
{{ with .spec.initContainers }}
initContainerStatuses:
{{ range . }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: {{ ${imageIdOf(".image")} | Quote }}
  containerID: {{ printf "kwok://%s/%s/0" $uid .name | Quote }}
  restartCount: 0
{{ if eq (or .restartPolicy "") "Always" }}
  ready: true
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ else }}
  ready: true
  state:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
{{ end }}
{{ end }}
`

/** Whether the rendered container (`$spec`) has changed image since its status was written (`$old`). */
const findOldStatus = `
{{ $spec := . }}
{{ $old := dict }}
{{ range $statuses }}{{ if eq .name $spec.name }}{{ $old = . }}{{ end }}{{ end }}
{{ $changed := ne (default "" $old.image) $spec.image }}
`

/** Ready and ContainersReady False (needs `$now`): what a kubelet reports while a container is not running. */
const notReadyConditions = `conditions:
- type: ContainersReady
  status: "False"
  reason: ContainersNotReady
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "False"
  reason: ContainersNotReady
  lastTransitionTime: {{ $now | Quote }}
`

/**
 * A container whose image was patched, step 1: as a kubelet does on seeing the new spec, the old
 * container is stopped and the new one is being created (waiting, not Ready; the status still names
 * the old image). The Pod is not Ready meanwhile.
 */
const containerStoppingStatus = `
{{ $now := Now }}
{{ $statuses := or .status.containerStatuses list }}
${notReadyConditions}containerStatuses:
{{ range .spec.containers }}
${findOldStatus}
{{ if not $changed }}
- {{ toJson $old }}
{{ else }}
- name: {{ $spec.name | Quote }}
  image: {{ default "" $old.image | Quote }}
  imageID: {{ default "" $old.imageID | Quote }}
  containerID: {{ default "" $old.containerID | Quote }}
  ready: false
  started: false
  restartCount: {{ int (default 0 $old.restartCount) }}
{{ with dig "state" "running" "startedAt" "" $old }}
  lastState:
    terminated:
      exitCode: 137
      reason: Error
      startedAt: {{ . | Quote }}
      finishedAt: {{ $now | Quote }}
{{ else }}
  lastState: {{ toJson (default dict $old.lastState) }}
{{ end }}
  state:
    waiting:
      reason: ContainerCreating
{{ end }}
{{ end }}
`

/**
 * Step 2, once the image is "pulled": the container runs the new image, as a kubelet reports a
 * restart in place: new image, image ID and container ID, restart count + 1; Pod, node and IP stay.
 * A failing image (failingImagePattern) gets ErrImagePull instead and stays not Ready.
 */
const containerRestartedStatus = `
{{ $now := Now }}
{{ $uid := .metadata.uid }}
{{ $statuses := or .status.containerStatuses list }}
{{ $ready := true }}
containerStatuses:
{{ range .spec.containers }}
${findOldStatus}
{{ $restarts := int (default 0 $old.restartCount) }}
{{ if not $changed }}
{{ if not $old.ready }}{{ $ready = false }}{{ end }}
- {{ toJson $old }}
{{ else if regexMatch ${goString(failingImagePattern)} $spec.image }}
{{ $ready = false }}
- name: {{ $spec.name | Quote }}
  image: {{ $spec.image | Quote }}
  imageID: ""
  ready: false
  started: false
  restartCount: {{ $restarts }}
  lastState: {{ toJson (default dict $old.lastState) }}
  state:
    waiting:
      reason: ErrImagePull
      message: {{ printf "failed to pull and unpack image %q: not found" $spec.image | Quote }}
{{ else }}
- name: {{ $spec.name | Quote }}
  image: {{ $spec.image | Quote }}
  imageID: {{ ${imageIdOf("$spec.image")} | Quote }}
  containerID: {{ printf "kwok://%s/%s/%d" $uid $spec.name (add1 $restarts) | Quote }}
  ready: true
  started: true
  restartCount: {{ add1 $restarts }}
  lastState: {{ toJson (default dict $old.lastState) }}
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
{{ end }}
conditions:
- type: ContainersReady
  status: {{ if $ready }}"True"{{ else }}"False"{{ end }}
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: {{ if $ready }}"True"{{ else }}"False"{{ end }}
  lastTransitionTime: {{ $now | Quote }}
`

/** A Pod created with a failing image: its containers wait on ErrImagePull and it never turns Ready. */
const podImagePullFailedStatus = `
{{ $now := Now }}
${notReadyConditions}containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: ""
  ready: false
  started: false
  restartCount: 0
  state:
    waiting:
{{ if regexMatch ${goString(failingImagePattern)} .image }}
      reason: ErrImagePull
      message: {{ printf "failed to pull and unpack image %q: not found" .image | Quote }}
{{ else }}
      reason: ContainerCreating
{{ end }}
{{ end }}
`

const nodeReadyStatus = `
{{ $now := Now }}
conditions:
{{ range NodeConditions }}
- type: {{ .type | Quote }}
  status: {{ .status | Quote }}
  reason: {{ .reason | Quote }}
  message: {{ .message | Quote }}
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
addresses:
- type: InternalIP
  address: {{ NodeIP | Quote }}
- type: Hostname
  address: {{ .metadata.name | Quote }}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ NodePort }}
{{ $resources := dict "cpu" "32" "memory" "256Gi" "pods" "1000" }}
allocatable: {{ toJson (or .status.allocatable $resources) }}
capacity: {{ toJson (or .status.capacity $resources) }}
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
  kubeProxyVersion: {{ printf "kwok-%s" Version | Quote }}
  kernelVersion: {{ printf "kwok-%s" Version | Quote }}
  containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
  osImage: kwok
  machineID: ""
  bootID: ""
  systemUUID: ""
phase: Running
`

const jq = (key: string, operator: "In" | "NotIn" | "Exists" | "DoesNotExist", values?: Array<string>) => ({
  jq: { key, operator, ...(values ? { values } : {}) },
})
const notDeleting = jq(".metadata.deletionTimestamp", "DoesNotExist")

/** Whether any container's image is one KWOK plays as failing. */
const anyFailingImage = `[.spec.containers[].image | test(${JSON.stringify(failingImagePattern)})] | any`

/** The waiting reasons ("" when not waiting) of the containers whose spec image differs from their status. */
const changedContainerStates =
  '(.status.containerStatuses // []) as $statuses | [.spec.containers[] | . as $c | $statuses[] | select(.name == $c.name and .image != $c.image) | (.state.waiting.reason // "")]'

/** A stage delay: the Pod's annotation when it has one (a Go duration), else the configured default. */
const delayOf = (annotation: string, defaultMillis: number) => ({
  durationMilliseconds: defaultMillis,
  durationFrom: { jq: { expression: `.metadata.annotations[${JSON.stringify(annotation)}]` } },
})

const stage = (name: string, kind: "Pod" | "Node", spec: Record<string, unknown>) => ({
  apiVersion: "kwok.x-k8s.io/v1alpha1",
  kind: "Stage",
  metadata: { name },
  spec: { resourceRef: { apiGroup: "v1", kind }, ...spec },
})

const statusPatch = (template: string) => ({ patch: { subresource: "status", root: "status", template } })

/**
 * A status patch that only applies to the exact Pod version it was rendered from: the resourceVersion in
 * the patch is a precondition. KWOK sometimes replays a stage with a stale copy of a Pod; without this the
 * replay would merge a second Pod IP into the first or count a restart twice. A stale replay now gets a
 * 409 (logged by KWOK, not retried) and the fresh event does the work.
 */
const guardedStatusPatch = (statusTemplate: string, type?: "strategic") => ({
  patch: {
    subresource: "status",
    // Strategic: conditions merge by type, so a step may set just the ones it changes.
    ...(type === undefined ? {} : { type }),
    template: `metadata:
  resourceVersion: {{ .metadata.resourceVersion | Quote }}
status:
${statusTemplate
  .split("\n")
  .map((line) => `  ${line}`)
  .join("\n")}`,
  },
})

/** The documents of KWOK's --config file: its options, the lifecycle stages, and where logs come from. */
export const kwokConfigDocuments = (options: KwokConfigOptions): ReadonlyArray<unknown> => [
  {
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    kind: "KwokConfiguration",
    options: {
      // The kubelet endpoints kube-apiserver proxies exec and logs to.
      enableDebuggingHandlers: true,
      enableProfilingHandler: false,
      // Exec objects are created per Pod at run time, so KWOK reads them from the API, not from this file.
      enableCRDs: ["Exec"],
      // Parallel status writes: hundreds of Pods turn Ready within seconds.
      podPlayStageParallelism: 16,
      nodePlayStageParallelism: 4,
      nodeLeaseParallelism: 4,
    },
  },
  stage("node-ready", "Node", {
    selector: {
      matchExpressions: [
        jq('(.status.conditions // [])[] | select(.type == "Ready") | .status', "NotIn", ["True"]),
      ],
    },
    steps: [statusPatch(nodeReadyStatus)],
  }),
  stage("pod-ready", "Pod", {
    selector: {
      matchExpressions: [
        notDeleting,
        jq(".status.phase", "In", ["Pending"]),
        jq('(.status.conditions // [])[] | select(.type == "Ready") | .status', "NotIn", ["True"]),
        jq(anyFailingImage, "In", ["false"]),
      ],
    },
    delay: delayOf(DelayAnnotation.ready, options.podReadyDelayMillis),
    steps: [{ apply: { template: execTemplate(options) } }, guardedStatusPatch(podReadyStatus)],
  }),
  stage("pod-image-pull-failed", "Pod", {
    selector: {
      matchExpressions: [
        notDeleting,
        jq(".status.phase", "In", ["Pending"]),
        jq(".status.containerStatuses", "DoesNotExist"),
        jq(anyFailingImage, "In", ["true"]),
      ],
    },
    delay: delayOf(DelayAnnotation.ready, options.podReadyDelayMillis),
    steps: [guardedStatusPatch(podImagePullFailedStatus, "strategic")],
  }),
  stage("pod-container-image-changed", "Pod", {
    selector: {
      matchExpressions: [
        notDeleting,
        jq(".status.phase", "In", ["Running"]),
        jq(`${changedContainerStates} | map(. != "ContainerCreating") | any`, "In", ["true"]),
      ],
    },
    steps: [guardedStatusPatch(containerStoppingStatus, "strategic")],
  }),
  stage("pod-container-image-pulled", "Pod", {
    selector: {
      matchExpressions: [
        notDeleting,
        jq(".status.phase", "In", ["Running"]),
        jq(`${changedContainerStates} | (length > 0) and (map(. == "ContainerCreating") | all)`, "In", [
          "true",
        ]),
      ],
    },
    delay: delayOf(DelayAnnotation.imageChange, options.imageChangeDelayMillis ?? 0),
    steps: [guardedStatusPatch(containerRestartedStatus, "strategic")],
  }),
  // No kubelet to stop containers: a deleted Pod goes at once (finalizers still hold it).
  stage("pod-delete", "Pod", {
    selector: { matchExpressions: [jq(".metadata.deletionTimestamp", "Exists")] },
    steps: [{ delete: true }],
  }),
  {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "ClusterLogs",
    metadata: { name: "empty-logs" },
    // Fake containers print nothing; `kubectl logs` answers with an empty log instead of an error.
    spec: { logs: [{ logsFile: "/dev/null" }] },
  },
]

/** JSON documents are YAML documents: the config file is them joined by separators. */
export const kwokConfigFile = (options: KwokConfigOptions): string =>
  `${kwokConfigDocuments(options)
    .map((document) => JSON.stringify(document, null, 2))
    .join("\n---\n")}\n`

/**
 * KWOK's Exec kind, served so it can read per-Pod Exec objects; a permissive schema of our own. In
 * @kubernetes/client-node's model (camelCase names), which its serializer turns into the wire form.
 */
export const execCrd: k8s.V1CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "execs.kwok.x-k8s.io" },
  spec: {
    group: "kwok.x-k8s.io",
    scope: "Namespaced",
    names: { plural: "execs", singular: "exec", kind: "Exec", listKind: "ExecList" },
    versions: [
      {
        name: "v1alpha1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: { type: "object", x_kubernetes_preserve_unknown_fields: true },
              status: { type: "object", x_kubernetes_preserve_unknown_fields: true },
            },
          },
        },
      },
    ],
  },
}

/** A Node KWOK plays; no taints, so the real scheduler places any Pod on it. */
export const fakeNode = (name: string): k8s.V1Node => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name,
    labels: {
      type: "kwok",
      "kubernetes.io/hostname": name,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
    },
    annotations: { [kwokNodeAnnotation.key]: kwokNodeAnnotation.value, "node.alpha.kubernetes.io/ttl": "0" },
  },
  status: {
    allocatable: { cpu: "32", memory: "256Gi", pods: "1000" },
    capacity: { cpu: "32", memory: "256Gi", pods: "1000" },
  },
})

export const fakeNodeNames = (count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, index) => `kwok-node-${index}`)
