import { createHash, randomBytes } from "node:crypto"
import { gzipSync } from "node:zlib"
import { ConnectError } from "@connectrpc/connect"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { EventType, FileType } from "../src/gen/filesystem/filesystem_pb.ts"
import { EnvdServer, layer as envdLayer, filesystemClient, headers, processClient } from "./EnvdCluster.ts"

const errorOf = async (promise: Promise<unknown>): Promise<ConnectError> => {
  try {
    await promise
  } catch (error) {
    return ConnectError.from(error)
  }
  throw new Error("expected the call to fail")
}

/** Processes in the sandbox whose command line mentions `text` (KWOK runs them on this machine). */
const processesMentioning = async (url: string, text: string): Promise<number> => {
  const script =
    'n=0; for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null | grep -qF -- "$1" && n=$((n + 1)); done; echo $n'
  let out = ""
  for await (const { event } of processClient(url).start({
    process: { cmd: "/bin/sh", args: ["-c", script, "count", text] },
    stdin: false,
  })) {
    if (event?.event.case === "data" && event.event.value.output.case === "stdout") {
      out += new TextDecoder().decode(event.event.value.output.value)
    }
  }
  // The counting shell itself mentions the text once.
  return Number(out.trim()) - 1
}

const eventuallyNone = (url: string, text: string) =>
  Effect.gen(function* () {
    let left = -1
    for (let i = 0; i < 100 && left !== 0; i++) {
      left = yield* Effect.promise(() => processesMentioning(url, text))
      if (left !== 0) yield* Effect.sleep("100 millis")
    }
    return left
  })

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const upload = async (
  url: string,
  files: ReadonlyArray<{ readonly path: string; readonly data: Uint8Array }>,
) => {
  const form = new FormData()
  for (const file of files) form.append("file", new Blob([file.data]), file.path)
  const response = await fetch(`${url}/files`, { method: "POST", body: form, headers })
  return { status: response.status, body: await response.json() }
}

const download = async (url: string, path: string) => {
  const response = await fetch(`${url}/files?${new URLSearchParams({ path, username: "user" })}`, { headers })
  return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()), response }
}

layer(envdLayer("envd-fs"), { timeout: "3 minutes", excludeTestServices: true })(
  "filesystem.Filesystem and /files over exec",
  (it) => {
    it.effect("writes and reads binary files (multipart), relative paths under $HOME", () =>
      Effect.gen(function* () {
        const { url, home } = yield* EnvdServer
        const data = Uint8Array.from({ length: 4096 }, (_, i) => i % 256)
        const written = yield* Effect.promise(() =>
          upload(url, [
            { path: "bin/data.bin", data },
            { path: `${home}/bin/other.bin`, data: data.subarray(0, 10) },
          ]),
        )
        assert.strictEqual(written.status, 200)
        assert.deepStrictEqual(written.body, [
          { path: `${home}/bin/data.bin`, name: "data.bin", type: "file" },
          { path: `${home}/bin/other.bin`, name: "other.bin", type: "file" },
        ])
        const read = yield* Effect.promise(() => download(url, "~/bin/data.bin"))
        assert.strictEqual(read.status, 200)
        assert.strictEqual(sha(read.bytes), sha(data))

        const empty = yield* Effect.promise(() =>
          upload(url, [{ path: "empty.txt", data: new Uint8Array(0) }]),
        )
        assert.strictEqual(empty.status, 200)
        const readEmpty = yield* Effect.promise(() => download(url, "empty.txt"))
        assert.strictEqual(readEmpty.bytes.length, 0)
        assert.strictEqual(readEmpty.response.headers.get("content-length"), "0")
      }),
    )

    it.effect("moves 10 MB each way (octet-stream, gzip and multipart uploads)", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const data = randomBytes(10 * 1024 * 1024)
        const raw = yield* Effect.promise(() =>
          fetch(`${url}/files?path=big/raw.bin`, {
            method: "POST",
            body: data,
            headers: { ...headers, "content-type": "application/octet-stream" },
          }).then((r) => r.status),
        )
        assert.strictEqual(raw, 200)
        const readRaw = yield* Effect.promise(() => download(url, "big/raw.bin"))
        assert.strictEqual(readRaw.bytes.length, data.length)
        assert.strictEqual(sha(readRaw.bytes), sha(data))

        const zipped = yield* Effect.promise(() =>
          fetch(`${url}/files?path=big/zipped.bin`, {
            method: "POST",
            body: gzipSync(data.subarray(0, 1024 * 1024)),
            headers: { ...headers, "content-type": "application/octet-stream", "content-encoding": "gzip" },
          }).then((r) => r.status),
        )
        assert.strictEqual(zipped, 200)
        const readZipped = yield* Effect.promise(() => download(url, "big/zipped.bin"))
        assert.strictEqual(sha(readZipped.bytes), sha(data.subarray(0, 1024 * 1024)))

        const form = yield* Effect.promise(() => upload(url, [{ path: "big/form.bin", data }]))
        assert.strictEqual(form.status, 200)
        const readForm = yield* Effect.promise(() => download(url, "big/form.bin"))
        assert.strictEqual(sha(readForm.bytes), sha(data))
      }),
    )

    it.effect("answers a missing file with envd's 404 JSON and a directory with 400", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const missing = yield* Effect.promise(() => fetch(`${url}/files?path=/no/such/file`, { headers }))
        assert.strictEqual(missing.status, 404)
        const body = (yield* Effect.promise(() => missing.json())) as { code: number; message: string }
        assert.strictEqual(body.code, 404)
        assert.include(body.message, "/no/such/file")
        const directory = yield* Effect.promise(() => fetch(`${url}/files?path=/`, { headers }))
        assert.strictEqual(directory.status, 400)
        const bothToOnePath = yield* Effect.promise(() =>
          upload(url, [
            { path: "same.txt", data: new Uint8Array(1) },
            { path: "same.txt", data: new Uint8Array(2) },
          ]),
        )
        assert.strictEqual(bothToOnePath.status, 400)
      }),
    )

    it.effect("Stat, MakeDir, ListDir with depth, Move and Remove", () =>
      Effect.gen(function* () {
        const { url, home } = yield* EnvdServer
        const fs = filesystemClient(url)
        const notFound = yield* Effect.promise(() => errorOf(fs.stat({ path: "tree/missing" })))
        assert.strictEqual(notFound.code, 5)

        const made = yield* Effect.promise(() => fs.makeDir({ path: "tree/a/b" }))
        assert.strictEqual(made.entry?.type, FileType.DIRECTORY)
        assert.strictEqual(made.entry?.path, `${home}/tree/a/b`)
        const again = yield* Effect.promise(() => errorOf(fs.makeDir({ path: "tree/a/b" })))
        assert.strictEqual(again.code, 6) // already_exists
        yield* Effect.promise(() =>
          upload(url, [{ path: "tree/a/b/c.txt", data: new TextEncoder().encode("abc") }]),
        )

        const stat = yield* Effect.promise(() => fs.stat({ path: "tree/a/b/c.txt" }))
        assert.strictEqual(stat.entry?.type, FileType.FILE)
        assert.strictEqual(stat.entry?.size, 3n)
        assert.strictEqual(stat.entry?.permissions.length, 10)

        const shallow = yield* Effect.promise(() => fs.listDir({ path: "tree", depth: 1 }))
        assert.deepStrictEqual(
          shallow.entries.map((e) => e.path),
          [`${home}/tree/a`],
        )
        const deep = yield* Effect.promise(() => fs.listDir({ path: "tree", depth: 3 }))
        assert.deepStrictEqual(deep.entries.map((e) => e.path).sort(), [
          `${home}/tree/a`,
          `${home}/tree/a/b`,
          `${home}/tree/a/b/c.txt`,
        ])
        const listMissing = yield* Effect.promise(() => errorOf(fs.listDir({ path: "tree/none" })))
        assert.strictEqual(listMissing.code, 5)

        const moved = yield* Effect.promise(() =>
          fs.move({ source: "tree/a/b/c.txt", destination: "tree/moved/into/c.txt" }),
        )
        assert.strictEqual(moved.entry?.path, `${home}/tree/moved/into/c.txt`)
        assert.strictEqual(moved.entry?.name, "c.txt")
        const moveMissing = yield* Effect.promise(() =>
          errorOf(fs.move({ source: "tree/a/b/c.txt", destination: "tree/x" })),
        )
        assert.strictEqual(moveMissing.code, 5)

        yield* Effect.promise(() => fs.remove({ path: "tree" }))
        const gone = yield* Effect.promise(() => errorOf(fs.stat({ path: "tree" })))
        assert.strictEqual(gone.code, 5)
        yield* Effect.promise(() => fs.remove({ path: "tree" }))
      }),
    )

    it.effect("WatchDir streams the creation of a file", () =>
      Effect.gen(function* () {
        const { url, home } = yield* EnvdServer
        const fs = filesystemClient(url)
        yield* Effect.promise(() => fs.makeDir({ path: "watched" }))
        const abort = new AbortController()
        const events = fs
          .watchDir({ path: "watched", recursive: false }, { signal: abort.signal })
          [Symbol.asyncIterator]()
        const first = yield* Effect.promise(() => events.next())
        assert.strictEqual(first.value?.event.case, "start")
        yield* Effect.promise(() =>
          upload(url, [{ path: "watched/new.txt", data: new TextEncoder().encode("x") }]),
        )
        let created = false
        while (!created) {
          const next = yield* Effect.promise(() => events.next())
          const event = next.value?.event
          if (
            event?.case === "filesystem" &&
            event.value.name === "new.txt" &&
            event.value.type === EventType.CREATE
          ) {
            created = true
          }
        }
        abort.abort()
        assert.isTrue(created)
        // The polling loop does not outlive the stream.
        assert.strictEqual(yield* eventuallyNone(url, `${home}/watched`), 0)
      }),
    )

    it.effect("a download whose client goes away leaves no reader behind", () =>
      Effect.gen(function* () {
        const { url, home } = yield* EnvdServer
        yield* Effect.promise(() =>
          fetch(`${url}/files?path=large.bin`, {
            method: "POST",
            body: new Uint8Array(8 * 1024 * 1024),
            headers: { ...headers, "content-type": "application/octet-stream" },
          }),
        )
        const abort = new AbortController()
        const response = yield* Effect.promise(() =>
          fetch(`${url}/files?path=large.bin`, { headers, signal: abort.signal }),
        )
        const reader = response.body!.getReader()
        yield* Effect.promise(() => reader.read())
        abort.abort()
        assert.strictEqual(yield* eventuallyNone(url, `${home}/large.bin`), 0)
      }),
    )

    it.effect("an upload whose client goes away leaves no writer behind", () =>
      Effect.gen(function* () {
        const { url, home } = yield* EnvdServer
        const abort = new AbortController()
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new Uint8Array(1000))
          },
        })
        const upload = fetch(`${url}/files?path=abandoned.bin`, {
          method: "POST",
          body,
          duplex: "half",
          signal: abort.signal,
          headers: { ...headers, "content-type": "application/octet-stream", "content-length": "1000000" },
        } as RequestInit).catch(() => undefined)
        let started = 0
        for (let i = 0; i < 100 && started === 0; i++) {
          started = yield* Effect.promise(() => processesMentioning(url, `${home}/abandoned.bin`))
          if (started === 0) yield* Effect.sleep("50 millis")
        }
        assert.isAbove(started, 0)
        abort.abort()
        yield* Effect.promise(() => upload)
        assert.strictEqual(yield* eventuallyNone(url, `${home}/abandoned.bin`), 0)
      }),
    )

    it.effect("the polling watcher: CreateWatcher, GetWatcherEvents, RemoveWatcher", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const fs = filesystemClient(url)
        yield* Effect.promise(() => fs.makeDir({ path: "polled" }))
        const { watcherId } = yield* Effect.promise(() =>
          fs.createWatcher({ path: "polled", recursive: true }),
        )
        yield* Effect.promise(() => upload(url, [{ path: "polled/deep/f.txt", data: new Uint8Array(3) }]))
        const names: Array<string> = []
        for (let i = 0; i < 100 && !names.includes("deep/f.txt"); i++) {
          const { events } = yield* Effect.promise(() => fs.getWatcherEvents({ watcherId }))
          names.push(...events.filter((e) => e.type === EventType.CREATE).map((e) => e.name))
          yield* Effect.sleep("100 millis")
        }
        assert.includeMembers(names, ["deep", "deep/f.txt"])
        yield* Effect.promise(() => fs.removeWatcher({ watcherId }))
        const removed = yield* Effect.promise(() => errorOf(fs.getWatcherEvents({ watcherId })))
        assert.strictEqual(removed.code, 5)
        const missing = yield* Effect.promise(() => errorOf(fs.createWatcher({ path: "polled/none" })))
        assert.strictEqual(missing.code, 5)
      }),
    )
  },
)
