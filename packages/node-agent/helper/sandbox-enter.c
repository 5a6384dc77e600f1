/*
 * sandbox-enter: runs a program inside a running container, the way `runc exec` would, without
 * runc: joins the container's cgroups, enters its cgroup, ipc, uts, net, pid and mount
 * namespaces (the mount namespace puts it at the container's root), takes the user, groups,
 * capabilities and no_new_privs of the container's OCI spec, then forks (a new pid namespace
 * applies to children only) and executes the program with the environment it was given.
 *
 *   sandbox-enter PID UID GID GROUPS CWD BOUNDING EFFECTIVE PERMITTED INHERITABLE NNP CGROUPS TTY -- ARGV...
 *
 * GROUPS: comma-separated supplementary gids ("-" for none); CWD: the working directory ("-":
 * the root); capability sets: hexadecimal masks (bit n = capability n); NNP: 1 to set
 * no_new_privs; CGROUPS: colon-separated cgroup.procs files to join ("-" for none); TTY: "-",
 * or the terminal's first size as COLSxROWS: the program then runs on a new pseudo-terminal of the
 * container's devpts (stdin goes to it, its output comes out on stdout), and "COLS ROWS" lines on
 * fd 3 resize it.
 * The parent waits for the program, passes on SIGTERM, SIGINT and SIGHUP, and exits as it did
 * (128 + signal when killed). Exit code 125: entering failed (message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENTER_FAILED 125

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "sandbox-enter: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
  _exit(ENTER_FAILED);
}

static unsigned long long hex(const char *text) { return strtoull(text, NULL, 16); }

static void join_cgroups(char *files) {
  if (strcmp(files, "-") == 0) return;
  char pid[32];
  int length = snprintf(pid, sizeof pid, "%d\n", getpid());
  for (char *file = strtok(files, ":"); file != NULL; file = strtok(NULL, ":")) {
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, pid, (size_t)length) != length) fail("joining cgroup", file);
    close(fd);
  }
}

/* Opened before any setns: once in the container's mount namespace, /proc is the container's. */
static const char *namespaces[] = {"cgroup", "ipc", "uts", "net", "pid", "mnt"};
#define NAMESPACE_COUNT (sizeof namespaces / sizeof namespaces[0])

static void enter_namespaces(const char *pid) {
  int fds[NAMESPACE_COUNT];
  char path[64];
  for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
    snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, namespaces[i]);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) fail("opening", path);
  }
  for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
    if (setns(fds[i], 0) != 0) fail("entering namespace", namespaces[i]);
    close(fds[i]);
  }
}

static void set_groups(char *list) {
  gid_t groups[64];
  size_t count = 0;
  if (strcmp(list, "-") != 0) {
    for (char *g = strtok(list, ","); g != NULL && count < 64; g = strtok(NULL, ",")) groups[count++] = (gid_t)strtoul(g, NULL, 10);
  }
  if (setgroups(count, groups) != 0) fail("setgroups", NULL);
}

static void drop_bounding(unsigned long long keep) {
  for (int cap = 0; cap <= 63; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) fail("dropping capability", NULL);
  }
}

static void set_capabilities(unsigned long long effective, unsigned long long permitted, unsigned long long inheritable) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {
      {(__u32)effective, (__u32)permitted, (__u32)inheritable},
      {(__u32)(effective >> 32), (__u32)(permitted >> 32), (__u32)(inheritable >> 32)},
  };
  if (syscall(SYS_capset, &header, data) != 0) fail("capset", NULL);
}

/* HOME as runc sets it: from the container's /etc/passwd when the spec's environment has none. */
static void default_home(uid_t uid) {
  if (getenv("HOME") != NULL) return;
  const char *home = "/";
  static char line[1024];
  FILE *passwd = fopen("/etc/passwd", "re");
  if (passwd != NULL) {
    while (fgets(line, sizeof line, passwd) != NULL) {
      char *fields[7] = {0};
      char *cursor = line;
      for (int i = 0; i < 7 && cursor != NULL; i++) fields[i] = strsep(&cursor, ":");
      if (fields[2] != NULL && fields[5] != NULL && (uid_t)strtoul(fields[2], NULL, 10) == uid) {
        home = fields[5];
        break;
      }
    }
    fclose(passwd);
  }
  setenv("HOME", home, 1);
}

static volatile pid_t child = 0;

static int write_all(int fd, const char *bytes, ssize_t length) {
  while (length > 0) {
    ssize_t written = write(fd, bytes, (size_t)length);
    if (written < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    bytes += written;
    length -= written;
  }
  return 0;
}

static void resize(int terminal, const char *size, char separator) {
  struct winsize window = {0};
  char *rest = NULL;
  window.ws_col = (unsigned short)strtoul(size, &rest, 10);
  if (rest != NULL && *rest == separator) window.ws_row = (unsigned short)strtoul(rest + 1, NULL, 10);
  if (window.ws_col > 0 && window.ws_row > 0) ioctl(terminal, TIOCSWINSZ, &window);
}

/* Copies stdin to the terminal, the terminal to stdout, and applies resize lines from fd 3, until the
 * terminal hangs up (the program and everything holding it ended). */
static void relay(int terminal) {
  char buffer[16384];
  char sizes[64];
  size_t pending = 0;
  struct pollfd fds[3] = {{0, POLLIN, 0}, {terminal, POLLIN, 0}, {3, POLLIN, 0}};
  if (fcntl(3, F_GETFD) < 0) fds[2].fd = -1;
  for (;;) {
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(terminal, buffer, sizeof buffer);
      if (n <= 0) return;
      if (write_all(1, buffer, n) != 0) return;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(0, buffer, sizeof buffer);
      if (n <= 0) fds[0].fd = -1; /* input ended: the terminal stays until the program ends */
      else if (write_all(terminal, buffer, n) != 0) return;
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(3, sizes + pending, sizeof sizes - 1 - pending);
      if (n <= 0) {
        fds[2].fd = -1;
        continue;
      }
      pending += (size_t)n;
      sizes[pending] = 0;
      char *line = sizes;
      char *end;
      while ((end = strchr(line, '\n')) != NULL) {
        *end = 0;
        resize(terminal, line, ' ');
        line = end + 1;
      }
      pending = strlen(line);
      memmove(sizes, line, pending);
      if (pending == sizeof sizes - 1) pending = 0; /* a line too long to be a size */
    }
  }
}

static void pass_on(int signal) {
  if (child > 0) kill(child, signal);
}

int main(int argc, char **argv) {
  if (argc < 15 || strcmp(argv[13], "--") != 0) {
    fprintf(stderr, "usage: sandbox-enter PID UID GID GROUPS CWD BOUNDING EFFECTIVE PERMITTED INHERITABLE NNP CGROUPS TTY -- ARGV...\n");
    return ENTER_FAILED;
  }
  const char *pid = argv[1];
  uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);
  gid_t gid = (gid_t)strtoul(argv[3], NULL, 10);
  const char *cwd = argv[5];

  const char *tty = argv[12];
  char **program = &argv[14];

  join_cgroups(argv[11]);
  enter_namespaces(pid);
  /* The container's own devpts (its /dev/ptmx), opened while still root. */
  int terminal = -1;
  if (strcmp(tty, "-") != 0) {
    terminal = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (terminal < 0 || grantpt(terminal) != 0 || unlockpt(terminal) != 0) fail("opening a terminal", "/dev/ptmx");
    resize(terminal, tty, 'x');
  }
  drop_bounding(hex(argv[6]));
  set_groups(argv[4]);
  if (setgid(gid) != 0) fail("setgid", NULL);
  if (setuid(uid) != 0) fail("setuid", NULL);
  /* A non-root uid lost every capability with setuid; root keeps exactly the spec's sets. */
  if (uid == 0) set_capabilities(hex(argv[7]), hex(argv[8]), hex(argv[9]));
  if (strcmp(argv[10], "1") == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs", NULL);
  default_home(uid);

  child = fork();
  if (child < 0) fail("fork", NULL);
  if (child == 0) {
    if (terminal >= 0) {
      char *name = ptsname(terminal);
      if (name == NULL || setsid() < 0) fail("starting a terminal session", NULL);
      int pty = open(name, O_RDWR);
      if (pty < 0 || ioctl(pty, TIOCSCTTY, 0) != 0) fail("opening", name);
      dup2(pty, 0);
      dup2(pty, 1);
      dup2(pty, 2);
      if (pty > 2) close(pty);
    }
    close(3);
    if (strcmp(cwd, "-") == 0 || chdir(cwd) != 0) {
      if (chdir("/") != 0) fail("chdir", "/");
    }
    execvp(program[0], program);
    fprintf(stderr, "sandbox-enter: cannot run %s: %s\n", program[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  struct sigaction action = {0};
  action.sa_handler = pass_on;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGHUP, &action, NULL);
  if (terminal >= 0) relay(terminal);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid", NULL);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
