/**
 * The peer's allocation as its users meet it: create a SandboxClaim, then wait for the claim's Ready
 * condition, seen by a watch (what a client of the peer does; no polling). Release: delete the claim
 * and wait until the watch sees it gone. One watch per round, opened before the first create from an
 * (empty) list's resourceVersion, so no event is missed.
 */
import { KubeClient } from "@agent-sandbox/kube"
import { Deferred, Duration, Effect, Stream } from "effect"
import { type LoadOptions, type LoadResult, runLoad } from "../support/LoadLoop.ts"
import * as Peer from "./PeerResources.ts"

export interface ClaimRun {
  readonly result: LoadResult
  /** The claims that became Ready, to release later. */
  readonly names: ReadonlyArray<string>
  /** Each Ready claim as the watch showed it then (its status names the Sandbox). */
  readonly ready: ReadonlyMap<string, Peer.SandboxClaim>
}

const waitLimit = Duration.seconds(60)

/** Watches the round's claims; `onEvent` sees every change. Forked into the caller's scope. */
const watchRound = (
  namespace: string,
  round: string,
  onEvent: (type: "ADDED" | "MODIFIED" | "DELETED", claim: Peer.SandboxClaim) => Effect.Effect<void>,
) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const labelSelector = `${Peer.roundLabel}=${round}`
    const listed = yield* client.list(Peer.SandboxClaimResource, { namespace, labelSelector })
    yield* client
      .watch(Peer.SandboxClaimResource, { namespace, labelSelector, resourceVersion: listed.resourceVersion })
      .pipe(
        Stream.runForEach((event) =>
          event.type === "ADDED" || event.type === "MODIFIED" || event.type === "DELETED"
            ? onEvent(event.type, event.object)
            : Effect.void,
        ),
        Effect.forkScoped,
      )
    return listed.items
  })

/** Claims `count` warm sandboxes, `concurrency` at a time: create → Ready, each timed. */
export const claimRound = (
  options: LoadOptions & { readonly namespace: string; readonly pool: string; readonly round: string },
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* KubeClient.KubeClient
      const name = (i: number) => `${options.round}-${i}`
      const ready = new Map<string, Deferred.Deferred<void>>()
      const last = new Map<string, Peer.SandboxClaim>()
      const readyClaims = new Map<string, Peer.SandboxClaim>()
      for (let i = 0; i < options.count; i++) ready.set(name(i), yield* Deferred.make<void>())
      yield* watchRound(options.namespace, options.round, (type, claim) =>
        Effect.suspend(() => {
          const key = claim.metadata?.name ?? ""
          last.set(key, claim)
          const waiting = ready.get(key)
          if (type === "DELETED" || waiting === undefined || !Peer.isReady(claim)) return Effect.void
          if (!readyClaims.has(key)) readyClaims.set(key, claim)
          return Deferred.succeed(waiting, undefined)
        }),
      )
      const names: Array<string> = []
      const result = yield* runLoad(options, (i) =>
        client
          .create(
            Peer.SandboxClaimResource,
            Peer.claim(options.namespace, name(i), options.pool, options.round),
            {
              namespace: options.namespace,
            },
          )
          .pipe(
            Effect.mapError((e) => `create: ${e.reason}`),
            Effect.zipRight(
              Deferred.await(ready.get(name(i))!).pipe(
                Effect.timeoutFail({
                  duration: waitLimit,
                  onTimeout: () => {
                    const seen = last.get(name(i))
                    return `not Ready within 60 s (${seen === undefined ? "never seen" : Peer.notReadyReason(seen)})`
                  },
                }),
              ),
            ),
            Effect.tap(() => Effect.sync(() => names.push(name(i)))),
          ),
      )
      return { result, names, ready: readyClaims } satisfies ClaimRun
    }),
  )

/** Deletes the claims, `concurrency` at a time: delete → the watch sees the claim gone, each timed. */
export const releaseRound = (options: {
  readonly namespace: string
  readonly round: string
  readonly names: ReadonlyArray<string>
  readonly concurrency: number
}) =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* KubeClient.KubeClient
      const gone = new Map<string, Deferred.Deferred<void>>()
      for (const n of options.names) gone.set(n, yield* Deferred.make<void>())
      yield* watchRound(options.namespace, options.round, (type, claim) => {
        const waiting = gone.get(claim.metadata?.name ?? "")
        return type === "DELETED" && waiting !== undefined
          ? Deferred.succeed(waiting, undefined)
          : Effect.void
      })
      const result = yield* runLoad(
        { count: options.names.length, concurrency: options.concurrency, timeLimit: Duration.minutes(2) },
        (i) => {
          const n = options.names[i]!
          return client.delete(Peer.SandboxClaimResource, n, { namespace: options.namespace }).pipe(
            Effect.mapError((e) => `delete: ${e.reason}`),
            Effect.zipRight(
              Deferred.await(gone.get(n)!).pipe(
                Effect.timeoutFail({ duration: waitLimit, onTimeout: () => "still there after 60 s" }),
              ),
            ),
          )
        },
      )
      return { result }
    }),
  )
