import { Exec } from "@agent-sandbox/kube"
import { Eventually, TestCluster } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as Browser from "./Browser.ts"
import * as TerminalHarness from "./TerminalHarness.ts"

class Env extends Context.Tag("TerminalPageEnv")<
  Env,
  TerminalHarness.TerminalSetup & { readonly wsproxy: TerminalHarness.RunningWsproxy }
>() {}

const env = Layer.scoped(
  Env,
  Effect.gen(function* () {
    const setup = yield* TerminalHarness.setup("wsproxy-page", 2)
    const wsproxy = yield* setup.startWsproxy()
    return { ...setup, wsproxy }
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

const screenshot = new URL("../../../docs/terminal.png", import.meta.url).pathname

layer(env, { timeout: "300 seconds", excludeTestServices: true })("the terminal page in Chromium", (it) => {
  it.scoped(
    "lists the tenant's sandboxes, runs commands, follows a window resize and ends the shell when the tab closes",
    () =>
      Effect.gen(function* () {
        const { api, keys, wsproxy, namespace } = yield* Env
        const mine = yield* TerminalHarness.allocate(api, keys.tenantA)
        const theirs = yield* TerminalHarness.allocate(api, keys.tenantB)
        const browser = yield* Browser.launch
        const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1000, height: 600 } }))
        const run = <A>(f: () => Promise<A>) => Effect.promise(f)

        yield* run(() => page.goto(wsproxy.url))
        yield* run(() => page.fill("#key", keys.tenantA))
        yield* run(() => page.click("#list"))
        yield* run(() => page.waitForSelector(`button[data-sandbox="${mine.id}"]`))
        assert.strictEqual(yield* run(() => page.locator(`button[data-sandbox="${theirs.id}"]`).count()), 0)

        yield* run(() => page.click(`button[data-sandbox="${mine.id}"]`))
        yield* run(() => page.waitForSelector('body[data-terminal="open"]'))
        const screen = run(async () =>
          // biome-ignore lint/performance/useDomNodeTextContent: each row is a block: innerText keeps the line breaks.
          (await page.locator(".xterm-rows").innerText())
            .replaceAll("\u00a0", " ")
            .split("\n")
            .map((line) => line.trimEnd())
            .join("\n"),
        )
        const size = run(async () => {
          const box = page.locator("#terminal")
          return `${await box.getAttribute("data-rows")} ${await box.getAttribute("data-cols")}`
        })
        const until = (check: (text: string) => boolean) =>
          Eventually.eventually(
            Effect.flatMap(screen, (text) => (check(text) ? Effect.succeed(text) : Effect.fail(text))),
            { timeout: "45 seconds" },
          )

        // The shell's prompt first: what is typed before the shell set up its terminal may be dropped.
        yield* until((text) => /[$#]/.test(text))
        yield* run(() => page.keyboard.type("echo hello; tty; stty size; echo pid=$$"))
        yield* run(() => page.keyboard.press("Enter"))
        const first = yield* until((text) => /pid=\d+/.test(text))
        const firstSize = yield* size
        yield* run(() => page.screenshot({ path: screenshot }))
        assert.match(first, /^hello$/m, first)
        assert.match(first, /\/dev\/pts\/\d+/, first)
        assert.match(first, new RegExp(`^${firstSize}$`, "m"), first)
        const pid = Number(/pid=(\d+)/.exec(first)?.[1])

        yield* run(() => page.setViewportSize({ width: 640, height: 360 }))
        yield* Eventually.eventually(
          Effect.flatMap(size, (now) => (now !== firstSize ? Effect.succeed(now) : Effect.fail(now))),
        )
        const smaller = yield* size
        yield* run(() => page.keyboard.type("clear; stty size"))
        yield* run(() => page.keyboard.press("Enter"))
        yield* until((text) => new RegExp(`^${smaller}$`, "m").test(text))
        const [rows, cols] = smaller.split(" ").map(Number) as [number, number]
        const [firstRows, firstCols] = firstSize.split(" ").map(Number) as [number, number]
        assert.isBelow(rows, firstRows)
        assert.isBelow(cols, firstCols)

        const alive = Effect.map(
          Exec.execCollect({
            namespace,
            pod: mine.pod,
            command: ["sh", "-c", 'kill -0 "$1" 2>/dev/null && echo alive || echo gone', "sh", String(pid)],
          }),
          (result) => result.stdout.trim() === "alive",
        )
        assert.isTrue(yield* alive)
        assert.strictEqual(yield* wsproxy.sessions.open(mine.id), 1)
        yield* run(() => page.close())
        yield* Eventually.eventually(
          Effect.flatMap(wsproxy.sessions.open(mine.id), (n) => (n === 0 ? Effect.void : Effect.fail(n))),
        )
        yield* Eventually.eventually(Effect.flatMap(alive, (up) => (up ? Effect.fail("alive") : Effect.void)))
      }),
  )
})
