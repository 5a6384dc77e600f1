import { describe, expect, it } from "@effect/vitest"
import { EventType } from "../src/gen/filesystem/filesystem_pb.ts"
import { diffSnapshots, emptySplitter, parseSnapshot, splitSnapshots } from "../src/WatchSnapshot.ts"

describe("WatchSnapshot", () => {
  const before = parseSnapshot([
    "W 81a4 0 100 1 ./kept.txt",
    "W 81a4 5 100 2 ./gone.txt",
    "W 41ed 4096 100 3 ./dir",
    "W 81a4 5 100 4 ./dir/mode.txt",
  ])

  it("turns two snapshots into create, write, remove and chmod events", () => {
    const after = parseSnapshot([
      "W 81a4 7 101 1 ./kept.txt",
      "W 41ed 4096 102 3 ./dir",
      "W 81ed 5 100 4 ./dir/mode.txt",
      "W 81a4 0 102 9 ./dir/new empty.txt",
      "W 81a4 3 102 10 ./with content",
    ])
    expect(diffSnapshots(before, after)).toEqual([
      { name: "gone.txt", type: EventType.REMOVE },
      { name: "dir/mode.txt", type: EventType.CHMOD },
      { name: "dir/new empty.txt", type: EventType.CREATE },
      { name: "kept.txt", type: EventType.WRITE },
      { name: "with content", type: EventType.CREATE },
      { name: "with content", type: EventType.WRITE },
    ])
  })

  it("sees a replaced file (new inode) as removed and created", () => {
    const after = new Map(before)
    after.set("kept.txt", { rawMode: 0o100644, size: "0", mtime: "100", inode: "42" })
    expect(diffSnapshots(before, after)).toEqual([
      { name: "kept.txt", type: EventType.REMOVE },
      { name: "kept.txt", type: EventType.CREATE },
    ])
  })

  it("splits the script's output into snapshots across chunk boundaries", () => {
    const first = splitSnapshots(emptySplitter, "W 81a4 0 1 1 ./a\n.\nW 81a4 0 1 1 ./")
    expect(first.snapshots.map((s) => [...s.keys()])).toEqual([["a"]])
    const second = splitSnapshots(first.splitter, "b\n.\n.\n")
    expect(second.snapshots.map((s) => [...s.keys()])).toEqual([["b"], []])
  })
})
