import { Effect, Either, Option, Stream } from "effect"
import * as Backoff from "./Backoff.ts"
import { KubeClient, type KubeClientShape } from "./KubeClient.ts"
import type { KubeError } from "./KubeError.ts"
import type { KubeObject } from "./KubeObject.ts"
import type { ResourceType } from "./ResourceType.ts"
import * as WatcherEvent from "./WatcherEvent.ts"

export interface WatcherConfig {
  /** Omit for all namespaces (or a cluster-scoped kind). */
  readonly namespace?: string | undefined
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  /** Objects per list page. */
  readonly pageSize?: number | undefined
  /** How long the server keeps one watch open; the watcher then resumes where it left off. */
  readonly timeoutSeconds?: number | undefined
  /**
   * "consistent" (default) lists from etcd, page by page; "cached" takes the API server's watch
   * cache as it stands (resourceVersion=0, one page), cheaper for the server on big collections
   * and possibly a little stale, which the watch that follows catches up on.
   */
  readonly initialList?: "consistent" | "cached" | undefined
}

/** A watcher's settings, and what to keep of each object it receives. */
export interface WatcherOptions<T> extends WatcherConfig {
  /**
   * Applied to every object as it arrives (each listed item, each watch event's object) before
   * anything else sees or keeps it, like client-go's TransformFunc: a cache of thousands of
   * objects then holds only the fields its readers use, and the full parsed object dies young.
   */
  readonly transform?: ((object: T) => T) | undefined
}

/**
 * Where the watcher is. Private to the watcher; exported so tests can start it from a chosen
 * point (e.g. a resource version the server has already compacted away).
 */
export type WatcherState =
  /** Nothing known: the next step announces a (re)list with Init. */
  | { readonly _tag: "Empty" }
  /** Listing, page by page; `continueToken` undefined for the first page. */
  | { readonly _tag: "InitPage"; readonly continueToken: string | undefined }
  /** Listed (or watched) up to `resourceVersion`: the next step watches from there. */
  | { readonly _tag: "InitListed"; readonly resourceVersion: string }

export const Empty: WatcherState = { _tag: "Empty" }
const initPage = (continueToken: string | undefined): WatcherState => ({ _tag: "InitPage", continueToken })
export const InitListed = (resourceVersion: string): WatcherState => ({ _tag: "InitListed", resourceVersion })

/** A failed step keeps its place, except on 410 Gone: what it held has expired, so relist. */
export const afterError = (state: WatcherState, error: KubeError): WatcherState =>
  error.reason === "Gone" ? Empty : state

type Result<T> = Either.Either<WatcherEvent.WatcherEvent<T>, KubeError>

/**
 * The watcher's state machine, errors as values (like kube-rs): an initial paged list, then a
 * watch from the list's resourceVersion with bookmarks; when a watch ends it resumes from the
 * last resourceVersion seen (bookmarks included); on 410 Gone, whether as an HTTP status or as
 * an ERROR event inside the stream, it relists. An error item keeps the state, so the next pull
 * retries that step: put a backoff between errors (`Backoff.withBackoff`, or use
 * `watcherWithBackoff`). Resource versions are opaque: only ever handed back to the server.
 */
export const watcherFrom = <T extends KubeObject>(
  client: KubeClientShape,
  type: ResourceType<T>,
  config: WatcherOptions<T>,
  initial: WatcherState,
): Stream.Stream<Result<T>> =>
  Stream.suspend(() => {
    let state = initial
    const keep = config.transform ?? ((object: T) => object)
    const fail = (error: KubeError): Stream.Stream<Result<T>> => {
      state = afterError(state, error)
      return Stream.make(Either.left(error))
    }

    const list = (continueToken: string | undefined): Stream.Stream<Result<T>> =>
      Stream.unwrap(
        Effect.match(
          client.list(type, {
            namespace: config.namespace,
            labelSelector: config.labelSelector,
            fieldSelector: config.fieldSelector,
            ...(config.initialList === "cached"
              ? { resourceVersion: "0", resourceVersionMatch: "NotOlderThan" as const }
              : { limit: config.pageSize ?? 500, continue: continueToken }),
          }),
          {
            onFailure: fail,
            onSuccess: (page) => {
              const events: Array<Result<T>> = page.items.map((object) =>
                Either.right(WatcherEvent.InitApply(keep(object))),
              )
              if (page.continue === undefined) {
                events.push(Either.right(WatcherEvent.InitDone))
                state = InitListed(page.resourceVersion)
              } else {
                state = initPage(page.continue)
              }
              return Stream.fromIterable(events)
            },
          },
        ),
      )

    const watch = (resourceVersion: string): Stream.Stream<Result<T>> =>
      client
        .watch(type, {
          namespace: config.namespace,
          labelSelector: config.labelSelector,
          fieldSelector: config.fieldSelector,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: config.timeoutSeconds ?? 290,
        })
        .pipe(
          // An ERROR event ends this watch: the server sends nothing useful after it.
          Stream.takeUntil((event) => event.type === "ERROR"),
          Stream.filterMap((event): Option.Option<Result<T>> => {
            switch (event.type) {
              case "ADDED":
              case "MODIFIED":
                state = InitListed(event.object.metadata?.resourceVersion ?? resourceVersion)
                return Option.some(Either.right(WatcherEvent.Apply(keep(event.object))))
              case "DELETED":
                state = InitListed(event.object.metadata?.resourceVersion ?? resourceVersion)
                return Option.some(Either.right(WatcherEvent.Delete(keep(event.object))))
              case "BOOKMARK":
                if (event.resourceVersion !== "") state = InitListed(event.resourceVersion)
                return Option.none()
              case "ERROR":
                state = afterError(state, event.error)
                return Option.some(Either.left(event.error))
            }
          }),
          Stream.catchAll(fail),
        )

    const step = (): Stream.Stream<Result<T>> => {
      switch (state._tag) {
        case "Empty":
          state = initPage(undefined)
          return Stream.make(Either.right(WatcherEvent.Init))
        case "InitPage":
          return list(state.continueToken)
        case "InitListed":
          return watch(state.resourceVersion)
      }
    }

    return Stream.forever(Stream.suspend(step))
  })

/** The watcher with errors as values; pair it with a backoff. */
export const watcherResults = <T extends KubeObject>(
  type: ResourceType<T>,
  config: WatcherOptions<T> = {},
): Stream.Stream<Result<T>, never, KubeClient> =>
  Stream.unwrap(Effect.map(KubeClient, (client) => watcherFrom(client, type, config, Empty)))

/**
 * The watcher as a plain stream that fails with the first error it cannot handle itself (410
 * Gone is handled: it relists). Ends of watches are not errors; it resumes.
 */
export const watcher = <T extends KubeObject>(
  type: ResourceType<T>,
  config: WatcherOptions<T> = {},
): Stream.Stream<WatcherEvent.WatcherEvent<T>, KubeError, KubeClient> =>
  watcherResults(type, config).pipe(
    Stream.filter((result) => Either.isRight(result) || result.left.reason !== "Gone"),
    Stream.mapEffect((result) => result),
  )

/**
 * The watcher that never fails: errors are logged and retried after an exponential backoff
 * with jitter (reset by any successful event), from where the watcher stood.
 */
export const watcherWithBackoff = <T extends KubeObject>(
  type: ResourceType<T>,
  config: WatcherOptions<T> = {},
  policy: Backoff.BackoffPolicy = Backoff.defaultPolicy,
): Stream.Stream<WatcherEvent.WatcherEvent<T>, never, KubeClient> =>
  watcherResults(type, config).pipe(retryWithBackoff(type, policy))

/**
 * What watcherWithBackoff does with watcherResults: 410 Gone passes (the watcher relists at
 * once), other errors are logged and the next step waits out a backoff. Apart so a caller can
 * observe the errors first (the operator counts them).
 */
export const retryWithBackoff =
  <T extends KubeObject>(type: ResourceType<T>, policy: Backoff.BackoffPolicy = Backoff.defaultPolicy) =>
  <R>(results: Stream.Stream<Result<T>, never, R>): Stream.Stream<WatcherEvent.WatcherEvent<T>, never, R> =>
    results.pipe(
      // 410 Gone is routine (the watcher relists at once), not a failure to back off from.
      Stream.filter((result) => Either.isRight(result) || result.left.reason !== "Gone"),
      Stream.tap((result) =>
        Either.isLeft(result)
          ? Effect.logWarning("watcher error; retrying after backoff").pipe(
              Effect.annotateLogs({
                kind: type.kind,
                reason: result.left.reason,
                operation: result.left.operation,
                message: result.left.message,
              }),
            )
          : Effect.void,
      ),
      Backoff.withBackoff(policy),
      Stream.filterMap(Either.getRight),
    )
