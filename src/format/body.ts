/** The MSG part as `key=value` pairs or one JSON object. */
import type { Field } from '../decode/log-group';

export type KvQuote = 'none' | 'auto' | 'always';

function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * `k1=v1||k2=v2`. Quoting: `none` ships keys and values as stored; `auto` quotes (with `\"` and
 * `\\` escapes) any key or value that is empty or contains the separator, `=`, `"`, `\` or
 * whitespace, so a kv parser can split the message unambiguously; `always` quotes every value.
 */
export function kvNeedsQuotes(s: string, separator: string): boolean {
  return s === '' || s.includes(separator) || /[\s="\\]/.test(s);
}

export function kvBody(fields: Field[], separator: string, quote: KvQuote = 'none'): string {
  let out = '';
  const needsQuotes = (s: string) => kvNeedsQuotes(s, separator);
  for (let i = 0; i < fields.length; i++) {
    let [key, value] = fields[i]!;
    if (quote !== 'none') {
      if (needsQuotes(key)) key = quoted(key);
      if (quote === 'always' || needsQuotes(value)) value = quoted(value);
    }
    out += i === 0 ? `${key}=${value}` : `${separator}${key}=${value}`;
  }
  return out;
}

/**
 * One JSON object. A key that repeats within a record (SLS allows it) keeps every value:
 * the later ones get `_2`, `_3`... suffixes instead of silently overwriting the first.
 */
export function fieldsObject(fields: Field[]): Record<string, string> {
  const obj: Record<string, string> = {};
  for (const [key, value] of fields) {
    let name = key;
    for (let n = 2; Object.prototype.hasOwnProperty.call(obj, name); n++) name = `${key}_${n}`;
    obj[name] = value;
  }
  return obj;
}

export function jsonBody(fields: Field[]): string {
  return JSON.stringify(fieldsObject(fields));
}
