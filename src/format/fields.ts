/**
 * Which fields a message carries. `recordFields` flattens one log of a group with the SLS naming
 * the Python SDK and the console use (contents, then `__topic__`, `__source__`, `__tag__:<key>`);
 * `selectFields` applies the include/exclude lists (globs on the SLS names) and the renames.
 */
import { isIP } from 'node:net';
import type { Field, LogGroup, LogRecord } from '../decode/log-group';

export function recordFields(group: LogGroup, log: LogRecord): Field[] {
  const fields = log.contents.slice();
  if (group.topic !== '') fields.push(['__topic__', group.topic]);
  if (group.source !== '') fields.push(['__source__', group.source]);
  for (const [key, value] of group.tags) fields.push([`__tag__:${key}`, value]);
  return fields;
}

export interface FieldPolicy {
  /** Keep only fields matching one of these (undefined = keep all). */
  include: RegExp[] | undefined;
  /** Then drop fields matching one of these. */
  exclude: RegExp[];
  /** SLS name -> name in the message. */
  rename: Map<string, string>;
  /** Names that take only some values (a field preset's standard keys): a value that does not fit keeps its SLS name. */
  fits?: ReadonlyMap<string, ValueKind>;
}

/** What a standard name may hold: an IP address (CEF/LEEF `src`, ECS `source.ip`), an integer, any non-empty text. */
export type ValueKind = 'ip' | 'long' | 'text';

export function fitsKind(kind: ValueKind, value: string): boolean {
  if (kind === 'ip') return isIP(value) !== 0;
  if (kind === 'long') return /^-?\d{1,15}$/.test(value);
  return value !== '';
}

/** `__tag__:*` -> /^__tag__:.*$/ ; only `*` is special. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export function isKeepAll(policy: FieldPolicy): boolean {
  return policy.include === undefined && policy.exclude.length === 0 && policy.rename.size === 0;
}

/** The name of a field with this value: its message name, unless that name takes no such value. */
function nameFor(policy: FieldPolicy, key: string, value: string): string | undefined {
  const name = messageName(policy, key);
  if (name === undefined || name === key) return name;
  const kind = policy.fits?.get(name);
  return kind === undefined || fitsKind(kind, value) ? name : key;
}

/** The name a field gets in the message, or undefined if the policy drops it. */
export function messageName(policy: FieldPolicy, key: string): string | undefined {
  if (policy.include && !policy.include.some((r) => r.test(key))) return undefined;
  if (policy.exclude.some((r) => r.test(key))) return undefined;
  return policy.rename.get(key) ?? key;
}

export function selectFields(fields: Field[], policy: FieldPolicy): Field[] {
  if (isKeepAll(policy)) return fields;
  const out: Field[] = [];
  for (const [key, value] of fields) {
    const name = nameFor(policy, key, value);
    if (name !== undefined) out.push([name, value]);
  }
  return out;
}
