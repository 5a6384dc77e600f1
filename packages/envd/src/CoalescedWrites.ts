/**
 * A response's writes within one turn of the event loop leave together: its socket is corked at
 * the first write of a turn and uncorked once the turn is over (`setImmediate`), and `end` flushes
 * at once. The last messages of a Connect stream (the process's end event, the end-of-stream
 * message) and the response's end then go out in one segment, so a client that stops reading at
 * the end event (E2B's SDK aborts its request there) has the whole response and keeps its
 * connection, where three separate writes left it an unfinished body to abort and a connection to
 * close, per command at high concurrency. One syscall instead of several, too. HTTP/1 only.
 */
import { ServerResponse } from "node:http"

export const coalesce = (res: unknown): void => {
  if (!(res instanceof ServerResponse)) return
  const write = res.write as (...args: Array<unknown>) => boolean
  let corked = false
  const uncork = () => {
    corked = false
    // `end` has flushed everything already; the socket may serve the next request by now.
    if (!res.writableEnded) res.uncork()
  }
  res.write = function (this: ServerResponse, ...args: Array<unknown>) {
    if (!corked && !res.writableEnded) {
      corked = true
      res.cork()
      setImmediate(uncork)
    }
    return write.apply(this, args)
  } as ServerResponse["write"]
}
