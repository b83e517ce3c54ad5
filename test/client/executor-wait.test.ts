/** asCompleted / waitFutures on stand-in futures (no instance needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asCompleted, waitFutures, FutureTimeoutError } from '../../src/client/executor/index.js';

class Fake {
  private cbs: ((f: Fake) => void)[] = [];
  private isDone = false;
  constructor(readonly name: string) {}
  done(): boolean {
    return this.isDone;
  }
  addDoneCallback(cb: (f: Fake) => void): this {
    if (this.isDone) cb(this);
    else this.cbs.push(cb);
    return this;
  }
  finish(): void {
    this.isDone = true;
    for (const cb of this.cbs.splice(0)) cb(this);
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('asCompleted: done ones first, then in completion order, each once, with its input index', async () => {
  const [a, b, c] = [new Fake('a'), new Fake('b'), new Fake('c')];
  b.finish();
  const out: string[] = [];
  const it = (async () => {
    for await (const { future, index } of asCompleted([a, b, c, b])) out.push(`${future.name}${index}`);
  })();
  await tick();
  c.finish();
  await tick();
  a.finish();
  await it;
  assert.deepEqual(out, ['b1', 'c2', 'a0']);
});

test('asCompleted: a timeout throws TimeoutError after yielding what completed', async () => {
  const [a, b] = [new Fake('a'), new Fake('b')];
  a.finish();
  const out: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const { future } of asCompleted([a, b], { timeoutMs: 20 })) out.push(future.name);
    })(),
    (e: unknown) => e instanceof FutureTimeoutError && e.name === 'TimeoutError',
  );
  assert.deepEqual(out, ['a']);
});

test('waitFutures: FIRST_COMPLETED, ALL_COMPLETED, timeout without error, bad returnWhen', async () => {
  const [a, b] = [new Fake('a'), new Fake('b')];
  const first = waitFutures([a, b], { returnWhen: 'FIRST_COMPLETED' });
  b.finish();
  const r1 = await first;
  assert.deepEqual(
    [...r1.done].map((f) => f.name),
    ['b'],
  );
  assert.deepEqual(
    [...r1.notDone].map((f) => f.name),
    ['a'],
  );
  const r2 = await waitFutures([a, b], { timeoutMs: 10 });
  assert.equal(r2.notDone.size, 1);
  const all = waitFutures([a, b]);
  a.finish();
  assert.equal((await all).done.size, 2);
  assert.equal((await waitFutures([])).done.size, 0);
  await assert.rejects(waitFutures([a], { returnWhen: 'FIRST_EXCEPTION' as never }), TypeError);
});
