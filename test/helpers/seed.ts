/**
 * The seed's walkthrough as shell commands, run from the example's directory: 25 jobspec files
 * made with `tsflux mini run --dry-run` in `<work>/jobs`, part (a) on them, part (b) with 20 jobs.
 */
export function seedWalkthrough(work: string): string[] {
  return [
    `mkdir ${work}/jobs`,
    `tsflux mini run --dry-run -n1 sleep 0 > ${work}/jobs/0.json`,
    `for i in \`seq 1 24\`; do cp ${work}/jobs/0.json ${work}/jobs/\${i}.json; done`,
    `./bulksubmit.ts ${work}/jobs/*.json`,
    './bulksubmit_executor.ts -n20 /bin/sleep 0',
  ];
}
