/*
 * sandbox-enter: a long-lived process inside a running container that runs programs there the way
 * `runc exec` would, without runc and without entering again for each program. Started once per
 * container by the node agent, it binds its unix socket (in a directory only the agent can reach),
 * joins the container's cgroups, enters its cgroup, ipc, uts, net, pid and mount namespaces (the
 * mount namespace puts it at the container's root), takes the user, groups, capabilities and
 * no_new_privs of the container's OCI spec, and only then serves: so it holds exactly what a
 * program it starts holds, no more. Each connection (from the agent only: SO_PEERCRED) is one
 * program: a forked supervisor reads the request frame, forks and executes the program (a fork
 * inside the container's pid namespace, not a spawn from Node plus six setns) and relays its
 * stdin, stdout, stderr or terminal and its exit as frames (see src/CommandFrame.ts).
 *
 *   sandbox-enter PID STARTTIME UID GID GROUPS CWD BOUNDING EFFECTIVE PERMITTED INHERITABLE NNP CGROUPS SOCKET CONTAINER
 *
 * STARTTIME: field 22 of /proc/PID/stat, so a reused pid is refused; GROUPS: comma-separated
 * supplementary gids ("-" for none); CWD: the working directory ("-": the root); capability sets:
 * hexadecimal masks (bit n = capability n); NNP: 1 to set no_new_privs; CGROUPS: colon-separated
 * cgroup.procs files to join ("-" for none); SOCKET: the path to listen on; CONTAINER: the
 * container's id, only so that `ps` on the node tells which container a process serves.
 * It prints "ready" on stdout once it serves, and exits when the container's process ends (a
 * pidfd), when its stdin closes or its parent dies (the agent), or on SIGTERM. Exit code 125:
 * entering failed (message on stderr).
 *
 * Why C and frames over one connection per program: Node cannot pass or receive file descriptors
 * (SCM_RIGHTS), so the program's stdio cannot be the agent's own sockets; a per-connection
 * supervisor relaying frames keeps stdin, stdout, stderr, the terminal, resizes and the exit on one
 * connection with backpressure, at the cost of one extra fork of this small static binary.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENTER_FAILED 125

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "sandbox-enter: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
  _exit(ENTER_FAILED);
}

static unsigned long long hex(const char *text) { return strtoull(text, NULL, 16); }

/* A copy to split: strtok on argv itself would rewrite /proc/PID/cmdline (its separators become
 * NULs), and the node's view of which container and socket this process serves would be lost. */
static char *copy_of(const char *text) {
  char *copy = strdup(text);
  if (copy == NULL) fail("copying an argument", NULL);
  return copy;
}

static void join_cgroups(const char *list) {
  if (strcmp(list, "-") == 0) return;
  char *files = copy_of(list);
  char pid[32];
  int length = snprintf(pid, sizeof pid, "%d\n", getpid());
  for (char *file = strtok(files, ":"); file != NULL; file = strtok(NULL, ":")) {
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, pid, (size_t)length) != length) fail("joining cgroup", file);
    close(fd);
  }
  free(files);
}

/* Opened before any setns: once in the container's mount namespace, /proc is the container's. */
static const char *namespaces[] = {"cgroup", "ipc", "uts", "net", "pid", "mnt"};
#define NAMESPACE_COUNT (sizeof namespaces / sizeof namespaces[0])

static void enter_namespaces(const char *pid, int pidfd) {
  int fds[NAMESPACE_COUNT];
  char path[64];
  for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
    snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, namespaces[i]);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) fail("opening", path);
  }
  /* Still alive after the opens: the namespace files are that process's, not a reused pid's. */
  struct pollfd alive = {pidfd, POLLIN, 0};
  if (poll(&alive, 1, 0) != 0) {
    errno = ESRCH;
    fail("the container's process ended", pid);
  }
  for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
    if (setns(fds[i], 0) != 0) fail("entering namespace", namespaces[i]);
    close(fds[i]);
  }
}

static void set_groups(const char *argument) {
  gid_t groups[64];
  size_t count = 0;
  char *list = copy_of(argument);
  if (strcmp(list, "-") != 0) {
    for (char *g = strtok(list, ","); g != NULL && count < 64; g = strtok(NULL, ",")) groups[count++] = (gid_t)strtoul(g, NULL, 10);
  }
  free(list);
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


/* Frame types (src/CommandFrame.ts): a type byte, a 4-byte big-endian length, the payload. */
enum {
  FRAME_REQUEST = 1, /* NUL-separated: stdin ("0"/"1"), terminal ("-" or "COLSxROWS"), argv... */
  FRAME_STDIN = 2,
  FRAME_STDIN_END = 3,
  FRAME_RESIZE = 4, /* "COLS ROWS" */
  FRAME_STDOUT = 17,
  FRAME_STDERR = 18,
  FRAME_EXIT = 19, /* 2 bytes: 0 and the exit code, or 1 and the signal */
};
#define MAX_PAYLOAD (1 << 20)
#define CHUNK 65536

static int write_all(int fd, const char *bytes, size_t length) {
  while (length > 0) {
    ssize_t written = write(fd, bytes, length);
    if (written < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    bytes += written;
    length -= (size_t)written;
  }
  return 0;
}

static int read_all(int fd, char *bytes, size_t length) {
  while (length > 0) {
    ssize_t n = read(fd, bytes, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    bytes += n;
    length -= (size_t)n;
  }
  return 0;
}

static int send_frame(int fd, int type, const char *payload, size_t length) {
  unsigned char header[5] = {(unsigned char)type, (unsigned char)(length >> 24), (unsigned char)(length >> 16),
                             (unsigned char)(length >> 8), (unsigned char)length};
  if (write_all(fd, (const char *)header, 5) != 0) return -1;
  return write_all(fd, payload, length);
}

static void resize(int terminal, const char *size, char separator) {
  struct winsize window = {0};
  char *rest = NULL;
  window.ws_col = (unsigned short)strtoul(size, &rest, 10);
  if (rest != NULL && *rest == separator) window.ws_row = (unsigned short)strtoul(rest + 1, NULL, 10);
  if (window.ws_col > 0 && window.ws_row > 0) ioctl(terminal, TIOCSWINSZ, &window);
}

/* Frames from the agent, parsed as bytes arrive (read only when poll says there are some). */
struct inbound {
  char *buffer;
  size_t length;
};

static const char *cwd_of_container = "-";

/* The program: its stdio set up, signals as a fresh process has them, in the container's cwd. */
static void run_program(char **argv, int in, int out, int err, int terminal) {
  if (terminal >= 0) {
    char *name = ptsname(terminal);
    if (name == NULL || setsid() < 0) fail("starting a terminal session", NULL);
    int pty = open(name, O_RDWR);
    if (pty < 0 || ioctl(pty, TIOCSCTTY, 0) != 0) fail("opening", name);
    in = out = err = pty;
  }
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) fail("dup2", NULL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (strcmp(cwd_of_container, "-") == 0 || chdir(cwd_of_container) != 0) {
    if (chdir("/") != 0) fail("chdir", "/");
  }
  execvp(argv[0], argv);
  fprintf(stderr, "sandbox-enter: cannot run %s: %s\n", argv[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

/* One connection, one program: read its request, start it, relay until its output ends and it
 * exits. The connection closing early (the agent's scope ended) sends the program SIGTERM. */
static void supervise(int connection) {
  signal(SIGCHLD, SIG_DFL);
  unsigned char header[5];
  if (read_all(connection, (char *)header, 5) != 0 || header[0] != FRAME_REQUEST) _exit(1);
  size_t length = ((size_t)header[1] << 24) | ((size_t)header[2] << 16) | ((size_t)header[3] << 8) | header[4];
  if (length == 0 || length > MAX_PAYLOAD) _exit(1);
  char *request = malloc(length + 1);
  if (request == NULL || read_all(connection, request, length) != 0) _exit(1);
  request[length] = 0;
  char *fields[4096];
  size_t count = 0;
  for (size_t at = 0; at < length && count < 4095; at += strlen(request + at) + 1) fields[count++] = request + at;
  fields[count] = NULL;
  if (count < 3) _exit(1);
  int wants_stdin = strcmp(fields[0], "1") == 0;
  const char *tty = fields[1];

  int terminal = -1;
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (strcmp(tty, "-") != 0) {
    terminal = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (terminal < 0 || grantpt(terminal) != 0 || unlockpt(terminal) != 0) fail("opening a terminal", "/dev/ptmx");
    resize(terminal, tty, 'x');
  } else {
    if (wants_stdin) {
      if (pipe2(in, O_CLOEXEC) != 0) fail("pipe", NULL);
    } else {
      in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (in[0] < 0) fail("opening", "/dev/null");
    }
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) fail("pipe", NULL);
  }
  pid_t program = fork();
  if (program < 0) fail("fork", NULL);
  if (program == 0) {
    close(connection);
    run_program(&fields[2], in[0], out[1], err[1], terminal);
  }
  if (in[0] >= 0) close(in[0]);
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  /* Where the program's input goes, and the streams its output comes from. */
  int input = terminal >= 0 ? terminal : in[1];
  int sources[2] = {terminal >= 0 ? terminal : out[0], terminal >= 0 ? -1 : err[0]};
  int types[2] = {FRAME_STDOUT, FRAME_STDERR};
  if (input >= 0) fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK);

  struct inbound inbound = {malloc(MAX_PAYLOAD + 5), 0};
  char *pending = NULL; /* stdin bytes the program has not taken yet */
  size_t pending_length = 0, pending_at = 0;
  int connection_open = 1, input_end = 0;
  char chunk[CHUNK];
  if (inbound.buffer == NULL) _exit(1);
  while (sources[0] >= 0 || sources[1] >= 0) {
    struct pollfd fds[4] = {
        {sources[0], POLLIN, 0},
        {sources[1], POLLIN, 0},
        /* Read the agent only when earlier input is delivered: backpressure on stdin. */
        {connection_open && pending_length == 0 ? connection : -1, POLLIN, 0},
        {pending_length > 0 ? input : -1, POLLOUT, 0},
    };
    if (poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int s = 0; s < 2; s++) {
      if (sources[s] < 0 || !(fds[s].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(sources[s], chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) { /* EOF, or EIO: every holder of the terminal closed it */
        close(sources[s]);
        sources[s] = -1;
        continue;
      }
      if (connection_open && send_frame(connection, types[s], chunk, (size_t)n) != 0) connection_open = 0;
    }
    if (fds[3].revents & (POLLOUT | POLLERR | POLLHUP)) {
      ssize_t n = write(input, pending + pending_at, pending_length - pending_at);
      if (n < 0 && errno != EAGAIN && errno != EINTR) pending_length = pending_at = 0;
      else if (n > 0 && (pending_at += (size_t)n) == pending_length) pending_length = pending_at = 0;
      if (pending_length == 0 && input_end && terminal < 0 && input >= 0) {
        close(input);
        input = -1;
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(connection, inbound.buffer + inbound.length, MAX_PAYLOAD + 5 - inbound.length);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        connection_open = 0;
        kill(program, SIGTERM);
        continue;
      }
      inbound.length += (size_t)n;
      size_t at = 0;
      while (inbound.length - at >= 5) {
        unsigned char *h = (unsigned char *)inbound.buffer + at;
        size_t size = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | h[4];
        if (size > MAX_PAYLOAD) _exit(1);
        if (inbound.length - at < 5 + size) break;
        char *payload = inbound.buffer + at + 5;
        at += 5 + size;
        if (h[0] == FRAME_STDIN && input >= 0 && size > 0) {
          /* Queued behind earlier bytes; the loop writes as the program reads. */
          char *grown = realloc(pending, pending_length + size);
          if (grown == NULL) _exit(1);
          pending = grown;
          memcpy(pending + pending_length, payload, size);
          pending_length += size;
        } else if (h[0] == FRAME_STDIN_END) {
          input_end = 1;
          if (pending_length == 0 && terminal < 0 && input >= 0) {
            close(input);
            input = -1;
          }
        } else if (h[0] == FRAME_RESIZE && terminal >= 0 && size < 32) {
          char size_text[32];
          memcpy(size_text, payload, size);
          size_text[size] = 0;
          resize(terminal, size_text, ' ');
        }
      }
      memmove(inbound.buffer, inbound.buffer + at, inbound.length - at);
      inbound.length -= at;
    }
  }
  int status = 0;
  while (waitpid(program, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid", NULL);
  }
  char exit_payload[2] = {WIFEXITED(status) ? 0 : 1,
                          (char)(WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status))};
  if (connection_open && send_frame(connection, FRAME_EXIT, exit_payload, 2) == 0) {
    /* Input the agent sent before it saw the exit is read and dropped (closing now would fail its
     * writes), until it closes its side or for 10 s at most. */
    shutdown(connection, SHUT_WR);
    struct pollfd rest = {connection, POLLIN, 0};
    while (poll(&rest, 1, 10000) > 0 && read(connection, chunk, sizeof chunk) > 0) {
    }
  }
  _exit(0);
}

static int listen_on(const char *path) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof address.sun_path) {
    errno = ENAMETOOLONG;
    fail("binding", path);
  }
  strcpy(address.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || chmod(path, 0600) != 0 ||
      listen(fd, 128) != 0)
    fail("listening on", path);
  return fd;
}

static void start_time_matches(const char *pid, const char *expected) {
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
  if (n <= 0) fail("reading", path);
  close(fd);
  stat[n] = 0;
  char *field = strrchr(stat, ')');
  /* Field 22 is the 20th after the command name's closing parenthesis. */
  for (int i = 0; field != NULL && i < 20; i++) field = strchr(field + 1, ' ');
  if (field == NULL || strncmp(field + 1, expected, strlen(expected)) != 0 ||
      (field[1 + strlen(expected)] != ' ' && field[1 + strlen(expected)] != 0)) {
    errno = ESRCH;
    fail("not the container's process (its start time differs)", pid);
  }
}

int main(int argc, char **argv) {
  if (argc != 15) {
    fprintf(stderr, "usage: sandbox-enter PID STARTTIME UID GID GROUPS CWD BOUNDING EFFECTIVE PERMITTED INHERITABLE NNP CGROUPS SOCKET CONTAINER\n");
    return ENTER_FAILED;
  }
  const char *pid = argv[1];
  uid_t uid = (uid_t)strtoul(argv[3], NULL, 10);
  gid_t gid = (gid_t)strtoul(argv[4], NULL, 10);
  cwd_of_container = argv[6];
  pid_t agent = getppid();
  uid_t agent_uid = geteuid();

  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)strtol(pid, NULL, 10), 0);
  if (pidfd < 0) fail("pidfd_open", pid);
  start_time_matches(pid, argv[2]);
  int listener = listen_on(argv[13]);
  join_cgroups(argv[12]);
  enter_namespaces(pid, pidfd);
  drop_bounding(hex(argv[7]));
  set_groups(argv[5]);
  if (setgid(gid) != 0) fail("setgid", NULL);
  if (setuid(uid) != 0) fail("setuid", NULL);
  /* A non-root uid lost every capability with setuid; root keeps exactly the spec's sets. */
  if (uid == 0) set_capabilities(hex(argv[8]), hex(argv[9]), hex(argv[10]));
  if (strcmp(argv[11], "1") == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs", NULL);
  /* After setuid, which clears it: die with the agent (and if it is already gone, now). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail("PR_SET_PDEATHSIG", NULL);
  if (getppid() != agent) return 0;
  default_home(uid);

  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN); /* supervisors are reaped by the kernel */
  if (write_all(1, "ready\n", 6) != 0) return 0;
  for (;;) {
    struct pollfd fds[3] = {{listener, POLLIN, 0}, {pidfd, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll", NULL);
    }
    if (fds[1].revents) return 0; /* the container's process ended */
    if (fds[2].revents) {         /* the agent closed our stdin or wrote to it: either way, stop */
      return 0;
    }
    if (!(fds[0].revents & POLLIN)) continue;
    int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0) continue;
    struct ucred peer;
    socklen_t size = sizeof peer;
    if (getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || peer.pid != agent ||
        peer.uid != agent_uid) {
      close(connection);
      continue;
    }
    pid_t supervisor = fork();
    if (supervisor == 0) {
      close(listener);
      close(pidfd);
      /* fd 0 stays taken (by /dev/null), so no pipe end lands there by chance. */
      close(0);
      if (open("/dev/null", O_RDONLY) != 0) _exit(1);
      supervise(connection);
    }
    close(connection);
  }
}
