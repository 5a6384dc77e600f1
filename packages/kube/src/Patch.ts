/** One RFC 6902 operation. `test` makes the whole patch fail unless the value matches. */
export type JsonPatchOperation =
  | { readonly op: "add" | "replace" | "test"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "move" | "copy"; readonly from: string; readonly path: string }

/**
 * The kinds of PATCH the API server accepts. A patch that sets metadata.resourceVersion (a merge
 * patch carrying it, or `resourceVersionPrecondition` in a JSON patch) is checked against the
 * stored object: 409 Conflict when stale. A failed JSON patch `test` is 422 Invalid instead.
 */
export type Patch =
  | { readonly _tag: "Merge"; readonly body: unknown }
  | { readonly _tag: "Json"; readonly operations: ReadonlyArray<JsonPatchOperation> }
  | { readonly _tag: "Strategic"; readonly body: unknown }
  | { readonly _tag: "Apply"; readonly body: unknown; readonly force: boolean }

/** RFC 7386 JSON merge patch: objects merge, arrays and scalars replace, null deletes. */
export const merge = (body: unknown): Patch => ({ _tag: "Merge", body })

export const json = (operations: ReadonlyArray<JsonPatchOperation>): Patch => ({ _tag: "Json", operations })

/** Strategic merge patch: built-in kinds only (lists merge by their patch keys). */
export const strategic = (body: unknown): Patch => ({ _tag: "Strategic", body })

/**
 * Server-side apply: `body` is the fully specified intent of one field manager. `force` takes
 * fields that another manager owns instead of failing with Conflict.
 */
export const apply = (body: unknown, options?: { readonly force?: boolean }): Patch => ({
  _tag: "Apply",
  body,
  force: options?.force ?? false,
})

/** JSON pointer escaping for one path segment (label keys contain "/"). */
export const escapePointer = (segment: string): string => segment.replaceAll("~", "~0").replaceAll("/", "~1")

/**
 * The optimistic-concurrency guard for a JSON patch: the server treats a resourceVersion in the
 * patched object as a precondition, so a stale one fails with 409 Conflict.
 */
export const resourceVersionPrecondition = (resourceVersion: string): JsonPatchOperation => ({
  op: "replace",
  path: "/metadata/resourceVersion",
  value: resourceVersion,
})

/** A JSON patch `test` of the resourceVersion: when stale the server answers 422 Invalid. */
export const testResourceVersion = (resourceVersion: string): JsonPatchOperation => ({
  op: "test",
  path: "/metadata/resourceVersion",
  value: resourceVersion,
})

export const contentType = (patch: Patch): string => {
  switch (patch._tag) {
    case "Merge":
      return "application/merge-patch+json"
    case "Json":
      return "application/json-patch+json"
    case "Strategic":
      return "application/strategic-merge-patch+json"
    case "Apply":
      // JSON is YAML; the API server parses it either way.
      return "application/apply-patch+yaml"
  }
}

export const body = (patch: Patch): unknown => (patch._tag === "Json" ? patch.operations : patch.body)
