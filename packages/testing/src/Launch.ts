import * as fs from "node:fs/promises"
import * as k8s from "@kubernetes/client-node"
import { type Duration, Effect, Exit, type Scope } from "effect"
import * as Args from "./ComponentArgs.ts"
import {
  type ComponentHandle,
  type ComponentSpec,
  failOnAnyExit,
  spawnComponent,
  stopComponent,
} from "./ComponentProcess.ts"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import { renderKubeconfig } from "./Kubeconfigs.ts"
import { type ExecUser, execCrd, fakeNode, fakeNodeNames, kwokConfigFile } from "./KwokConfig.ts"
import { configFileOf, type Layout, layoutOf } from "./Layout.ts"
import { generatePki, type Pki } from "./Pki.ts"
import {
  defaultServiceAccountProbe,
  fileProbe,
  httpProbe,
  nodesProbe,
  type Probe,
  waitUntilReady,
} from "./Readiness.ts"

export interface LaunchOptions {
  readonly binDir: string
  /** Created if missing; everything of this control plane goes inside. */
  readonly dataDir: string
  /** Processes outlive the scope when it closes successfully (scripts/cluster.ts up); on failure they stop. */
  readonly detached: boolean
  /**
   * Processes run in a session of their own, so a terminal's Ctrl-C reaches only us and we stop them
   * after whatever still talks to the API server (an operator releasing its Lease); detached implies it.
   */
  readonly ownSession: boolean
  readonly nodes: number
  readonly podReadyDelayMillis: number
  readonly imageChangeDelayMillis: number
  readonly execUser: ExecUser | undefined
  /** For each readiness wait. */
  readonly readyTimeout: Duration.DurationInput
}

export interface Launched {
  readonly kubeconfigPath: string
  readonly server: string
  readonly dataDir: string
  /** In start order. */
  readonly components: ReadonlyArray<ComponentHandle>
  /** How each component was started, in the same order: what a fault-injection test restarts it with. */
  readonly specs: ReadonlyArray<ComponentSpec>
  /** etcd's client URL (http://127.0.0.1:<port>), for tests that compact it. */
  readonly etcdUrl: string
}

const setupError = (component: string) => (cause: unknown) =>
  new ControlPlaneError({ component, reason: "SetupFailed", message: String(cause) })

/** pki, config, logs and etcd are private; the Pods' directories are reachable (not listable) by exec users. */
const prepareDirectories = (layout: Layout) =>
  Effect.tryPromise({
    try: async () => {
      await fs.mkdir(layout.dataDir, { recursive: true })
      await fs.chmod(layout.dataDir, 0o711)
      for (const dir of [layout.pkiDir, layout.configDir, layout.logsDir, layout.etcdDir]) {
        await fs.mkdir(dir, { recursive: true, mode: 0o700 })
      }
      await fs.mkdir(layout.podsDir, { recursive: true, mode: 0o711 })
    },
    catch: setupError("data directory"),
  })

const writePrivate = (file: string, content: string) =>
  Effect.tryPromise({ try: () => fs.writeFile(file, content, { mode: 0o600 }), catch: setupError("config") })

const writeComponentFiles = (
  layout: Layout,
  server: string,
  pki: Pki,
  options: LaunchOptions,
): Effect.Effect<Args.ComponentFiles, ControlPlaneError> =>
  Effect.gen(function* () {
    const files: Args.ComponentFiles = {
      kubeconfigs: {
        admin: layout.kubeconfigPath,
        controllerManager: configFileOf(layout, "kube-controller-manager.kubeconfig"),
        scheduler: configFileOf(layout, "kube-scheduler.kubeconfig"),
        kwok: configFileOf(layout, "kwok.kubeconfig"),
      },
      schedulerConfig: configFileOf(layout, "kube-scheduler.json"),
      kwokConfig: configFileOf(layout, "kwok.yaml"),
      auditPolicy: configFileOf(layout, "audit-policy.json"),
    }
    const kubeconfigs = [
      [files.kubeconfigs.admin, pki.clients.admin, "admin"],
      [
        files.kubeconfigs.controllerManager,
        pki.clients["kube-controller-manager"],
        "kube-controller-manager",
      ],
      [files.kubeconfigs.scheduler, pki.clients["kube-scheduler"], "kube-scheduler"],
      [files.kubeconfigs.kwok, pki.clients.kwok, "kwok"],
    ] as const
    yield* Effect.forEach(
      kubeconfigs,
      ([file, client, user]) =>
        Effect.flatMap(renderKubeconfig(server, pki.caCert, client, user), (text) =>
          writePrivate(file, text),
        ),
      { concurrency: "unbounded", discard: true },
    )
    yield* writePrivate(
      files.schedulerConfig,
      JSON.stringify(Args.schedulerConfig(files.kubeconfigs.scheduler), null, 2),
    )
    yield* writePrivate(files.auditPolicy, JSON.stringify(Args.auditPolicy, null, 2))
    yield* writePrivate(
      files.kwokConfig,
      kwokConfigFile({
        podsDir: layout.podsDir,
        execUser: options.execUser,
        podReadyDelayMillis: options.podReadyDelayMillis,
        imageChangeDelayMillis: options.imageChangeDelayMillis,
      }),
    )
    return files
  })

const createObjects = (kubeconfigPath: string, objects: ReadonlyArray<k8s.KubernetesObject>) =>
  Effect.tryPromise({
    try: () => {
      const config = new k8s.KubeConfig()
      config.loadFromFile(kubeconfigPath)
      const client = k8s.KubernetesObjectApi.makeApiClient(config)
      return Promise.all(objects.map((object) => client.create(object)))
    },
    catch: (cause) =>
      new ControlPlaneError({
        component: "kube-apiserver",
        reason: "SetupFailed",
        message: `creating the Exec CRD and fake Nodes: ${(cause as { body?: unknown }).body ?? cause}`,
      }),
  })

const elapsedSince = (start: number) => `${((Date.now() - start) / 1000).toFixed(1)}s`

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK with its fake Nodes and the
 * Pod working-directory helper, and waits until Pods can be scheduled, run and exec'd into. Every process
 * is stopped when the scope closes, unless `detached` and the scope closes successfully.
 */
export const launch = (options: LaunchOptions): Effect.Effect<Launched, ControlPlaneError, Scope.Scope> =>
  Effect.gen(function* () {
    const started = Date.now()
    const layout = layoutOf(options.dataDir)
    yield* prepareDirectories(layout)
    const [portList, pki] = yield* Effect.all(
      [Args.freePortsFor, generatePki(layout.pkiDir, Args.network.serviceIp)],
      {
        concurrency: 2,
      },
    )
    const ports = portList
    const server = `https://127.0.0.1:${ports.apiserver}`
    const files = yield* writeComponentFiles(layout, server, pki, options)
    const admin = { ca: pki.caCert, client: pki.clients.admin }

    const running: Array<ComponentHandle> = []
    const specs: Array<ComponentSpec> = []
    const start = (spec: ComponentSpec) =>
      Effect.acquireRelease(
        spawnComponent(spec, { detached: options.detached, ownSession: options.ownSession }),
        (handle, exit) => (options.detached && Exit.isSuccess(exit) ? Effect.void : stopComponent(handle)),
      ).pipe(
        Effect.tap((handle) =>
          Effect.sync(() => {
            running.push(handle)
            specs.push(spec)
          }),
        ),
      )
    const ready = (component: string, what: string, probe: Probe) =>
      Effect.raceFirst(
        waitUntilReady(component, probe, options.readyTimeout),
        failOnAnyExit([...running]),
      ).pipe(Effect.tap(() => Effect.logInfo(`${what} (${elapsedSince(started)})`)))

    yield* start(Args.etcd(options.binDir, layout, ports))
    yield* ready(
      "etcd",
      "etcd healthy",
      httpProbe(`http://127.0.0.1:${ports.etcdClient}/health`, {}, '"health":"true"'),
    )
    yield* start(Args.kubeApiserver(options.binDir, layout, ports, pki, files))
    yield* ready("kube-apiserver", "kube-apiserver ready", httpProbe(`${server}/readyz`, admin))

    yield* start(Args.kubeControllerManager(options.binDir, layout, ports, pki, files))
    yield* start(Args.kubeScheduler(options.binDir, layout, ports, files))
    const nodeNames = fakeNodeNames(options.nodes)
    yield* createObjects(layout.kubeconfigPath, [execCrd, ...nodeNames.map(fakeNode)])
    // KWOK lists Exec objects when it starts: the kind must be served by then.
    yield* ready(
      "kube-apiserver",
      "Exec kind served",
      httpProbe(`${server}/apis/kwok.x-k8s.io/v1alpha1/execs`, admin),
    )
    yield* start(Args.kwok(options.binDir, layout, ports, pki, files))
    yield* start(Args.podWorkdirs(layout, files, options.execUser))

    const config = new k8s.KubeConfig()
    config.loadFromFile(layout.kubeconfigPath)
    const core = config.makeApiClient(k8s.CoreV1Api)
    const healthz = (port: number) => httpProbe(`https://127.0.0.1:${port}/healthz`, { insecure: true })
    yield* Effect.all(
      [
        ready("kube-controller-manager", "kube-controller-manager healthy", healthz(ports.controllerManager)),
        ready("kube-scheduler", "kube-scheduler healthy", healthz(ports.scheduler)),
        ready(
          "kwok",
          "kwok server healthy",
          httpProbe(`https://127.0.0.1:${ports.kwok}/healthz`, { ca: pki.caCert }),
        ),
        ready("kwok", `${nodeNames.length} nodes Ready`, nodesProbe(core, nodeNames)),
        ready("pod-workdirs", "pod-workdirs watching", fileProbe(Args.podWorkdirsReadyFile(layout))),
        // Created by the controller manager; Pods in `default` are rejected until it exists.
        ready(
          "kube-controller-manager",
          "default ServiceAccount created",
          defaultServiceAccountProbe(core, "default"),
        ),
      ],
      { concurrency: "unbounded", discard: true },
    )
    yield* Effect.logInfo(`control plane up at ${server} in ${elapsedSince(started)}`)
    return {
      kubeconfigPath: layout.kubeconfigPath,
      server,
      dataDir: layout.dataDir,
      components: [...running],
      specs: [...specs],
      etcdUrl: `http://127.0.0.1:${ports.etcdClient}`,
    }
  })
