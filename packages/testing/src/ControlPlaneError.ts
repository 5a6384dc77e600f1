import { Schema } from "effect"

/** Which part of bringing the control plane up failed. */
export const ControlPlaneErrorReason = Schema.Literal(
  /** tools/controlplane/build.sh failed or printed no directory. */
  "BuildFailed",
  /** Preparing files (PKI, configs, directories) failed. */
  "SetupFailed",
  /** A component process could not be spawned or exited while it should be running. */
  "Exited",
  /** A component did not become ready in time. */
  "NotReady",
  /** The detached cluster under .cluster/ is in an unexpected state. */
  "StateInvalid",
)
export type ControlPlaneErrorReason = typeof ControlPlaneErrorReason.Type

/** A control plane component (or step) failed; the message carries the last lines of its log. */
export class ControlPlaneError extends Schema.TaggedError<ControlPlaneError>()("ControlPlaneError", {
  /** "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "pod-workdirs", "build", "pki"... */
  component: Schema.String,
  reason: ControlPlaneErrorReason,
  message: Schema.String,
}) {}
