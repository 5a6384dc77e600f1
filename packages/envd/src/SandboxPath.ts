import { posix } from "node:path"

/** Whether resolving `path` needs the user's home directory (relative or `~` paths do). */
export const needsHome = (path: string): boolean => !path.startsWith("/")

/**
 * envd's path rules: `~` and `~/x` expand to the home directory, a relative path is relative to
 * it, an empty path is the home directory itself; the result is absolute and normalized.
 */
export const resolvePath = (home: string, path: string): string => {
  const expanded =
    path === "" || path === "~"
      ? home
      : path.startsWith("~/")
        ? posix.join(home, path.slice(2))
        : path.startsWith("/")
          ? path
          : posix.join(home, path)
  const normalized = posix.normalize(posix.isAbsolute(expanded) ? expanded : `/${expanded}`)
  return normalized.length > 1 ? normalized.replace(/\/+$/, "") : normalized
}
