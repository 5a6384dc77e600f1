/**
 * The member side of :9004: follows its hub's stream and applies what arrives to this cluster
 * (server-side apply, its own field manager), deleting only what it applied itself. It resumes
 * from the last version it applied; a hub that is away (refused connection, silence, a closed
 * stream) is retried with exponential backoff, and meanwhile everything applied stays as it is:
 * this cluster's operator keeps serving on its last copy.
 */
import { KubeClient, KubeError, type KubeObject } from "@agent-sandbox/kube"
import { Context, Duration, Effect, Layer, Option, Schedule, Stream, SubscriptionRef } from "effect"
import * as SyncApply from "./SyncApply.ts"
import { SyncConfig } from "./SyncConfig.ts"
import { SyncError } from "./SyncError.ts"
import * as SyncMessage from "./SyncMessage.ts"
import * as SyncObject from "./SyncObject.ts"
import * as SyncToken from "./SyncToken.ts"

export interface MemberStatus {
  /** The last version applied: where the next connection resumes. */
  readonly version: string | undefined
  readonly connected: boolean
  /** Snapshots received (1 on a first connect; more after the hub restarts or the member fell behind). */
  readonly snapshots: number
  readonly lastError: string | undefined
  /** Objects the hub sent that the member left alone: not applied by it, or outside its namespaces. */
  readonly skipped: ReadonlyArray<string>
}

export class SyncMember extends Context.Tag("@agent-sandbox/wsproxy/SyncMember")<
  SyncMember,
  { readonly status: Effect.Effect<MemberStatus> }
>() {}

/** Errors an object's apply or delete is retried on; others (invalid, forbidden) are recorded and skipped. */
const transient = KubeError.hasReason(
  "Transport",
  "Timeout",
  "Unavailable",
  "TooManyRequests",
  "Conflict",
  "Unknown",
)

const make = Effect.gen(function* () {
  const config = yield* SyncConfig
  const client = yield* KubeClient.KubeClient
  const token = yield* SyncToken.memberToken(config.systemNamespace, config.tokenSecret)
  const status = yield* SubscriptionRef.make<MemberStatus>({
    version: undefined,
    connected: false,
    snapshots: 0,
    lastError: undefined,
    skipped: [],
  })
  const skip = (ref: SyncObject.ObjectRef, why: string) =>
    Effect.zipRight(
      Effect.logWarning(`sync: left ${SyncObject.keyOf(ref)} alone: ${why}`),
      SubscriptionRef.update(status, (s) => ({
        ...s,
        skipped: [...s.skipped, SyncObject.keyOf(ref)].slice(-100),
      })),
    )

  const withRetry = <A>(effect: Effect.Effect<A, KubeError.KubeError>) =>
    Effect.retry(effect, {
      while: transient,
      schedule: Schedule.exponential("200 millis").pipe(Schedule.upTo("10 seconds")),
    })

  const current = (target: SyncApply.Target) =>
    client.get(target.type, target.name, { namespace: target.namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchIf(KubeError.hasReason("NotFound"), () => Effect.succeedNone),
    )

  /** Applies one object unless an object of the same name exists that the member did not apply. */
  const apply = (object: SyncObject.SyncedObject) => {
    const ref = SyncObject.refOf(object)
    if (!SyncApply.accepts(ref, config.poolNamespaces)) return skip(ref, "outside the member's namespaces")
    const target = SyncApply.targetOf(ref, config.systemNamespace)
    return withRetry(
      Effect.flatMap(current(target), (existing) =>
        Option.isSome(existing) && !SyncApply.isOurs(existing.value)
          ? skip(ref, "an object of that name exists that sync did not apply")
          : Effect.asVoid(
              client.apply(target.type, SyncApply.bodyOf(object, config.systemNamespace), {
                namespace: target.namespace,
                fieldManager: SyncApply.fieldManager,
                // Ours: the hub's definition wins over a local edit of the same fields.
                force: true,
              }),
            ),
      ),
    ).pipe(Effect.catchAll((error) => skip(ref, error.message)))
  }

  /** Deletes one object, only if the member applied it (and the very object it read). */
  const remove = (ref: SyncObject.ObjectRef) => {
    const target = SyncApply.targetOf(ref, config.systemNamespace)
    return withRetry(
      Effect.flatMap(current(target), (existing) =>
        Option.isNone(existing) || !SyncApply.isOurs(existing.value)
          ? Effect.void
          : client
              .delete(target.type, target.name, {
                namespace: target.namespace,
                preconditions: { uid: existing.value.metadata?.uid ?? "" },
              })
              .pipe(Effect.catchIf(KubeError.hasReason("NotFound"), () => Effect.void)),
      ),
    ).pipe(Effect.catchAll((error) => skip(ref, error.message)))
  }

  /** Everything this member applied, by kind, from labelled lists of its own cluster. */
  const appliedRefs = Effect.gen(function* () {
    const selector = { labelSelector: `${SyncApply.syncedLabel}=true` }
    const listAll = (type: SyncApply.Target["type"], namespace: string | undefined) =>
      withRetry(client.list(type, { ...selector, namespace })).pipe(Effect.map((list) => list.items))
    const keys = yield* listAll(
      SyncApply.targetOf({ kind: "ApiKey", name: "" }, config.systemNamespace).type,
      config.systemNamespace,
    )
    const templates = yield* listAll(
      SyncApply.targetOf({ kind: "SandboxTemplate", name: "" }, "").type,
      undefined,
    )
    const poolType = SyncApply.targetOf({ kind: "SandboxPool", name: "" }, "").type
    const pools: Array<KubeObject.KubeObject> = []
    for (const namespace of config.poolNamespaces.length === 0 ? [undefined] : config.poolNamespaces) {
      pools.push(...(yield* listAll(poolType, namespace)))
    }
    return [
      ...SyncApply.refsOf("ApiKey", keys),
      ...SyncApply.refsOf("SandboxTemplate", templates),
      ...SyncApply.refsOf("SandboxPool", pools),
    ]
  })

  const handle = (message: SyncMessage.SyncMessage) =>
    Effect.gen(function* () {
      switch (message._tag) {
        case "Heartbeat":
          return
        case "Snapshot": {
          yield* Effect.forEach(message.objects, apply, { discard: true })
          // Cannot tell what it applied: delete nothing this time (the next snapshot tries again).
          const applied = yield* appliedRefs.pipe(
            Effect.catchAll((error) =>
              Effect.as(Effect.logWarning(`sync: cannot list what sync applied: ${error.message}`), []),
            ),
          )
          const stale = SyncApply.stale(applied, message.objects)
          yield* Effect.forEach(stale, remove, { discard: true })
          yield* SubscriptionRef.update(status, (s) => ({ ...s, snapshots: s.snapshots + 1 }))
          break
        }
        case "Apply":
          yield* apply(message.object)
          break
        case "Delete":
          yield* remove(message.ref)
          break
      }
      // Only now: a member stopped halfway through a message resumes before it.
      yield* SubscriptionRef.update(status, (s) => ({ ...s, version: message.version }))
    })

  /** One connection: fails if the hub cannot be reached or refuses; succeeds when an accepted stream ends. */
  const session = Effect.gen(function* () {
    const { version } = yield* SubscriptionRef.get(status)
    const url = `${config.hubUrl}/v1/sync${version === undefined ? "" : `?since=${encodeURIComponent(version)}`}`
    const controller = new AbortController()
    yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
    const response = yield* Effect.tryPromise({
      try: () => fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal }),
      catch: (cause) =>
        new SyncError({
          reason: "HubUnavailable",
          message: `cannot reach the hub at ${config.hubUrl}: ${String(cause)}`,
        }),
    })
    if (response.status === 401) {
      return yield* new SyncError({
        reason: "Unauthorized",
        message: "the hub refused this member's sync token (401)",
      })
    }
    if (response.status !== 200 || response.body === null) {
      return yield* new SyncError({
        reason: "HubUnavailable",
        message: `the hub answered ${response.status}`,
      })
    }
    yield* SubscriptionRef.update(status, (s) => ({ ...s, connected: true, lastError: undefined }))
    const lost = yield* Stream.fromReadableStream({
      evaluate: () => response.body as ReadableStream<Uint8Array>,
      onError: (cause) =>
        new SyncError({ reason: "HubUnavailable", message: `the hub's stream broke: ${String(cause)}` }),
    }).pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.filter((line) => line.trim() !== ""),
      Stream.timeoutFail(
        () =>
          new SyncError({
            reason: "HubUnavailable",
            message: `the hub was silent for ${Duration.format(config.hubSilence)}`,
          }),
        config.hubSilence,
      ),
      Stream.mapEffect((line) => {
        const message = SyncMessage.parse(line)
        return message instanceof SyncError ? Effect.fail(message) : handle(message)
      }),
      Stream.runDrain,
      Effect.as("the hub closed the stream"),
      Effect.catchAll((error) => Effect.succeed(error.message)),
    )
    yield* SubscriptionRef.update(status, (s) => ({ ...s, connected: false, lastError: lost }))
    yield* Effect.logWarning(`sync: lost the hub: ${lost}; reconnecting`)
  }).pipe(
    Effect.scoped,
    Effect.tapError((error) =>
      Effect.zipRight(
        SubscriptionRef.update(status, (s) => ({ ...s, connected: false, lastError: error.message })),
        Effect.logWarning(`sync: ${error.message}; retrying`),
      ),
    ),
  )

  const backoff = Schedule.exponential(Duration.min(Duration.seconds(1), config.maxBackoff)).pipe(
    Schedule.either(Schedule.spaced(config.maxBackoff)),
    Schedule.jittered,
  )
  // Failures to connect back off; a stream that was accepted and then ended is followed by a fresh connect.
  yield* session.pipe(
    Effect.retry(backoff),
    Effect.zipRight(Effect.sleep(Duration.min(Duration.seconds(1), config.maxBackoff))),
    Effect.forever,
    Effect.forkScoped,
  )
  yield* Effect.logInfo(`wsproxy: sync member of ${config.hubUrl}`)
  return { status: SubscriptionRef.get(status) }
})

/** Follows the hub while the layer is in scope; needs a KubeClient with the sync field manager (`layerKube`). */
export const layer: Layer.Layer<
  SyncMember,
  KubeError.KubeError | SyncError,
  SyncConfig | KubeClient.KubeClient
> = Layer.scoped(SyncMember, make)
