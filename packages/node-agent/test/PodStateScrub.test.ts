import { assert, describe, it } from "@effect/vitest"
import * as PodStateScrub from "../src/PodStateScrub.ts"

describe("PodStateScrub", () => {
  it("reads the SysV objects ipcs lists, of every table, and nothing else", () => {
    const output = [
      "",
      "------ Message Queues --------",
      "key        msqid      owner      perms      used-bytes   messages",
      "0x5c3a1e2f 0          root       644        0            0",
      "",
      "------ Shared Memory Segments --------",
      "key        shmid      owner      perms      bytes      nattch     status",
      "0x00000000 3          root       600        4096       0          dest",
      "",
      "------ Semaphore Arrays --------",
      "key        semid      owner      perms      nsems",
      "",
    ].join("\n")
    assert.deepStrictEqual(
      PodStateScrub.ipcObjects(output).map((line) => line.split(/\s+/)[0]),
      ["0x5c3a1e2f", "0x00000000"],
    )
    assert.deepStrictEqual(PodStateScrub.ipcObjects("\n------ Semaphore Arrays --------\nkey semid\n"), [])
  })

  it("finds the device of the tmpfs at /dev/shm, the last mount there winning, and none for another type", () => {
    const mountinfo = [
      "700 650 0:90 / / rw,relatime - overlay overlay rw",
      "701 700 0:91 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k",
      "702 701 0:77 / /dev/shm rw,nosuid,nodev - tmpfs shm rw,size=65536k",
      "703 701 0:92 / /dev/mqueue rw - mqueue mqueue rw",
    ].join("\n")
    assert.strictEqual(PodStateScrub.shmDevice(mountinfo), "0:77")
    assert.strictEqual(
      PodStateScrub.shmDevice(`${mountinfo}\n704 702 0:93 / /dev/shm rw - tmpfs shm2 rw`),
      "0:93",
    )
    assert.isUndefined(PodStateScrub.shmDevice(`${mountinfo}\n704 702 8:1 / /dev/shm rw - ext4 /dev/sda1 rw`))
    assert.isUndefined(PodStateScrub.shmDevice(mountinfo.split("\n").slice(0, 2).join("\n")))
  })
})
