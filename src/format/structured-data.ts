/**
 * RFC 5424 STRUCTURED-DATA carrying the record's fields: one SD-ELEMENT `[id name="value" ...]`.
 * PARAM-NAMEs are 1-32 PRINTUSASCII without `=`, space, `]`, `"` (other characters become `_`,
 * collisions get a numeric suffix); PARAM-VALUEs escape `"`, `\` and `]` with a backslash.
 */
import type { Field } from '../decode/log-group';
import { escapeText, SD_VALUE_ESCAPES } from './escapes';
import { KeyNames } from './event-formats';

export function sdParamName(key: string): string {
  const cleaned = key.replace(/[^\x21-\x7e]|[=\]"]/g, '_').slice(0, 32);
  return cleaned === '' ? '_' : cleaned;
}

export function sdParamValue(value: string): string {
  return escapeText(value, SD_VALUE_ESCAPES);
}

/** PARAM-NAMEs for a record's keys: sanitized, collisions numbered. */
export function paramNames(keys: string[]): string[] {
  const used = new Set<string>();
  return keys.map((key) => {
    const base = sdParamName(key);
    let name = base;
    for (let n = 2; used.has(name); n++) {
      const suffix = String(n);
      name = base.slice(0, 32 - suffix.length) + suffix;
    }
    used.add(name);
    return name;
  });
}

export const sdKeyNames = () => new KeyNames(paramNames);

export function structuredData(sdId: string, fields: Field[], names = sdKeyNames()): string {
  const keys = names.of(fields);
  let out = `[${sdId}`;
  for (let i = 0; i < fields.length; i++) out += ` ${keys[i]}="${sdParamValue(fields[i]![1])}"`;
  return `${out}]`;
}
