/**
 * `tsflux getattr NAME` — Flux's `flux getattr`: print a broker attribute (attr.get). An
 * unknown attribute prints `tsflux-getattr: NAME: No such file or directory`, exit 1.
 */
import { Command } from 'commander';
import { CliError, fluxAction, openFlux } from './lib/util.js';

const PREFIX = 'tsflux-getattr';

export function getattrCommand(): Command {
  return new Command('getattr')
    .description('print the value of a broker attribute (e.g. size, rank, local-uri, rundir)')
    .argument('<name>', 'attribute name')
    .action(
      fluxAction(PREFIX, async (name: string) => {
        const h = await openFlux();
        try {
          let v: string;
          try {
            v = await h.attrGet(name);
          } catch (e) {
            throw new CliError(`${PREFIX}: ${name}: ${(e as Error).message}`, 1, { cause: e });
          }
          process.stdout.write(v + '\n');
          return 0;
        } finally {
          h.close();
        }
      }),
    );
}
