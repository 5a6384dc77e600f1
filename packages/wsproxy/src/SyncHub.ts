/**
 * The hub side of :9004: a watch per source keeps a versioned log (SyncLog) of the API keys
 * (digests and policy only), templates and pools of this cluster; members hold a long-lived
 * `GET /v1/sync?since=<version>` with the shared token as bearer and read NDJSON: a snapshot or
 * the changes they missed, then each change as it happens. A plain HTTP stream rather than a
 * WebSocket: the flow is one way, a refused token is an ordinary 401, and any HTTP proxy or
 * load balancer between clusters passes it. The hub answers 503 until every watch has listed
 * once, so no member ever takes a partial list for the whole truth and deletes the rest.
 */
import { randomBytes } from "node:crypto"
import * as http from "node:http"
import type { KubeClient, KubeObject } from "@agent-sandbox/kube"
import { Watcher } from "@agent-sandbox/kube"
import { Effect, FiberSet, Layer, Schedule, Stream, SubscriptionRef } from "effect"
import { SyncConfig } from "./SyncConfig.ts"
import * as SyncLog from "./SyncLog.ts"
import * as SyncMessage from "./SyncMessage.ts"
import type * as SyncObject from "./SyncObject.ts"
import * as SyncSources from "./SyncSources.ts"
import * as SyncToken from "./SyncToken.ts"

const follow = <T extends KubeObject.KubeObject>(
  log: SubscriptionRef.SubscriptionRef<SyncLog.SyncLog>,
  source: SyncSources.Source<T>,
) => {
  let relist: Array<SyncObject.SyncedObject> = []
  return Watcher.watcherWithBackoff(source.type, {
    namespace: source.namespace,
    labelSelector: source.labelSelector,
  }).pipe(
    Stream.runForEach((event) => {
      switch (event._tag) {
        case "Init":
          return Effect.sync(() => {
            relist = []
          })
        case "InitApply":
          return Effect.sync(() => {
            const synced = source.toSynced(event.object)
            if (synced !== undefined) relist.push(synced)
          })
        case "InitDone":
          return SubscriptionRef.update(log, (current) => SyncLog.replaceSource(current, source.name, relist))
        case "Apply": {
          const synced = source.toSynced(event.object)
          const ref = source.refOf(event.object)
          return SubscriptionRef.update(log, (current) =>
            synced !== undefined
              ? SyncLog.upsert(current, source.name, synced)
              : ref === undefined
                ? current
                : SyncLog.remove(current, ref),
          )
        }
        case "Delete": {
          const ref = source.refOf(event.object)
          return ref === undefined
            ? Effect.void
            : SubscriptionRef.update(log, (current) => SyncLog.remove(current, ref))
        }
      }
    }),
  )
}

const json = (
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  response
    .writeHead(status, { "content-type": "application/json", ...headers })
    .end(`${JSON.stringify(body)}\n`)

const make = Effect.gen(function* () {
  const config = yield* SyncConfig
  const token = yield* SyncToken.hubToken(config.systemNamespace, config.tokenSecret)
  const sources = SyncSources.sources(config.systemNamespace, config.poolNamespaces)
  const sourceNames = sources.map((source) => source.name)
  const log = yield* SubscriptionRef.make(SyncLog.empty(randomBytes(8).toString("hex"), config.maxChanges))
  for (const source of sources) {
    yield* Effect.forkScoped(follow(log, source as SyncSources.Source<KubeObject.KubeObject>))
  }
  const runFork = yield* FiberSet.makeRuntime<never>()

  /** One member's stream until it hangs up; what it is sent depends only on the log and where it stands. */
  const stream = (response: http.ServerResponse, since: string | undefined) =>
    Effect.gen(function* () {
      let sent: number | undefined
      // A slow member is waited for (the socket's buffer drains) rather than buffered without bound.
      const write = (message: SyncMessage.SyncMessage) =>
        Effect.async<void>((resume) => {
          if (response.write(SyncMessage.encode(message))) resume(Effect.void)
          else response.once("drain", () => resume(Effect.void))
        })
      const send = (current: SyncLog.SyncLog) =>
        Effect.gen(function* () {
          if (sent === current.seq) return
          const plan = sent === undefined ? SyncLog.catchUp(current, since) : SyncLog.after(current, sent)
          if (plan._tag === "Snapshot") {
            yield* write({
              _tag: "Snapshot",
              version: SyncLog.versionOf(current),
              objects: SyncLog.snapshotObjects(current),
            })
          } else {
            for (const change of plan.changes) {
              const version = SyncLog.versionOf(current, change.seq)
              yield* write(
                change._tag === "Apply"
                  ? { _tag: "Apply", version, object: change.object }
                  : { _tag: "Delete", version, ref: change.ref },
              )
            }
          }
          sent = current.seq
        })
      const heartbeat = Effect.flatMap(SubscriptionRef.get(log), (current) =>
        write({ _tag: "Heartbeat", version: SyncLog.versionOf(current, sent ?? current.seq) }),
      ).pipe(Effect.repeat(Schedule.spaced(config.heartbeat)), Effect.delay(config.heartbeat))
      const hangUp = Effect.async<void>((resume) => {
        response.once("close", () => resume(Effect.void))
      })
      // Headers go out at once, so the member knows it was accepted before anything changes.
      response.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" })
      response.flushHeaders()
      yield* Effect.raceAll([
        Stream.runForEach(log.changes, send),
        Effect.zipRight(heartbeat, Effect.never),
        hangUp,
      ])
      response.end()
    })

  const onRequest = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://hub.invalid")
    if (request.method === "GET" && url.pathname === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n")
      return
    }
    if (request.method !== "GET" || url.pathname !== "/v1/sync") {
      json(response, 404, { _tag: "NotFound", message: "GET /v1/sync is the only sync endpoint" })
      return
    }
    if (!SyncToken.authorizes(request.headers.authorization, token)) {
      json(
        response,
        401,
        {
          _tag: "SyncError",
          reason: "Unauthorized",
          message: "a valid sync token is required (Authorization: Bearer)",
        },
        { "www-authenticate": "Bearer" },
      )
      return
    }
    runFork(
      Effect.flatMap(SubscriptionRef.get(log), (current) =>
        SyncLog.isReady(current, sourceNames)
          ? stream(response, url.searchParams.get("since") ?? undefined)
          : Effect.sync(() =>
              json(
                response,
                503,
                {
                  _tag: "SyncError",
                  reason: "HubUnavailable",
                  message: "the hub has not listed everything yet",
                },
                { "retry-after": "1" },
              ),
            ),
      ),
    )
  }

  const server = http.createServer(onRequest)
  yield* Effect.acquireRelease(
    Effect.async<void, Error>((resume) => {
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(config.port, config.host, () => resume(Effect.void))
    }),
    () =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      }),
  )
  yield* Effect.logInfo(`wsproxy: sync hub on http://${config.host}:${config.port}/v1/sync`)
})

/** Watches and serves while the layer is in scope. */
export const layer: Layer.Layer<never, unknown, SyncConfig | KubeClient.KubeClient> =
  Layer.scopedDiscard(make)
