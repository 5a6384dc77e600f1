import { Schema } from "effect"
import { celRule } from "../crd/KubeExtensions.ts"

export const NetworkPort = Schema.Struct({
  port: Schema.Int.pipe(Schema.between(1, 65535)).annotations({ description: "A port number." }),
  protocol: Schema.optionalWith(Schema.Literal("TCP", "UDP", "SCTP"), {
    exact: true,
    default: () => "TCP" as const,
  }).annotations({ description: "TCP (default), UDP or SCTP." }),
}).annotations({ description: "One destination port." })
export type NetworkPort = typeof NetworkPort.Type

// An IPv4 or IPv6 CIDR; the API server checks it again when the NetworkPolicy is written.
const Cidr = Schema.String.pipe(
  Schema.pattern(/^([0-9]{1,3}(\.[0-9]{1,3}){3}\/[0-9]{1,2}|[0-9a-fA-F:]+\/[0-9]{1,3})$/),
).annotations({ description: 'A CIDR, e.g. "10.0.0.0/8" or "2001:db8::/32".' })

export const EgressAllow = Schema.Struct({
  cidr: Cidr,
  except: Schema.optionalWith(Schema.Array(Cidr), { exact: true }).annotations({
    description: "Ranges inside cidr that stay closed.",
  }),
  ports: Schema.optionalWith(Schema.Array(NetworkPort), { exact: true }).annotations({
    description: "Only these ports. Unset: every port.",
  }),
}).annotations({ description: "Destinations sandboxes may reach." })
export type EgressAllow = typeof EgressAllow.Type

export const EgressMode = Schema.Literal("Allow", "Deny", "AllowList").annotations({
  description:
    "Allow: any destination. Deny (default): none but DNS. AllowList: only the destinations in allow, and DNS.",
})

export const PoolEgress = Schema.Struct({
  mode: Schema.optionalWith(EgressMode, { exact: true, default: () => "Deny" as const }),
  allow: Schema.optionalWith(Schema.Array(EgressAllow), { exact: true }).annotations({
    description: "With mode AllowList: the destinations sandboxes may reach.",
  }),
  dns: Schema.optionalWith(Schema.Boolean, { exact: true, default: () => true }).annotations({
    description:
      "With Deny or AllowList: whether port 53 (UDP and TCP) stays open to any destination (default true).",
  }),
}).pipe(
  celRule(
    {
      rule: "self.mode == 'AllowList' || !has(self.allow)",
      message: "egress.allow is used only with mode AllowList",
    },
    (egress) => egress.mode === "AllowList" || egress.allow === undefined,
  ),
  Schema.annotations({ description: "What sandboxes may connect to." }),
)
export type PoolEgress = typeof PoolEgress.Type

export const IngressMode = Schema.Literal("Allow", "Deny").annotations({
  description: "Allow: any source. Deny (default): none.",
})

export const PoolIngress = Schema.Struct({
  mode: Schema.optionalWith(IngressMode, { exact: true, default: () => "Deny" as const }),
}).annotations({ description: "What may connect to sandboxes." })
export type PoolIngress = typeof PoolIngress.Type

const EgressDefaults = Schema.decodeSync(PoolEgress)({})
const IngressDefaults = Schema.decodeSync(PoolIngress)({})

export const PoolNetwork = Schema.Struct({
  egress: Schema.optionalWith(PoolEgress, { exact: true, default: () => EgressDefaults }),
  ingress: Schema.optionalWith(PoolIngress, { exact: true, default: () => IngressDefaults }),
}).annotations({
  description:
    "Network isolation of the pool's sandboxes, applied as a NetworkPolicy the operator owns (named sandbox-pool-<pool>) that selects the pool's Pods. Enforced only by a CNI that implements NetworkPolicy. Unset: the operator writes no policy.",
})
export type PoolNetwork = typeof PoolNetwork.Type
