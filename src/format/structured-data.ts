/**
 * RFC 5424 STRUCTURED-DATA carrying the record's fields: one SD-ELEMENT `[id name="value" ...]`.
 * PARAM-NAMEs are 1-32 PRINTUSASCII without `=`, space, `]`, `"` (other characters become `_`,
 * collisions get a numeric suffix); PARAM-VALUEs escape `"`, `\` and `]` with a backslash.
 */
import type { Field } from '../decode/log-group';

export function sdParamName(key: string): string {
  const cleaned = key.replace(/[^\x21-\x7e]|[=\]"]/g, '_').slice(0, 32);
  return cleaned === '' ? '_' : cleaned;
}

export function sdParamValue(value: string): string {
  return value.replace(/[\\"\]]/g, '\\$&');
}

export function structuredData(sdId: string, fields: Field[]): string {
  const used = new Set<string>();
  let out = `[${sdId}`;
  for (const [key, value] of fields) {
    const base = sdParamName(key);
    let name = base;
    for (let n = 2; used.has(name); n++) {
      const suffix = String(n);
      name = base.slice(0, 32 - suffix.length) + suffix;
    }
    used.add(name);
    out += ` ${name}="${sdParamValue(value)}"`;
  }
  return `${out}]`;
}
