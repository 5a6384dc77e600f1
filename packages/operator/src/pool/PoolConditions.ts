import type { Condition } from "@agent-sandbox/domain"

/**
 * Sets a condition in a list keyed by type. lastTransitionTime moves only when the status
 * changes, so it tells how long the pool has been in that state.
 */
export const setCondition = (
  conditions: ReadonlyArray<Condition>,
  next: Omit<Condition, "lastTransitionTime">,
  now: string,
): ReadonlyArray<Condition> => {
  const existing = conditions.find((c) => c.type === next.type)
  const lastTransitionTime =
    existing !== undefined && existing.status === next.status ? existing.lastTransitionTime : now
  const updated: Condition = { ...next, lastTransitionTime }
  return existing === undefined
    ? [...conditions, updated]
    : conditions.map((c) => (c.type === next.type ? updated : c))
}
