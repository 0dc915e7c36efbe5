/** The MSG part as `key=value` pairs or one JSON object. */
import type { Field } from '../decode/log-group';
import { escapeText, jsonString, kvEscapesFor, KV_QUOTED_ESCAPES } from './escapes';

/** `escape` (the default): backslash escapes (kvEscapesFor); `none`: raw, forgeable; `auto`/`always`: quoting. */
export type KvQuote = 'escape' | 'none' | 'auto' | 'always';

function quoted(text: string): string {
  return `"${escapeText(text, KV_QUOTED_ESCAPES)}"`;
}

/**
 * `k1=v1||k2=v2`. Quoting: `none` ships keys and values as stored; `auto` quotes (with `\"` and
 * `\\` escapes) any key or value that is empty or contains the separator, `=`, `"`, `\` or
 * whitespace, so a kv parser can split the message unambiguously; `always` quotes every value.
 */
export function kvNeedsQuotes(s: string, separator: string): boolean {
  return s === '' || s.includes(separator) || KV_QUOTE_TRIGGER.test(s);
}

/** The characters that make `auto` quote a key or value (besides the separator). */
export const KV_QUOTE_TRIGGER = /[\s="\\]/;

/** A key as kv writes it. */
export function kvKey(key: string, separator: string, quote: KvQuote): string {
  if (quote === 'escape') return escapeText(key, kvEscapesFor(separator));
  return quote !== 'none' && kvNeedsQuotes(key, separator) ? quoted(key) : key;
}

/** One `key=value` pair. */
export function kvPair(key: string, value: string, separator: string, quote: KvQuote): string {
  const v = quote === 'escape' ? escapeText(value, kvEscapesFor(separator))
    : quote === 'always' || (quote === 'auto' && kvNeedsQuotes(value, separator)) ? quoted(value) : value;
  return `${kvKey(key, separator, quote)}=${v}`;
}

export function kvBody(fields: Field[], separator: string, quote: KvQuote = 'escape'): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    const [key, value] = fields[i]!;
    out += i === 0 ? kvPair(key, value, separator, quote) : `${separator}${kvPair(key, value, separator, quote)}`;
  }
  return out;
}

/**
 * JSON member names for a record's keys. A key that repeats within a record (SLS allows it) keeps
 * every value: the later ones get `_2`, `_3`... suffixes instead of silently overwriting the first.
 */
export function jsonNames(keys: string[]): string[] {
  const used = new Set<string>();
  return keys.map((key) => {
    let name = key;
    for (let n = 2; used.has(name); n++) name = `${key}_${n}`;
    used.add(name);
    return name;
  });
}

/** `"name":"value"`, escaped as JSON.stringify does (and DEL as `\u007f`). */
export function jsonMember(name: string, value: string): string {
  return `${jsonString(name)}:${jsonString(value)}`;
}

/** One JSON object, members in the record's order (an object would move integer-like keys first). */
export function jsonBody(fields: Field[]): string {
  const names = jsonNames(fields.map(([key]) => key));
  return `{${fields.map(([, value], i) => jsonMember(names[i]!, value)).join(',')}}`;
}
