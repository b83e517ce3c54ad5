/** Start a real instance (broker, socket, services, spawner) for a test, in this process. */
import { after, before } from 'node:test';
import { Instance, type InstanceOptions } from '../../src/broker/instance.js';
import { Flux } from '../../src/client/handle.js';
import { encodeJobId } from '../../src/job/jobid.js';

export async function withInstance<T>(
  fn: (inst: Instance, h: Flux) => Promise<T>,
  opts: InstanceOptions = {},
): Promise<T> {
  const inst = await Instance.start({ cores: '2', gpus: '0', killTimeout: 1, ...opts });
  const h = await Flux.open(inst.uri);
  try {
    return await fn(inst, h);
  } finally {
    h.close();
    await inst.stop();
  }
}

/**
 * One instance and one handle for the whole suite (or file) this is called in: started in its
 * `before`, stopped in its `after`. Read them through the getters once the tests run.
 */
export function suiteInstance(opts: InstanceOptions = {}): { readonly inst: Instance; readonly h: Flux } {
  let inst: Instance | undefined;
  let h: Flux | undefined;
  before(async () => {
    inst = await Instance.start({ cores: '2', gpus: '0', killTimeout: 1, ...opts });
    h = await Flux.open(inst.uri);
  });
  after(async () => {
    h?.close();
    await inst?.stop();
  });
  return {
    get inst(): Instance {
      if (!inst) throw new Error('suiteInstance: read before the suite started');
      return inst;
    },
    get h(): Flux {
      if (!h) throw new Error('suiteInstance: read before the suite started');
      return h;
    },
  };
}

/**
 * End a running job's stdin (eof through its shell's stdin service): a job of `cat` then exits
 * 0. Such a job runs exactly until the test decides, where a `sleep N` would race the test.
 */
export async function endStdin(h: Flux, id: bigint): Promise<void> {
  const svc = `${process.getuid!()}-shell-${encodeJobId(id, 'f58plain')}.stdin`;
  await h.rpc(svc, { stream: 'stdin', rank: 'all', eof: true });
}
