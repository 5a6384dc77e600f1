import { createServer, type Server } from "node:http"

/**
 * A node:http server that really closes. On shutdown the platform stops handling requests before
 * it calls close(), so a request that arrives on a kept-alive connection in between would never be
 * answered and close() would wait for the client to give up. Idle connections go at once; busy
 * ones get `graceMillis` to finish.
 */
export const closingServer = (graceMillis: number) => (): Server => {
  const server = createServer()
  const close = server.close.bind(server)
  server.close = (callback) => {
    server.closeIdleConnections()
    setTimeout(() => server.closeAllConnections(), graceMillis).unref()
    return close(callback)
  }
  return server
}
