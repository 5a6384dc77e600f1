import * as fs from "node:fs/promises"
import { Effect } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import type { KeyPair } from "./Pki.ts"

const base64File = (file: string) => fs.readFile(file).then((data) => data.toString("base64"))

/**
 * A kubeconfig that authenticates with a client certificate, everything embedded so the file can be copied
 * elsewhere. JSON, which every kubeconfig reader (YAML) accepts.
 */
export const renderKubeconfig = (
  server: string,
  caCert: string,
  client: KeyPair,
  user: string,
): Effect.Effect<string, ControlPlaneError> =>
  Effect.tryPromise({
    try: async () => {
      const [ca, cert, key] = await Promise.all([
        base64File(caCert),
        base64File(client.cert),
        base64File(client.key),
      ])
      const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "agent-sandbox", cluster: { server, "certificate-authority-data": ca } }],
        users: [{ name: user, user: { "client-certificate-data": cert, "client-key-data": key } }],
        contexts: [{ name: "agent-sandbox", context: { cluster: "agent-sandbox", user } }],
        "current-context": "agent-sandbox",
      }
      return `${JSON.stringify(config, null, 2)}\n`
    },
    catch: (cause) =>
      new ControlPlaneError({
        component: "pki",
        reason: "SetupFailed",
        message: `kubeconfig for ${user}: ${cause}`,
      }),
  })
