/**
 * The node's container runtime through its CRI socket (gRPC over a unix socket, one HTTP/2
 * session kept open): finds a Pod's container by the kubelet's labels and reads its verbose
 * status (pid and OCI spec). Called once per container start, not per command (SandboxContainers
 * caches what it learns).
 */
import { connect } from "node:net"
import { type Client, createClient } from "@connectrpc/connect"
import { createGrpcTransport } from "@connectrpc/connect-node"
import { Context, Effect, Layer } from "effect"
import { ContainerState, RuntimeService } from "./gen/runtime/v1/api_pb.ts"
import { NodeAgentError } from "./NodeAgentError.ts"

export interface RunningContainer {
  readonly id: string
  readonly podUid: string
}

export interface CriRuntimeShape {
  /** The running container `container` of Pod `namespace/pod`; fails ContainerNotFound when none runs. */
  readonly findRunning: (
    namespace: string,
    pod: string,
    container: string,
  ) => Effect.Effect<RunningContainer, NodeAgentError>
  /** The runtime's verbose description of a container (containerd: `info` holds pid and runtimeSpec). */
  readonly verboseInfo: (containerId: string) => Effect.Effect<string, NodeAgentError>
}

export class CriRuntime extends Context.Tag("@agent-sandbox/node-agent/CriRuntime")<
  CriRuntime,
  CriRuntimeShape
>() {}

/** The kubelet's labels on every container it creates. */
export const kubeletLabel = {
  podNamespace: "io.kubernetes.pod.namespace",
  podName: "io.kubernetes.pod.name",
  podUid: "io.kubernetes.pod.uid",
  container: "io.kubernetes.container.name",
} as const

const unavailable = (socket: string) => (cause: unknown) =>
  new NodeAgentError({
    reason: "RuntimeUnavailable",
    message: `the CRI runtime at ${socket} failed: ${cause}`,
  })

export const make = (socket: string): Effect.Effect<CriRuntimeShape> =>
  Effect.sync(() => {
    const transport = createGrpcTransport({
      // The authority is nominal: every connection goes to the unix socket.
      baseUrl: "http://cri.local",
      nodeOptions: { createConnection: () => connect(socket) },
    })
    const client: Client<typeof RuntimeService> = createClient(RuntimeService, transport)
    return {
      findRunning: (namespace, pod, container) =>
        Effect.tryPromise({
          try: (signal) =>
            client.listContainers(
              {
                filter: {
                  state: { state: ContainerState.CONTAINER_RUNNING },
                  labelSelector: {
                    [kubeletLabel.podNamespace]: namespace,
                    [kubeletLabel.podName]: pod,
                    [kubeletLabel.container]: container,
                  },
                },
              },
              { signal },
            ),
          catch: unavailable(socket),
        }).pipe(
          Effect.flatMap((response) => {
            // The newest attempt, should an old one still be listed as running while it stops.
            const [newest] = [...response.containers].sort((a, b) => Number(b.createdAt - a.createdAt))
            return newest === undefined
              ? Effect.fail(
                  new NodeAgentError({
                    reason: "ContainerNotFound",
                    message: `no running container ${container} of Pod ${namespace}/${pod} on this node`,
                  }),
                )
              : Effect.succeed({ id: newest.id, podUid: newest.labels[kubeletLabel.podUid] ?? "" })
          }),
        ),
      verboseInfo: (containerId) =>
        Effect.tryPromise({
          try: (signal) => client.containerStatus({ containerId, verbose: true }, { signal }),
          catch: unavailable(socket),
        }).pipe(
          Effect.flatMap((response) => {
            const info = response.info.info
            return info === undefined
              ? Effect.fail(
                  new NodeAgentError({
                    reason: "BadSpec",
                    message: `the runtime gave no verbose info for container ${containerId}`,
                  }),
                )
              : Effect.succeed(info)
          }),
        ),
    }
  })

export const layer = (socket: string): Layer.Layer<CriRuntime> => Layer.effect(CriRuntime, make(socket))
