/**
 * The E2B list filter `metadata=k=v&k2=v2`. The SDKs encode each key and value, then form-encode
 * the pairs (JS: encodeURIComponent + URLSearchParams; Python: quote + urlencode), so after the
 * query parameter itself is decoded each part is still encoded twice over; like E2B's API, parts
 * are decoded twice (a part that does not decode a second time is taken as decoded once).
 */
const formDecode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text.replaceAll("+", " "))
  } catch {
    return undefined
  }
}

const decodePart = (text: string): string | undefined => {
  const once = formDecode(text)
  return once === undefined ? undefined : (formDecode(once) ?? once)
}

/** The pairs to match; undefined when the filter is malformed. */
export const parse = (filter: string): Record<string, string> | undefined => {
  const result: Record<string, string> = {}
  for (const part of filter.split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    if (eq <= 0) return undefined
    const key = decodePart(part.slice(0, eq))
    const value = decodePart(part.slice(eq + 1))
    if (key === undefined || value === undefined || key === "") return undefined
    result[key] = value
  }
  return result
}
