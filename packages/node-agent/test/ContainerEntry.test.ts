import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as CgroupPaths from "../src/CgroupPaths.ts"
import * as ContainerProcess from "../src/ContainerProcess.ts"
import * as EnteredProcess from "../src/EnteredProcess.ts"
import { isConfirmed, startTimeOf } from "../src/SandboxContainers.ts"

// Shaped like containerd's verbose ContainerStatus info (trimmed).
const info = JSON.stringify({
  sandboxID: "abc",
  pid: 4242,
  runtimeSpec: {
    ociVersion: "1.2.0",
    process: {
      user: { uid: 1000, gid: 1000, additionalGids: [1000, 27] },
      args: ["sleep", "infinity"],
      env: ["PATH=/usr/local/bin:/usr/bin:/bin", "HOSTNAME=base-abc", "EMPTY=", "A=b=c"],
      cwd: "/workspace",
      capabilities: {
        bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_UNKNOWN_TO_US"],
        effective: ["CAP_CHOWN", "CAP_KILL"],
        permitted: ["CAP_CHOWN", "CAP_KILL"],
      },
      noNewPrivileges: true,
    },
  },
})

describe("ContainerProcess", () => {
  it("reads pid, user, env, cwd, capabilities and no_new_privs from the runtime's info", () => {
    const process = Either.getOrThrow(ContainerProcess.fromVerboseInfo(info))
    expect(process).toEqual({
      pid: 4242,
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 27],
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOSTNAME: "base-abc", EMPTY: "", A: "b=c" },
      cwd: "/workspace",
      capabilities: { bounding: 0x421n, effective: 0x21n, permitted: 0x21n, inheritable: 0n },
      noNewPrivileges: true,
    })
    expect(
      EnteredProcess.helperArgs(
        {
          containerId: "c0ffee",
          process,
          cgroupFiles: ["/a/cgroup.procs", "/b/cgroup.procs"],
          startTime: "98765",
        },
        "/run/agent/1.sock",
      ),
    ).toEqual([
      "4242",
      "98765",
      "1000",
      "1000",
      "1000,27",
      "/workspace",
      "421",
      "21",
      "21",
      "0",
      "1",
      "/a/cgroup.procs:/b/cgroup.procs",
      "/run/agent/1.sock",
      "c0ffee",
    ])
  })

  it("refuses info without a running process or a spec", () => {
    expect(
      Either.isLeft(
        ContainerProcess.fromVerboseInfo(JSON.stringify({ pid: 0, runtimeSpec: { process: { user: {} } } })),
      ),
    ).toBe(true)
    expect(Either.isLeft(ContainerProcess.fromVerboseInfo(JSON.stringify({ pid: 7 })))).toBe(true)
    expect(Either.isLeft(ContainerProcess.fromVerboseInfo("{"))).toBe(true)
  })
})

describe("CgroupPaths", () => {
  const mountinfo = [
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
    "33 31 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "34 31 0:31 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
    "35 31 0:32 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    "36 23 0:33 /kubepods /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
  ].join("\n")

  it("maps each of the process's hierarchies to its cgroup.procs under the agent's mounts", () => {
    const procCgroup = [
      "4:cpu,cpuacct:/kubepods/pod1/c1",
      "3:memory:/kubepods/pod1/c1",
      "2:name=systemd:/kubepods/pod1/c1",
      "1:pids:/kubepods/pod1/c1",
      "9:devices:/kubepods/pod1/c1",
      "0::/kubepods/pod1/c1",
    ].join("\n")
    expect(CgroupPaths.procsFiles(procCgroup, CgroupPaths.cgroupMounts(mountinfo))).toEqual([
      "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cgroup.procs",
      "/sys/fs/cgroup/memory/kubepods/pod1/c1/cgroup.procs",
      "/sys/fs/cgroup/systemd/kubepods/pod1/c1/cgroup.procs",
      // A mount of a subtree: the path below its root.
      "/sys/fs/cgroup/pids/pod1/c1/cgroup.procs",
      "/sys/fs/cgroup/unified/kubepods/pod1/c1/cgroup.procs",
    ])
  })

  it("a cgroup v2 host: one file", () => {
    const v2 = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate"
    expect(CgroupPaths.procsFiles("0::/kubepods.slice/pod1/c1\n", CgroupPaths.cgroupMounts(v2))).toEqual([
      "/sys/fs/cgroup/kubepods.slice/pod1/c1/cgroup.procs",
    ])
  })
})

describe("startTimeOf", () => {
  it("reads field 22 of /proc/<pid>/stat, whatever the command name holds", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3)).join(" ")
    expect(startTimeOf(`42 (we ird) cmd) ${fields}`)).toBe("22")
  })
})

describe("SandboxContainers.isConfirmed", () => {
  it("a target naming the container id the server confirmed matches that container only", () => {
    const target = { namespace: "team", pod: "base-abc", container: "sandbox" }
    expect(isConfirmed({ ...target, containerId: "c1" }, { containerId: "c1" })).toBe(true)
    expect(isConfirmed({ ...target, containerId: "c1" }, { containerId: "c2" })).toBe(false)
    expect(isConfirmed(target, { containerId: "c2" })).toBe(true)
  })
})
