import { assert, describe, it } from "@effect/vitest"
import {
  cgroupRemovalOrder,
  chainsOf,
  ipsetsToDestroy,
  iptablesCleanup,
  mountsToUndo,
  nftTablesToDelete,
  parseMountinfo,
  splitRule,
  sysctlsToRestore,
} from "../src/realnode/HostDecisions.ts"
import { problems } from "../src/realnode/Machine.ts"

describe("real node host clean-up decisions", () => {
  const mountinfo = [
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
    "30 22 0:26 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory",
    "31 22 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw",
    "40 22 254:0 /var/lib/rn/kubelet /var/lib/rn/kubelet rw shared:1 - ext4 /dev/vda rw",
    "41 22 0:50 / /run/netns/cni-1234 rw shared:20 - nsfs nsfs rw",
    "42 40 0:51 / /var/lib/rn/kubelet/pods/x/volumes/token rw - tmpfs tmpfs rw",
    "43 22 0:52 / /run/rn/containerd/task/with\\040space/rootfs rw - overlay overlay rw",
  ].join("\n")

  it("undoes the mounts under the node's roots, newest first, and no other", () => {
    const mounts = parseMountinfo(mountinfo)
    assert.deepStrictEqual(mountsToUndo(mounts, ["/var/lib/rn", "/run/rn", "/run/netns/cni-1234"]), [
      "/run/rn/containerd/task/with space/rootfs",
      "/var/lib/rn/kubelet/pods/x/volumes/token",
      "/run/netns/cni-1234",
      "/var/lib/rn/kubelet",
    ])
    // A sibling directory whose name only starts like a root is not under it.
    assert.deepStrictEqual(mountsToUndo(mounts, ["/var/lib/r"]), [])
  })

  it("removes child cgroups before their parents", () => {
    assert.deepStrictEqual(
      cgroupRemovalOrder(["/c/kubepods", "/c/kubepods/besteffort/pod1", "/c/kubepods/besteffort"]),
      ["/c/kubepods/besteffort/pod1", "/c/kubepods/besteffort", "/c/kubepods"],
    )
  })

  it("splits iptables rules keeping quoted comments whole", () => {
    assert.deepStrictEqual(
      splitRule(
        '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block \\"incoming\\" localnet" -j DROP',
      ),
      [
        "-A",
        "KUBE-FIREWALL",
        "!",
        "-s",
        "127.0.0.0/8",
        "-d",
        "127.0.0.0/8",
        "-m",
        "comment",
        "--comment",
        'block "incoming" localnet',
        "-j",
        "DROP",
      ],
    )
  })

  it("removes the jumps into the kubelet's chains, then the chains; chains that were there stay", () => {
    const rules = [
      "-P INPUT ACCEPT",
      "-N KUBE-FIREWALL",
      "-N KUBE-KUBELET-CANARY",
      "-N KUBE-OLD",
      "-N MINE",
      "-A INPUT -j KUBE-FIREWALL",
      "-A INPUT -j MINE",
      '-A OUTPUT -m comment --comment "x y" -j KUBE-FIREWALL',
      "-A KUBE-FIREWALL -j DROP",
    ].join("\n")
    assert.deepStrictEqual(chainsOf(rules), ["KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-OLD", "MINE"])
    assert.deepStrictEqual(iptablesCleanup(rules, ["KUBE-OLD"]), [
      ["-D", "INPUT", "-j", "KUBE-FIREWALL"],
      ["-D", "OUTPUT", "-m", "comment", "--comment", "x y", "-j", "KUBE-FIREWALL"],
      ["-F", "KUBE-FIREWALL"],
      ["-F", "KUBE-KUBELET-CANARY"],
      ["-X", "KUBE-FIREWALL"],
      ["-X", "KUBE-KUBELET-CANARY"],
    ])
    assert.deepStrictEqual(iptablesCleanup("-P INPUT ACCEPT\n-N MINE", []), [])
  })

  it("deletes only the nft tables that appeared", () => {
    assert.deepStrictEqual(nftTablesToDelete("table ip filter\ntable ip kube-proxy\n", "table ip filter\n"), [
      ["delete", "table", "ip", "kube-proxy"],
    ])
  })

  it("destroys only the KUBE- ipsets kube-router added, IPv6 ones too", () => {
    assert.deepStrictEqual(
      ipsetsToDestroy("mine\nKUBE-OLD\nKUBE-SRC-ABC\ninet6:KUBE-DST-XYZ\n\n", ["mine", "KUBE-OLD"]),
      ["KUBE-SRC-ABC", "inet6:KUBE-DST-XYZ"],
    )
    assert.deepStrictEqual(ipsetsToDestroy("", []), [])
  })

  it("writes back only the sysctls that changed (kernel.panic_on_oops above all)", () => {
    assert.deepStrictEqual(
      sysctlsToRestore(
        { "kernel.panic_on_oops": "0", "kernel.panic": "1", "vm.overcommit_memory": "0" },
        { "kernel.panic_on_oops": "1", "kernel.panic": "1", "vm.overcommit_memory": "1" },
      ),
      [
        ["kernel.panic_on_oops", "0"],
        ["vm.overcommit_memory", "0"],
      ],
    )
  })
})

describe("real node machine check", () => {
  const fine = { uid: 0, filesystems: "nodev\toverlay\n", cgroupMounted: true, unshareWorks: true }
  it("accepts a machine with root, overlayfs, cgroups and namespaces", () => {
    assert.deepStrictEqual(problems(fine), [])
  })
  it("says each reason the machine cannot run a real node", () => {
    assert.deepStrictEqual(problems({ ...fine, uid: 1000, filesystems: "ext4" }), [
      "not root (the kubelet, containerd and runc need root)",
      "the kernel has no overlay filesystem",
    ])
  })
})
