/**
 * Wire protocol between the broker (Spawner, spawner.ts) and the task launcher helper
 * (spawner-main.ts). Types only: the helper imports this file with `import type`, so at run
 * time it still loads nothing but node builtins. The native launcher (native/launcher.c)
 * implements the same commands and events in binary frames over pipes; native-transport.ts
 * turns them into these types, so Spawner and its users see no difference.
 *
 * Transport: the channel of `child_process.fork(..., {serialization: 'advanced'})`. Each side
 * sends at most one message per event-loop turn: an ARRAY of the commands (or events) queued
 * during that turn, in order. Measured on this machine (2 cores), echoing 100k launch-shaped
 * messages (argv + a distinct 22-variable env each) through a child that answers every
 * launch with `started` + `exited`, 2000 in flight:
 *
 *   fork IPC, advanced, one array per turn ........ 56-60k launches/s, parent 11-12 µs/launch
 *   stdio pipe, one JSON array per line per turn ... 43-44k launches/s, parent 13 µs/launch
 *   stdio pipe, one JSON object per line ........... 48k launches/s,    parent 18 µs/launch
 *   fork IPC, json, one array per turn ............. 39-42k launches/s, parent 14 µs/launch
 *   fork IPC, advanced, one message per launch ..... 18k launches/s,    parent 30-40 µs/launch
 *
 * (The broker's CPU per launch is what matters: the broker is the busy process.) The IPC fd is
 * close-on-exec in the helper, so tasks never inherit it (checked with /proc/PID/fd).
 */

/** Where a task's stdout or stderr goes. `'null'` (the default) is /dev/null. */
export type OutputSpec = 'null' | 'capture' | { file?: string; append?: boolean };
/**
 * Where a task's stdin comes from. `'null'` (the default) is /dev/null; `'pipe'` is a pipe the
 * launcher holds, fed by `stdin` commands and closed at their eof (or when the task ends).
 */
export type InputSpec = 'null' | 'pipe' | { file: string };

export interface LaunchSpec {
  /** Caller's name for the task, unique among running tasks, e.g. `"<jobid>.<taskrank>"`. */
  key: string;
  /** argv[0] is looked up in `env.PATH` when it has no `/` (execvp rules). */
  argv: string[];
  /** Working directory; the helper's (the broker's) cwd when absent. */
  cwd?: string;
  /** The task's whole environment; the helper's (the broker's) environment when absent. */
  env?: Record<string, string>;
  /**
   * Soft resource limits by Flux / prlimit(1) name (`nofile`, `nproc`, `cpu`, `core`, `stack`,
   * `as`, `data`, `fsize`, `rss`, `memlock`, `locks`, `msgqueue`, `nice`, `rtprio`, `rttime`,
   * `sigpending`; `ofile` = `nofile`); -1 = unlimited. Only limits that differ from the
   * helper's own cost anything (the task is then started through `prlimit`).
   */
  rlimits?: Record<string, number>;
  /**
   * A soft limit above the hard limit: `'fail'` (default) reports a start failure (EPERM);
   * `'clamp'` lowers it to the hard limit, as flux-shell's rlimit plugin does (with a warning
   * there). When the helper has CAP_SYS_RESOURCE (root, usually) the hard limit is raised
   * instead (either policy), except nofile above fs.nr_open.
   */
  rlimitAboveHard?: 'fail' | 'clamp';
  stdout?: OutputSpec;
  stderr?: OutputSpec;
  stdin?: InputSpec;
  /** SIGALRM to the task's process group after this many seconds; see ExitedEvent.timedOut. */
  timeLimitSec?: number;
  /** Seconds between SIGALRM at the time limit and SIGKILL; the Spawner's default if absent. */
  killGraceSec?: number;
  /**
   * A directory to make (mode 0700, missing parents too; one that exists is fine) before the
   * task starts: the job's FLUX_JOB_TMPDIR, given with its first task. Made by the launcher so
   * that the broker never waits on the file system per job. A failure is reported on the
   * launcher's stderr and the task starts anyway.
   */
  mkdir?: string;
}

export type Command =
  | ({ op: 'launch' } & LaunchSpec)
  | { op: 'kill'; key: string; signum: number }
  /**
   * Bytes for the stdin pipe of a task launched with `stdin: 'pipe'`, in order; `eof` closes it
   * after them. Written as the task reads (never blocking the launcher); ignored for a task
   * that is gone or has closed its stdin.
   */
  | { op: 'stdin'; key: string; data?: Uint8Array; eof?: boolean }
  /** Remove a directory and whatever is in it (a job's FLUX_JOB_TMPDIR once its tasks are done). */
  | { op: 'rmdir'; dir: string }
  | { op: 'stats'; id: number }
  /** Stop (held) or resume reading the tasks' output (Spawner.holdOutput). */
  | { op: 'hold-output'; held: boolean }
  | { op: 'shutdown' };

export interface StartedEvent {
  type: 'started';
  key: string;
  pid: number;
}
export interface OutputEvent {
  type: 'output';
  key: string;
  stream: 'stdout' | 'stderr';
  /**
   * The bytes the task wrote (reads are coalesced), never cut inside a UTF-8 character. From
   * the native launcher a view of the buffer its events are read into, overwritten by the next
   * read: valid until the listener returns, copy what you keep.
   */
  data: Buffer;
}
export interface ExitedEvent {
  type: 'exited';
  key: string;
  /**
   * POSIX wait status of the task (the process the helper started): `code << 8` when it
   * exited, the signal number when a signal killed it. Node does not report the core-dump
   * bit, so 0x80 is never set.
   */
  waitStatus: number;
  /**
   * True when the time limit fired. The task got SIGALRM (then SIGKILL after the grace
   * period), so waitStatus is usually 14 (or 9), or whatever the task exits with if it
   * handles SIGALRM. Flux's job shell reports exit 142 = 128 + SIGALRM for such a task
   * (finish.status 36352); mapping is the caller's business (shellStatus in src/job/waitstatus.ts).
   */
  timedOut: boolean;
  /** Set only when the Spawner synthesized this event because the helper died (SIGKILL sent). */
  lost?: boolean;
  /** With `lost`: why the launcher is gone, e.g. `task launcher (pid 123) killed by SIGKILL`. */
  reason?: string;
}
export interface FailedEvent {
  type: 'failed';
  key: string;
  /** Positive errno (2 = ENOENT, 13 = EACCES, 11 = EAGAIN, 24 = EMFILE, ...). */
  errno: number;
  /** Errno name, e.g. `ENOENT`; `ESPAWNER` when the helper died before starting the task. */
  code: string;
  /**
   * Flux-style text, e.g. `nosuchcmd: No such file or directory`; the caller prefixes
   * `task 0 (host HOST): start failed: `. A bad working directory reads
   * `cwd /nope: No such file or directory`.
   */
  message: string;
}
export interface StatsEvent {
  type: 'stats';
  id: number;
  pid: number;
  rss: number;
  heapUsed: number;
  /** user + system CPU time of the helper so far, µs. */
  cpuUs: number;
  tasks: number;
}
export interface ReadyEvent {
  type: 'ready';
  pid: number;
  prlimit: string | null;
}

export type TaskEvent = StartedEvent | OutputEvent | ExitedEvent | FailedEvent;
export type HelperEvent = TaskEvent | StatsEvent | ReadyEvent;

/** Helper command line: `node spawner-main.js [--kill-grace=SEC] [--batch=N] [--dry-run]`. */
export interface HelperOptions {
  /** Default seconds from SIGALRM (time limit) to SIGKILL. */
  killGraceSec: number;
  /** Commands handled per event-loop turn before the helper yields (to reap, send events). */
  batch: number;
  /** `--dry-run`: answer each launch with `started` (pid 0) + `exited`, start nothing. */
  dryRun: boolean;
}
