import { describe, expect, it } from "@effect/vitest"
import { goPermissions, parseEntries } from "../src/EntryRecord.ts"
import { FileType } from "../src/gen/filesystem/filesystem_pb.ts"

describe("goPermissions", () => {
  it("spells modes as Go's os.FileMode does", () => {
    expect(goPermissions(0o100644)).toBe("-rw-r--r--")
    expect(goPermissions(0o040755)).toBe("drwxr-xr-x")
    expect(goPermissions(0o120777)).toBe("Lrwxrwxrwx")
    expect(goPermissions(0o104755)).toBe("urwxr-xr-x")
    expect(goPermissions(0o041777)).toBe("dtrwxrwxrwx")
    expect(goPermissions(0o020666)).toBe("Dcrw-rw-rw-")
    expect(goPermissions(0o010600)).toBe("prw-------")
  })
})

describe("parseEntries", () => {
  it("reads files, directories and paths with spaces", () => {
    const entries = parseEntries(
      [
        "E 81a4 12 1000 1000 1700000000 user user /home/user/a file.txt",
        "E 41ed 4096 0 0 1700000001 root root /home/user/dir",
        "",
      ].join("\n"),
    )
    expect(entries.map((e) => [e.name, e.path, e.type, e.size, e.mode, e.permissions, e.owner])).toEqual([
      ["a file.txt", "/home/user/a file.txt", FileType.FILE, 12n, 0o644, "-rw-r--r--", "user"],
      ["dir", "/home/user/dir", FileType.DIRECTORY, 4096n, 0o755, "drwxr-xr-x", "root"],
    ])
    expect(entries[0]!.modifiedTime?.seconds).toBe(1700000000n)
    expect(entries[0]!.symlinkTarget).toBeUndefined()
  })

  it("reports a symlink with its target's type and mode, and a dangling one as unspecified", () => {
    const entries = parseEntries(
      [
        "E a1ff 4 1000 1000 1700000000 user user /w/link",
        "E a1ff 9 1000 1000 1700000000 user user /w/dangling",
        "L /w/link",
        "/w/real dir",
        "41ed",
        "L /w/dangling",
        "/nowhere",
        "-",
        "",
      ].join("\n"),
    )
    expect(entries.map((e) => [e.name, e.type, e.mode, e.permissions, e.symlinkTarget])).toEqual([
      ["link", FileType.DIRECTORY, 0o755, "Lrwxrwxrwx", "/w/real dir"],
      ["dangling", FileType.UNSPECIFIED, 0, "Lrwxrwxrwx", "/nowhere"],
    ])
  })

  it("falls back to numeric ids for unknown owners and skips unreadable lines", () => {
    const entries = parseEntries("garbage\nE 81a4 0 1234 5678 0 UNKNOWN UNKNOWN /x\n")
    expect(entries.map((e) => [e.owner, e.group])).toEqual([["1234", "5678"]])
  })
})
