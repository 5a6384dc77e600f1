import { Exec } from "@agent-sandbox/kube"
import { Eventually, Http, TestCluster } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Context, Duration, Effect, Layer } from "effect"
import * as TerminalClient from "./TerminalClient.ts"
import * as TerminalHarness from "./TerminalHarness.ts"

class Env extends Context.Tag("TerminalServerEnv")<
  Env,
  TerminalHarness.TerminalSetup & { readonly wsproxy: TerminalHarness.RunningWsproxy }
>() {}

const env = Layer.scoped(
  Env,
  Effect.gen(function* () {
    const setup = yield* TerminalHarness.setup("wsproxy", 3)
    const wsproxy = yield* setup.startWsproxy({ maxSessionsPerSandbox: 2 })
    return { ...setup, wsproxy }
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

/** The shell's first prompt: input typed before the shell set up its terminal may be dropped. */
const prompted = (terminal: TerminalClient.TerminalClient) => terminal.waitFor(/[$#] $/m)

const socketUrl = (base: string, path: string, token: string) =>
  `${base.replace(/^http/, "ws")}${path}?token=${encodeURIComponent(token)}`

/** A fresh terminal token for the tenant's sandbox: its WebSocket URL. */
const grant = (api: string, key: string, id: string, wsproxy: string) =>
  Effect.flatMap(TerminalHarness.terminalToken(api, key, id), (r) =>
    r.status === 201 ? Effect.succeed(socketUrl(wsproxy, r.body.path, r.body.token)) : Effect.fail(r),
  )

/** Whether a process with this pid still runs where the sandbox's commands run. */
const alive = (namespace: string, pod: string, pid: number) =>
  Effect.map(
    Exec.execCollect({
      namespace,
      pod,
      command: ["sh", "-c", 'kill -0 "$1" 2>/dev/null && echo alive || echo gone', "sh", String(pid)],
    }),
    (result) => result.stdout.trim() === "alive",
  )

layer(env, { timeout: "240 seconds", excludeTestServices: true })("wsproxy terminals", (it) => {
  it.scoped(
    "a tenant's token opens a shell under a TTY that follows resizes; closing the socket kills the shell",
    () =>
      Effect.gen(function* () {
        const { api, keys, wsproxy, namespace } = yield* Env
        const sandbox = yield* TerminalHarness.allocate(api, keys.tenantA)
        const url = yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url)
        const terminal = yield* TerminalClient.open(url)
        yield* prompted(terminal)
        yield* terminal.resize(100, 30)
        yield* terminal.type("echo hello; tty; stty size; echo pid=$$\r")
        const first = yield* terminal.waitFor(/pid=\d+/)
        assert.include(first, "hello")
        assert.match(first, /\/dev\/pts\/\d+/)
        assert.include(first, "30 100")
        const pid = Number(/pid=(\d+)/.exec(first)?.[1])
        assert.strictEqual(yield* wsproxy.sessions.open(sandbox.id), 1)

        const mark = terminal.screen().length
        yield* terminal.resize(120, 40)
        yield* terminal.type("stty size\r")
        yield* terminal.waitFor("40 120", mark)

        assert.isTrue(yield* alive(namespace, sandbox.pod, pid))
        yield* terminal.close
        yield* Eventually.eventually(
          Effect.flatMap(wsproxy.sessions.open(sandbox.id), (n) => (n === 0 ? Effect.void : Effect.fail(n))),
        )
        yield* Eventually.eventually(
          Effect.flatMap(alive(namespace, sandbox.pod, pid), (up) =>
            up ? Effect.fail("alive") : Effect.void,
          ),
        )
      }),
  )

  it.scoped("the shell's exit closes the socket with its exit code", () =>
    Effect.gen(function* () {
      const { api, keys, wsproxy } = yield* Env
      const sandbox = yield* TerminalHarness.allocate(api, keys.tenantA)
      const terminal = yield* TerminalClient.open(yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url))
      yield* prompted(terminal)
      yield* terminal.type("echo ready\r")
      yield* terminal.waitFor("ready")
      yield* terminal.type("exit 3\r")
      assert.deepStrictEqual(yield* terminal.closed, { code: 1000, reason: "exited 3" })
      yield* Eventually.eventually(
        Effect.flatMap(wsproxy.sessions.open(sandbox.id), (n) => (n === 0 ? Effect.void : Effect.fail(n))),
      )
    }),
  )

  it.scoped("a token opens one terminal once, for its own sandbox and tenant only", () =>
    Effect.gen(function* () {
      const { api, keys, wsproxy } = yield* Env
      const sandbox = yield* TerminalHarness.allocate(api, keys.tenantA)
      // Another tenant cannot even get a token.
      const foreign = yield* TerminalHarness.terminalToken(api, keys.tenantB, sandbox.id)
      assert.strictEqual(foreign.status, 404)
      assert.strictEqual(foreign.body._tag, "SandboxNotFound")

      const url = yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url)
      const first = yield* TerminalClient.open(url)
      yield* prompted(first)
      yield* first.type("echo one\r")
      yield* first.waitFor("one")
      const replay = yield* TerminalClient.open(url)
      assert.deepStrictEqual(yield* replay.closed, {
        code: 4401,
        reason: "the terminal token was already used",
      })

      const other = yield* TerminalHarness.allocate(api, keys.tenantA)
      const elsewhere = (yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url)).replace(
        sandbox.id,
        other.id,
      )
      const wrong = yield* TerminalClient.open(elsewhere)
      assert.deepStrictEqual(yield* wrong.closed, {
        code: 4401,
        reason: "the terminal token is for another sandbox",
      })

      const forged = yield* TerminalClient.open(`${url.replace(/\?token=.*/, "")}?token=abc.def`)
      assert.strictEqual((yield* forged.closed).code, 4401)
      yield* first.close
    }),
  )

  it.scoped("refuses foreign origins before the upgrade and more terminals than the limit", () =>
    Effect.gen(function* () {
      const { api, keys, wsproxy } = yield* Env
      const sandbox = yield* TerminalHarness.allocate(api, keys.tenantA)
      const refused = yield* Effect.flip(
        TerminalClient.open(yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url), {
          origin: "http://evil.test",
        }),
      )
      assert.strictEqual(refused, 403)
      const same = yield* TerminalClient.open(yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url), {
        origin: wsproxy.url,
      })
      const second = yield* TerminalClient.open(yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url))
      yield* prompted(second)
      yield* second.type("echo two\r")
      yield* second.waitFor("two")
      const third = yield* TerminalClient.open(yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url))
      const closed = yield* third.closed
      assert.strictEqual(closed.code, 4429)
      yield* same.close
      yield* second.close
    }),
  )

  it.scoped("a token of a released sandbox opens nothing", () =>
    Effect.gen(function* () {
      const { api, keys, wsproxy } = yield* Env
      const sandbox = yield* TerminalHarness.allocate(api, keys.tenantA)
      const url = yield* grant(api, keys.tenantA, sandbox.id, wsproxy.url)
      const released = yield* Http.call(`${api}/v1/sandboxes/${sandbox.id}`, {
        method: "DELETE",
        key: keys.tenantA,
      })
      assert.strictEqual(released.status, 204)
      // The release's one write took the sandbox's labels off the Pod before it answered.
      const terminal = yield* Effect.flatMap(TerminalClient.open(url), (t) => t.closed)
      assert.deepStrictEqual(terminal, { code: 4404, reason: `sandbox ${sandbox.id} has ended` })
    }),
  )

  it.scoped("an idle terminal is closed and its shell killed", () =>
    Effect.gen(function* () {
      const { api, keys, namespace, startWsproxy } = yield* Env
      const quick = yield* startWsproxy({ idleTimeout: Duration.seconds(2) })
      const sandbox = yield* TerminalHarness.allocate(api, keys.tenantA)
      const terminal = yield* TerminalClient.open(yield* grant(api, keys.tenantA, sandbox.id, quick.url))
      yield* prompted(terminal)
      yield* terminal.type("echo pid=$$\r")
      const pid = Number(/pid=(\d+)/.exec(yield* terminal.waitFor(/pid=\d+/))?.[1])
      assert.deepStrictEqual(yield* terminal.closed, { code: 4408, reason: "idle timeout" })
      yield* Eventually.eventually(
        Effect.flatMap(alive(namespace, sandbox.pod, pid), (up) => (up ? Effect.fail("alive") : Effect.void)),
      )
    }),
  )
})
