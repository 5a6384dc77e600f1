import { assert, layer } from "@effect/vitest"
import { Effect, Exit, Layer, Ref, Schedule, Scope } from "effect"
import * as KubeClient from "../src/KubeClient.ts"
import * as KubeConfig from "../src/KubeConfig.ts"
import * as LeaderElection from "../src/LeaderElection.ts"
import * as ResourceType from "../src/ResourceType.ts"
import * as StallingProxy from "./StallingProxy.ts"

// Against the local control plane (KUBECONFIG from the vitest global setup).
const namespace = `leader-election-${Date.now().toString(36)}`

const TestNamespace = Layer.scopedDiscard(
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    yield* Effect.acquireRelease(
      Effect.orDie(client.create(ResourceType.Namespace, { metadata: { name: namespace } })),
      () => Effect.ignore(client.delete(ResourceType.Namespace, namespace)),
    )
  }),
).pipe(Layer.provideMerge(KubeClient.layer), Layer.provideMerge(KubeConfig.layerFromDefault), Layer.orDie)

const readLease = (name: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    Effect.orDie(client.get(ResourceType.Lease, name, { namespace })),
  ).pipe(Effect.map((lease) => lease.spec ?? {}))

/** Retries `check` until it succeeds; the generous bound keeps slow machines green. */
const eventually = <A, E, R>(check: Effect.Effect<A, E, R>) =>
  check.pipe(Effect.retry(Schedule.spaced("200 millis")), Effect.timeout("45 seconds"), Effect.orDie)

const expect = (condition: boolean, message: string) =>
  condition ? Effect.void : Effect.fail(new Error(message))

/** Counts leaders running at once across all electors of a test, and who ran. */
const makeTracker = Effect.gen(function* () {
  const active = yield* Ref.make(0)
  const maxActive = yield* Ref.make(0)
  const started = yield* Ref.make<ReadonlyArray<string>>([])
  const interrupted = yield* Ref.make<ReadonlyArray<string>>([])
  const work = (identity: string) =>
    Effect.acquireRelease(
      Ref.updateAndGet(active, (n) => n + 1).pipe(
        Effect.tap((n) => Ref.update(maxActive, (m) => Math.max(m, n))),
        Effect.zipRight(Ref.update(started, (s) => [...s, identity])),
      ),
      () =>
        Ref.update(active, (n) => n - 1).pipe(
          Effect.zipRight(Ref.update(interrupted, (s) => [...s, identity])),
        ),
    ).pipe(Effect.zipRight(Effect.never), Effect.scoped)
  return { work, maxActive, started, interrupted }
})

/** An elector living in its own scope, running `work` while it leads. */
const startElector = (options: LeaderElection.Options, work: (identity: string) => Effect.Effect<never>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const elector = yield* LeaderElection.make(options).pipe(Scope.extend(scope))
    yield* Effect.forkIn(elector.runWhileLeader(work(options.identity)), scope)
    return { elector, close: Scope.close(scope, Exit.void) }
  })

layer(TestNamespace, { timeout: "3 minutes", excludeTestServices: true })(
  "LeaderElection against the API server",
  (it) => {
    it.scoped(
      "closing gives up releasing the Lease after renewDeadline when the API server stops answering",
      () =>
        Effect.gen(function* () {
          const proxy = yield* StallingProxy.make(yield* KubeConfig.KubeConfig)
          const scope = yield* Scope.make()
          // A client of its own whose connections go through the proxy.
          const client = yield* KubeClient.make().pipe(
            Effect.provideService(KubeConfig.KubeConfig, proxy.kubeConfig),
            Scope.extend(scope),
          )
          const elector = yield* LeaderElection.make({
            namespace,
            name: "stalled",
            identity: "a",
            leaseDuration: "15 seconds",
            renewDeadline: "1 second",
            retryPeriod: "300 millis",
          }).pipe(Scope.extend(scope), Effect.provideService(KubeClient.KubeClient, client))
          yield* eventually(Effect.flatMap(elector.isLeader, (l) => expect(l, "waiting to lead")))
          yield* proxy.stall
          // The release's request never gets an answer: closing ends once renewDeadline is spent,
          // instead of waiting on it (it ran uninterruptibly inside the finalizer, so forever).
          yield* Scope.close(scope, Exit.void).pipe(
            Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("closing hung") }),
          )
          assert.isFalse(yield* elector.isLeader)
        }),
    )

    it.effect("exactly one of two electors leads; closing the leader hands over at once", () =>
      Effect.gen(function* () {
        const tracker = yield* makeTracker
        // A 60 s lease: a takeover within the test's bound can only come from the release.
        const timing = {
          leaseDuration: "60 seconds",
          renewDeadline: "10 seconds",
          retryPeriod: "300 millis",
        } as const
        const a = yield* startElector({ namespace, name: "handover", identity: "a", ...timing }, tracker.work)
        const b = yield* startElector({ namespace, name: "handover", identity: "b", ...timing }, tracker.work)

        const leader = yield* eventually(
          Effect.gen(function* () {
            const [la, lb] = [yield* a.elector.isLeader, yield* b.elector.isLeader]
            yield* expect(la !== lb, "waiting for exactly one leader")
            return la ? "a" : "b"
          }),
        )
        const [first, second] = leader === "a" ? [a, b] : [b, a]
        const follower = leader === "a" ? "b" : "a"
        let spec = yield* readLease("handover")
        assert.strictEqual(spec.holderIdentity, leader)
        assert.strictEqual(spec.leaseTransitions, 0)
        // The follower keeps following while the leader renews.
        yield* Effect.sleep("1 second")
        assert.isFalse(yield* second.elector.isLeader)

        yield* first.close
        yield* eventually(
          Effect.flatMap(second.elector.isLeader, (l) => expect(l, "waiting for the follower")),
        )
        spec = yield* readLease("handover")
        assert.strictEqual(spec.holderIdentity, follower)
        assert.strictEqual(spec.leaseTransitions, 1)
        yield* second.close

        assert.strictEqual(yield* Ref.get(tracker.maxActive), 1)
        assert.deepStrictEqual(yield* Ref.get(tracker.started), [leader, follower])
        assert.deepStrictEqual(yield* Ref.get(tracker.interrupted), [leader, follower])
        // The last leader released too: nobody holds the lease.
        assert.strictEqual((yield* readLease("handover")).holderIdentity ?? "", "")
      }),
    )

    it.effect("a leader that stops without releasing is replaced once the lease expires", () =>
      Effect.gen(function* () {
        const tracker = yield* makeTracker
        const timing = {
          leaseDuration: "3 seconds",
          renewDeadline: "2 seconds",
          retryPeriod: "300 millis",
        } as const
        const a = yield* startElector(
          { namespace, name: "crash", identity: "a", releaseOnClose: false, ...timing },
          tracker.work,
        )
        yield* a.elector.awaitLeadership.pipe(Effect.timeout("45 seconds"), Effect.orDie)
        const b = yield* startElector({ namespace, name: "crash", identity: "b", ...timing }, tracker.work)

        // Stops renewing like a crashed process: the Lease still names "a".
        yield* a.close
        assert.strictEqual((yield* readLease("crash")).holderIdentity, "a")
        assert.isFalse(yield* b.elector.isLeader)

        yield* b.elector.awaitLeadership.pipe(Effect.timeout("45 seconds"), Effect.orDie)
        const spec = yield* readLease("crash")
        assert.strictEqual(spec.holderIdentity, "b")
        assert.strictEqual(spec.leaseTransitions, 1)
        yield* b.close
        assert.strictEqual(yield* Ref.get(tracker.maxActive), 1)
        assert.deepStrictEqual(yield* Ref.get(tracker.started), ["a", "b"])
      }),
    )

    it.effect("the work is interrupted as soon as another holder shows up in the lease", () =>
      Effect.gen(function* () {
        const tracker = yield* makeTracker
        const timing = {
          leaseDuration: "5 seconds",
          renewDeadline: "3 seconds",
          retryPeriod: "300 millis",
        } as const
        const a = yield* startElector({ namespace, name: "usurped", identity: "a", ...timing }, tracker.work)
        yield* a.elector.awaitLeadership.pipe(Effect.timeout("45 seconds"), Effect.orDie)

        // Someone outside this process takes the lease for a minute.
        const client = yield* KubeClient.KubeClient
        yield* Effect.gen(function* () {
          const lease = yield* client.get(ResourceType.Lease, "usurped", { namespace })
          const renewTime = new Date().toISOString().replace(/Z$/, "000Z")
          const spec = { ...lease.spec, holderIdentity: "intruder", leaseDurationSeconds: 60, renewTime }
          yield* client.replace(ResourceType.Lease, { ...lease, spec }, { namespace })
        }).pipe(Effect.retry({ times: 5 }), Effect.orDie)

        yield* eventually(
          Effect.flatMap(Ref.get(tracker.interrupted), (s) =>
            expect(s.includes("a"), "waiting for interruption"),
          ),
        )
        assert.isFalse(yield* a.elector.isLeader)
        // Not ours any more: closing must not clear it.
        yield* a.close
        assert.strictEqual((yield* readLease("usurped")).holderIdentity, "intruder")
      }),
    )
  },
)
