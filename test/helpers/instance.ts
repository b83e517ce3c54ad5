/** Start a real instance (broker, socket, services, spawner) for a test, in this process. */
import { Instance, type InstanceOptions } from '../../src/broker/instance.js';
import { Flux } from '../../src/client/handle.js';

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
