/**
 * `{cc}` in `submit --cc/--bcc`, as flux substitutes it (flux/cli/base.py, class Xcmd): each
 * copy's command arguments and most of its options are formatted with Python's
 * `str.format(cc=ID)`, after which the jobspec of that copy is built from them.
 *
 * - Python's format language: `{cc}`, `{cc:03d}`, `{cc!s:>5}`, a spec with a nested field
 *   (`{cc:0{cc}d}`), the attributes real, imag, numerator, denominator of the (integer) id.
 *   The id's other attributes (its methods) are refused, naming them.
 * - Flux "preserves mustache" around it: every `{{` and `}}` is left as it is (not turned into
 *   `{`/`}` as str.format would), so `{{cc}}` stays `{{cc}}`. Flux does this by replacing them
 *   with `=stache=` / `=/stache=` and back, so those texts become `{{` / `}}` too, and a
 *   field ending in `}}` (`{cc:{cc}}`) is no field.
 * - A command argument is split where `::list::` appears after formatting (flux splits every
 *   argument so, for bulksubmit's list-valued inputs).
 * - Errors are flux's: an unknown name or a positional field is `Invalid replacement string in
 *   command: 'ARG'`, or `Replacement key 'NAME' not found in 'OPTION'` / `Invalid replacement
 *   index in 'OPTION'`; a malformed string is Python's message, after the argument or option.
 *
 * Without --cc/--bcc nothing is formatted (flux formats only copies).
 */
import { ValueError } from '../../job/jobspec.js';
import { pyFormat } from './pyformat.js';
import type { SubmitCommandOptions } from './submit-options.js';

/** Python's IndexError (a positional field: there are no positional arguments). */
class IndexError extends Error {}
/** Python's KeyError (a name other than `cc`); `key` is Python's str() of it. */
class KeyError extends Error {
  constructor(readonly key: string) {
    super(`'${key}'`);
  }
}

/** One replacement field as Python parses it. */
interface Field {
  /** Everything before the conversion and spec, e.g. `cc`, `cc.real`, `0`, ``. */
  name: string;
  /** The conversion character after `!`, or ''. */
  conv: string;
  spec: string;
  /** The spec holds a nested field (`{cc:0{cc}d}`). */
  nested: boolean;
}

/**
 * The literal texts and fields of a format string, in order, as Python's MarkupIterator reads
 * it (Objects/stringlib/unicode_format.h): lazily, so that an error further on comes after
 * the fields before it have been looked up, as in Python.
 */
function* markup(s: string): Generator<string | Field> {
  let i = 0;
  while (i < s.length) {
    // literal text up to the first brace
    const start = i;
    while (i < s.length && s[i] !== '{' && s[i] !== '}') i++;
    if (i >= s.length) {
      yield s.slice(start);
      return;
    }
    const brace = s[i++]!;
    if (brace === '}' && s[i] !== '}') throw new ValueError("Single '}' encountered in format string");
    if (brace === '{' && i >= s.length) throw new ValueError("Single '{' encountered in format string");
    if (s[i] === brace) {
      // an escaped brace (`{{`, `}}`): one brace of text
      i++;
      yield s.slice(start, i - 1);
      continue;
    }
    yield s.slice(start, i - 1);
    // a field: its name ends at `:`, `!` or `}` (a `[...]` is skipped whole)
    const nameStart = i;
    let c = '';
    while (i < s.length && c === '') {
      const d = s[i++]!;
      if (d === '{') throw new ValueError("unexpected '{' in field name");
      if (d === '[') while (i < s.length && s[i] !== ']') i++;
      else if (d === '}' || d === ':' || d === '!') c = d;
    }
    if (c === '') throw new ValueError("expected '}' before end of string");
    const name = s.slice(nameStart, i - 1);
    let conv = '';
    if (c === '!') {
      if (i >= s.length) throw new ValueError('end of string while looking for conversion specifier');
      conv = s[i++]!;
      if (i < s.length) {
        const d = s[i++]!;
        if (d === '}') {
          yield { name, conv, spec: '', nested: false };
          continue;
        }
        if (d !== ':') throw new ValueError("expected ':' after conversion specifier");
      }
    } else if (c === '}') {
      yield { name, conv, spec: '', nested: false };
      continue;
    }
    // the spec: up to the matching `}`, nested braces counted
    const specStart = i;
    let depth = 1;
    let nested = false;
    while (i < s.length && depth > 0) {
      const d = s[i++]!;
      if (d === '{') {
        nested = true;
        depth++;
      } else if (d === '}') {
        depth--;
      }
    }
    if (depth > 0) throw new ValueError("unmatched '{' in format spec");
    yield { name, conv, spec: s.slice(specStart, i - 1), nested };
  }
}

/** What Python gives for the attributes of an int that are ints themselves. */
function intAttribute(v: bigint, attr: string): bigint {
  switch (attr) {
    case 'real':
    case 'numerator':
      return v;
    case 'imag':
      return 0n;
    case 'denominator':
      return 1n;
  }
  if (/^(?:__\w+__|as_integer_ratio|bit_count|bit_length|conjugate|from_bytes|is_integer|to_bytes)$/.test(attr)) {
    throw new ValueError(
      `'{cc.${attr}}': only the attributes real, imag, numerator and denominator of cc are supported`,
    );
  }
  throw new ValueError(`'int' object has no attribute '${attr}'`);
}

/** Python's get_field_object for `str.format(cc=...)` with no positional arguments. */
function lookup(name: string, cc: number | string): bigint | string {
  const m = /^([^.[]*)([\s\S]*)$/.exec(name)!;
  const first = m[1]!;
  let rest = m[2]!;
  if (first === '' || /^\p{Nd}+$/u.test(first)) {
    // a positional field (`{}`, `{0}`): there are no positional arguments
    if (/^[0-9]+$/.test(first) && BigInt(first) > 2n ** 63n - 1n) {
      throw new ValueError('Too many decimal digits in format string');
    }
    throw new IndexError(`Replacement index out of range for positional args tuple`);
  }
  if (first !== 'cc') throw new KeyError(first);
  let v: bigint | string = typeof cc === 'number' ? BigInt(cc) : cc;
  // the rest of the name: `.attr` and `[key]`, each used as soon as it is read, as in Python
  while (rest !== '') {
    if (rest[0] === '.') {
      const a = /^\.([^.[]*)/.exec(rest)!;
      rest = rest.slice(a[0].length);
      if (a[1] === '') throw new ValueError('Empty attribute in format string');
      if (typeof v === 'string') throw new ValueError(`'{cc.${a[1]}}': attributes of the copy id need a number`);
      v = intAttribute(v, a[1]!);
    } else if (rest[0] === '[') {
      const close = rest.indexOf(']');
      if (close < 0) throw new ValueError("Missing ']' in format string");
      if (close === 1) throw new ValueError('Empty attribute in format string');
      throw new ValueError(`'${typeof v === 'string' ? 'str' : 'int'}' object is not subscriptable`);
    } else {
      throw new ValueError("Only '.' or '[' may follow ']' in format field specifier");
    }
  }
  return v;
}

/** Python `fmt.format(cc=cc)` (a string `cc` stands for the id in a template: see cc-jobspecs.ts). */
export function strFormat(fmt: string, cc: number | string, depth = 2): string {
  if (depth <= 0) throw new ValueError('Max string recursion exceeded');
  let out = '';
  for (const part of markup(fmt)) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    let v: bigint | string = lookup(part.name, cc);
    if (part.conv !== '') {
      if (part.conv !== 'r' && part.conv !== 's' && part.conv !== 'a') {
        const code = part.conv.codePointAt(0)!;
        const shown = code > 32 && code < 127 ? part.conv : `\\x${code.toString(16)}`;
        throw new ValueError(`Unknown conversion specifier ${shown}`);
      }
      v = typeof v === 'string' && part.conv !== 's' ? `'${v}'` : String(v);
    }
    const spec = part.nested ? strFormat(part.spec, cc, depth - 1) : part.spec;
    try {
      out += pyFormat(v, spec);
    } catch (e) {
      throw new ValueError((e as Error).message);
    }
  }
  return out;
}

/** Does `s` hold a replacement field (anything flux's formatting would act on but `{{`/`}}`)? */
export function hasField(s: string): boolean {
  return /[{}]/.test(preserve(s));
}

/** Is every field in `s` exactly `{cc}` (so that any text may stand for the id)? */
export function onlyPlainCc(s: string): boolean {
  try {
    for (const part of markup(preserve(s))) {
      if (typeof part !== 'string' && (part.name !== 'cc' || part.conv !== '' || part.spec !== '')) return false;
    }
    return true;
  } catch {
    return false;
  }
}

const preserve = (s: string): string => s.replaceAll('{{', '=stache=').replaceAll('}}', '=/stache=');
const restore = (s: string): string => s.replaceAll('=stache=', '{{').replaceAll('=/stache=', '}}');

/** A command's arguments for copy `cc`, as flux's Xcmd makes them. */
export function ccCommand(command: readonly string[], cc: number | string): string[] {
  const out: string[] = [];
  for (const arg of command) {
    let text: string;
    try {
      text = strFormat(preserve(arg), cc);
    } catch (e) {
      if (e instanceof IndexError || e instanceof KeyError) {
        throw new ValueError(`Invalid replacement string in command: '${arg}'`);
      }
      throw new ValueError(`command argument '${arg}': ${(e as Error).message}`);
    }
    for (const a of text.split('::list::')) out.push(restore(a));
  }
  return out;
}

/**
 * The options flux formats for each copy (Xcmd.mutable_args), with the text flux's messages
 * show before a value. The others (counts as flags, --rlimit, -u, -l, ...) are used as given.
 * Flux also formats --cc/--bcc themselves (to no effect: the copies are already chosen) and
 * options tsflux refuses (--cores, --requires, --begin-time, --log, ...).
 */
const FORMATTED: ReadonlyArray<readonly [keyof SubmitCommandOptions, string]> = [
  ['queue', '-q'],
  ['bank', '-B'],
  ['ntasks', '-n'],
  ['nodes', '-N'],
  ['coresPerTask', '-c'],
  ['gpusPerTask', '-g'],
  ['timeLimit', '-t'],
  ['env', '--env='],
  ['envFile', '--env-file='],
  ['envRemove', '--env-remove='],
  ['urgency', '--urgency='],
  ['setopt', '-o '],
  ['setattr', '--setattr='],
  ['jobName', '--job-name='],
  ['input', '--input='],
  ['output', '--output='],
  ['error', '--error='],
  ['dependency', '--dependency='],
  ['taskmap', '--taskmap='],
  ['waitEvent', '--wait-event='],
  ['cwd', '--cwd='],
  ['flags', '--flags='],
  ['signal', '--signal='],
];

function formatOption(value: string, label: string, cc: number | string): string {
  try {
    return restore(strFormat(preserve(value), cc));
  } catch (e) {
    if (e instanceof IndexError) throw new ValueError(`Invalid replacement index in '${label}${value}'`);
    if (e instanceof KeyError) throw new ValueError(`Replacement key ${e.message} not found in '${label}${value}'`);
    throw new ValueError(`${label.trimEnd()}${label.endsWith('=') ? '' : ' '}${value}: ${(e as Error).message}`);
  }
}

/** The options of copy `cc`: those flux formats are formatted, the others are as given. */
export function ccOptions(opts: SubmitCommandOptions, cc: number | string): SubmitCommandOptions {
  const out: Record<string, unknown> = { ...opts };
  for (const [key, label] of FORMATTED) {
    const v = opts[key];
    if (typeof v === 'string') out[key] = formatOption(v, label, cc);
    else if (Array.isArray(v)) out[key] = v.map((x: string) => formatOption(x, label, cc));
  }
  return out as SubmitCommandOptions;
}

/** Does any option flux formats hold a replacement field (so copies differ in it)? */
export function optionsHaveField(
  opts: SubmitCommandOptions,
  keys?: ReadonlyArray<keyof SubmitCommandOptions>,
): boolean {
  for (const [key] of FORMATTED) {
    if (keys && !keys.includes(key)) continue;
    const v = opts[key];
    if (typeof v === 'string' ? hasField(v) : Array.isArray(v) && v.some((x: string) => hasField(x))) return true;
  }
  return false;
}
