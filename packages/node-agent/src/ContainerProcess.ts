/**
 * What entering a container takes, read from the runtime's verbose container info (containerd's
 * `info` document: the container's pid and its OCI runtime spec): the pid whose namespaces to
 * join, and the process settings runc would apply to an exec (user, groups, env, working
 * directory, capability sets, no_new_privs).
 */
import { Either, Schema } from "effect"

const Capabilities = Schema.Struct({
  bounding: Schema.optional(Schema.Array(Schema.String)),
  effective: Schema.optional(Schema.Array(Schema.String)),
  permitted: Schema.optional(Schema.Array(Schema.String)),
  inheritable: Schema.optional(Schema.Array(Schema.String)),
})

const VerboseInfo = Schema.Struct({
  pid: Schema.Number,
  runtimeSpec: Schema.Struct({
    process: Schema.Struct({
      user: Schema.Struct({
        uid: Schema.optional(Schema.Number),
        gid: Schema.optional(Schema.Number),
        additionalGids: Schema.optional(Schema.Array(Schema.Number)),
      }),
      env: Schema.optional(Schema.Array(Schema.String)),
      cwd: Schema.optional(Schema.String),
      capabilities: Schema.optional(Capabilities),
      noNewPrivileges: Schema.optional(Schema.Boolean),
    }),
  }),
})

export interface ContainerProcess {
  readonly pid: number
  readonly uid: number
  readonly gid: number
  readonly additionalGids: ReadonlyArray<number>
  /** The spec's environment (image ENV, Pod env), as `NAME=value` entries made into a record. */
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string
  /** Capability sets as bit masks (bit n: capability number n). */
  readonly capabilities: {
    readonly bounding: bigint
    readonly effective: bigint
    readonly permitted: bigint
    readonly inheritable: bigint
  }
  readonly noNewPrivileges: boolean
}

/** Linux capability numbers (include/uapi/linux/capability.h). */
const capabilityNumbers: Readonly<Record<string, number>> = Object.fromEntries(
  [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
  ].map((name, number) => [`CAP_${name}`, number]),
)

/** A set of capability names as a mask; names this table does not know are left out (never granted). */
export const capabilityMask = (names: ReadonlyArray<string> | undefined): bigint =>
  (names ?? []).reduce((mask, name) => {
    const number = capabilityNumbers[name]
    return number === undefined ? mask : mask | (1n << BigInt(number))
  }, 0n)

const envRecord = (entries: ReadonlyArray<string>): Record<string, string> =>
  Object.fromEntries(
    entries.flatMap((entry) => {
      const eq = entry.indexOf("=")
      return eq <= 0 ? [] : [[entry.slice(0, eq), entry.slice(eq + 1)] as const]
    }),
  )

const decodeInfo = Schema.decodeUnknownEither(Schema.parseJson(VerboseInfo))

/** The container's process settings, or why the info cannot be used. */
export const fromVerboseInfo = (info: string): Either.Either<ContainerProcess, string> =>
  Either.flatMap(
    Either.mapLeft(
      decodeInfo(info),
      (error) => `the container's verbose info is not usable: ${error.message}`,
    ),
    ({ pid, runtimeSpec: { process } }) =>
      pid <= 0
        ? Either.left(`the container has no pid (${pid}): it is not running`)
        : Either.right({
            pid,
            uid: process.user.uid ?? 0,
            gid: process.user.gid ?? 0,
            additionalGids: process.user.additionalGids ?? [],
            env: envRecord(process.env ?? []),
            cwd: process.cwd ?? "/",
            capabilities: {
              bounding: capabilityMask(process.capabilities?.bounding),
              effective: capabilityMask(process.capabilities?.effective),
              permitted: capabilityMask(process.capabilities?.permitted),
              inheritable: capabilityMask(process.capabilities?.inheritable),
            },
            noNewPrivileges: process.noNewPrivileges ?? false,
          }),
  )
