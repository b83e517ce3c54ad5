/*
 * tsflux-launcher: the native task launcher (src/broker/exec/README.md).
 *
 * Does exactly what spawner-main.ts (the node helper) does, for a fraction of the cost per
 * task: it starts each task with clone(CLONE_VM|CLONE_VFORK) + execve, so no page tables are
 * copied. Driven by NativeTransport (native-transport.ts) over two pipes: commands on stdin,
 * events on stdout; stderr is inherited for diagnostics. Built by scripts/build-launcher.mjs.
 *
 * Wire format. Every frame, both ways: u32 little-endian length of what follows, one op byte,
 * the body. Numbers in commands are decimal text; every command field ends with a NUL, so
 * argv and envp point straight into the frame.
 *   'L' launch: id argc envc nrl flags cwd stdin stdout stderr timelimit grace mkdir
 *               (rlimit-name rlimit-value){nrl} argv{argc} env{envc}
 *       envc -1 = inherit ours; flags "c" = clamp rlimits above the hard limit; cwd "" = ours;
 *       stdin "" | "r<file>" | "p" (a pipe fed by 'I'); stdout/stderr "" (/dev/null) | "c" (capture) | "w<file>" |
 *       "a<file>" (append); timelimit/grace "" = none/default; an rlimit value is String(v),
 *       or "?" + String(v) when v is not a number; mkdir "" = none, else a directory to make
 *       (mode 0700, missing parents too) before the task starts (a job's FLUX_JOB_TMPDIR).
 *   'K' kill: id signum          'S' stats: request-id          'Q' shutdown
 *   'D' rmdir: dir (removed with whatever is in it)
 *   'I' stdin: id flags data  (flags "e" = close the pipe after data; data: raw bytes up to
 *       the end of the frame; written as the task reads, never blocking)
 * Events are binary:
 *   'R' ready   u32 pid
 *   'S' started u32 id, u32 pid
 *   'O' output  u32 id, u8 stream (1 stdout, 2 stderr), raw bytes (the TS side decodes UTF-8)
 *   'X' exited  u32 id, u32 wait status, u8 timed out
 *   'F' failed  u32 id, u32 errno, code NUL, message NUL
 *   'T' stats   u32 request-id, u32 pid, u64 rss, u64 heap, u64 cpu us, u32 tasks
 * Each side writes everything queued during one turn of its loop with one write.
 *
 * Usage: tsflux-launcher [--kill-grace=SEC] [--batch=N] [--dry-run]
 *        tsflux-launcher --exec-pdeathsig PPID -- CMD [ARG...]   (see exec_pdeathsig)
 * (--dry-run answers each launch with started + exited and starts nothing: transport bench.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ftw.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

/* ---------------------------------------------------------------------------------------
 * Errors: the node helper's texts (spawner-main.ts STRERROR), else the errno name. */

#define E(e, text) {e, #e, text}
static const struct { int e; const char *name, *text; } TEXTS[] = {
  E(EPERM, "Operation not permitted"), E(ENOENT, "No such file or directory"),
  E(ESRCH, "No such process"), E(EINTR, "Interrupted system call"), E(EIO, "Input/output error"),
  E(E2BIG, "Argument list too long"), E(ENOEXEC, "Exec format error"),
  E(EBADF, "Bad file descriptor"), E(EAGAIN, "Resource temporarily unavailable"),
  E(ENOMEM, "Cannot allocate memory"), E(EACCES, "Permission denied"), E(EFAULT, "Bad address"),
  E(EBUSY, "Device or resource busy"), E(EEXIST, "File exists"), E(ENOTDIR, "Not a directory"),
  E(EISDIR, "Is a directory"), E(EINVAL, "Invalid argument"),
  E(ENFILE, "Too many open files in system"), E(EMFILE, "Too many open files"),
  E(ETXTBSY, "Text file busy"), E(EFBIG, "File too large"), E(ENOSPC, "No space left on device"),
  E(EROFS, "Read-only file system"), E(ENAMETOOLONG, "File name too long"),
  E(ENOSYS, "Function not implemented"), E(ELOOP, "Too many levels of symbolic links"),
  E(ELIBBAD, "Accessing a corrupted shared library"),
  E(ESHUTDOWN, "Cannot send after transport endpoint shutdown"),
};
#undef E

static const char *err_name(int e) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
  const char *n = strerrorname_np(e);
  if (n) return n;
#endif
  for (size_t i = 0; i < sizeof TEXTS / sizeof TEXTS[0]; i++)
    if (TEXTS[i].e == e) return TEXTS[i].name;
  return "EIO";
}
static const char *err_text(int e) {
  for (size_t i = 0; i < sizeof TEXTS / sizeof TEXTS[0]; i++)
    if (TEXTS[i].e == e) return TEXTS[i].text;
  return err_name(e);
}

static void die(const char *what) {
  fprintf(stderr, "tsflux-launcher: %s: %s\n", what, strerror(errno));
  exit(70);
}

/* ---------------------------------------------------------------------------------------
 * Byte buffers and event frames */

typedef struct { char *p; size_t len, cap; } buf_t;

static void buf_reserve(buf_t *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + more) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) die("out of memory");
  b->p = p;
  b->cap = cap;
}
static void buf_put(buf_t *b, const void *d, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, d, n);
  b->len += n;
}
static void set_u32(char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (char)(v >> (8 * i));
}
static uint32_t get_u32(const char *p) {
  const unsigned char *u = (const unsigned char *)p;
  return u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static buf_t out;             /* events not yet written to stdout */
static size_t out_sent;       /* bytes of `out` already written */
/* The last frame in `out`, when it is output still open for appending (else SIZE_MAX). */
static size_t open_frame = SIZE_MAX;
static uint32_t open_id;
static int open_stream;

static void put_u32(uint32_t v) {
  char c[4];
  set_u32(c, v);
  buf_put(&out, c, 4);
}
static void put_u64(uint64_t v) {
  put_u32((uint32_t)v);
  put_u32((uint32_t)(v >> 32));
}
static size_t ev_begin(char op) {
  size_t at = out.len;
  open_frame = SIZE_MAX;
  put_u32(0);
  buf_put(&out, &op, 1);
  return at;
}
static void ev_end(size_t at) { set_u32(out.p + at, (uint32_t)(out.len - at - 4)); }

static void ev_started(uint32_t id, pid_t pid) {
  size_t at = ev_begin('S');
  put_u32(id);
  put_u32((uint32_t)pid);
  ev_end(at);
}
static void ev_exited(uint32_t id, int status, bool timed_out) {
  size_t at = ev_begin('X');
  put_u32(id);
  put_u32((uint32_t)status);
  buf_put(&out, timed_out ? "\1" : "\0", 1);
  ev_end(at);
}
static void ev_failed(uint32_t id, int err, const char *fmt, ...) {
  va_list ap;
  char *msg = NULL;
  va_start(ap, fmt);
  int n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  size_t at = ev_begin('F');
  put_u32(id);
  put_u32((uint32_t)err);
  buf_put(&out, err_name(err), strlen(err_name(err)) + 1);
  if (n > 0) buf_put(&out, msg, (size_t)n);
  buf_put(&out, "", 1);
  ev_end(at);
  free(msg);
}

/* ---------------------------------------------------------------------------------------
 * Tasks: found by id (commands, capture pipes) and by pid (reaping); one timer each. */

enum { T_NONE, T_LIMIT, T_GRACE, T_CLOSE };

typedef struct task {
  uint32_t id;
  uint64_t seq;   /* TSFLUX_TASK=<id>.<seq> in its environment: marks its escaped processes */
  char *cg;       /* its cgroup (malloc'd), or NULL */
  pid_t pid;
  int status;     /* wait status once reaped, else -1 */
  bool timed_out;
  int fd[2];      /* capture pipes (our read ends) for stdout, stderr; -1 = none or closed */
  int in_fd;      /* stdin pipe (our write end, non-blocking); -1 = none or closed */
  bool in_eof;    /* close in_fd once `in` is written */
  buf_t in;       /* stdin bytes not written yet, from in_off */
  size_t in_off;
  double grace;   /* seconds from SIGALRM to SIGKILL */
  int timer;      /* T_*: what happens at `when` */
  double when;    /* ms, CLOCK_MONOTONIC */
  int hidx;       /* index in the timer heap, -1 if none */
  struct task *id_next, *pid_next;
} task_t;

#define NBUCKETS 16384
static task_t *by_id[NBUCKETS], *by_pid[NBUCKETS];
static size_t ntasks;

static task_t *find_id(uint32_t id) {
  task_t *t = by_id[id % NBUCKETS];
  while (t && t->id != id) t = t->id_next;
  return t;
}
/* Remove the task with this pid from the pid table and return it (pids are reused). */
static task_t *take_pid(pid_t pid) {
  task_t **pp = &by_pid[(uint32_t)pid % NBUCKETS];
  while (*pp && (*pp)->pid != pid) pp = &(*pp)->pid_next;
  task_t *t = *pp;
  if (t) *pp = t->pid_next;
  return t;
}

/* ---------------------------------------------------------------------------------------
 * Escaped processes. We are a child subreaper (PR_SET_CHILD_SUBREAPER): a process a task
 * started that outlives its parent (`setsid cmd &`, a daemon) becomes our child instead of
 * init's. Every task's environment carries TSFLUX_TASK=<id>.<seq>, which its descendants
 * inherit; sweep() kills each child of ours that is not a running task and whose marker names
 * a task that has ended (or with `all`, every one). A process that clears its environment
 * before escaping is not recognised (src/broker/launcher/README.md). */

#define MARKER "TSFLUX_TASK="
static uint64_t next_seq = 1;

/* The marker of process `pid`: its task id and seq; false if it has none (or is gone). */
static bool marker_of(pid_t pid, uint32_t *id, uint64_t *seq) {
  char path[64], buf[65536];
  snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  for (char *e = buf; e < buf + n; e += strlen(e) + 1) {
    unsigned long long q;
    unsigned int i;
    if (strncmp(e, MARKER, sizeof MARKER - 1) == 0 && sscanf(e + sizeof MARKER - 1, "%u.%llu", &i, &q) == 2) {
      *id = i;
      *seq = q;
      return true;
    }
  }
  return false;
}

static task_t *find_id(uint32_t id);

/* SIGKILL our children that escaped a task that has ended (all of them with `all`), and the
 * process group each leads. Their own children come back to us when they die: the next reap
 * sweeps again. Returns how many were signalled. */
static int sweep(bool all) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  static char text[1 << 16];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  int killed = 0;
  for (char *p = text, *e; *p; p = e) {
    long v = strtol(p, &e, 10);
    if (e == p) break;
    pid_t pid = (pid_t)v;
    task_t *t = NULL;
    for (t = by_pid[(uint32_t)pid % NBUCKETS]; t && t->pid != pid; t = t->pid_next) {}
    if (t) continue; /* a running task */
    uint32_t id;
    uint64_t seq;
    if (!all) {
      if (!marker_of(pid, &id, &seq)) continue;
      task_t *owner = find_id(id);
      if (owner && owner->seq == seq && owner->status < 0) continue; /* its task still runs */
    }
    if (getpgid(pid) == pid) kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    killed++;
  }
  return killed;
}

static void cg_cleanup(void);

/* At exit: every process of every task is killed and reaped, escaped ones too (at most 5 s). */
static void kill_everything(void) {
  alarm(5);
  for (;;) {
    int st;
    sweep(true);
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) break; /* ECHILD: nothing left */
  }
  cg_cleanup();
}

/* ---------------------------------------------------------------------------------------
 * Cgroups. Where we may create a cgroup v2 below our own (root, or a delegated subtree; found
 * through /proc/self/cgroup and /proc/self/mountinfo), each task starts in a cgroup of its own,
 * <ours>/tsflux-launcher-<pid>/task-<id>-<seq>, and when the task ends everything still in it is
 * killed at once (cgroup.kill), whatever it did to escape: a new session, a cleared environment,
 * a double fork. Without one (cgroup v1 only, or no permission) the marker above is all there is
 * (src/broker/launcher/README.md). */

static char cg_base[PATH_MAX]; /* our cgroup for tasks; "" = none */
static char **cg_dying;        /* task cgroups killed and not yet removed */
static size_t cg_ndying, cg_capdying;

static void cg_write(const char *dir, const char *file, const char *text) {
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  int fd = open(p, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t w = write(fd, text, strlen(text));
  (void)w;
  close(fd);
}

/* The cgroups a launcher killed with SIGKILL left behind in `dir` (its pid is gone): their
 * tasks died with it (PDEATHSIG); remove what is empty. */
static void cg_remove_stale(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    int pid;
    char rest;
    if (sscanf(e->d_name, "tsflux-launcher-%d%c", &pid, &rest) != 1 || pid <= 0) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue; /* alive (or not ours to judge) */
    char sub[PATH_MAX];
    if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub) continue;
    DIR *t = opendir(sub);
    if (t) {
      struct dirent *f;
      char task[PATH_MAX + 300];
      while ((f = readdir(t)))
        if (strncmp(f->d_name, "task-", 5) == 0) {
          snprintf(task, sizeof task, "%s/%s", sub, f->d_name);
          cg_write(task, "cgroup.kill", "1");
          rmdir(task);
        }
      closedir(t);
    }
    rmdir(sub);
  }
  closedir(d);
}

static void cg_init(void) {
  if (getenv("TSFLUX_LAUNCHER_NO_CGROUP")) return;
  char line[PATH_MAX + 64], own[PATH_MAX] = "", mnt[PATH_MAX] = "";
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f) return;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "0::", 3) == 0) {
      line[strcspn(line, "\n")] = '\0';
      if (snprintf(own, sizeof own, "%s", strcmp(line + 3, "/") == 0 ? "" : line + 3) >= (int)sizeof own) own[0] = '\0';
      break;
    }
  fclose(f);
  if (!(f = fopen("/proc/self/mountinfo", "re"))) return;
  while (fgets(line, sizeof line, f)) {
    char *dash = strstr(line, " - cgroup2 ");
    if (!dash) continue;
    /* field 5 is the mount point: skip four fields */
    char *p = line;
    for (int i = 0; i < 4 && p; i++) p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
    if (!p) continue;
    size_t n = strcspn(p, " ");
    if (n >= sizeof mnt) continue;
    memcpy(mnt, p, n);
    mnt[n] = '\0';
    break;
  }
  fclose(f);
  if (!mnt[0]) return;
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s%s", mnt, own) >= (int)sizeof path) return;
  cg_remove_stale(path);
  if (snprintf(path, sizeof path, "%s%s/tsflux-launcher-%d", mnt, own, (int)getpid()) >= (int)sizeof path) return;
  if (mkdir(path, 0755) < 0) return;
  char kill_file[PATH_MAX + 16];
  snprintf(kill_file, sizeof kill_file, "%s/cgroup.kill", path);
  if (access(kill_file, W_OK) < 0) { /* a kernel before 5.14: no cgroup.kill */
    rmdir(path);
    return;
  }
  snprintf(cg_base, sizeof cg_base, "%s", path);
}

/* A task's cgroup: made, and its cgroup.procs opened for the child to join; -1 = none. */
static int cg_task(uint32_t id, uint64_t seq, char *path, size_t size) {
  if (!cg_base[0]) return -1;
  if (snprintf(path, size, "%s/task-%u-%llu", cg_base, id, (unsigned long long)seq) >= (int)size) return -1;
  if (mkdir(path, 0755) < 0 && errno != EEXIST) return -1;
  char procs[PATH_MAX + 16];
  snprintf(procs, sizeof procs, "%s/cgroup.procs", path);
  int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) rmdir(path);
  return fd;
}


/* Remove the killed task cgroups that are empty now (their processes reaped). */
static void cg_sweep(void) {
  size_t j = 0;
  for (size_t i = 0; i < cg_ndying; i++) {
    if (rmdir(cg_dying[i]) == 0 || errno == ENOENT) free(cg_dying[i]);
    else cg_dying[j++] = cg_dying[i];
  }
  cg_ndying = j;
}

/* The task has ended: kill everything left in its cgroup; the directory goes once empty. */
static void cg_end(char *path) {
  if (!path) return;
  cg_write(path, "cgroup.kill", "1");
  if (cg_ndying == cg_capdying) {
    cg_capdying = cg_capdying ? 2 * cg_capdying : 64;
    if (!(cg_dying = realloc(cg_dying, cg_capdying * sizeof *cg_dying))) die("out of memory");
  }
  cg_dying[cg_ndying++] = path;
  cg_sweep();
}

/* At exit, once everything is reaped: remove every task cgroup and ours. */
static void cg_cleanup(void) {
  if (!cg_base[0]) return;
  cg_sweep();
  for (size_t b = 0; b < NBUCKETS; b++)
    for (task_t *t = by_id[b]; t; t = t->id_next)
      if (t->cg) rmdir(t->cg);
  rmdir(cg_base);
}

static task_t **heap;
static size_t nheap, heapcap;

static void heap_place(size_t i, task_t *t) {
  heap[i] = t;
  t->hidx = (int)i;
}
static void heap_fix(size_t i) {
  task_t *t = heap[i];
  while (i > 0 && heap[(i - 1) / 2]->when > t->when) {
    heap_place(i, heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= nheap) break;
    if (c + 1 < nheap && heap[c + 1]->when < heap[c]->when) c++;
    if (heap[c]->when >= t->when) break;
    heap_place(i, heap[c]);
    i = c;
  }
  heap_place(i, t);
}
static void timer_cancel(task_t *t) {
  if (t->hidx >= 0) {
    size_t i = (size_t)t->hidx;
    task_t *last = heap[--nheap];
    if (last != t) {
      heap_place(i, last);
      heap_fix(i);
    }
  }
  t->hidx = -1;
  t->timer = T_NONE;
}
static void timer_set(task_t *t, int kind, double when) {
  timer_cancel(t);
  if (nheap == heapcap) {
    heapcap = heapcap ? heapcap * 2 : 256;
    heap = realloc(heap, heapcap * sizeof *heap);
    if (!heap) die("out of memory");
  }
  t->timer = kind;
  t->when = when;
  heap_place(nheap++, t);
  heap_fix(nheap - 1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------------------------------
 * Process state */

static int ep;                /* epoll: control, signalfd, the capture epoll, event pipe */
static int capep;             /* epoll of every capture pipe */
static int sigfd;             /* SIGCHLD, SIGTERM */
static int devnull_r, devnull_w, statm_fd; /* /dev/null as libuv opens it: read-only for stdin */
static double kill_grace = 5;
static long batch = 64;
static bool dry_run;
static bool shutting_down;
static double shutdown_at;
static bool out_watched, capture_paused;
static char cwd_buf[PATH_MAX];
static int reset_sigs[32], nreset;  /* signals we ignore: the child sets them back to SIG_DFL */
static char *child_stack;
#define CHILD_STACK (256 * 1024)
#define OUT_HIGH (4u << 20)   /* stop reading capture pipes with this much unsent output */
#define OUT_LOW (1u << 20)
#define FRAME_MAX (64u << 10) /* output bytes per output frame (job-exec: one RFC 24 event each) */
#define FRAME_HEAD 10         /* an output frame's bytes before its output: u32 len, op, u32 id, stream */

enum { TAG_CTL, TAG_SIG, TAG_CAP, TAG_OUT };

static void epoll_set(int op, int fd, uint32_t events, uint64_t tag) {
  struct epoll_event e = {.events = events, .data.u64 = tag};
  if (epoll_ctl(ep, op, fd, &e) < 0) die("epoll_ctl");
}

/* SIGKILL to the group of every task not yet reaped (its pgid may be reused after that). */
static void kill_all(void) {
  for (size_t b = 0; b < NBUCKETS; b++)
    for (task_t *t = by_id[b]; t; t = t->id_next) {
      if (t->status < 0) kill(-t->pid, SIGKILL);
      if (t->cg) cg_write(t->cg, "cgroup.kill", "1");
    }
}

/* The broker is gone (control pipe EOF, event pipe broken): no task outlives it. */
static void parent_gone(void) {
  kill_all();
  kill_everything();
  exit(0);
}

static void flush_out(void) {
  while (out_sent < out.len) {
    ssize_t w = write(1, out.p + out_sent, out.len - out_sent);
    if (w > 0) {
      out_sent += (size_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && errno == EAGAIN) {
      break;
    } else {
      parent_gone();
    }
  }
  if (out_sent == out.len) {
    out.len = out_sent = 0;
    open_frame = SIZE_MAX;
  } else if (out_sent >= OUT_LOW) {
    memmove(out.p, out.p + out_sent, out.len - out_sent);
    out.len -= out_sent;
    open_frame = SIZE_MAX;
    out_sent = 0;
  }
  bool pending = out.len > 0;
  if (pending != out_watched) {
    out_watched = pending;
    epoll_set(pending ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, 1, EPOLLOUT, TAG_OUT);
  }
  /* Backpressure: a slow broker must not make us buffer a task's output without bound. */
  bool pause = out.len - out_sent > (capture_paused ? OUT_LOW : OUT_HIGH);
  if (pause != capture_paused) {
    capture_paused = pause;
    epoll_set(EPOLL_CTL_MOD, capep, pause ? 0 : EPOLLIN, TAG_CAP);
  }
}

/* Flush everything (blocking) and exit: the end of a shutdown. */
static void finish(void) {
  kill_all();
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) & ~O_NONBLOCK);
  flush_out();
  kill_everything();
  exit(0);
}

static void close_stdin(task_t *t);

static void finish_task(task_t *t) {
  timer_cancel(t);
  close_stdin(t);
  ev_exited(t->id, t->status, t->timed_out);
  if (t->cg) cg_end(t->cg);
  t->cg = NULL;
  task_t **pp = &by_id[t->id % NBUCKETS];
  while (*pp != t) pp = &(*pp)->id_next;
  *pp = t->id_next;
  free(t);
  ntasks--;
  if (shutting_down && ntasks == 0) finish();
}

static void close_capture(task_t *t, int s) {
  close(t->fd[s]); /* also leaves the capture epoll */
  t->fd[s] = -1;
}

/* ---------------------------------------------------------------------------------------
 * Task stdin ("p"): bytes from 'I' commands, written as the pipe takes them. The pipe's
 * write end sits in the capture epoll (tag id<<2 | TAG_STDIN) for EPOLLOUT while bytes wait. */

#define TAG_STDIN 2

static char *next_str(char **p, char *end);

static void close_stdin(task_t *t) {
  if (t->in_fd >= 0) close(t->in_fd); /* also leaves the capture epoll */
  t->in_fd = -1;
  free(t->in.p);
  t->in = (buf_t){0};
  t->in_off = 0;
}

static void feed_stdin(task_t *t) {
  while (t->in_off < t->in.len) {
    ssize_t w = write(t->in_fd, t->in.p + t->in_off, t->in.len - t->in_off);
    if (w > 0) {
      t->in_off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) { /* full: wait until the task reads */
      struct epoll_event e = {.events = EPOLLOUT, .data.u64 = (uint64_t)t->id << 2 | TAG_STDIN};
      if (epoll_ctl(capep, EPOLL_CTL_MOD, t->in_fd, &e) < 0 && errno == ENOENT)
        epoll_ctl(capep, EPOLL_CTL_ADD, t->in_fd, &e);
      return;
    }
    close_stdin(t); /* EPIPE: the task closed its stdin; what it did not read is dropped */
    return;
  }
  free(t->in.p); /* drained: a task waiting for input holds no buffer */
  t->in = (buf_t){0};
  t->in_off = 0;
  epoll_ctl(capep, EPOLL_CTL_DEL, t->in_fd, NULL); /* nothing waits (ENOENT if never added) */
  if (t->in_eof) close_stdin(t);
}

/* 'I': queue bytes for a task's stdin, and the eof after them. */
static void stdin_command(char *p, char *end) {
  char *idf = next_str(&p, end), *flags = idf ? next_str(&p, end) : NULL;
  if (!flags) return;
  task_t *t = find_id((uint32_t)strtoul(idf, NULL, 10));
  if (!t || t->in_fd < 0 || t->in_eof) return;
  if (end > p) buf_put(&t->in, p, (size_t)(end - p));
  if (flags[0] == 'e') t->in_eof = true;
  feed_stdin(t);
}

/* `exited` once the task is reaped and both capture pipes are closed; true if it was sent. */
static bool maybe_finish(task_t *t) {
  if (t->status < 0 || t->fd[0] >= 0 || t->fd[1] >= 0) return false;
  finish_task(t);
  return true;
}

/* Read a capture pipe straight into an output frame, appending to the last frame when it is
 * this pipe's (so output is coalesced per loop turn). Closes the pipe at EOF. */
static void read_capture(task_t *t, int s) {
  for (int round = 0; round < 4 && t->fd[s] >= 0; round++) {
    bool extend = open_frame != SIZE_MAX && open_frame >= out_sent && open_id == t->id &&
                  open_stream == s && out.len - open_frame - FRAME_HEAD < FRAME_MAX;
    size_t at = extend ? open_frame : ev_begin('O');
    if (!extend) {
      put_u32(t->id);
      buf_put(&out, s ? "\2" : "\1", 1);
    }
    size_t want = FRAME_MAX - (out.len - at - FRAME_HEAD); /* what the frame has room for */
    buf_reserve(&out, want);
    ssize_t r = read(t->fd[s], out.p + out.len, want);
    if (r > 0) {
      out.len += (size_t)r;
      ev_end(at);
      open_frame = at;
      open_id = t->id;
      open_stream = s;
      if ((size_t)r < want) break; /* drained: epoll tells us when there is more (or EOF) */
      continue;
    }
    if (!extend) out.len = at; /* nothing read: drop the empty frame */
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) break;
    close_capture(t, s); /* EOF (or an error: treated alike) */
  }
}

/* ---------------------------------------------------------------------------------------
 * Resource limits: ours (read once, as the node helper does) and the plan for a task. */

static const struct { const char *name; int res; } RLIMITS[] = {
  {"cpu", RLIMIT_CPU}, {"fsize", RLIMIT_FSIZE}, {"data", RLIMIT_DATA},
  {"stack", RLIMIT_STACK}, {"core", RLIMIT_CORE}, {"rss", RLIMIT_RSS},
  {"nproc", RLIMIT_NPROC}, {"nofile", RLIMIT_NOFILE}, {"memlock", RLIMIT_MEMLOCK},
  {"as", RLIMIT_AS}, {"locks", RLIMIT_LOCKS}, {"sigpending", RLIMIT_SIGPENDING},
  {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE}, {"rtprio", RLIMIT_RTPRIO},
  {"rttime", RLIMIT_RTTIME},
};
#define NRLIMITS (sizeof RLIMITS / sizeof RLIMITS[0])
static long long own_soft[NRLIMITS], own_hard[NRLIMITS]; /* -1 = unlimited */
static bool can_raise_hard;                               /* CAP_SYS_RESOURCE */
static long long nr_open = 1048576;

typedef struct { const char *name; int res; struct rlimit lim; } rl_plan_t;

static rlim_t to_rlim(long long v) { return v < 0 ? RLIM_INFINITY : (rlim_t)v; }
static const char *fmt_limit(long long v, char *buf) {
  if (v < 0) return "unlimited";
  sprintf(buf, "%lld", v);
  return buf;
}

/* The node helper's rlimitArgs(): 0 and the plan, or -1 after a `failed` event. */
static int plan_rlimit(uint32_t id, const char *given, const char *text, bool clamp,
                       rl_plan_t *plan, int *nplan) {
  const char *name = strcmp(given, "ofile") == 0 ? "nofile" : given;
  size_t r = 0;
  while (r < NRLIMITS && strcmp(RLIMITS[r].name, name) != 0) r++;
  /* A value must be a safe integer >= -1: decimal digits as String(v) prints them. */
  const char *d = text[0] == '-' ? text + 1 : text;
  bool ok = text[0] != '?' && d[0] && strspn(d, "0123456789") == strlen(d) && strlen(d) <= 16;
  long long v = ok ? strtoll(text, NULL, 10) : 0;
  if (r == NRLIMITS || !ok || v < -1 || v > 9007199254740991LL) {
    ev_failed(id, EINVAL, "invalid rlimit %s=%s", given, text[0] == '?' ? text + 1 : text);
    return -1;
  }
  long long soft = own_soft[r], hard = own_hard[r];
  if (v == soft) return 0;
  rl_plan_t *p = &plan[(*nplan)++];
  p->name = RLIMITS[r].name;
  p->res = RLIMITS[r].res;
  bool above_hard = hard != -1 && (v == -1 || v > hard);
  if (!above_hard) {
    p->lim = (struct rlimit){to_rlim(v), to_rlim(hard)};
  } else if (can_raise_hard && !(RLIMITS[r].res == RLIMIT_NOFILE && (v == -1 || v > nr_open))) {
    p->lim = (struct rlimit){to_rlim(v), to_rlim(v)};
  } else if (clamp) {
    p->lim = (struct rlimit){to_rlim(hard), to_rlim(hard)};
    if (soft == hard) (*nplan)--;
  } else {
    char b1[24], b2[24];
    ev_failed(id, EPERM, "rlimit %s=%s exceeds the hard limit %s", name, fmt_limit(v, b1),
              fmt_limit(hard, b2));
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------
 * The child: runs on its own stack in our memory (CLONE_VM) while we wait (CLONE_VFORK), so
 * it only makes system calls and reports a failure through `err`/`stage` before _exit(127). */

enum { STAGE_SETUP = 1, STAGE_CWD, STAGE_RLIMIT, STAGE_EXEC };

typedef struct {
  char **argv;          /* argv[-1] is a spare slot, for running a script through /bin/sh */
  char **envp;
  const char *path;     /* PATH for the search (the task's), NULL = "/bin:/usr/bin" */
  const char *cwd;      /* NULL = ours */
  int fd[3];            /* what becomes the task's 0, 1, 2 (all >= 3) */
  const rl_plan_t *rl;
  int nrl;
  int cg_fd;            /* the task's cgroup.procs, or -1: the child moves itself there first */
  volatile int err, stage, rl_failed;
} child_args_t;

/* glibc's execvp tail: a file that is not an executable format is run by /bin/sh. */
static void exec_file(child_args_t *a, char *file) {
  execve(file, a->argv, a->envp);
  if (errno != ENOEXEC) return;
  char *saved = a->argv[0];
  a->argv[-1] = "/bin/sh";
  a->argv[0] = file;
  execve("/bin/sh", a->argv - 1, a->envp);
  a->argv[0] = saved;
}

/* execvp(3) as glibc does it (libuv's child calls execvp with environ = the task's env). */
static void exec_search(child_args_t *a) {
  char *file = a->argv[0];
  if (strchr(file, '/')) {
    exec_file(a, file);
    return;
  }
  const char *path = a->path ? a->path : "/bin:/usr/bin";
  size_t flen = strnlen(file, NAME_MAX + 1);
  if (flen > NAME_MAX) {
    errno = ENAMETOOLONG;
    return;
  }
  size_t plen = strnlen(path, PATH_MAX - 1) + 1;
  char buf[PATH_MAX + NAME_MAX + 2];
  bool eacces = false;
  for (const char *p = path;;) {
    const char *end = strchrnul(p, ':');
    if ((size_t)(end - p) < plen) {
      memcpy(buf, p, (size_t)(end - p));
      char *f = buf + (end - p);
      if (end > p) *f++ = '/'; /* an empty entry is the working directory */
      memcpy(f, file, flen + 1);
      exec_file(a, buf);
      switch (errno) {
      case EACCES:
        eacces = true;
        /* fall through */
      case ENOENT: case ESTALE: case ENOTDIR: case ENODEV: case ETIMEDOUT:
        break;
      default:
        return; /* found, but it cannot run */
      }
    }
    if (!*end) break;
    p = end + 1;
  }
  if (eacces) errno = EACCES;
}

static int child_main(void *arg) {
  child_args_t *a = arg;
  int stage = STAGE_SETUP;
  /* into its own cgroup before anything else, so that all it starts is there too */
  if (a->cg_fd >= 0 && write(a->cg_fd, "0", 1) < 0) goto fail;
  if (setsid() < 0) goto fail;
  /* if we die without killing it (SIGKILL), the task goes too: nothing of a job outlives us */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) goto fail;
  for (int i = 0; i < 3; i++)
    if (dup2(a->fd[i], i) < 0) goto fail; /* sources are >= 3: the copy is not CLOEXEC */
  stage = STAGE_CWD;
  if (a->cwd && chdir(a->cwd) < 0) goto fail;
  stage = STAGE_RLIMIT;
  for (int i = 0; i < a->nrl; i++) {
    a->rl_failed = i;
    if (setrlimit(a->rl[i].res, &a->rl[i].lim) < 0) goto fail;
  }
  stage = STAGE_SETUP;
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  for (int i = 0; i < nreset; i++)
    if (sigaction(reset_sigs[i], &dfl, NULL) < 0) goto fail;
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) goto fail;
  stage = STAGE_EXEC;
  exec_search(a);
fail:
  a->err = errno;
  a->stage = stage;
  _exit(127);
}

/* ---------------------------------------------------------------------------------------
 * Launch */

/* path.resolve(base, file) as node computes it, base relative to our cwd; malloc'd. */
static char *resolve_path(const char *base, const char *file) {
  size_t n = strlen(cwd_buf) + strlen(base) + strlen(file) + 3;
  char *joined = malloc(n), *res = malloc(n + 1);
  if (!joined || !res) die("out of memory");
  if (file[0] == '/') snprintf(joined, n, "%s", file);
  else if (base[0] == '/') snprintf(joined, n, "%s/%s", base, file);
  else snprintf(joined, n, "%s/%s/%s", cwd_buf, base, file);
  size_t len = 0;
  for (char *c = joined, *next; *c; c = next) {
    next = strchrnul(c, '/');
    size_t clen = (size_t)(next - c);
    if (*next) next++;
    if (clen == 0 || (clen == 1 && c[0] == '.')) continue;
    if (clen == 2 && c[0] == '.' && c[1] == '.') {
      if (len > 0) /* drop the last component (res[0] is '/') */
        while (res[--len] != '/') {}
      continue;
    }
    res[len++] = '/';
    memcpy(res + len, c, clen);
    len += clen;
  }
  if (len == 0) res[len++] = '/';
  res[len] = '\0';
  free(joined);
  return res;
}

static char *next_str(char **p, char *end) {
  char *s = *p, *z = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;
  if (!z) return NULL;
  *p = z + 1;
  return s;
}

static char **slots;     /* argv (with its spare slot) and envp of the launch at hand */
static size_t nslots;
static rl_plan_t *plans;
static size_t nplans;

/* ---------------------------------------------------------------------------------------
 * A job's scratch directory (FLUX_JOB_TMPDIR): made before its first task, removed after its
 * last, here rather than in the broker, which would wait on the file system for each job.
 * Failures are reported on stderr; the task starts anyway (as the node helper does). */

static void make_dir(const char *dir) {
  if (mkdir(dir, 0700) == 0 || errno == EEXIST) return;
  if (errno == ENOENT) { /* missing parents: make each, then the directory itself */
    size_t n = strlen(dir);
    char *path = malloc(n + 1);
    if (!path) die("out of memory");
    memcpy(path, dir, n + 1);
    for (char *s = path + 1; *s; s++) {
      if (*s != '/') continue;
      *s = '\0';
      if (mkdir(path, 0700) < 0 && errno != EEXIST) break;
      *s = '/';
    }
    free(path);
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) return;
  }
  fprintf(stderr, "tsflux-launcher: mkdir %s: %s\n", dir, err_text(errno));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st, (void)ftw;
  if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
    fprintf(stderr, "tsflux-launcher: rmdir: %s: %s\n", path, err_text(errno));
  return 0; /* go on with the rest */
}

static void remove_dir(const char *dir) {
  if (rmdir(dir) == 0 || errno == ENOENT) return;
  if (errno == ENOTEMPTY || errno == EEXIST) {
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return;
  }
  fprintf(stderr, "tsflux-launcher: rmdir %s: %s\n", dir, err_text(errno));
}

static void launch(char *p, char *end) {
  char *h[12];
  for (int i = 0; i < 12; i++)
    if (!(h[i] = next_str(&p, end))) return; /* not a launch frame: nothing to answer */
  uint32_t id = (uint32_t)strtoul(h[0], NULL, 10);
  long argc = strtol(h[1], NULL, 10), envc = strtol(h[2], NULL, 10);
  long nrl = strtol(h[3], NULL, 10);
  bool clamp = h[4][0] == 'c';
  const char *cwd = h[5][0] ? h[5] : NULL, *io[3] = {h[6], h[7], h[8]};
  double limit = h[9][0] ? strtod(h[9], NULL) : 0;
  double grace = h[10][0] ? strtod(h[10], NULL) : kill_grace;
  long room = end - p; /* every string takes at least one byte */
  if (argc < 0 || envc < -1 || nrl < 0 || argc > room || envc > room || nrl > room) return;

  if ((size_t)nrl > nplans) {
    nplans = (size_t)nrl * 2;
    if (!(plans = realloc(plans, nplans * sizeof *plans))) die("out of memory");
  }
  /* slots: spare, argv, NULL, envp, marker, NULL, rlimit name/value pairs (envc -1: environ copied) */
  size_t nenv = 0;
  if (envc < 0)
    while (environ[nenv]) nenv++;
  else nenv = (size_t)envc;
  size_t need = 4 + (size_t)argc + nenv + 1 + 2 * (size_t)nrl;
  if (need > nslots) {
    nslots = need * 2;
    if (!(slots = realloc(slots, nslots * sizeof *slots))) die("out of memory");
  }
  char **argv = slots + 1, **envp = argv + argc + 1;
  char **rl = envp + nenv + 2;
  bool whole = true;
  for (long i = 0; i < 2 * nrl && whole; i++) whole = (rl[i] = next_str(&p, end)) != NULL;
  for (long i = 0; i < argc && whole; i++) whole = (argv[i] = next_str(&p, end)) != NULL;
  if (envc < 0) memcpy(envp, environ, nenv * sizeof *envp);
  for (long i = 0; i < envc && whole; i++) whole = (envp[i] = next_str(&p, end)) != NULL;
  if (!whole) return;
  argv[argc] = NULL;
  /* the marker goes last (it wins over one the task's env carries); the child execs before we go on */
  uint64_t seq = next_seq++;
  static char marker[64];
  snprintf(marker, sizeof marker, MARKER "%u.%llu", id, (unsigned long long)seq);
  size_t m = 0;
  for (size_t i = 0; i < nenv; i++)
    if (strncmp(envp[i], MARKER, sizeof MARKER - 1) != 0) envp[m++] = envp[i];
  envp[m++] = marker;
  envp[m] = NULL;
  /* A NUL inside a string shows up as extra strings: refused (EINVAL), as the node helper does. */
  bool nul_inside = p != end;
  const char *argv0 = argc > 0 ? argv[0] : "";

  if (argc == 0) {
    ev_failed(id, EINVAL, "invalid launch request: key and a non-empty argv are required");
    return;
  }
  if (shutting_down) {
    ev_failed(id, ESHUTDOWN, "task launcher is shutting down");
    return;
  }
  if (dry_run) {
    ev_started(id, 0);
    ev_exited(id, 0, false);
    return;
  }
  if (h[11][0]) make_dir(h[11]);
  int nplan = 0;
  for (long i = 0; i < nrl; i++)
    if (plan_rlimit(id, rl[2 * i], rl[2 * i + 1], clamp, plans, &nplan) < 0) return;

  /* stdio: /dev/null, a file opened here (one open file per distinct spec), or a pipe. */
  int fd[3] = {devnull_r, devnull_w, devnull_w}, cap[2] = {-1, -1}, err = 0;
  int opened[3], nopened = 0;
  int in_w = -1; /* our end of a stdin pipe */
  if (io[0][0] == 'p') {
    int pp[2];
    if (pipe2(pp, O_CLOEXEC) < 0 || fcntl(pp[1], F_SETFL, O_NONBLOCK) < 0) {
      err = errno;
      ev_failed(id, err, "%s: %s", argv0, err_text(err));
    } else {
      fd[0] = opened[nopened++] = pp[0];
      in_w = pp[1];
    }
  }
  for (int i = 0; i < 3 && !err; i++) {
    const char *s = io[i];
    if (!s[0] || s[0] == 'c' || (i == 0 && s[0] == 'p')) continue;
    int same = -1;
    for (int j = 0; j < i; j++)
      if (strcmp(io[j], s) == 0) same = j;
    if (same >= 0) {
      fd[i] = fd[same];
      continue;
    }
    int flags = s[0] == 'r' ? O_RDONLY : s[0] == 'a' ? O_WRONLY | O_CREAT | O_APPEND
                                                     : O_WRONLY | O_CREAT | O_TRUNC;
    char *file = resolve_path(cwd ? cwd : "", s + 1);
    fd[i] = opened[nopened] = open(file, flags | O_CLOEXEC, 0644);
    if (fd[i] < 0) {
      err = errno;
      ev_failed(id, err, "%s: %s", file, err_text(err));
    } else {
      nopened++;
    }
    free(file);
  }
  if (!err && !argv0[0]) {
    err = EINVAL;
    ev_failed(id, EINVAL, "the command is an empty string: %s", err_text(EINVAL));
  } else if (!err && nul_inside) {
    err = EINVAL;
    ev_failed(id, EINVAL, "%s: an argument or environment string contains a NUL byte: %s", argv0, err_text(EINVAL));
  }
  for (int s = 0; s < 2 && !err; s++) {
    if (io[1 + s][0] != 'c') continue;
    int pp[2];
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)id << 2 | (uint64_t)s};
    if (pipe2(pp, O_CLOEXEC) < 0) {
      err = errno;
    } else {
      cap[s] = pp[0];
      fd[1 + s] = opened[nopened++] = pp[1];
      if (fcntl(pp[0], F_SETFL, O_NONBLOCK) < 0 || epoll_ctl(capep, EPOLL_CTL_ADD, pp[0], &e) < 0)
        err = errno;
    }
    if (err) ev_failed(id, err, "%s: %s", argv0, err_text(err));
  }

  pid_t pid = -1;
  char cg_path[PATH_MAX];
  child_args_t a = {.argv = argv, .envp = envp, .cwd = cwd, .rl = plans, .nrl = nplan,
                    .fd = {fd[0], fd[1], fd[2]}, .cg_fd = -1};
  if (!err) a.cg_fd = cg_task(id, seq, cg_path, sizeof cg_path);
  if (!err) {
    for (char **e = envp; *e && !a.path; e++)
      if (strncmp(*e, "PATH=", 5) == 0) a.path = *e + 5;
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old); /* no handler may run in the child */
    pid = clone(child_main, child_stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
    err = pid < 0 ? errno : 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
      ev_failed(id, err, "%s: %s", argv0, err_text(err));
    } else if (a.stage) {
      int st;
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
      err = a.err;
      if (a.stage == STAGE_CWD) ev_failed(id, err, "cwd %s: %s", cwd, err_text(err));
      else if (a.stage == STAGE_RLIMIT)
        ev_failed(id, err, "rlimit %s: %s", plans[a.rl_failed].name, err_text(err));
      else ev_failed(id, err, "%s: %s", argv0, err_text(err));
    }
  }
  for (int i = 0; i < nopened; i++) close(opened[i]);
  if (a.cg_fd >= 0) {
    close(a.cg_fd);
    if (err || pid < 0) rmdir(cg_path);
  }
  if (err) {
    for (int s = 0; s < 2; s++)
      if (cap[s] >= 0) close(cap[s]);
    if (in_w >= 0) close(in_w);
    return;
  }
  task_t *t = calloc(1, sizeof *t);
  if (!t) die("out of memory");
  *t = (task_t){.id = id, .seq = seq, .pid = pid, .status = -1, .fd = {cap[0], cap[1]}, .in_fd = in_w,
                .hidx = -1, .grace = isfinite(grace) && grace > 0 ? grace : 0,
                .cg = a.cg_fd >= 0 ? strdup(cg_path) : NULL};
  t->id_next = by_id[id % NBUCKETS];
  by_id[id % NBUCKETS] = t;
  t->pid_next = by_pid[(uint32_t)pid % NBUCKETS];
  by_pid[(uint32_t)pid % NBUCKETS] = t;
  ntasks++;
  ev_started(id, pid);
  if (limit > 0 && isfinite(limit)) timer_set(t, T_LIMIT, now_ms() + limit * 1e3);
}

/* ---------------------------------------------------------------------------------------
 * Commands, exits, timers */

static buf_t in;     /* commands read and not yet handled, from in_off */
static size_t in_off;

static void stats(uint32_t req) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  char text[64] = "";
  ssize_t n = pread(statm_fd, text, sizeof text - 1, 0);
  text[n > 0 ? n : 0] = '\0';
  unsigned long long pages = 0;
  sscanf(text, "%*s %llu", &pages);
  size_t heap_bytes = 0;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  struct mallinfo2 mi = mallinfo2();
  heap_bytes = mi.uordblks + mi.hblkhd;
#endif
  size_t at = ev_begin('T');
  put_u32(req);
  put_u32((uint32_t)getpid());
  put_u64(pages * (unsigned long long)sysconf(_SC_PAGESIZE));
  put_u64(heap_bytes);
  put_u64((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
          (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec));
  put_u32((uint32_t)ntasks);
  ev_end(at);
}

static void shutdown_begin(void) {
  if (shutting_down) return;
  shutting_down = true;
  in_off = in.len; /* commands not yet handled are dropped, as the node helper does */
  for (size_t b = 0; b < NBUCKETS; b++)
    for (task_t *t = by_id[b]; t; t = t->id_next) {
      if (t->timer == T_LIMIT || t->timer == T_GRACE) timer_cancel(t);
      if (t->status < 0) kill(-t->pid, SIGKILL);
    }
  if (ntasks == 0) finish();
  shutdown_at = now_ms() + 3000;
}

static bool command_ready(void) {
  return in.len - in_off >= 4 && in.len - in_off - 4 >= get_u32(in.p + in_off);
}

/* Handle the complete commands read so far, at most `batch` launches, then yield to reap
 * and send events. */
static void run_commands(void) {
  long launches = 0;
  while (command_ready() && launches < batch) {
    char *b = in.p + in_off + 4, *e = b + get_u32(in.p + in_off);
    in_off = (size_t)(e - in.p);
    if (e == b) continue;
    char *p = b + 1, *f1 = NULL, *f2 = NULL;
    if (b[0] == 'K' || b[0] == 'S' || b[0] == 'D') f1 = next_str(&p, e), f2 = f1 ? next_str(&p, e) : NULL;
    switch (b[0]) {
    case 'L':
      launch(b + 1, e);
      launches++;
      break;
    case 'K': {
      task_t *t = f2 ? find_id((uint32_t)strtoul(f1, NULL, 10)) : NULL;
      long sig = f2 ? strtol(f2, NULL, 10) : -1;
      if (t && t->status < 0 && sig >= 0 && sig < 65) kill(-t->pid, (int)sig);
      break;
    }
    case 'S':
      if (f1) stats((uint32_t)strtoul(f1, NULL, 10));
      break;
    case 'D':
      if (f1 && f1[0]) remove_dir(f1);
      break;
    case 'I':
      stdin_command(b + 1, e);
      break;
    case 'Q':
      shutdown_begin();
      break;
    default:
      fprintf(stderr, "tsflux-launcher: unknown command %d\n", b[0]);
    }
  }
  if (in_off == in.len) in.len = in_off = 0;
}

static void read_control(void) {
  if (in_off > 0 && in_off >= in.len / 2) { /* keep the buffer from creeping */
    memmove(in.p, in.p + in_off, in.len - in_off);
    in.len -= in_off;
    in_off = 0;
  }
  for (int round = 0; round < 64; round++) {
    buf_reserve(&in, 65536);
    ssize_t r = read(0, in.p + in.len, in.cap - in.len);
    if (r > 0) in.len += (size_t)r;
    else if (r < 0 && errno == EINTR) continue;
    else if (r < 0 && errno == EAGAIN) return;
    else parent_gone(); /* EOF: the broker closed the pipe or died */
  }
}

static void reap(void) {
  int st;
  pid_t pid;
  bool any = false;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    any = true;
    task_t *t = take_pid(pid);
    if (!t) continue; /* an escaped process (sweep) */
    /* POSIX wait status, without the core-dump bit (the node helper cannot report it). */
    t->status = WIFEXITED(st) ? WEXITSTATUS(st) << 8 : WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    timer_cancel(t);
    kill(-pid, SIGKILL); /* the rest of its group does not outlive it */
    cg_end(t->cg);       /* nor anything else it started */
    t->cg = NULL;
    for (int s = 0; s < 2; s++)
      if (t->fd[s] >= 0) read_capture(t, s);
    /* A process that left the group may hold the pipes open: stop waiting after 1 s. */
    if (!maybe_finish(t)) timer_set(t, T_CLOSE, now_ms() + 1000);
  }
  /* a task ended, or an escaped process did (its children are ours now): kill what escaped */
  if (any) {
    sweep(false);
    cg_sweep();
  }
}

static void run_timers(void) {
  double now = now_ms();
  while (nheap > 0 && heap[0]->when <= now) {
    task_t *t = heap[0];
    int kind = t->timer;
    timer_cancel(t);
    if (kind == T_LIMIT) {
      t->timed_out = true;
      kill(-t->pid, SIGALRM);
      timer_set(t, T_GRACE, now + t->grace * 1e3);
    } else if (kind == T_GRACE) {
      kill(-t->pid, SIGKILL);
    } else if (capture_paused) {
      timer_set(t, T_CLOSE, now + 1000); /* unread output is ours to deliver: wait */
    } else {
      for (int s = 0; s < 2; s++) {
        if (t->fd[s] >= 0) read_capture(t, s);
        if (t->fd[s] >= 0) close_capture(t, s);
      }
      maybe_finish(t);
    }
  }
}

/* ---------------------------------------------------------------------------------------
 * Setup and the event loop */

static void read_limits(void) {
  for (size_t r = 0; r < NRLIMITS; r++) {
    struct rlimit l;
    getrlimit(RLIMITS[r].res, &l);
    own_soft[r] = l.rlim_cur == RLIM_INFINITY ? -1 : (long long)l.rlim_cur;
    own_hard[r] = l.rlim_max == RLIM_INFINITY ? -1 : (long long)l.rlim_max;
  }
  char line[256];
  FILE *f = fopen("/proc/self/status", "re");
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "CapEff:", 7) == 0)
      can_raise_hard = (strtoull(line + 7, NULL, 16) >> 24) & 1; /* CAP_SYS_RESOURCE */
  if (f) fclose(f);
  if ((f = fopen("/proc/sys/fs/nr_open", "re"))) {
    if (fscanf(f, "%lld", &nr_open) != 1) nr_open = 1048576;
    fclose(f);
  }
}

static void setup(void) {
  /* fds 0-2 exist, so everything we open is >= 3; nothing inherited reaches a task. */
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) die("/dev/null");
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3, ~0u, 4 /* CLOSE_RANGE_CLOEXEC */) < 0)
#endif
  {
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
      fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  /* SIGINT/SIGHUP are the broker's business; SIGPIPE shows up as EPIPE. */
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  for (int s = 1; s < 32; s++) {
    struct sigaction sa;
    if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
      reset_sigs[nreset++] = s;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  if ((sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) die("signalfd");
  prctl(PR_SET_PDEATHSIG, SIGTERM); /* the broker died: shut down */
  /* what a task leaves behind becomes our child, not init's (sweep) */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fprintf(stderr, "tsflux-launcher: PR_SET_CHILD_SUBREAPER: %s\n", err_text(errno));
  cg_init(); /* a cgroup per task, where we may make one */
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  if ((devnull_r = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
      (devnull_w = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
    die("/dev/null");
  if ((statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) < 0) die("/proc/self/statm");
  if (!getcwd(cwd_buf, sizeof cwd_buf)) strcpy(cwd_buf, "/");
  read_limits();
  child_stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (child_stack == MAP_FAILED) die("mmap");
  if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || (capep = epoll_create1(EPOLL_CLOEXEC)) < 0)
    die("epoll_create1");
  struct epoll_event e = {.events = EPOLLIN, .data.u64 = TAG_CTL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e) < 0) {
    fprintf(stderr, "tsflux-launcher: stdin must be a pipe: run by Spawner (spawner.ts)\n");
    exit(2);
  }
  epoll_set(EPOLL_CTL_ADD, sigfd, EPOLLIN, TAG_SIG);
  epoll_set(EPOLL_CTL_ADD, capep, EPOLLIN, TAG_CAP);
}

/* `--NAME=NUMBER`: true and *v when `arg` is that with a finite number >= 0. */
static bool num_arg(const char *arg, const char *name, double *v) {
  size_t n = strlen(name);
  char *end;
  if (strncmp(arg, name, n) != 0 || arg[n] != '=' || !arg[n + 1]) return false;
  *v = strtod(arg + n + 1, &end);
  return *end == '\0' && isfinite(*v) && *v >= 0;
}

/* `--exec-pdeathsig PPID -- CMD...` (tsflux start's initial program): exec CMD with SIGHUP
 * as its parent-death signal, so that it hears of a broker killed with SIGKILL. PPID is the
 * broker's pid: if it is already gone (we are init's or a subreaper's), CMD is not run. */
static int exec_pdeathsig(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: tsflux-launcher --exec-pdeathsig PPID -- CMD [ARG...]\n");
    return 2;
  }
  pid_t ppid = (pid_t)strtol(argv[2], NULL, 10);
  if (prctl(PR_SET_PDEATHSIG, SIGHUP) < 0) {
    fprintf(stderr, "tsflux start: PR_SET_PDEATHSIG: %s\n", err_text(errno));
    return 127;
  }
  if (getppid() != ppid) return 128 + SIGHUP;
  execvp(argv[4], argv + 4);
  fprintf(stderr, "tsflux start: %s: %s\n", argv[4], err_text(errno));
  return errno == ENOENT ? 127 : 126;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--exec-pdeathsig") == 0) return exec_pdeathsig(argc, argv);
  for (int i = 1; i < argc; i++) {
    double v;
    if (num_arg(argv[i], "--kill-grace", &v)) kill_grace = v;
    else if (num_arg(argv[i], "--batch", &v)) batch = v < 1 ? 1 : v > 1e9 ? 1000000000 : (long)v;
    else if (strcmp(argv[i], "--dry-run") == 0) dry_run = true;
    else fprintf(stderr, "tsflux-launcher: ignoring bad argument %s\n", argv[i]);
  }
  setup();
  size_t at = ev_begin('R');
  put_u32((uint32_t)getpid());
  ev_end(at);
  flush_out();

  for (;;) {
    int timeout = -1;
    if (command_ready()) {
      timeout = 0;
    } else {
      double next = nheap > 0 ? heap[0]->when : INFINITY;
      if (shutting_down && shutdown_at < next) next = shutdown_at;
      if (isfinite(next)) {
        double ms = ceil(next - now_ms());
        timeout = ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
      }
    }
    struct epoll_event ev[64];
    int n = epoll_wait(ep, ev, 64, timeout);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      switch (ev[i].data.u64) {
      case TAG_CTL:
        read_control();
        break;
      case TAG_SIG: {
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof si) == sizeof si)
          if (si.ssi_signo == SIGTERM) shutdown_begin();
        reap(); /* SIGCHLD is coalesced: reap whatever has exited */
        break;
      }
      case TAG_CAP: {
        struct epoll_event cev[256];
        int m = epoll_wait(capep, cev, 256, 0);
        for (int j = 0; j < m; j++) {
          task_t *t = find_id((uint32_t)(cev[j].data.u64 >> 2));
          int s = (int)(cev[j].data.u64 & 3);
          if (t && s == TAG_STDIN && t->in_fd >= 0) feed_stdin(t);
          if (!t || s > 1 || t->fd[s] < 0) continue;
          read_capture(t, s);
          maybe_finish(t);
        }
        break;
      }
      case TAG_OUT:
        break; /* flushed below */
      }
    }
    run_timers();
    if (shutting_down && now_ms() >= shutdown_at) finish();
    run_commands();
    flush_out();
  }
}
