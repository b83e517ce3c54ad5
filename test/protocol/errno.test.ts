/** errno names, numbers and glibc strerror texts; FluxError/ProtoError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno, errnoName, errnoNumber, FluxError, ProtoError, strerror } from '../../src/protocol/index.js';

const EXPECTED: [string, number, string][] = [
  ['EPERM', 1, 'Operation not permitted'],
  ['ENOENT', 2, 'No such file or directory'],
  ['ESRCH', 3, 'No such process'],
  ['EINTR', 4, 'Interrupted system call'],
  ['EIO', 5, 'Input/output error'],
  ['E2BIG', 7, 'Argument list too long'],
  ['ENOEXEC', 8, 'Exec format error'],
  ['EBADF', 9, 'Bad file descriptor'],
  ['ECHILD', 10, 'No child processes'],
  ['EAGAIN', 11, 'Resource temporarily unavailable'],
  ['ENOMEM', 12, 'Cannot allocate memory'],
  ['EACCES', 13, 'Permission denied'],
  ['EEXIST', 17, 'File exists'],
  ['ENOTDIR', 20, 'Not a directory'],
  ['EISDIR', 21, 'Is a directory'],
  ['EINVAL', 22, 'Invalid argument'],
  ['EMFILE', 24, 'Too many open files'],
  ['ENOSPC', 28, 'No space left on device'],
  ['EPIPE', 32, 'Broken pipe'],
  ['ERANGE', 34, 'Numerical result out of range'],
  ['EDEADLK', 35, 'Resource deadlock avoided'],
  ['ENAMETOOLONG', 36, 'File name too long'],
  ['ENOSYS', 38, 'Function not implemented'],
  ['ENOTEMPTY', 39, 'Directory not empty'],
  ['ENODATA', 61, 'No data available'],
  ['ETIME', 62, 'Timer expired'],
  ['EPROTO', 71, 'Protocol error'],
  ['EOVERFLOW', 75, 'Value too large for defined data type'],
  ['EMSGSIZE', 90, 'Message too long'],
  ['EPROTONOSUPPORT', 93, 'Protocol not supported'],
  ['EOPNOTSUPP', 95, 'Operation not supported'],
  ['EADDRINUSE', 98, 'Address already in use'],
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
];

test('names, numbers and strerror texts', () => {
  for (const [name, num, text] of EXPECTED) {
    assert.equal((Errno as Record<string, number>)[name], num, name);
    assert.equal(errnoName(num), name);
    assert.equal(errnoNumber(name), num);
    assert.equal(strerror(num), text);
  }
  assert.equal(errnoName(Errno.EWOULDBLOCK), 'EAGAIN');
  assert.equal(errnoName(Errno.ENOTSUP), 'EOPNOTSUPP');
  assert.equal(errnoName(9999), undefined);
  assert.equal(errnoNumber('toString'), undefined);
  assert.equal(strerror(9999), 'Unknown error 9999');
});

test('FluxError', () => {
  const a = new FluxError(Errno.ECHILD, 'there are no more waitable jobs');
  assert.ok(a instanceof Error);
  assert.equal(a.errno, 10);
  assert.equal(a.code, 'ECHILD');
  assert.equal(a.message, 'there are no more waitable jobs');
  assert.equal(a.name, 'FluxError');
  const b = new FluxError(2);
  assert.equal(b.message, 'No such file or directory');
  assert.equal(new FluxError(2, '').message, 'No such file or directory');
  assert.equal(new FluxError(4242).code, 'EUNKNOWN');
  assert.equal(new FluxError(4242).message, 'Unknown error 4242');
});

test('ProtoError is an EPROTO FluxError', () => {
  const e = new ProtoError('bad PROTO magic 0x8f');
  assert.ok(e instanceof FluxError);
  assert.equal(e.errno, 71);
  assert.equal(e.code, 'EPROTO');
  assert.equal(e.message, 'bad PROTO magic 0x8f');
  assert.equal(e.name, 'ProtoError');
  assert.equal(new ProtoError().message, 'Protocol error');
});
