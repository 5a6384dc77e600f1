import { Duration } from "effect"
import type { KeepAlive } from "./ConnectBridge.ts"

/** envd's default when the client does not ask for an interval. */
const defaultInterval = Duration.seconds(90)

/** The `Keepalive-Ping-Interval` request header (seconds), as envd reads it. */
export const intervalFromHeader = (value: string | null): Duration.Duration => {
  const seconds = value === null ? Number.NaN : Number(value)
  return Number.isSafeInteger(seconds) && seconds > 0 ? Duration.seconds(seconds) : defaultInterval
}

/** `item` every interval the header asks for, while a stream is quiet (see ConnectBridge). */
export const fromHeader = <A>(item: A, header: string | null): KeepAlive<A> => ({
  item,
  interval: intervalFromHeader(header),
})
