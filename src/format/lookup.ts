/**
 * Finds a field's value for rules (severity, CEF/LEEF header fields). A name such as
 * `event.errorCode` is first looked up as a literal key; failing that, as a path into a field that
 * holds JSON (ActionTrail stores the whole event as JSON in the field `event`).
 */
import type { Field } from '../decode/log-group';

function walk(value: unknown, path: string[]): string | undefined {
  let node = value;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  if (node === undefined || node === null) return undefined;
  return typeof node === 'string' ? node : typeof node === 'object' ? JSON.stringify(node) : String(node);
}

/** Where a lookup reads values: the first field with that key, or undefined. */
export type ValueOf = (key: string) => string | undefined;

export function fieldsValueOf(fields: Field[]): ValueOf {
  return (key) => {
    for (const [k, v] of fields) if (k === key) return v;
    return undefined;
  };
}

export class FieldLookup {
  private readonly parsed = new Map<string, unknown>();
  private readonly valueOf: ValueOf;

  constructor(fields: Field[] | ValueOf) {
    this.valueOf = typeof fields === 'function' ? fields : fieldsValueOf(fields);
  }

  get(name: string): string | undefined {
    const direct = this.valueOf(name);
    if (direct !== undefined) return direct;
    const parts = name.split('.');
    for (let i = parts.length - 1; i >= 1; i--) {
      const key = parts.slice(0, i).join('.');
      const json = this.json(key);
      if (json !== undefined) return walk(json, parts.slice(i));
    }
    return undefined;
  }

  private json(key: string): unknown {
    if (this.parsed.has(key)) return this.parsed.get(key);
    let value: unknown;
    const raw = this.valueOf(key);
    if (raw !== undefined && /^\s*[[{]/.test(raw)) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = undefined;
      }
    }
    this.parsed.set(key, value);
    return value;
  }
}
