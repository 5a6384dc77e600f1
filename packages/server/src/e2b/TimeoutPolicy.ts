/**
 * E2B's sandbox timeouts over a pool's limits. Requests name seconds from now; the pool's
 * maximum caps every one of them (E2B caps at the plan's maximum likewise).
 */

/** E2B's defaults when a request names no timeout: the v1 create says 15 s, v2 and connect 300 s. */
export const defaultSeconds = { createV1: 15, createV2: 300, connect: 300 } as const

export const capped = (requestedSeconds: number, maxSeconds: number): number =>
  Math.min(requestedSeconds, maxSeconds)

/**
 * Connect (and refresh) only ever extend: the seconds from now to set, or undefined when the
 * sandbox already lives at least that long.
 */
export const extension = (options: {
  readonly requestedSeconds: number
  readonly maxSeconds: number
  readonly nowMs: number
  readonly expiresAtMs: number | undefined
}): number | undefined => {
  const seconds = capped(options.requestedSeconds, options.maxSeconds)
  return options.expiresAtMs !== undefined && options.nowMs + seconds * 1000 <= options.expiresAtMs
    ? undefined
    : seconds
}
