/**
 * Every escape a message uses, as one table per place a value goes. The reference engine applies
 * them to strings (escapeText); the kernel is given the same tables as bytes (kernelEscapeTable),
 * so an escape rule is changed here, once.
 */

/** Character → what it is written as (only characters that change). */
export type Escapes = ReadonlyMap<string, string>;

/** C0 controls (NUL to US) and DEL: never written raw in any format. */
const CONTROLS = [...Array.from({ length: 32 }, (_, b) => String.fromCharCode(b)), '\x7f'];

/**
 * Controls as their Unicode control pictures (U+2400-U+241F, DEL U+2421): for formats whose
 * spec has no escape for them (CEF, LEEF, STRUCTURED-DATA), visible and never a delimiter; `left`: controls another rule handles.
 */
function controlPictures(rules: Array<[string, string]>, left = ''): Escapes {
  const table = new Map(rules);
  for (const c of CONTROLS) if (!table.has(c) && !left.includes(c)) table.set(c, String.fromCharCode(c === '\x7f' ? 0x2421 : 0x2400 + c.charCodeAt(0)));
  return table;
}

/** JSON string content as JSON.stringify writes it (the definition the table is read from), and DEL as `\u007f`. */
export const JSON_ESCAPES: Escapes = new Map([
  ...Array.from({ length: 128 }, (_, b) => String.fromCharCode(b))
    .map((c) => [c, JSON.stringify(c).slice(1, -1)] as [string, string])
    .filter(([c, written]) => written !== c),
  ['\x7f', '\\u007f'],
]);

/** A quoted kv key or value: `"` and `\` get a backslash. */
export const KV_QUOTED_ESCAPES: Escapes = new Map([['"', '\\"'], ['\\', '\\\\']]);

/** A JSON string (quotes included) by the table: JSON.stringify's escapes, and DEL never raw. */
export function jsonString(text: string): string {
  return `"${escapeText(text, JSON_ESCAPES)}"`;
}

const kvTables = new Map<string, Escapes>();

/**
 * The default kv body (SYSLOG_KV_QUOTE=escape), keys and values: a backslash before `\`, `=`, `"`,
 * `'` and each character of the separator (a tab as `\t`), so no value can end its pair or open a
 * quote; CR, LF, TAB as `\r`, `\n`, `\t`; other controls and DEL as `\xHH`. Undone left to right:
 * `\r` `\n` `\t` `\xHH`, else `\c` is `c`.
 */
export function kvEscapesFor(separator: string): Escapes {
  let table = kvTables.get(separator);
  if (!table) {
    const named: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\t': '\\t' };
    const rules = new Map([...'\\="\'', ...separator].map((c) => [c, named[c] ?? `\\${c}`]));
    for (const c of CONTROLS) if (!rules.has(c)) rules.set(c, named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    kvTables.set(separator, (table = rules));
  }
  return table;
}

/** An RFC 5424 PARAM-VALUE: `"`, `\` and `]` get a backslash (RFC 5424 section 6.3.3); controls as pictures. */
export const SD_VALUE_ESCAPES: Escapes = controlPictures([['"', '\\"'], ['\\', '\\\\'], [']', '\\]']]);

/** A CEF extension value (CEF rev. 25): `\` and `=` get a backslash, CR and LF are written `\r`, `\n`; other controls as pictures. */
export const CEF_VALUE_ESCAPES: Escapes = controlPictures([['\\', '\\\\'], ['=', '\\='], ['\r', '\\r'], ['\n', '\\n']]);

/** A CEF/LEEF header field: `\` and `|` get a backslash (line breaks become spaces: cefHeader); other controls as pictures. */
export const CEF_HEADER_ESCAPES: Escapes = controlPictures([['\\', '\\\\'], ['|', '\\|']], '\r\n');

/**
 * A LEEF attribute value: `\`, CR, LF as in CEF, and the delimiter with a backslash (a tab as
 * `\t`); other controls as pictures. Nothing else: QRadar splits on the delimiter, then at the first `=`.
 */
export function leefValueEscapes(delimiter: string): Escapes {
  return controlPictures([['\\', '\\\\'], ['\r', '\\r'], ['\n', '\\n'], [delimiter, delimiter === '\t' ? '\\t' : `\\${delimiter}`]]);
}

const patterns = new WeakMap<Escapes, RegExp>();

function patternOf(escapes: Escapes): RegExp {
  let pattern = patterns.get(escapes);
  if (!pattern) {
    const chars = [...escapes.keys()].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    patterns.set(escapes, (pattern = new RegExp(`[${chars}]`, 'g')));
  }
  return pattern;
}

/** `text` with each character the table names replaced, in one pass. */
export function escapeText(text: string, escapes: Escapes): string {
  const pattern = patternOf(escapes);
  pattern.lastIndex = 0;
  if (!pattern.test(text)) return text; // most values need nothing
  return text.replace(pattern, (c) => escapes.get(c)!);
}

/**
 * The table as the kernel reads it (values.h): for each byte 0-127 its replacement's length and
 * bytes, 0 for a plain copy, 0xff when the record goes to the reference (`handBack`: a rule the
 * table cannot say, such as CEF's CR LF as one space).
 */
export function kernelEscapeTable(escapes: Escapes, handBack = ''): Buffer {
  const parts: Buffer[] = [];
  for (let b = 0; b < 128; b++) {
    const c = String.fromCharCode(b);
    const written = escapes.get(c);
    if (handBack.includes(c)) parts.push(Buffer.from([0xff]));
    else if (written === undefined) parts.push(Buffer.from([0]));
    else {
      const bytes = Buffer.from(written, 'utf8');
      if (bytes.length > 7) throw new Error(`kernel: the escape of byte ${b} is longer than 7 bytes`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  return Buffer.concat(parts);
}

/** Whether every character the table escapes is ASCII, as the kernel's byte tables need. */
export function isAsciiTable(escapes: Escapes): boolean {
  return [...escapes.keys()].every((c) => c.length === 1 && c.charCodeAt(0) < 0x80);
}
