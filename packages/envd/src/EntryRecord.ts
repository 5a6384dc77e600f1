/**
 * Reads the entry lines our shell scripts print (see ShellScript) into envd's EntryInfo, with
 * the same conventions as envd: a symlink reports its target's type and permission bits, the
 * resolved target path, and Go's FileMode string of the link itself ("Lrwxrwxrwx").
 */
import { create } from "@bufbuild/protobuf"
import { timestampFromMs } from "@bufbuild/protobuf/wkt"
import { type EntryInfo, EntryInfoSchema, FileType } from "./gen/filesystem/filesystem_pb.ts"

const S_IFMT = 0o170000
const S_IFSOCK = 0o140000
const S_IFLNK = 0o120000
const S_IFREG = 0o100000
const S_IFBLK = 0o060000
const S_IFDIR = 0o040000
const S_IFCHR = 0o020000
const S_IFIFO = 0o010000
const S_ISUID = 0o4000
const S_ISGID = 0o2000
const S_ISVTX = 0o1000

/** Go's os.FileMode.String() for a raw st_mode: type letters in Go's order, then rwxrwxrwx. */
export const goPermissions = (rawMode: number): string => {
  const type = rawMode & S_IFMT
  const letters = [
    type === S_IFDIR ? "d" : "",
    type === S_IFLNK ? "L" : "",
    type === S_IFBLK || type === S_IFCHR ? "D" : "",
    type === S_IFIFO ? "p" : "",
    type === S_IFSOCK ? "S" : "",
    rawMode & S_ISUID ? "u" : "",
    rawMode & S_ISGID ? "g" : "",
    type === S_IFCHR ? "c" : "",
    rawMode & S_ISVTX ? "t" : "",
  ].join("")
  const rwx = "rwxrwxrwx"
  let bits = ""
  for (let i = 0; i < 9; i++) bits += rawMode & (1 << (8 - i)) ? rwx[i] : "-"
  return (letters === "" ? "-" : letters) + bits
}

export const fileTypeOf = (rawMode: number): FileType => {
  switch (rawMode & S_IFMT) {
    case S_IFREG:
      return FileType.FILE
    case S_IFDIR:
      return FileType.DIRECTORY
    case S_IFLNK:
      return FileType.SYMLINK
    default:
      return FileType.UNSPECIFIED
  }
}

const basename = (path: string): string => {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path
  const index = trimmed.lastIndexOf("/")
  return index < 0 ? trimmed : trimmed.slice(index + 1) || "/"
}

interface StatLine {
  readonly rawMode: number
  readonly size: bigint
  readonly uid: string
  readonly gid: string
  readonly mtimeSeconds: number
  readonly owner: string
  readonly group: string
  readonly path: string
}

// "E <hex mode> <size> <uid> <gid> <mtime> <owner> <group> <path>"; the path may hold spaces.
const statLine = /^E ([0-9a-fA-F]+) (\d+) (\d+) (\d+) (-?\d+) (\S+) (\S+) (.*)$/

const parseStatLine = (line: string): StatLine | undefined => {
  const match = statLine.exec(line)
  if (match === null) return undefined
  const [, mode, size, uid, gid, mtime, owner, group, path] = match
  return {
    rawMode: Number.parseInt(mode!, 16),
    size: BigInt(size!),
    uid: uid!,
    gid: gid!,
    mtimeSeconds: Number(mtime),
    owner: owner!,
    group: group!,
    path: path!,
  }
}

interface LinkInfo {
  readonly target: string
  /** Undefined when the target does not exist. */
  readonly targetMode: number | undefined
}

const toEntry = (stat: StatLine, link: LinkInfo | undefined): EntryInfo => {
  const isLink = (stat.rawMode & S_IFMT) === S_IFLNK
  const effectiveMode = isLink ? link?.targetMode : stat.rawMode
  return create(EntryInfoSchema, {
    name: basename(stat.path),
    path: stat.path,
    type: effectiveMode === undefined ? FileType.UNSPECIFIED : fileTypeOf(effectiveMode),
    size: stat.size,
    mode: effectiveMode === undefined ? 0 : effectiveMode & 0o777,
    permissions: goPermissions(stat.rawMode),
    // stat prints UNKNOWN for ids without a name; envd falls back to the number.
    owner: stat.owner === "UNKNOWN" ? stat.uid : stat.owner,
    group: stat.group === "UNKNOWN" ? stat.gid : stat.group,
    modifiedTime: timestampFromMs(stat.mtimeSeconds * 1000),
    ...(isLink ? { symlinkTarget: link?.target ?? stat.path } : {}),
  })
}

/** All entries in a script's output, in order; lines it cannot read are skipped. */
export const parseEntries = (output: string): Array<EntryInfo> => {
  const lines = output.split("\n")
  const stats: Array<StatLine> = []
  const links = new Map<string, LinkInfo>()
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.startsWith("E ")) {
      const stat = parseStatLine(line)
      if (stat !== undefined) stats.push(stat)
    } else if (line.startsWith("L ") && i + 2 < lines.length) {
      const target = lines[i + 1]!
      const mode = lines[i + 2]!
      links.set(line.slice(2), {
        target,
        targetMode: /^[0-9a-fA-F]+$/.test(mode) ? Number.parseInt(mode, 16) : undefined,
      })
      i += 2
    }
  }
  return stats.map((stat) => toEntry(stat, links.get(stat.path)))
}
