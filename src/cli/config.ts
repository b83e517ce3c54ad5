/**
 * `tsflux config` — Flux's `flux config` (flux-config(1)):
 *
 *   get [--type=TYPE] [--default=VAL] [--quiet] [--config-path=PATH] [NAME]
 *       print the instance's configuration (`config.get`), or the value at the dotted NAME:
 *       strings bare, anything else as compact JSON. An unset NAME prints
 *       `tsflux-config: NAME is not set` and exits 1 (--default prints VAL instead, --quiet
 *       prints nothing). --type: any, string, integer, real, boolean, object, array, fsd,
 *       fsd-integer, fsd-real. --config-path reads files instead of asking the instance.
 *   load [PATH]   replace the configuration with PATH's (file or directory), or with the TOML
 *                 or JSON on stdin (`config.load`)
 *   reload        read the instance's --config-path again (`config.reload`)
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { CliError, fluxAction, openFlux } from './lib/util.js';
import { stringifyJson } from '../protocol/json.js';
import { parseFsd } from '../job/fsd.js';
import {
  type ConfigObject,
  configLookup,
  parseConfigPath,
  parseJsonText,
  parseTomlText,
} from '../broker/config/parse.js';

const PREFIX = 'tsflux-config';

const TYPES = ['any', 'string', 'integer', 'real', 'boolean', 'object', 'array', 'fsd', 'fsd-integer', 'fsd-real'];

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The text `flux config get` prints for a value of the requested type, or undefined if it is not. */
export function formatConfigValue(v: unknown, type: string): string | undefined {
  const plain = () => (typeof v === 'string' ? v : stringifyJson(v));
  switch (type) {
    case 'any':
      return plain();
    case 'string':
      return typeof v === 'string' ? v : undefined;
    case 'integer':
      return typeof v === 'bigint' || Number.isInteger(v) ? plain() : undefined;
    case 'real':
      // TOML's 3.0 reaches us as the number 3: any number is a real here
      return typeof v === 'number' ? plain() : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? plain() : undefined;
    case 'object':
      return isObject(v) ? plain() : undefined;
    case 'array':
      return Array.isArray(v) ? plain() : undefined;
  }
  // fsd, fsd-integer, fsd-real: a string that is a Flux Standard Duration (RFC 23)
  if (typeof v !== 'string') return undefined;
  let t: number;
  try {
    t = parseFsd(v);
  } catch {
    return undefined;
  }
  if (type === 'fsd-integer') return String(Math.trunc(t));
  if (type === 'fsd-real') return t.toFixed(6);
  return v;
}

interface GetOpts {
  type?: string;
  default?: string;
  quiet?: boolean;
  configPath?: string;
}

async function fetchConfig(): Promise<unknown> {
  const h = await openFlux();
  try {
    return await h.rpc('config.get');
  } catch (e) {
    throw new CliError(`${PREFIX}: Error fetching config object: ${(e as Error).message}`);
  } finally {
    h.close();
  }
}

function readLocal(configPath: string): ConfigObject {
  try {
    return parseConfigPath(configPath);
  } catch (e) {
    throw new CliError(`${PREFIX}: ${(e as Error).message}`);
  }
}

async function configGet(name: string | undefined, opts: GetOpts): Promise<number> {
  const type = (opts.type ?? 'any').toLowerCase();
  if (!TYPES.includes(type)) throw new CliError(`${PREFIX}: Unknown type: ${opts.type}`);
  const conf = opts.configPath !== undefined ? readLocal(opts.configPath) : await fetchConfig();
  let v: unknown = conf;
  if (name !== undefined) {
    v = configLookup(conf, name);
    if (v === undefined) {
      if (opts.default !== undefined) {
        process.stdout.write(opts.default + '\n');
        return 0;
      }
      throw new CliError(opts.quiet ? '' : `${PREFIX}: ${name} is not set`);
    }
  }
  const text = formatConfigValue(v, type);
  if (text === undefined) throw new CliError(`${PREFIX}: ${name ?? 'value'} does not have the requested type`);
  process.stdout.write(text + '\n');
  return 0;
}

/** stdin: empty → {}, JSON if it parses as JSON, else TOML. */
function parseStdin(text: string): ConfigObject {
  if (text.trim() === '') return {};
  try {
    return parseJsonText(text, 'stdin');
  } catch {
    return parseTomlText(text, 'stdin');
  }
}

async function configLoad(configPath: string | undefined): Promise<number> {
  let conf: ConfigObject;
  try {
    conf = configPath !== undefined ? parseConfigPath(configPath) : parseStdin(fs.readFileSync(0, 'utf8'));
  } catch (e) {
    throw new CliError(`${PREFIX}: ${(e as Error).message}`);
  }
  const h = await openFlux();
  try {
    await h.rpc('config.load', conf);
  } catch (e) {
    throw new CliError(`${PREFIX}: load: ${(e as Error).message}`);
  } finally {
    h.close();
  }
  return 0;
}

async function configReload(): Promise<number> {
  const h = await openFlux();
  try {
    await h.rpc('config.reload');
  } catch (e) {
    throw new CliError(`${PREFIX}: reload: ${(e as Error).message}`);
  } finally {
    h.close();
  }
  return 0;
}

export function configCommand(): Command {
  const cmd = new Command('config').description("query and change the instance's configuration (Flux TOML)");
  cmd
    .command('get')
    .description('Query broker configuration values')
    .argument('[name]', 'a dotted key, e.g. ingest.validator.plugins (default: the whole configuration)')
    .option('-t, --type <type>', `require this type (${TYPES.join(', ')})`)
    .option('-d, --default <value>', 'print this value if NAME is not set')
    .option('-q, --quiet', 'print nothing when NAME is not set')
    .option('-c, --config-path <path>', 'read the configuration from PATH instead of the instance')
    .action(fluxAction(PREFIX, (name: string | undefined, opts: GetOpts) => configGet(name, opts)));
  cmd
    .command('load')
    .description("Replace the instance's configuration with PATH's (TOML or JSON), or stdin's")
    .argument('[path]', 'a TOML or JSON file, or a directory of *.toml files')
    .action(fluxAction(PREFIX, (p: string | undefined) => configLoad(p)));
  cmd
    .command('reload')
    .description("Reload the instance's configuration from its --config-path")
    .action(fluxAction(PREFIX, () => configReload()));
  return cmd;
}
