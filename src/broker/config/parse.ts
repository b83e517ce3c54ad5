/**
 * Reading Flux's configuration files (flux-config(5); flux-core's flux_conf_parse): PATH is a
 * file (TOML, or JSON when it ends in `.json`) or a directory whose `*.toml` files are read in
 * name order and merged, a table in a later file adding to the same table of an earlier one
 * and a value replacing the earlier value (jansson's json_object_update_recursive, as flux-core
 * merges them). A key defined twice in one file is a TOML error. Errors name the file and, for
 * a syntax error, the line: `FILE:LINE: reason`, or `stat: PATH: reason`; the broker prefixes
 * them with `Config file error: ` as flux-core's broker does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml, TomlDate, TomlError } from 'smol-toml';
import { Errno, FluxError, errnoNumber, strerror } from '../../protocol/errno.js';
import { parseJson } from '../../protocol/json.js';

/** A configuration: the JSON object of the merged TOML tables. */
export type ConfigObject = Record<string, unknown>;

export function isTable(v: unknown): v is ConfigObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A FluxError from a failed file system call: errno from its code, `prefix: reason` text. */
function systemError(e: unknown, prefix: string): FluxError {
  const code = (e as NodeJS.ErrnoException).code;
  const errno = (code && errnoNumber(code)) || Errno.EIO;
  return new FluxError(errno, `${prefix}: ${strerror(errno)}`);
}

/** Set a key on a plain object, even `__proto__` (as a plain data property). */
function setKey(obj: ConfigObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** smol-toml's value → JSON: plain objects, dates as their TOML text (RFC 3339). */
function tomlToJson(v: unknown): unknown {
  if (v instanceof TomlDate) return v.toISOString();
  if (Array.isArray(v)) return v.map(tomlToJson);
  if (isTable(v)) {
    const out: ConfigObject = {};
    for (const [k, x] of Object.entries(v)) setKey(out, k, tomlToJson(x));
    return out;
  }
  return v;
}

/** Merge `src` into `dst`: tables recursively, anything else replaced (later file wins). */
export function mergeConfig(dst: ConfigObject, src: ConfigObject): ConfigObject {
  for (const [k, v] of Object.entries(src)) {
    const old = Object.prototype.hasOwnProperty.call(dst, k) ? dst[k] : undefined;
    if (isTable(old) && isTable(v)) mergeConfig(old, v);
    else setKey(dst, k, v);
  }
  return dst;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw systemError(e, file);
  }
}

/** Parse one TOML text; a syntax error is `FILE:LINE: reason`. */
export function parseTomlText(text: string, file: string): ConfigObject {
  try {
    return tomlToJson(parseToml(text, { integersAsBigInt: 'asNeeded' })) as ConfigObject;
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new FluxError(Errno.EINVAL, `${file}:${e.line}: ${reason}`);
    }
    throw e;
  }
}

/** Parse one JSON text, which must hold an object; an error is `FILE:LINE: reason`. */
export function parseJsonText(text: string, file: string): ConfigObject {
  let v: unknown;
  try {
    v = parseJson(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /at position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : text.split('\n').length;
    throw new FluxError(Errno.EINVAL, `${file}:${line}: ${msg}`);
  }
  if (!isTable(v)) throw new FluxError(Errno.EINVAL, `${file}:1: the configuration must be a JSON object`);
  return v;
}

function parseFile(file: string): ConfigObject {
  const text = readText(file);
  return file.endsWith('.json') ? parseJsonText(text, file) : parseTomlText(text, file);
}

function parseDir(dir: string): ConfigObject {
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK);
  } catch (e) {
    throw systemError(e, dir);
  }
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw systemError(e, dir);
  }
  const conf: ConfigObject = {};
  // glob(3) `*.toml`: no dot files, sorted by name
  const files = names.filter((n) => n.endsWith('.toml') && !n.startsWith('.')).sort();
  for (const n of files) mergeConfig(conf, parseTomlText(readText(path.join(dir, n)), path.join(dir, n)));
  return conf;
}

/** Read the configuration at `configPath` (a file or a directory). Throws FluxError. */
export function parseConfigPath(configPath: string): ConfigObject {
  let st: fs.Stats;
  try {
    st = fs.statSync(configPath);
  } catch (e) {
    throw systemError(e, `stat: ${configPath}`);
  }
  return st.isDirectory() ? parseDir(configPath) : parseFile(configPath);
}

/** Look up a dotted key (`ingest.validator.plugins`); undefined when a part is missing. */
export function configLookup(conf: unknown, key: string): unknown {
  let v: unknown = conf;
  for (const part of key.split('.')) {
    if (!isTable(v) || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
    v = v[part];
  }
  return v;
}
