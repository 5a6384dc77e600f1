import { createServer, type ServerResponse } from "node:http"
import { connect, type Socket } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import * as CoalescedWrites from "../src/CoalescedWrites.ts"

/** A server answering with `respond`, and a raw client socket that records each read. */
const serve = async (respond: (res: ServerResponse) => void) => {
  const server = createServer((_req, res) => {
    CoalescedWrites.coalesce(res)
    respond(res)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as { port: number }).port
  const reads: Array<string> = []
  const socket: Socket = connect(port, "127.0.0.1")
  socket.setEncoding("latin1")
  socket.on("data", (chunk: string) => reads.push(chunk))
  await new Promise<void>((resolve) => socket.once("connect", resolve))
  socket.write("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n")
  closers.push(async () => {
    socket.destroy()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return reads
}

const closers: Array<() => Promise<void>> = []

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe("CoalescedWrites", () => {
  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
  })

  it("a turn's writes and the response's end leave in one piece: headers, chunks, terminator", async () => {
    const reads = await serve((res) => {
      res.writeHead(200, { "content-type": "application/connect+json" })
      res.write("start;")
      res.write("end-event;")
      res.write("end-of-stream;")
      res.end()
    })
    await until(() => reads.join("").endsWith("0\r\n\r\n"))
    expect(reads).toHaveLength(1)
    expect(reads[0]).toContain("start;")
    expect(reads[0]).toContain("end-of-stream;")
  })

  it("a write is not held past its turn: a stream's output arrives while the response is open", async () => {
    let res: ServerResponse | undefined
    const reads = await serve((response) => {
      res = response
      response.writeHead(200)
      response.write("first output;")
    })
    await until(() => reads.join("").includes("first output;"))
    res?.write("second output;")
    await until(() => reads.join("").includes("second output;"))
    expect(res?.writableEnded).toBe(false)
    res?.end()
    await until(() => reads.join("").endsWith("0\r\n\r\n"))
  })
})
