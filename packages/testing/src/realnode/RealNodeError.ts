import { Schema } from "effect"

/** Why a real node could not be had or run. */
export const RealNodeErrorReason = Schema.Literal(
  /** This machine cannot run one (not root, no runc, no overlayfs, another real node holds the machine...). */
  "Unavailable",
  /** tools/realnode/*.sh (packages, binaries, images) failed. */
  "BuildFailed",
  /** Writing certificates or configuration, importing images, changing the host failed. */
  "SetupFailed",
  /** containerd or the kubelet ended while it should be running. */
  "Exited",
  /** The Node did not become Ready in time. */
  "NotReady",
)
export type RealNodeErrorReason = typeof RealNodeErrorReason.Type

/** A real node (kubelet + containerd + runc on this machine) failed; `message` says which step and why. */
export class RealNodeError extends Schema.TaggedError<RealNodeError>()("RealNodeError", {
  reason: RealNodeErrorReason,
  message: Schema.String,
}) {}

/** The one line people see when the machine cannot run a real node. */
export const describe = (error: RealNodeError): string =>
  error.reason === "Unavailable" ? `unavailable: ${error.message}` : `${error.reason}: ${error.message}`
