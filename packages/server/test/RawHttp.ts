/** HTTP/1.1 by hand, for what fetch cannot do: a chunked body that never ends. */
import { connect } from "node:net"
import { Effect } from "effect"

/**
 * Sends `head` and then `bodyBytes` of chunked body in 64 KiB chunks, without the last chunk unless
 * `finish`: a body over the limit must be answered while the client could still be sending. The
 * answer's head and JSON body: all the server sent before it closed the connection, or, after
 * `finish`, the response once it is whole (a finished request keeps its connection).
 */
export const sendChunked = (port: number, head: string, bodyBytes: number, finish: boolean, body?: string) =>
  Effect.async<{ readonly head: string; readonly json: unknown }>((resume) => {
    const socket = connect(port, "127.0.0.1")
    let received = ""
    let answered = false
    const done = () => {
      if (answered) return
      answered = true
      const [headPart = "", rest = ""] = received.split("\r\n\r\n")
      let json: unknown
      try {
        json = JSON.parse(rest)
      } catch {
        json = rest
      }
      resume(Effect.succeed({ head: headPart, json }))
    }
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8")
      // A finished request under the limit keeps its connection: stop once the answer is whole.
      const [headPart, rest] = received.split("\r\n\r\n")
      const length = /content-length: (\d+)/i.exec(headPart ?? "")?.[1]
      if (finish && rest !== undefined && length !== undefined && Buffer.byteLength(rest) >= Number(length)) {
        socket.destroy()
        done()
      }
    })
    socket.on("close", done)
    // Writes fail once the server has answered and closed: that is the point.
    socket.on("error", () => undefined)
    socket.write(`${head}Transfer-Encoding: chunked\r\n\r\n`)
    if (body !== undefined) socket.write(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`)
    const chunk = Buffer.alloc(64 * 1024, "x")
    // One write per chunk, size line to trailing CRLF, so a full buffer never splits a frame.
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")])
    let sent = 0
    const pump = () => {
      while (sent < bodyBytes && !socket.destroyed) {
        sent += chunk.length
        if (!socket.write(frame)) {
          socket.once("drain", pump)
          return
        }
      }
      if (finish && !socket.destroyed) socket.write("0\r\n\r\n")
    }
    pump()
    return Effect.sync(() => socket.destroy())
  })
