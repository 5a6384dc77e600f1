import { execFile } from "node:child_process"
import * as path from "node:path"
import { promisify } from "node:util"
import { Effect } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"

const execFileAsync = promisify(execFile)

export interface KeyPair {
  readonly cert: string
  readonly key: string
}

/** Client identities that talk to kube-apiserver with a certificate. */
export type ClientIdentity = "admin" | "kube-controller-manager" | "kube-scheduler" | "kwok"

export interface Pki {
  readonly caCert: string
  readonly caKey: string
  /** kube-apiserver's serving certificate (127.0.0.1, localhost, the kubernetes Service). */
  readonly apiserver: KeyPair
  /** kube-apiserver's client certificate towards the kubelet, here KWOK's server. */
  readonly kubeletClient: KeyPair
  /** KWOK's serving certificate (127.0.0.1), verified by kube-apiserver. */
  readonly kwokServing: KeyPair
  readonly clients: Readonly<Record<ClientIdentity, KeyPair>>
  /** Service account token signing key and its public half. */
  readonly serviceAccountKey: string
  readonly serviceAccountPub: string
}

export interface LeafSpec {
  readonly name: string
  readonly subject: string
  readonly usage: "serverAuth" | "clientAuth"
  readonly altNames?: ReadonlyArray<string>
}

/** The Subject, usage and names of each certificate: the identities Kubernetes' authorizers expect. */
const leafSpecs = (serviceIp: string): ReadonlyArray<LeafSpec> => [
  {
    name: "apiserver",
    subject: "/CN=kube-apiserver",
    usage: "serverAuth",
    altNames: [
      "IP:127.0.0.1",
      "DNS:localhost",
      `IP:${serviceIp}`,
      "DNS:kubernetes",
      "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc",
      "DNS:kubernetes.default.svc.cluster.local",
    ],
  },
  {
    name: "kubelet-client",
    subject: "/O=system:masters/CN=kube-apiserver-kubelet-client",
    usage: "clientAuth",
  },
  {
    name: "kwok-serving",
    subject: "/CN=kwok",
    usage: "serverAuth",
    altNames: ["IP:127.0.0.1", "DNS:localhost"],
  },
  { name: "admin", subject: "/O=system:masters/CN=agent-sandbox-admin", usage: "clientAuth" },
  { name: "kube-controller-manager", subject: "/CN=system:kube-controller-manager", usage: "clientAuth" },
  { name: "kube-scheduler", subject: "/CN=system:kube-scheduler", usage: "clientAuth" },
  // KWOK plays every kubelet and writes Nodes, Pods, Leases and its own CRs: cluster admin is simplest.
  { name: "kwok", subject: "/O=system:masters/CN=kwok-controller", usage: "clientAuth" },
]

const openssl = (args: ReadonlyArray<string>) =>
  Effect.tryPromise({
    try: () => execFileAsync("openssl", args as Array<string>),
    catch: (cause) =>
      new ControlPlaneError({
        component: "pki",
        reason: "SetupFailed",
        message: `openssl ${args.slice(0, 2).join(" ")} failed: ${(cause as { stderr?: string }).stderr ?? String(cause)}`,
      }),
  })

/** A new EC P-256 key and its certificate, valid ten years; self-signed unless a signer is given. */
const certificate = (options: {
  readonly pair: KeyPair
  readonly subject: string
  readonly extensions: ReadonlyArray<string>
  readonly signer?: KeyPair
}) =>
  openssl([
    "req",
    "-x509",
    // An empty config: the machine's openssl.cnf must not add extensions of its own.
    "-config",
    "/dev/null",
    ...(options.signer ? ["-CA", options.signer.cert, "-CAkey", options.signer.key] : []),
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    options.pair.key,
    "-out",
    options.pair.cert,
    "-subj",
    options.subject,
    "-days",
    "3650",
    ...options.extensions.flatMap((extension) => ["-addext", extension]),
  ])

/**
 * A throwaway CA and every certificate the control plane needs, made with the openssl CLI.
 * EC P-256 keys: generating them takes milliseconds. Keys are written 0600 by openssl.
 */
export const generatePki = (dir: string, serviceIp: string): Effect.Effect<Pki, ControlPlaneError> =>
  Effect.gen(function* () {
    const file = (name: string) => path.join(dir, name)
    const pair = (name: string): KeyPair => ({ cert: file(`${name}.crt`), key: file(`${name}.key`) })
    const ca = pair("ca")
    yield* certificate({
      pair: ca,
      subject: "/CN=agent-sandbox-local-ca",
      extensions: ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"],
    })
    yield* Effect.forEach(
      leafSpecs(serviceIp),
      (spec) =>
        certificate({
          pair: pair(spec.name),
          subject: spec.subject,
          signer: ca,
          extensions: [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            `extendedKeyUsage=${spec.usage}`,
            ...(spec.altNames ? [`subjectAltName=${spec.altNames.join(",")}`] : []),
          ],
        }),
      { concurrency: 4, discard: true },
    )
    const serviceAccountKey = file("service-account.key")
    const serviceAccountPub = file("service-account.pub")
    yield* openssl([
      "genpkey",
      "-algorithm",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-out",
      serviceAccountKey,
    ])
    yield* openssl(["pkey", "-in", serviceAccountKey, "-pubout", "-out", serviceAccountPub])
    return {
      caCert: ca.cert,
      caKey: ca.key,
      apiserver: pair("apiserver"),
      kubeletClient: pair("kubelet-client"),
      kwokServing: pair("kwok-serving"),
      clients: {
        admin: pair("admin"),
        "kube-controller-manager": pair("kube-controller-manager"),
        "kube-scheduler": pair("kube-scheduler"),
        kwok: pair("kwok"),
      },
      serviceAccountKey,
      serviceAccountPub,
    }
  })

/** One more leaf certificate signed by an existing CA (a real node's kubelet identities). */
export const issueLeaf = (
  pair: KeyPair,
  spec: Omit<LeafSpec, "name">,
  ca: KeyPair,
): Effect.Effect<KeyPair, ControlPlaneError> =>
  certificate({
    pair,
    subject: spec.subject,
    signer: ca,
    extensions: [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      `extendedKeyUsage=${spec.usage}`,
      ...(spec.altNames ? [`subjectAltName=${spec.altNames.join(",")}`] : []),
    ],
  }).pipe(Effect.as(pair))
