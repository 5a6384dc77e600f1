import {
  Clock,
  Context,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  Random,
  Ref,
  type Scope,
  Stream,
  SubscriptionRef,
} from "effect"
import { KubeClient } from "./KubeClient.ts"
import type * as KubeError from "./KubeError.ts"
import * as Decision from "./LeaderElectionDecision.ts"
import { type LeaseStore, makeLeaseStore, recordFromLease } from "./LeaderElectionLease.ts"

export interface Options {
  readonly namespace: string
  /** Name of the coordination.k8s.io/v1 Lease; created on first use. */
  readonly name: string
  /** Unique per replica (e.g. the Pod name): the Lease's holderIdentity while we lead. */
  readonly identity: string
  /** How long others wait after the last renewal they observed before taking over. Default 15 s. */
  readonly leaseDuration?: Duration.DurationInput
  /** A leader that cannot renew for this long steps down. Default 10 s. */
  readonly renewDeadline?: Duration.DurationInput
  /** Pause between attempts to acquire or renew. Default 2 s. */
  readonly retryPeriod?: Duration.DurationInput
  /**
   * Clear the Lease when the scope closes so a successor takes over at its next attempt.
   * Default true; false leaves the Lease to expire (as a crashed process would).
   */
  readonly releaseOnClose?: boolean
}

export interface LeaderElectionShape {
  readonly identity: string
  /** Whether this replica currently leads (renewed within renewDeadline). */
  readonly isLeader: Effect.Effect<boolean>
  /** The current leadership, then every change: for probes and metrics. */
  readonly changes: Stream.Stream<boolean>
  /** Completes once this replica leads. */
  readonly awaitLeadership: Effect.Effect<void>
  /**
   * Runs `effect` each time this replica becomes leader and interrupts it as soon as
   * leadership is lost; then waits to lead again. Never succeeds; fails with the effect's error.
   */
  readonly runWhileLeader: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<never, E, R>
}

export class LeaderElection extends Context.Tag("@agent-sandbox/kube/LeaderElection")<
  LeaderElection,
  LeaderElectionShape
>() {}

interface ElectorState {
  readonly observation: Decision.Observation | undefined
  /** Local time at the start of our last successful write, while we lead. */
  readonly lastRenewedAt: number | undefined
}

const timestamp = (millis: number): string => new Date(millis).toISOString()

/** One read-decide-write round. Succeeds with whether we hold the Lease afterwards. */
const attempt = (
  store: LeaseStore,
  options: { readonly identity: string; readonly leaseDurationSeconds: number },
  state: Ref.Ref<ElectorState>,
): Effect.Effect<boolean, KubeError.KubeError> =>
  Effect.gen(function* () {
    const current = yield* store.get
    const now = yield* Clock.currentTimeMillis
    const previous = (yield* Ref.get(state)).observation
    const observation = Option.match(current, {
      onNone: () => undefined,
      onSome: (lease) => Decision.observe(previous, recordFromLease(lease), now),
    })
    yield* Ref.update(state, (s) => ({ ...s, observation }))
    const decision = Decision.decide(options.identity, observation, now)
    if (decision._tag === "Follow") return false
    const record = Decision.desiredRecord(
      decision,
      observation?.record,
      options.identity,
      options.leaseDurationSeconds,
      timestamp(now),
    )
    const written = Option.isSome(current)
      ? yield* store.replace(current.value, record)
      : yield* store.create(record)
    // Our own write is an observation too: it restarts the clock others also restart.
    yield* Ref.update(state, (s) => ({
      ...s,
      observation: Decision.observe(undefined, recordFromLease(written), now),
    }))
    return true
  })

const millis = (input: Duration.DurationInput): number => Duration.toMillis(Duration.decode(input))

/**
 * Campaigns for the Lease in the scope's lifetime, through the client in context; releases it when
 * the scope closes.
 */
export const make = (options: Options): Effect.Effect<LeaderElectionShape, never, KubeClient | Scope.Scope> =>
  Effect.gen(function* () {
    const timing: Decision.TimingMillis = {
      leaseDuration: millis(options.leaseDuration ?? "15 seconds"),
      renewDeadline: millis(options.renewDeadline ?? "10 seconds"),
      retryPeriod: millis(options.retryPeriod ?? "2 seconds"),
    }
    const invalid = Decision.validateTiming(timing)
    if (invalid !== undefined) return yield* Effect.dieMessage(`LeaderElection: ${invalid}`)
    const leaseDurationSeconds = Math.ceil(timing.leaseDuration / 1000)
    const { identity } = options
    const store = makeLeaseStore(yield* KubeClient, options.namespace, options.name)
    const leading = yield* SubscriptionRef.make(false)
    const state = yield* Ref.make<ElectorState>({ observation: undefined, lastRenewedAt: undefined })

    const setLeading = (value: boolean) =>
      SubscriptionRef.modify(leading, (was) => [was !== value, value] as const).pipe(
        Effect.flatMap((changed) =>
          changed ? Effect.logInfo(value ? "became leader" : "stopped leading") : Effect.void,
        ),
      )

    const round = Effect.gen(function* () {
      const start = yield* Clock.currentTimeMillis
      const { lastRenewedAt } = yield* Ref.get(state)
      const budget = Decision.attemptBudget(lastRenewedAt, start, timing.renewDeadline)
      const result = yield* attempt(store, { identity, leaseDurationSeconds }, state).pipe(
        Effect.timeout(Duration.millis(budget)),
        Effect.either,
      )
      if (Either.isRight(result)) {
        const holds = result.right
        yield* Ref.update(state, (s) => ({ ...s, lastRenewedAt: holds ? start : undefined }))
        yield* setLeading(holds)
        return holds
      }
      const error = result.left
      // Losing a write race to another candidate is the normal way of not being elected.
      const lostRace =
        error._tag === "KubeError" && (error.reason === "Conflict" || error.reason === "AlreadyExists")
      yield* lostRace && lastRenewedAt === undefined
        ? Effect.logDebug("another candidate wrote the lease first", error)
        : Effect.logWarning("lease attempt failed", error)
      const now = yield* Clock.currentTimeMillis
      if (lastRenewedAt !== undefined && Decision.renewalLapsed(lastRenewedAt, now, timing.renewDeadline)) {
        yield* Ref.update(state, (s) => ({ ...s, lastRenewedAt: undefined }))
        yield* setLeading(false)
        return false
      }
      return lastRenewedAt !== undefined
    })

    const campaign = Effect.gen(function* () {
      const holds = yield* round
      const random = yield* Random.next
      yield* Effect.sleep(Duration.millis(Decision.nextAttemptDelay(holds, timing.retryPeriod, random)))
    }).pipe(Effect.forever)

    // Runs as a finalizer, which is uninterruptible: the request is made interruptible so that the
    // timeout below can cut it short when the API server stops answering (etcd gone).
    const release = Effect.gen(function* () {
      yield* setLeading(false)
      if (options.releaseOnClose === false) return
      const current = yield* store.get
      if (Option.isNone(current)) return
      const record = recordFromLease(current.value)
      if (record.holderIdentity !== identity) return
      const now = yield* Clock.currentTimeMillis
      yield* store.replace(current.value, Decision.releasedRecord(record, timestamp(now)))
      yield* Effect.logInfo("released lease")
    }).pipe(
      // A write of ours still in flight may land first: re-read and try again.
      Effect.retry({ times: 3, while: (error) => error.reason === "Conflict" }),
      Effect.interruptible,
      Effect.timeout(Duration.millis(timing.renewDeadline)),
      Effect.catchAllCause((cause) => Effect.logWarning("lease release failed", cause)),
    )

    const annotations = { lease: `${options.namespace}/${options.name}`, identity }
    // Finalizers run in reverse: the campaign fiber stops before the release is written.
    yield* Effect.addFinalizer(() => release.pipe(Effect.annotateLogs(annotations)))
    yield* Effect.forkScoped(campaign.pipe(Effect.annotateLogs(annotations)))

    const awaitValue = (value: boolean) =>
      leading.changes.pipe(
        Stream.filter((v) => v === value),
        Stream.take(1),
        Stream.runDrain,
      )

    return {
      identity,
      isLeader: SubscriptionRef.get(leading),
      changes: leading.changes,
      awaitLeadership: awaitValue(true),
      runWhileLeader: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        awaitValue(true).pipe(
          Effect.zipRight(Effect.raceFirst(Effect.zipRight(effect, Effect.never), awaitValue(false))),
          Effect.forever,
        ),
    } satisfies LeaderElectionShape
  })

export const layer = (options: Options): Layer.Layer<LeaderElection, never, KubeClient> =>
  Layer.scoped(LeaderElection, make(options))
