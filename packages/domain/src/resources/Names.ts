import { Schema } from "effect"

/** RFC 1123 label: what Kubernetes accepts as a container, port or runtime name. */
export const DnsLabel = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(63),
  Schema.pattern(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
).annotations({
  description:
    "A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-', starting and ending alphanumeric.",
})

/** RFC 1123 subdomain: what Kubernetes accepts as an object name. */
export const DnsSubdomain = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(253),
  Schema.pattern(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/),
).annotations({ description: "A Kubernetes object name (lowercase RFC 1123 subdomain)." })

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** An RFC 3339 time as the API server writes it (kept as text: it round-trips unchanged). */
export const Timestamp = Schema.String.pipe(
  Schema.filter((text) => rfc3339.test(text) || "an RFC 3339 date-time", {
    jsonSchema: { format: "date-time" },
  }),
).annotations({ description: "An RFC 3339 date-time." })

/** A count or generation: an integer, never negative. */
export const NonNegativeInt = Schema.Int.pipe(Schema.greaterThanOrEqualTo(0))
