/**
 * The POSIX shell programs the data plane runs in a sandbox through exec. Each is a fixed
 * script text; every path, name and value travels as a positional argument, never spliced into
 * the script, so no request can inject shell code. They need only sh and coreutils/busybox
 * (stat -c, find, readlink -f, head -c, mkdir -p, mv, rm), present in almost every image.
 */
import { type EnvdError, envdError } from "./EnvdError.ts"

/** Exit codes our scripts use to report a typed failure (message on stderr). */
export const ScriptExit = {
  notFound: 80,
  invalidArgument: 81,
  alreadyExists: 82,
} as const

const sh = (script: string, ...args: ReadonlyArray<string>): ReadonlyArray<string> => [
  "/bin/sh",
  "-c",
  script,
  "envd",
  ...args,
]

/**
 * One `E` line per entry (lstat), and for a symlink an `L <path>` line, the resolved target and
 * the target's raw mode (or `-` when it dangles). Parsed by EntryRecord.
 */
const entryFormat = "E %f %s %u %g %Y %U %G %n"
const linkDetails = `printf 'L %s\\n' "$f"; readlink -f -- "$f" 2>/dev/null || printf '%s\\n' "$f"; stat -L -c %f -- "$f" 2>/dev/null || echo -`

const prelude = `
fail() { code=$1; shift; printf '%s\\n' "$*" >&2; exit "$code"; }
entry() {
  f=$1
  stat -c '${entryFormat}' -- "$f" || return 1
  if [ -L "$f" ]; then ${linkDetails}; fi
}
`

const statScript = `${prelude}
p=$1
[ -e "$p" ] || [ -L "$p" ] || fail ${ScriptExit.notFound} "file not found: $p"
entry "$p"
`

export const statArgv = (path: string) => sh(statScript, path)

const listScript = `${prelude}
p=$1; n=$2
[ -e "$p" ] || fail ${ScriptExit.notFound} "directory not found: $p"
d=$(readlink -f -- "$p" 2>/dev/null) || d=$p
[ -d "$d" ] || fail ${ScriptExit.invalidArgument} "path is not a directory: $p"
find "$d" -mindepth 1 -maxdepth "$n" -exec stat -c '${entryFormat}' -- {} + 2>/dev/null
find "$d" -mindepth 1 -maxdepth "$n" -type l -exec sh -c 'for f do ${linkDetails.replaceAll("'", "'\\''")}; done' envd-link {} + 2>/dev/null
exit 0
`

/** Entries under `path` down to `depth` levels (1 = direct children); symlinks are not followed. */
export const listDirArgv = (path: string, depth: number) => sh(listScript, path, String(depth))

const makeDirScript = `${prelude}
p=$1
if [ -d "$p" ]; then fail ${ScriptExit.alreadyExists} "directory already exists: $p"; fi
if [ -e "$p" ] || [ -L "$p" ]; then fail ${ScriptExit.invalidArgument} "path already exists but it is not a directory: $p"; fi
mkdir -p -- "$p" || exit 1
entry "$p"
`

export const makeDirArgv = (path: string) => sh(makeDirScript, path)

// rename(2) semantics: a directory may replace only an empty directory; parents are created.
const moveScript = `${prelude}
s=$1; t=$2
[ -e "$s" ] || [ -L "$s" ] || fail ${ScriptExit.notFound} "source file not found: $s"
if [ ! "$s" -ef "$t" ]; then
  mkdir -p -- "$(dirname -- "$t")" || exit 1
  if [ -d "$t" ] && [ ! -L "$t" ]; then
    if [ -d "$s" ] && [ ! -L "$s" ]; then
      rmdir -- "$t" 2>/dev/null || fail 1 "destination is a non-empty directory: $t"
    else
      fail 1 "destination is a directory: $t"
    fi
  fi
  mv -f -- "$s" "$t" || exit 1
fi
entry "$t"
`

export const moveArgv = (source: string, destination: string) => sh(moveScript, source, destination)

/** Removing a missing path succeeds, as os.RemoveAll does in envd. */
export const removeArgv = (path: string) => sh('rm -rf -- "$1"', path)

const readFileScript = `${prelude}
p=$1
[ -e "$p" ] || fail ${ScriptExit.notFound} "file not found: $p"
[ -d "$p" ] && fail ${ScriptExit.invalidArgument} "path is a directory: $p"
echo "$$"
exec cat -- "$p"
`

/** Its pid (see SupervisedProgram), then the file's bytes on stdout. */
export const readFileArgv = (path: string) => sh(readFileScript, path)

// `head -c` stops after exactly the announced size, so the write never waits for end of stdin
// (which not every exec implementation forwards).
const writeFileScript = `${prelude}
p=$1; n=$2
[ -d "$p" ] && fail ${ScriptExit.invalidArgument} "path is a directory: $p"
mkdir -p -- "$(dirname -- "$p")" || exit 1
echo "$$"
if [ "$n" -eq 0 ]; then : > "$p" || exit 1; else head -c "$n" > "$p" || exit 1; fi
entry "$p"
`

/**
 * Writes exactly `size` bytes from stdin to `path` (creating parents); prints its pid, then the
 * file's entry (see SupervisedProgram).
 */
export const writeFileArgv = (path: string, size: number) => sh(writeFileScript, path, String(size))

// biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
const homeScript = 'printf "%s" "${HOME:-/}"'

export const homeArgv = () => sh(homeScript)

// Signals the process and all its descendants (found through /proc), so a shell's children
// do not outlive it holding the output open; a process group it leads is signalled too.
const signalScript = `
sig=$1; root=$2
kill -0 "$root" 2>/dev/null || { printf 'process with pid %s not found\\n' "$root" >&2; exit ${ScriptExit.notFound}; }
pairs=$(for s in /proc/[0-9]*/stat; do
  read -r line < "$s" 2>/dev/null || continue
  p=\${s#/proc/}; p=\${p%/stat}
  rest=\${line##*")"}
  set -- $rest
  printf '%s %s\\n' "$p" "$2"
done)
all=$root; todo=$root
while [ -n "$todo" ]; do
  next=
  for t in $todo; do
    kids=$(printf '%s\\n' "$pairs" | while read -r p pp; do [ "$pp" = "$t" ] && printf '%s ' "$p"; done)
    next="$next $kids"
  done
  todo=$(echo $next)
  all="$all $todo"
done
kill -s "$sig" -- "-$root" 2>/dev/null
kill -s "$sig" $all 2>/dev/null
exit 0
`

export const signalArgv = (pid: number, signal: "KILL" | "TERM") => sh(signalScript, signal, String(pid))

/** Environment variable names a POSIX shell can export. */
export const isValidEnvName = (name: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)

// Prints its own pid on the first stdout line, reads the environment from stdin (see envBlock),
// then becomes the command (exec keeps the pid). Under a terminal it first turns echo and line
// editing off, so the block is neither shown nor changed, and turns them back on (`-raw echo`, a
// fresh terminal's modes) for the command; the server sends the block only once the pid line is
// out (the terminal is raw by then). Its own
// variables start with _envd_ so that no usual variable name of the block overwrites them.
const launchScript = `
if [ -n "$1" ]; then
  cd -- "$1" 2>/dev/null || { printf "cwd '%s' does not exist\\n" "$1" >&2; exit ${ScriptExit.invalidArgument}; }
else
  cd -- "\${HOME:-/}" 2>/dev/null || cd /
fi
_envd_stdin=$2; _envd_tty=$3; shift 3
if [ "$_envd_tty" = 1 ]; then stty raw -echo 2>/dev/null; fi
echo "$$"
_envd_nl='
'
while IFS= read -r _envd_name && [ -n "$_envd_name" ]; do
  IFS= read -r _envd_lines || break
  _envd_value=; _envd_i=0
  while [ "$_envd_i" -lt "$_envd_lines" ]; do
    IFS= read -r _envd_part || break
    if [ "$_envd_i" = 0 ]; then _envd_value=$_envd_part; else _envd_value=$_envd_value$_envd_nl$_envd_part; fi
    _envd_i=$((_envd_i + 1))
  done
  export "$_envd_name=$_envd_value"
done
if [ "$_envd_tty" = 1 ]; then stty -raw echo 2>/dev/null; fi
if [ "$_envd_stdin" = 1 ]; then exec "$@"; else exec "$@" < /dev/null; fi
`

export interface LaunchSpec {
  readonly cmd: string
  readonly args: ReadonlyArray<string>
  /** Empty: the user's home directory. */
  readonly cwd: string
  readonly stdin: boolean
  readonly tty: boolean
}

/**
 * The launcher's argv. It holds no environment values: the argv becomes the exec request's URL,
 * which API-server audit logs and proxies record; the values go through stdin (envBlock).
 */
export const launchArgv = (spec: LaunchSpec) =>
  sh(launchScript, spec.cwd, spec.stdin ? "1" : "0", spec.tty ? "1" : "0", spec.cmd, ...spec.args)

/**
 * The environment as the launcher reads it from stdin before the command's own input: per
 * variable its name, the number of lines of its value, and those lines; an empty line ends the
 * block. Names must be shell names (isValidEnvName); values may hold any character but NUL.
 */
export const envBlock = (envs: Readonly<Record<string, string>>): Uint8Array => {
  const text = Object.entries(envs)
    .map(([name, value]) => {
      const lines = value.split("\n")
      return `${name}\n${lines.length}\n${lines.join("\n")}\n`
    })
    .join("")
  return new TextEncoder().encode(`${text}\n`)
}

/**
 * Polls a directory: its pid first (see SupervisedProgram), then one snapshot (`W <raw mode>
 * <size> <mtime> <inode> <relative path>` lines, then a lone `.`) per line read from stdin, so
 * the server paces it; the loop ends when its stdin closes or it is killed.
 */
const watchScript = `
d=$1; recursive=$2
[ -e "$d" ] || { printf 'path %s not found\\n' "$d" >&2; exit ${ScriptExit.notFound}; }
[ -d "$d" ] || { printf 'path %s not a directory\\n' "$d" >&2; exit ${ScriptExit.invalidArgument}; }
cd -- "$d" || exit 1
echo "$$"
while :; do
  if [ "$recursive" = 1 ]; then
    find . -mindepth 1 -exec stat -c 'W %f %s %Y %i %n' -- {} + 2>/dev/null
  else
    find . -mindepth 1 -maxdepth 1 -exec stat -c 'W %f %s %Y %i %n' -- {} + 2>/dev/null
  fi
  echo . || exit 0
  read -r _ || exit 0
done
`

export const watchArgv = (path: string, recursive: boolean) => sh(watchScript, path, recursive ? "1" : "0")

/** The typed failure a script reported through its exit code and stderr. */
export const scriptFailure = (exitCode: number, stderr: string, what: string): EnvdError => {
  const message = stderr.trim() || `${what} failed with exit code ${exitCode}`
  switch (exitCode) {
    case ScriptExit.notFound:
      return envdError("not_found", message)
    case ScriptExit.invalidArgument:
      return envdError("invalid_argument", message)
    case ScriptExit.alreadyExists:
      return envdError("already_exists", message)
    default:
      if (/no space left on device/i.test(message)) return envdError("resource_exhausted", message)
      if (/permission denied/i.test(message)) return envdError("permission_denied", message)
      return envdError("internal", `${what}: ${message}`)
  }
}
