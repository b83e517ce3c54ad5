/**
 * Linux errno names, numbers and glibc strerror() texts, plus the error classes the
 * protocol layer throws. Flux puts Linux errnos on the wire as the response errnum
 * (docs/protocol.md §A.5 lists the values the protocol uses).
 */

/** [name, number, glibc strerror text]. The first entry for a number is its primary name. */
const TABLE: ReadonlyArray<readonly [string, number, string]> = [
  ['EPERM', 1, 'Operation not permitted'],
  ['ENOENT', 2, 'No such file or directory'],
  ['ESRCH', 3, 'No such process'],
  ['EINTR', 4, 'Interrupted system call'],
  ['EIO', 5, 'Input/output error'],
  ['ENXIO', 6, 'No such device or address'],
  ['E2BIG', 7, 'Argument list too long'],
  ['ENOEXEC', 8, 'Exec format error'],
  ['EBADF', 9, 'Bad file descriptor'],
  ['ECHILD', 10, 'No child processes'],
  ['EAGAIN', 11, 'Resource temporarily unavailable'],
  ['ENOMEM', 12, 'Cannot allocate memory'],
  ['EACCES', 13, 'Permission denied'],
  ['EFAULT', 14, 'Bad address'],
  ['EBUSY', 16, 'Device or resource busy'],
  ['EEXIST', 17, 'File exists'],
  ['ENODEV', 19, 'No such device'],
  ['ENOTDIR', 20, 'Not a directory'],
  ['EISDIR', 21, 'Is a directory'],
  ['EINVAL', 22, 'Invalid argument'],
  ['ENFILE', 23, 'Too many open files in system'],
  ['EMFILE', 24, 'Too many open files'],
  ['ENOTTY', 25, 'Inappropriate ioctl for device'],
  ['EFBIG', 27, 'File too large'],
  ['ENOSPC', 28, 'No space left on device'],
  ['ESPIPE', 29, 'Illegal seek'],
  ['EROFS', 30, 'Read-only file system'],
  ['EPIPE', 32, 'Broken pipe'],
  ['EDOM', 33, 'Numerical argument out of domain'],
  ['ERANGE', 34, 'Numerical result out of range'],
  ['EDEADLK', 35, 'Resource deadlock avoided'],
  ['ENAMETOOLONG', 36, 'File name too long'],
  ['ENOLCK', 37, 'No locks available'],
  ['ENOSYS', 38, 'Function not implemented'],
  ['ENOTEMPTY', 39, 'Directory not empty'],
  ['ELOOP', 40, 'Too many levels of symbolic links'],
  ['ENOMSG', 42, 'No message of desired type'],
  ['ENODATA', 61, 'No data available'],
  ['ETIME', 62, 'Timer expired'],
  ['EPROTO', 71, 'Protocol error'],
  ['EBADMSG', 74, 'Bad message'],
  ['EOVERFLOW', 75, 'Value too large for defined data type'],
  ['EILSEQ', 84, 'Invalid or incomplete multibyte or wide character'],
  ['ENOTSOCK', 88, 'Socket operation on non-socket'],
  ['EMSGSIZE', 90, 'Message too long'],
  ['EPROTONOSUPPORT', 93, 'Protocol not supported'],
  ['EOPNOTSUPP', 95, 'Operation not supported'],
  ['EADDRINUSE', 98, 'Address already in use'],
  ['EADDRNOTAVAIL', 99, 'Cannot assign requested address'],
  ['ECONNABORTED', 103, 'Software caused connection abort'],
  ['ECONNRESET', 104, 'Connection reset by peer'],
  ['ENOBUFS', 105, 'No buffer space available'],
  ['EISCONN', 106, 'Transport endpoint is already connected'],
  ['ENOTCONN', 107, 'Transport endpoint is not connected'],
  ['ESHUTDOWN', 108, 'Cannot send after transport endpoint shutdown'],
  ['ETIMEDOUT', 110, 'Connection timed out'],
  ['ECONNREFUSED', 111, 'Connection refused'],
  ['EHOSTUNREACH', 113, 'No route to host'],
  ['EALREADY', 114, 'Operation already in progress'],
  ['EINPROGRESS', 115, 'Operation now in progress'],
  ['ECANCELED', 125, 'Operation canceled'],
  // aliases (same number; never returned by errnoName)
  ['EWOULDBLOCK', 11, 'Resource temporarily unavailable'],
  ['EDEADLOCK', 35, 'Resource deadlock avoided'],
  ['ENOTSUP', 95, 'Operation not supported'],
];

/** Errno name → number, e.g. `Errno.ENOENT === 2`. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  EDEADLOCK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  ENODATA: 61,
  ETIME: 62,
  EPROTO: 71,
  EBADMSG: 74,
  EOVERFLOW: 75,
  EILSEQ: 84,
  ENOTSOCK: 88,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  ENOTSUP: 95,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  ECANCELED: 125,
} as const;
export type ErrnoName = keyof typeof Errno;

const NAME_BY_NUM = new Map<number, string>();
const TEXT_BY_NUM = new Map<number, string>();
for (const [name, num, text] of TABLE) {
  if (!NAME_BY_NUM.has(num)) NAME_BY_NUM.set(num, name);
  if (!TEXT_BY_NUM.has(num)) TEXT_BY_NUM.set(num, text);
}

/** Primary name of an errno (`2` → `'ENOENT'`), or undefined if not in the table. */
export function errnoName(n: number): string | undefined {
  return NAME_BY_NUM.get(n);
}

/** Errno number of a name (`'ENOENT'` → 2), or undefined. */
export function errnoNumber(name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(Errno, name) ? Errno[name as ErrnoName] : undefined;
}

/** glibc strerror() text; unknown numbers give `Unknown error N` (as glibc does). */
export function strerror(n: number): string {
  return TEXT_BY_NUM.get(n) ?? `Unknown error ${n}`;
}

/**
 * An error carrying a Flux/Linux errno. `message` is the server's error text when there
 * is one, else strerror(errno) — the same rule libflux uses (docs/protocol.md §A.5).
 * Every error tsflux hands to a user (a client library caller, the CLI, a broker response)
 * is one: the job model's parse and validation errors, the CLI's, the executor's.
 */
export class FluxError extends Error {
  readonly errno: number;
  /** Errno name such as `'ENOENT'`; `'EUNKNOWN'` for numbers not in the table. */
  readonly code: string;
  constructor(errno: number, text?: string) {
    super(text !== undefined && text !== '' ? text : strerror(errno));
    this.name = 'FluxError';
    this.errno = errno;
    this.code = errnoName(errno) ?? 'EUNKNOWN';
  }
}

/**
 * The errno to answer with for a thrown value: a FluxError's own; for a Node.js system error
 * (whose `errno` is negative) the number of its `code` (`ENOENT` → 2); else `fallback`.
 */
export function errnoOf(e: unknown, fallback: number): number {
  if (e instanceof FluxError) return e.errno;
  const code = e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return (typeof code === 'string' ? errnoNumber(code) : undefined) ?? fallback;
}

/** Malformed wire data or payload (always EPROTO, 71). */
export class ProtoError extends FluxError {
  constructor(text?: string) {
    super(Errno.EPROTO, text);
    this.name = 'ProtoError';
  }
}
