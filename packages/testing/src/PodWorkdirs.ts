import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as k8s from "@kubernetes/client-node"
import { Duration, Effect, Schedule, type Scope } from "effect"
import { podWorkdirOf } from "./Layout.ts"

/**
 * KWOK runs exec'd commands in a fixed working directory per Exec object; our Pod stage points each Pod's
 * Exec at <root>/<namespace>/<name>. This helper makes that directory exist (owned by the exec user) as
 * soon as the Pod is created, long before KWOK reports it Ready, and removes it with the Pod. A container
 * image change restarts the container, which on a real node starts from a fresh filesystem: so does its
 * directory here.
 */
export interface PodWorkdirsOptions {
  readonly kubeconfigPath: string
  readonly root: string
  /** Owner of each Pod directory; undefined keeps ours (when we are not root). */
  readonly owner: { readonly uid: number; readonly gid: number } | undefined
}

export type WorkdirAction = "ensure" | "wipe" | "remove" | "none"

/** What identifies a container's filesystem: which image each container runs. */
export const imagesOf = (pod: k8s.V1Pod): string =>
  (pod.spec?.containers ?? [])
    .map((container) => `${container.name}=${container.image ?? ""}`)
    .sort()
    .join(",")

/** What to do with a Pod's directory on a watch event, given the images seen last for it. */
export const workdirAction = (
  event: "add" | "update" | "delete",
  previousImages: string | undefined,
  currentImages: string,
): WorkdirAction => {
  switch (event) {
    case "add":
      return "ensure"
    case "update":
      if (previousImages === undefined) return "ensure"
      return previousImages === currentImages ? "none" : "wipe"
    case "delete":
      return "remove"
  }
}

const ensureDir = async (dir: string, options: PodWorkdirsOptions) => {
  await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o711 })
  try {
    await fs.mkdir(dir, { mode: 0o700 })
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") return
    throw cause
  }
  if (options.owner) await fs.chown(dir, options.owner.uid, options.owner.gid)
}

const removeDir = (dir: string) => fs.rm(dir, { recursive: true, force: true })

const apply = async (action: WorkdirAction, dir: string, options: PodWorkdirsOptions) => {
  switch (action) {
    case "ensure":
      return ensureDir(dir, options)
    case "wipe":
      await removeDir(dir)
      return ensureDir(dir, options)
    case "remove":
      return removeDir(dir)
    case "none":
      return
  }
}

/**
 * Watches all Pods and keeps their directories until the scope closes. Completes once the first list has
 * arrived, so every Pod created from then on gets its directory at creation.
 */
export const run = (options: PodWorkdirsOptions): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const informer = yield* Effect.acquireRelease(
      Effect.sync(() => start(options)),
      (informer) => Effect.promise(() => informer.stop()),
    )
    yield* Effect.suspend(() =>
      informer.latestResourceVersion() === "" ? Effect.fail("not listed") : Effect.void,
    ).pipe(Effect.retry(Schedule.spaced(Duration.millis(50))), Effect.orDie)
  })

const start = (options: PodWorkdirsOptions) => {
  const config = new k8s.KubeConfig()
  config.loadFromFile(options.kubeconfigPath)
  const core = config.makeApiClient(k8s.CoreV1Api)
  const informer = new k8s.ListWatch(
    "/api/v1/pods",
    new k8s.Watch(config),
    () => core.listPodForAllNamespaces(),
    false,
  )
  const images = new Map<string, string>()
  // One queue: events of one Pod are applied in order; directory operations take microseconds.
  let queue: Promise<void> = Promise.resolve()
  const handle = (event: "add" | "update" | "delete") => (pod: k8s.V1Pod) => {
    const namespace = pod.metadata?.namespace
    const name = pod.metadata?.name
    if (namespace === undefined || name === undefined) return
    const key = `${namespace}/${name}`
    const current = imagesOf(pod)
    const action = workdirAction(event, images.get(key), current)
    if (event === "delete") images.delete(key)
    else images.set(key, current)
    const dir = podWorkdirOf(options.root, namespace, name)
    queue = queue
      .then(() => apply(action, dir, options))
      .catch((cause) => console.error(`pod-workdirs: ${action} ${dir}: ${cause}`))
  }
  informer.on(k8s.ADD, handle("add"))
  informer.on(k8s.UPDATE, handle("update"))
  informer.on(k8s.DELETE, handle("delete"))
  // The informer stops on errors other than an expired resourceVersion; start it again.
  informer.on(k8s.ERROR, (cause) => {
    console.error(`pod-workdirs: list/watch failed, restarting in 1s: ${cause}`)
    setTimeout(() => void informer.start(), 1_000)
  })
  void informer.start()
  return informer
}
