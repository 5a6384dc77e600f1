import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { KubeConfig } from "@agent-sandbox/kube"
import { Effect } from "effect"
import { runProgram } from "../src/Program.ts"

/**
 * A kubeconfig file that authenticates as a ServiceAccount, with a token from the TokenRequest
 * API (`kubectl create token`): what the operator's Pod gets mounted, for a process on this host.
 */
export const serviceAccountKubeconfig = (options: {
  /** The admin kubeconfig kubectl uses (default: $KUBECONFIG, the suites' shared control plane). */
  readonly adminKubeconfig?: string
  readonly namespace: string
  readonly serviceAccount: string
  readonly dir: string
}) =>
  Effect.gen(function* () {
    const admin = yield* KubeConfig.KubeConfig
    const cluster = admin.getCurrentCluster()
    const created = yield* runProgram("/usr/bin/kubectl", [
      ...(options.adminKubeconfig === undefined ? [] : ["--kubeconfig", options.adminKubeconfig]),
      "create",
      "token",
      options.serviceAccount,
      "--namespace",
      options.namespace,
      "--duration",
      "1h",
    ])
    if (created.code !== 0 || cluster?.caData === undefined) {
      return yield* Effect.fail(`kubectl create token ${options.serviceAccount}: ${created.stderr}`)
    }
    const user = `system:serviceaccount:${options.namespace}:${options.serviceAccount}`
    const config = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "cluster",
          cluster: {
            server: cluster.server,
            "certificate-authority-data": cluster.caData,
          },
        },
      ],
      users: [{ name: user, user: { token: created.stdout.trim() } }],
      contexts: [{ name: "sa", context: { cluster: "cluster", user, namespace: options.namespace } }],
      "current-context": "sa",
    }
    const path = join(options.dir, `${options.serviceAccount}.kubeconfig`)
    writeFileSync(path, JSON.stringify(config), { mode: 0o600 })
    return path
  })
