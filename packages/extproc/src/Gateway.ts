/**
 * A gateway as Envoy's ORIGINAL_DST cluster needs it: `ip:port`. A host name is resolved once, when
 * the gateway is registered or configured (a Service's ClusterIP does not move).
 */
import { lookup } from "node:dns/promises"
import { isIP } from "node:net"
import { Effect } from "effect"
import { ExtprocError } from "./ExtprocError.ts"

/** `host:port` or `[v6]:port` split (pure); undefined when it is neither. */
export const parse = (gateway: string): { readonly host: string; readonly port: number } | undefined => {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(gateway.trim())
  if (match === null) return undefined
  const port = Number(match[3])
  const host = match[1] ?? match[2] ?? ""
  return port >= 1 && port <= 65535 && host !== "" ? { host, port } : undefined
}

const format = (host: string, port: number) => (isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`)

export const resolve = (gateway: string): Effect.Effect<string, ExtprocError> => {
  const parsed = parse(gateway)
  if (parsed === undefined) {
    return Effect.fail(
      new ExtprocError({ reason: "Gateway", message: `gateway '${gateway}' is not host:port` }),
    )
  }
  if (isIP(parsed.host) !== 0) return Effect.succeed(format(parsed.host, parsed.port))
  return Effect.tryPromise({
    try: () => lookup(parsed.host),
    catch: (cause) =>
      new ExtprocError({
        reason: "Gateway",
        message: `gateway '${gateway}': cannot resolve ${parsed.host}: ${cause}`,
      }),
  }).pipe(Effect.map(({ address }) => format(address, parsed.port)))
}
