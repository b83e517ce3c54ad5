/** Which bootstrap method a broker uses, and the refusal to boot N brokers as N instances. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, sizeFromEnv } from '../../../src/broker/boot/boot.js';

test('without PMI or Slurm: single, rank 0 of 1', async () => {
  const b = await bootstrap({});
  assert.equal(b.method, 'single');
  assert.equal(b.rank, 0);
  assert.equal(b.size, 1);
  await b.put('0', 'card');
  await b.barrier();
  assert.equal(await b.get('0'), 'card');
  await assert.rejects(b.get('1'));
  await b.finalize();
});

test('told it is one of several with no way to reach the others: a clear error, never a singleton', async () => {
  await assert.rejects(bootstrap({ PMI_SIZE: '3' }), /PMI_SIZE=3 says this broker is one of 3.*PMI_FD is not set/);
  await assert.rejects(
    bootstrap({ SLURM_PROCID: '1', SLURM_STEP_NUM_TASKS: '3', SLURM_NTASKS: '3' }),
    /SLURM_STEP_NUM_TASKS=3 says this broker is one of 3.*srun --mpi=pmi2/,
  );
  await assert.rejects(bootstrap({ SLURM_PROCID: '0', SLURM_NTASKS: '2' }), /SLURM_NTASKS=2/);
  // a step's task without the rest of the Slurm environment: the variable missing is named
  await assert.rejects(
    bootstrap({ SLURM_PROCID: '1', SLURM_STEP_NUM_TASKS: '3', SLURM_JOB_ID: '5', SLURM_STEP_ID: '0' }),
    /PMI_FD is not set, and SLURM_STEP_NODELIST for the Slurm environment is not/,
  );
  await assert.rejects(bootstrap({}, { method: 'slurm' }), /broker.boot-method=slurm: SLURM_JOB_ID is not set/);
  // one of one is fine, and so is an allocation's shell that is no task of a step
  assert.equal((await bootstrap({ PMI_SIZE: '1' })).method, 'single');
  assert.equal((await bootstrap({ SLURM_NTASKS: '3', SLURM_JOB_ID: '4' })).method, 'single');
  // asking for single explicitly is the user's choice
  assert.equal((await bootstrap({ PMI_SIZE: '3' }, { method: 'single' })).method, 'single');
});

test('sizeFromEnv: PMI_SIZE first, then the step task count of a Slurm task', () => {
  assert.deepEqual(sizeFromEnv({ PMI_SIZE: '4', SLURM_PROCID: '0', SLURM_STEP_NUM_TASKS: '3' }), {
    size: 4,
    variable: 'PMI_SIZE',
  });
  assert.deepEqual(sizeFromEnv({ SLURM_PROCID: '0', SLURM_STEP_NUM_TASKS: '3', SLURM_NTASKS: '6' }), {
    size: 3,
    variable: 'SLURM_STEP_NUM_TASKS',
  });
  assert.equal(sizeFromEnv({ SLURM_NTASKS: '6' }), undefined);
  assert.throws(() => sizeFromEnv({ PMI_SIZE: 'three' }), /PMI_SIZE=three is not a number/);
});

test('broker.boot-method: an unknown method, or simple without PMI, is refused naming it', async () => {
  await assert.rejects(bootstrap({}, { method: 'pmix' }), /broker.boot-method=pmix: unknown bootstrap method/);
  await assert.rejects(bootstrap({}, { method: 'simple' }), /PMI_FD, PMI_RANK and PMI_SIZE must be set/);
  await assert.rejects(
    bootstrap({ PMI_FD: '99', PMI_RANK: '3', PMI_SIZE: '3' }),
    /PMI_RANK=3 is not a rank of PMI_SIZE=3/,
  );
});
