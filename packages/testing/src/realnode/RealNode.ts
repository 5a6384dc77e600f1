/**
 * A real node beside the KWOK ones: containerd + runc + the CNI bridge and a kubelet on this
 * machine, registered with the local control plane, tainted so only Pods that tolerate it land
 * there. Started for a scope; closing it deletes its Pods, stops the kubelet and containerd and
 * puts the host back (HostCleanup). A runner killed mid-way leaves its saved host state, and the
 * next start clears what it left before anything else.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as k8s from "@kubernetes/client-node"
import {
  Cause,
  Context,
  Duration,
  Effect,
  Either,
  ExecutionStrategy,
  Exit,
  Layer,
  Option,
  Scope,
} from "effect"
import {
  type ComponentHandle,
  type ComponentSpec,
  failOnAnyExit,
  spawnComponent,
  stopProcess,
} from "../ComponentProcess.ts"
import * as ControlPlane from "../ControlPlane.ts"
import { freePorts } from "../FreePorts.ts"
import { renderKubeconfig } from "../Kubeconfigs.ts"
import { layoutOf as controlPlaneLayoutOf } from "../Layout.ts"
import { issueLeaf, type KeyPair } from "../Pki.ts"
import { type Probe, waitUntilReady } from "../Readiness.ts"
import { cleanHost } from "./HostCleanup.ts"
import { describeFailure, run } from "./HostCommand.ts"
import * as HostState from "./HostState.ts"
import * as Machine from "./Machine.ts"
import * as MachineLock from "./MachineLock.ts"
import * as Config from "./RealNodeConfig.ts"
import { RealNodeError } from "./RealNodeError.ts"
import {
  defaultLayout,
  network,
  nodeLabel,
  nodeName,
  nodeTaint,
  podPlacement,
  type RealNodeLayout,
  sandboxPodSpec,
} from "./RealNodeLayout.ts"
import * as Tools from "./RealNodeTools.ts"

/** Images imported into the node's containerd; the two tags of each differ (a marker file). */
export const images = {
  base: ["agent-sandbox.local/base:1", "agent-sandbox.local/base:2"],
  python: ["agent-sandbox.local/python:1", "agent-sandbox.local/python:2"],
  pause: Config.pauseImage,
} as const

export interface RealNodeShape {
  readonly nodeName: string
  readonly nodeIp: string
  /** Merge into a Pod spec to run it on this node. */
  readonly placement: typeof podPlacement
  readonly images: typeof images
  readonly logsDir: string
  /** containerd's CRI socket (what a node agent on this node talks to). */
  readonly criSocket: string
  /** Imports an OCI or docker archive into the node's containerd, where its kubelet finds it. */
  readonly importImage: (archive: string) => Effect.Effect<void, RealNodeError>
}

export class RealNode extends Context.Tag("@agent-sandbox/testing/RealNode")<RealNode, RealNodeShape>() {}

export interface RealNodeOptions {
  readonly layout?: RealNodeLayout
  /** How long to wait for another real node on this machine to stop (default 10 minutes). */
  readonly lockWait?: Duration.DurationInput
  /** For the Node to become Ready (default 120 s). */
  readonly readyTimeout?: Duration.DurationInput
  /** Runs once the host is put back, while this node still holds the machine (a test's check). */
  readonly afterStop?: Effect.Effect<void>
  /** Keep the daemons out of the terminal's process group (as ControlPlane's ownSession). */
  readonly ownSession?: boolean
  /**
   * Enforce NetworkPolicy on the node: kube-router's firewall (tools/kube-router, built on demand)
   * runs once the node is Ready and stops first; HostCleanup removes its chains and ipsets.
   */
  readonly networkPolicy?: boolean
}

const setupError = (step: string) => (cause: unknown) =>
  new RealNodeError({ reason: "SetupFailed", message: `${step}: ${cause}` })

const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const must = (step: string, command: string, args: ReadonlyArray<string>) =>
  Effect.flatMap(run(command, args), (result) =>
    result.code === 0
      ? Effect.succeed(result.stdout)
      : Effect.fail(
          new RealNodeError({
            reason: "SetupFailed",
            message: `${step}: ${describeFailure(command, args, result)}`,
          }),
        ),
  )

const writeFiles = (files: ReadonlyArray<readonly [string, string]>) =>
  Effect.try({
    try: () => {
      for (const [file, content] of files) {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
        fs.writeFileSync(file, content, { mode: 0o600 })
      }
    },
    catch: setupError("writing configuration"),
  })

const prepareDirectories = (layout: RealNodeLayout) =>
  Effect.try({
    try: () => {
      fs.rmSync(layout.logsDir, { recursive: true, force: true })
      for (const dir of [
        layout.stateRoot,
        layout.runRoot,
        layout.pkiDir,
        layout.logsDir,
        layout.cniConfDir,
      ]) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
      }
    },
    catch: setupError("directories"),
  })

/** The kubelet's client identity (Node authorizer) and serving certificate, signed by the control plane's CA. */
const kubeletPki = (layout: RealNodeLayout, ca: KeyPair) =>
  Effect.all(
    [
      issueLeaf(
        {
          cert: path.join(layout.pkiDir, "kubelet-client.crt"),
          key: path.join(layout.pkiDir, "kubelet-client.key"),
        },
        { subject: `/O=system:nodes/CN=system:node:${nodeName}`, usage: "clientAuth" },
        ca,
      ),
      issueLeaf(
        {
          cert: path.join(layout.pkiDir, "kubelet-serving.crt"),
          key: path.join(layout.pkiDir, "kubelet-serving.key"),
        },
        {
          subject: `/CN=${nodeName}`,
          usage: "serverAuth",
          altNames: [`IP:${network.nodeIp}`, `DNS:${nodeName}`],
        },
        ca,
      ),
    ],
    { concurrency: 2 },
  ).pipe(Effect.mapError((error) => new RealNodeError({ reason: "SetupFailed", message: error.message })))

const component = (
  name: string,
  command: string,
  args: ReadonlyArray<string>,
  binDir: string,
  layout: RealNodeLayout,
): ComponentSpec => ({
  name,
  command,
  args,
  // containerd finds its shim on PATH; the kubelet runs iptables, mount and friends.
  env: { PATH: `${binDir}:${systemPath}`, HOME: layout.stateRoot },
  logFile: path.join(layout.logsDir, `${name}.log`),
})

const ctr = (binDir: string, layout: RealNodeLayout, args: ReadonlyArray<string>) =>
  run(path.join(binDir, "ctr"), ["--address", layout.containerdSocket, "--namespace", "k8s.io", ...args], {
    timeoutMillis: 300_000,
  })

const containerdProbe = (binDir: string, layout: RealNodeLayout): Probe =>
  Effect.map(ctr(binDir, layout, ["version"]), (result) =>
    result.code === 0 && result.stdout.includes("Server:")
      ? (true as const)
      : result.stderr.trim() || "no answer",
  )

const nodeReadyProbe = (core: k8s.CoreV1Api): Probe =>
  Effect.tryPromise(() => core.readNode({ name: nodeName })).pipe(
    Effect.map((node) => {
      const ready = node.status?.conditions?.find((condition) => condition.type === "Ready")
      return ready?.status === "True"
        ? (true as const)
        : `Node ${nodeName}: Ready=${ready?.status ?? "unknown"} ${ready?.message ?? ""}`
    }),
    Effect.orElseSucceed(() => `Node ${nodeName} not registered yet`),
  )

/** kube-router has synced its firewall once: its top chain is in the filter table. */
const kubeRouterProbe: Probe = Effect.map(
  run("iptables", ["-w", "-t", "filter", "-S", "KUBE-ROUTER-FORWARD"]),
  (result) => (result.code === 0 ? (true as const) : "no KUBE-ROUTER-FORWARD chain yet"),
)

/** `ctr images ls` rows: reference -> manifest digest. */
export const imageDigests = (listing: string): ReadonlyMap<string, string> =>
  new Map(
    listing
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((columns) => columns.length >= 3 && columns[2]!.startsWith("sha256:"))
      .map((columns) => [columns[0]!, columns[2]!] as const),
  )

/** `agent-sandbox.local/python:1` -> `agent-sandbox.local/python@sha256:…`. */
export const digestReference = (reference: string, digest: string): string =>
  `${reference.slice(0, reference.lastIndexOf(":"))}@${digest}`

/**
 * Imports the archives, then names each image by its digest too, as a pull from a registry would:
 * the runtime then reports a repository digest as the container's imageID, which the operator pins
 * to restart a container on the same image (a recycle in place; see operator Recycle).
 */
const importImages = (binDir: string, layout: RealNodeLayout, imagesDir: string) =>
  Effect.gen(function* () {
    const fail = (message: string) => new RealNodeError({ reason: "SetupFailed", message })
    for (const archive of ["pause.tar", "base.tar", "python.tar"]) {
      const imported = yield* ctr(binDir, layout, ["images", "import", path.join(imagesDir, archive)])
      if (imported.code !== 0) return yield* fail(`importing ${archive}: ${imported.stderr.trim()}`)
    }
    const listed = yield* ctr(binDir, layout, ["images", "ls"])
    const digests = imageDigests(listed.stdout)
    for (const reference of [...images.base, ...images.python, images.pause]) {
      const digest = digests.get(reference)
      if (digest === undefined)
        return yield* fail(`${reference} is not among the imported images:\n${listed.stdout}`)
      const tagged = yield* ctr(binDir, layout, [
        "images",
        "tag",
        "--force",
        reference,
        digestReference(reference, digest),
      ])
      if (tagged.code !== 0) return yield* fail(`naming ${reference} by its digest: ${tagged.stderr.trim()}`)
    }
  })

/** Pods bound to the node, deleted at once (their containers are torn down by the kubelet while it still runs). */
const deleteNodePods = (core: k8s.CoreV1Api) =>
  Effect.gen(function* () {
    const pods = yield* Effect.tryPromise(() =>
      core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }),
    )
    yield* Effect.forEach(
      pods.items,
      (pod) =>
        Effect.tryPromise(() =>
          core.deleteNamespacedPod({
            name: pod.metadata!.name!,
            namespace: pod.metadata!.namespace!,
            gracePeriodSeconds: 0,
          }),
        ).pipe(Effect.ignore),
      { concurrency: 8, discard: true },
    )
    // Wait (bounded) until the kubelet has torn their sandboxes down: CNI DEL frees their addresses and veths.
    yield* Effect.tryPromise(() =>
      core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }),
    ).pipe(
      Effect.flatMap((left) => (left.items.length === 0 ? Effect.void : Effect.fail("pods left"))),
      Effect.retry({ times: 100, schedule: undefined }),
      Effect.delay(Duration.millis(100)),
      Effect.timeout(Duration.seconds(30)),
    )
  }).pipe(Effect.ignore)

const stop = (
  layout: RealNodeLayout,
  core: k8s.CoreV1Api,
  state: HostState.HostState,
  handles: ReadonlyArray<ComponentHandle>,
) =>
  Effect.gen(function* () {
    const kubeRouter = handles.find((handle) => handle.name === "kube-router")
    // First, so it does not rewrite its rules while Pods go; what it leaves is HostCleanup's.
    if (kubeRouter) yield* stopProcess(kubeRouter.pid, kubeRouter.exited, Duration.seconds(10))
    const kubelet = handles.find((handle) => handle.name === "kubelet")
    const containerd = handles.find((handle) => handle.name === "containerd")
    if (kubelet) yield* deleteNodePods(core)
    if (kubelet) yield* stopProcess(kubelet.pid, kubelet.exited, Duration.seconds(10))
    yield* Effect.tryPromise(() => core.deleteNode({ name: nodeName })).pipe(Effect.ignore)
    if (containerd) yield* stopProcess(containerd.pid, containerd.exited, Duration.seconds(10))
    const problems = yield* cleanHost(layout, Option.some(state))
    if (problems.length > 0) {
      yield* Effect.logWarning(`real node: the host is not fully restored:\n  ${problems.join("\n  ")}`)
    } else {
      yield* Effect.logInfo("real node: stopped, host restored")
    }
  })

/** Clears what a previous real node left (a killed runner), using the host state it saved. */
const clearLeftovers = (layout: RealNodeLayout) =>
  Effect.gen(function* () {
    const saved = yield* HostState.read(layout)
    if (Option.isNone(saved) && !fs.existsSync(layout.runRoot)) return
    yield* Effect.logInfo("real node: clearing what a previous real node on this machine left behind")
    const problems = yield* cleanHost(layout, saved)
    if (problems.length > 0) {
      return yield* new RealNodeError({
        reason: "Unavailable",
        message: `a previous real node's leftovers could not be cleared: ${problems.join("; ")}`,
      })
    }
  })

const elapsedSince = (start: number) => `${((Date.now() - start) / 1000).toFixed(1)}s`

export const make = (
  controlPlane: ControlPlane.ControlPlaneShape,
  options: RealNodeOptions = {},
): Effect.Effect<RealNodeShape, RealNodeError, Scope.Scope> =>
  Effect.gen(function* () {
    const started = Date.now()
    const layout = options.layout ?? defaultLayout
    yield* Machine.check
    yield* Tools.installPackages
    const runcPath = yield* Machine.checkRunc
    const [binDir, imagesDir, kubeRouterDir] = yield* Effect.all(
      [
        Tools.binaries,
        Tools.images,
        options.networkPolicy === true ? Tools.kubeRouter : Effect.succeed(undefined),
      ],
      { concurrency: 3 },
    )
    yield* Effect.logInfo(`real node: binaries and images ready (${elapsedSince(started)})`)
    yield* MachineLock.acquire(layout.lockFile, options.lockWait ?? Duration.minutes(10))
    yield* clearLeftovers(layout)

    const state = yield* HostState.capture
    yield* HostState.write(layout, state)
    const config = new k8s.KubeConfig()
    config.loadFromFile(controlPlane.kubeconfigPath)
    const core = config.makeApiClient(k8s.CoreV1Api)
    const handles: Array<ComponentHandle> = []
    yield* Effect.addFinalizer(() =>
      Effect.zipRight(stop(layout, core, state, handles), options.afterStop ?? Effect.void),
    )

    yield* prepareDirectories(layout)
    yield* must("node address", "ip", ["addr", "add", `${network.nodeIp}/32`, "dev", "lo"])
    const cpPki = controlPlaneLayoutOf(controlPlane.dataDir).pkiDir
    const ca = { cert: path.join(cpPki, "ca.crt"), key: path.join(cpPki, "ca.key") }
    const [client, serving] = yield* kubeletPki(layout, ca)
    const [kubeletPort, healthzPort] = yield* freePorts(2).pipe(Effect.mapError(setupError("ports")))
    const kubeconfig = yield* renderKubeconfig(
      controlPlane.server,
      ca.cert,
      client,
      `system:node:${nodeName}`,
    ).pipe(Effect.mapError(setupError("kubeconfig")))
    yield* writeFiles([
      [layout.containerdConfig, Config.containerdConfig(layout, runcPath)],
      [Config.cniConfFile(layout), Config.cniConflist(layout)],
      [layout.kubeletKubeconfig, kubeconfig],
      [
        layout.kubeletConfig,
        JSON.stringify(
          Config.kubeletConfig(
            layout,
            { kubelet: kubeletPort!, healthz: healthzPort! },
            { caCert: ca.cert, servingCert: serving.cert, servingKey: serving.key },
          ),
          null,
          2,
        ),
      ],
    ])

    const start = (spec: ComponentSpec) =>
      spawnComponent(spec, { detached: false, ownSession: options.ownSession ?? false }).pipe(
        Effect.mapError((error) => new RealNodeError({ reason: "Exited", message: error.message })),
        Effect.tap((handle) => Effect.sync(() => handles.push(handle))),
      )
    const ready = (component: string, what: string, probe: Probe, timeout: Duration.DurationInput) =>
      Effect.raceFirst(waitUntilReady(component, probe, timeout), failOnAnyExit([...handles])).pipe(
        Effect.mapError(
          (error) =>
            new RealNodeError({
              reason: error.reason === "NotReady" ? "NotReady" : "Exited",
              message: error.message,
            }),
        ),
        Effect.tap(() => Effect.logInfo(`real node: ${what} (${elapsedSince(started)})`)),
      )

    yield* start(
      component("containerd", path.join(binDir, "containerd"), Config.containerdArgs(layout), binDir, layout),
    )
    yield* ready("containerd", "containerd serving", containerdProbe(binDir, layout), Duration.seconds(60))
    yield* importImages(binDir, layout, imagesDir)
    yield* Effect.logInfo(`real node: images imported (${elapsedSince(started)})`)
    yield* start(
      component(
        "kubelet",
        path.join(binDir, "kubelet"),
        Config.kubeletArgs(layout, nodeName, `${nodeLabel.key}=${nodeLabel.value}`),
        binDir,
        layout,
      ),
    )
    yield* ready(
      "kubelet",
      `Node ${nodeName} Ready`,
      nodeReadyProbe(core),
      options.readyTimeout ?? Duration.seconds(120),
    )
    if (kubeRouterDir !== undefined) {
      yield* Effect.try({
        try: () => fs.copyFileSync(controlPlane.kubeconfigPath, Config.kubeRouterKubeconfig(layout)),
        catch: setupError("kube-router's kubeconfig"),
      })
      yield* start(
        component(
          "kube-router",
          path.join(kubeRouterDir, "kube-router"),
          Config.kubeRouterArgs(layout, nodeName),
          binDir,
          layout,
        ),
      )
      yield* ready(
        "kube-router",
        "kube-router's firewall synced",
        kubeRouterProbe,
        options.readyTimeout ?? Duration.seconds(120),
      )
    }
    return {
      nodeName,
      nodeIp: network.nodeIp,
      placement: podPlacement,
      images,
      logsDir: layout.logsDir,
      criSocket: layout.containerdSocket,
      importImage: (archive) =>
        Effect.flatMap(ctr(binDir, layout, ["images", "import", archive]), (imported) =>
          imported.code === 0
            ? Effect.void
            : Effect.fail(
                new RealNodeError({
                  reason: "SetupFailed",
                  message: `importing ${archive}: ${imported.stderr.trim()}`,
                }),
              ),
        ),
    }
  })

/**
 * A real node for the scope when this machine can run one, else why not: what a failed start had
 * already changed is undone before the error is returned (the caller goes on without a real node).
 */
export const attempt = (
  controlPlane: ControlPlane.ControlPlaneShape,
  options: RealNodeOptions = {},
): Effect.Effect<Either.Either<RealNodeShape, RealNodeError>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const exit = yield* Effect.exit(Scope.extend(make(controlPlane, options), child))
    if (Exit.isSuccess(exit)) return Either.right(exit.value)
    yield* Scope.close(child, exit)
    return Either.left(
      Cause.failureOption(exit.cause).pipe(
        Option.getOrElse(
          () => new RealNodeError({ reason: "SetupFailed", message: Cause.pretty(exit.cause) }),
        ),
      ),
    )
  })

export const layer = (
  options: RealNodeOptions = {},
): Layer.Layer<RealNode, RealNodeError, ControlPlane.ControlPlane> =>
  Layer.scoped(
    RealNode,
    Effect.flatMap(ControlPlane.ControlPlane, (controlPlane) => make(controlPlane, options)),
  )

/**
 * The control plane this process was handed through KUBECONFIG (vitest's global setup, `./dev
 * start`): a local one, whose data directory holds the CA key that signs the kubelet's identity.
 */
export const localControlPlane: Effect.Effect<ControlPlane.ControlPlaneShape, RealNodeError> = Effect.try({
  try: () => {
    const kubeconfigPath = process.env.KUBECONFIG ?? ""
    const dataDir = path.dirname(kubeconfigPath)
    if (kubeconfigPath === "" || !fs.existsSync(path.join(controlPlaneLayoutOf(dataDir).pkiDir, "ca.key"))) {
      throw new Error(
        `KUBECONFIG (${kubeconfigPath || "unset"}) is not a local control plane with its CA key`,
      )
    }
    const config = new k8s.KubeConfig()
    config.loadFromFile(kubeconfigPath)
    return { kubeconfigPath, dataDir, server: config.getCurrentCluster()?.server ?? "" }
  },
  catch: (cause) =>
    new RealNodeError({
      reason: "Unavailable",
      message: `${cause instanceof Error ? cause.message : cause}`,
    }),
})

/** A real node for the scope, joined to the local control plane of KUBECONFIG. */
export const layerFromEnvironment = (options: RealNodeOptions = {}): Layer.Layer<RealNode, RealNodeError> =>
  Layer.scoped(
    RealNode,
    Effect.flatMap(localControlPlane, (controlPlane) => make(controlPlane, options)),
  )

export { nodeName, nodeTaint, podPlacement as placement, sandboxPodSpec }
