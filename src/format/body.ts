/** The MSG part of a syslog message: the record's fields as `key=value` pairs or one JSON object. */
import type { Field } from '../decode/log-group';

/** `k1=v1||k2=v2`: keys and values as stored; the separator is the only thing added. */
export function kvBody(fields: Field[], separator: string): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    const [key, value] = fields[i]!;
    out += i === 0 ? `${key}=${value}` : `${separator}${key}=${value}`;
  }
  return out;
}

/**
 * One JSON object. A key that repeats within a record (SLS allows it) keeps every value:
 * the later ones get `_2`, `_3`... suffixes instead of silently overwriting the first.
 */
export function jsonBody(fields: Field[]): string {
  const obj: Record<string, string> = {};
  for (const [key, value] of fields) {
    let name = key;
    for (let n = 2; Object.prototype.hasOwnProperty.call(obj, name); n++) name = `${key}_${n}`;
    obj[name] = value;
  }
  return JSON.stringify(obj);
}
