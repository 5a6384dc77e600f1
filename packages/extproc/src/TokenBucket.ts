/**
 * A token bucket (pure): `burst` tokens, refilled at `perSecond`. A request without a token is
 * refused, not queued, so a flood cannot pile up work behind the limit.
 */
export interface Limits {
  /** Tokens added per second; 0 refuses everything once the burst is spent. */
  readonly perSecond: number
  /** The most tokens held (what may be spent at once after a quiet spell). */
  readonly burst: number
}

export interface Bucket {
  readonly tokens: number
  /** When `tokens` was counted, in milliseconds. */
  readonly at: number
}

export const full = (limits: Limits, now: number): Bucket => ({ tokens: limits.burst, at: now })

/** The bucket after one request at `now`, and whether that request got a token. */
export const take = (
  bucket: Bucket,
  limits: Limits,
  now: number,
): { readonly bucket: Bucket; readonly taken: boolean } => {
  const elapsed = Math.max(0, now - bucket.at)
  const tokens = Math.min(limits.burst, bucket.tokens + (elapsed * limits.perSecond) / 1000)
  return tokens >= 1
    ? { bucket: { tokens: tokens - 1, at: now }, taken: true }
    : { bucket: { tokens, at: now }, taken: false }
}
