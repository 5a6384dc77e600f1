import { assert, layer } from "@effect/vitest"
import * as k8s from "@kubernetes/client-node"
import { Chunk, Effect, Layer, Schedule, Stream } from "effect"
import * as Exec from "../src/Exec.ts"
import * as KubeConfig from "../src/KubeConfig.ts"
import * as WebSocketDialer from "../src/WebSocketDialer.ts"

// Against the local control plane, whose KWOK nodes run exec'd commands on this machine in a
// per-Pod working directory as an unprivileged user.
const namespace = `exec-${Date.now().toString(36)}`
const pod = "target"
const container = "main"

const isReady = (p: k8s.V1Pod) =>
  p.status?.phase === "Running" &&
  (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")

const TestPod = Layer.scopedDiscard(
  Effect.gen(function* () {
    const core = (yield* KubeConfig.KubeConfig).makeApiClient(k8s.CoreV1Api)
    yield* Effect.acquireRelease(
      Effect.promise(() => core.createNamespace({ body: { metadata: { name: namespace } } })),
      () => Effect.tryPromise(() => core.deleteNamespace({ name: namespace })).pipe(Effect.ignore),
    )
    yield* Effect.promise(() =>
      core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: pod },
          spec: {
            containers: [{ name: container, image: "busybox" }],
            // Whatever taints the fake nodes carry, this Pod may run there.
            tolerations: [{ operator: "Exists" }],
          },
        },
      }),
    )
    yield* Effect.tryPromise(() => core.readNamespacedPod({ namespace, name: pod })).pipe(
      Effect.filterOrFail(isReady, () => new Error("pod not ready yet")),
      Effect.retry(Schedule.spaced("250 millis")),
      Effect.timeout("90 seconds"),
      Effect.orDie,
    )
    // KWOK learns of the Pod's Exec object through a watch: exec works a moment after Ready.
    yield* Exec.execCollect({ namespace, pod, container, command: ["true"] }).pipe(
      Effect.filterOrFail(
        (result) => result.exitCode === 0,
        () => new Error("exec not served yet"),
      ),
      Effect.retry(Schedule.spaced("250 millis")),
      Effect.timeout("60 seconds"),
      Effect.orDie,
    )
  }),
).pipe(Layer.provideMerge(KubeConfig.layerFromDefault))

const text = (value: string) => new TextEncoder().encode(value)
const target = { namespace, pod, container }

layer(TestPod, { timeout: "3 minutes", excludeTestServices: true })(
  "Exec against KWOK through the API server",
  (it) => {
    it.effect("echo hello", () =>
      Effect.gen(function* () {
        const result = yield* Exec.execCollect({ ...target, command: ["echo", "hello"] })
        assert.deepStrictEqual(result, { exitCode: 0, stdout: "hello\n", stderr: "" })
      }),
    )

    it.effect("keeps stdout and stderr apart and reports the exit code", () =>
      Effect.gen(function* () {
        const result = yield* Exec.execCollect({
          ...target,
          command: ["sh", "-c", "echo out; echo err >&2; exit 3"],
        })
        assert.deepStrictEqual(result, { exitCode: 3, stdout: "out\n", stderr: "err\n" })
      }),
    )

    it.effect("pipes stdin into the command over v5.channel.k8s.io", () =>
      Effect.gen(function* () {
        const process = yield* Exec.exec({
          ...target,
          command: ["head", "-n", "2"],
          stdin: Stream.make(text("line one\n"), text("line two\n")),
        })
        assert.strictEqual(process.protocol, "v5.channel.k8s.io")
        const [stdout, status] = yield* Effect.all(
          [Stream.runCollect(Stream.decodeText(process.stdout)), process.status],
          { concurrency: 2 },
        )
        assert.strictEqual(Chunk.join(stdout, ""), "line one\nline two\n")
        assert.strictEqual(status.exitCode, 0)
      }).pipe(Effect.scoped),
    )

    it.effect("gives a tty without input a stdin of its own", () =>
      Effect.gen(function* () {
        // (KWOK's TTY exec would crash on a nil stdin; its pty also drops a fast command's output.)
        const result = yield* Exec.execCollect({ ...target, tty: true, command: ["sh", "-c", "exit 4"] })
        assert.strictEqual(result.exitCode, 4)
        const after = yield* Exec.execCollect({ ...target, command: ["echo", "still here"] })
        assert.strictEqual(after.stdout, "still here\n")
      }),
    )

    it.effect("runs under a tty that follows resizes", () =>
      Effect.gen(function* () {
        const process = yield* Exec.exec({
          ...target,
          // Reports its size a while and stops by itself (KWOK neither ends it on disconnect nor
          // passes on the end of stdin).
          command: ["sh", "-c", "i=0; while [ $i -lt 60 ]; do stty size; sleep 0.25; i=$((i+1)); done"],
          tty: true,
          resize: Stream.make({ cols: 123, rows: 45 }),
        })
        const seen = yield* Stream.decodeText(process.stdout).pipe(
          Stream.scan("", (all, part) => all + part),
          Stream.takeUntil((all) => all.includes("45 123")),
          Stream.runLast,
          Effect.timeout("45 seconds"),
        )
        assert.include(seen._tag === "Some" ? seen.value : "", "45 123")
      }).pipe(Effect.scoped),
    )

    it.effect("a megabyte of output arrives whole, also to a slow reader", () =>
      Effect.gen(function* () {
        const size = 1024 * 1024
        const command = ["sh", "-c", `yes abcdefghijklmno | head -c ${size}`]
        const expected = Buffer.from("abcdefghijklmno\n".repeat(size / 16))
        const collected = yield* Exec.execCollectBytes({ ...target, command })
        assert.strictEqual(collected.exitCode, 0)
        assert.strictEqual(collected.stdout.length, size)
        assert.isTrue(Buffer.from(collected.stdout).equals(expected))

        const slow = yield* Effect.scoped(
          Effect.gen(function* () {
            const process = yield* Exec.exec({ ...target, command })
            const chunks = yield* process.stdout.pipe(
              Stream.tap(() => Effect.sleep("5 millis")),
              Stream.runCollect,
            )
            return Buffer.concat(Chunk.toReadonlyArray(chunks))
          }),
        )
        assert.isTrue(slow.equals(expected))
      }),
    )

    it.effect("closing the scope ends a command that is still running", () =>
      Effect.gen(function* () {
        const status = yield* Effect.scoped(
          Effect.gen(function* () {
            const process = yield* Exec.exec({ ...target, command: ["sh", "-c", "echo started; sleep 5"] })
            yield* process.stdout.pipe(Stream.take(1), Stream.runDrain)
            return process.status
          }),
        )
        const outcome = yield* Effect.either(status)
        assert.strictEqual(outcome._tag, "Left")
      }),
    )

    it.effect("a command that cannot start fails the status instead of inventing an exit code", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Exec.execCollect({ ...target, command: ["no-such-command-here"] }))
        assert.strictEqual(error._tag, "KubeError")
        assert.include(error.message, "no-such-command-here")
      }),
    )

    it.effect("execs on one KubeConfig share its dialer (TLS context, sessions); another gets its own", () =>
      Effect.gen(function* () {
        const config = yield* KubeConfig.KubeConfig
        const dialer = yield* WebSocketDialer.forConfig(config)
        const results = yield* Effect.forEach(
          ["one", "two", "three"],
          (word) => Exec.execCollect({ ...target, command: ["echo", word] }),
          { concurrency: 3 },
        )
        assert.deepStrictEqual(
          results.map((result) => result.stdout),
          ["one\n", "two\n", "three\n"],
        )
        assert.strictEqual(yield* WebSocketDialer.forConfig(config), dialer)

        const other = new k8s.KubeConfig()
        other.loadFromDefault()
        assert.notStrictEqual(yield* WebSocketDialer.forConfig(other), dialer)
        const result = yield* Exec.execCollect({ ...target, command: ["echo", "other"] }).pipe(
          Effect.provideService(KubeConfig.KubeConfig, other),
        )
        assert.strictEqual(result.stdout, "other\n")
      }),
    )

    it.effect("an unknown pod is a NotFound KubeError", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Exec.execCollect({ ...target, pod: "missing", command: ["true"] }))
        assert.strictEqual(error.reason, "NotFound")
      }),
    )
  },
)
