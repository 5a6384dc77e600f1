import type { SandboxTemplateSpec } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import * as InlineTemplatePolicy from "../src/sandbox/InlineTemplatePolicy.ts"

const withSpec = (
  spec: Record<string, unknown>,
  container: Record<string, unknown> = {},
): SandboxTemplateSpec =>
  ({
    podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox", ...container }], ...spec } },
    runtimes: [],
  }) as unknown as SandboxTemplateSpec

describe("InlineTemplatePolicy", () => {
  it("allows what any workload may ask for", () => {
    const allowed = withSpec(
      {
        volumes: [
          { name: "scratch", emptyDir: { sizeLimit: "1Gi" } },
          { name: "cfg", configMap: { name: "c" } },
          { name: "info", downwardAPI: { items: [] } },
        ],
        nodeSelector: { "agent-sandbox.dev/node": "real" },
        tolerations: [{ key: "k", operator: "Exists" }],
        securityContext: { runAsUser: 1000 },
        automountServiceAccountToken: false,
        serviceAccountName: "default",
      },
      {
        env: [
          { name: "A", value: "1" },
          { name: "B", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } },
        ],
        ports: [{ containerPort: 8080 }],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        resources: { limits: { cpu: "1" } },
      },
    )
    assert.deepStrictEqual(InlineTemplatePolicy.breaches(allowed), [])
  })

  it("names everything that would reach beyond the Pod under the operator's identity", () => {
    const cases: ReadonlyArray<readonly [Record<string, unknown>, Record<string, unknown>, string]> = [
      [{ serviceAccountName: "deployer" }, {}, "spec.serviceAccountName"],
      [{ automountServiceAccountToken: true }, {}, "spec.automountServiceAccountToken"],
      [{ hostNetwork: true }, {}, "spec.hostNetwork"],
      [{ hostPID: true }, {}, "spec.hostPID"],
      [{ hostIPC: true }, {}, "spec.hostIPC"],
      [{ nodeName: "n1" }, {}, "spec.nodeName"],
      [
        { securityContext: { sysctls: [{ name: "kernel.msgmax", value: "1" }] } },
        {},
        "spec.securityContext.sysctls",
      ],
      [{ volumes: [{ name: "root", hostPath: { path: "/" } }] }, {}, "spec.volumes[root]: hostPath"],
      [{ volumes: [{ name: "s", secret: { secretName: "x" } }] }, {}, "spec.volumes[s]: secret"],
      [
        { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "x" } }] },
        {},
        "spec.volumes[d]: persistentVolumeClaim",
      ],
      [{ volumes: [{ name: "t", projected: { sources: [] } }] }, {}, "spec.volumes[t]: projected"],
      [{}, { securityContext: { privileged: true } }, "containers[sandbox]: securityContext.privileged"],
      [
        {},
        { securityContext: { allowPrivilegeEscalation: true } },
        "containers[sandbox]: securityContext.allowPrivilegeEscalation",
      ],
      [
        {},
        { securityContext: { capabilities: { add: ["SYS_ADMIN"] } } },
        "containers[sandbox]: securityContext.capabilities.add",
      ],
      [{}, { securityContext: { procMount: "Unmasked" } }, "containers[sandbox]: securityContext.procMount"],
      [{}, { ports: [{ containerPort: 80, hostPort: 80 }] }, "containers[sandbox]: ports[].hostPort"],
      [
        {},
        { env: [{ name: "T", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] },
        "containers[sandbox]: env[].valueFrom.secretKeyRef",
      ],
      [{}, { envFrom: [{ secretRef: { name: "s" } }] }, "containers[sandbox]: envFrom[].secretRef"],
      [
        { initContainers: [{ name: "init", image: "x", securityContext: { privileged: true } }] },
        {},
        "initContainers[init]: securityContext.privileged",
      ],
    ]
    for (const [spec, container, breach] of cases) {
      assert.deepStrictEqual(InlineTemplatePolicy.breaches(withSpec(spec, container)), [breach], breach)
    }
  })
})
