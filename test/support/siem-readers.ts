/**
 * Readers of what a SIEM receives, written from the formats' documentation (and the README's kv
 * rule), independently of src/format: the tests hold the product's output against them.
 */
import { kvUnescape } from './dataset';

/**
 * The default kv body: pairs split at each separator not preceded by an escaping backslash, each
 * pair at its first unescaped `=`, both sides unescaped by the README rule.
 */
export function readKv(text: string, separator = '||'): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let start = 0;
  let eq = -1;
  for (let i = 0; i <= text.length; i++) {
    if (i < text.length && text[i] === '\\') {
      i++;
      continue;
    }
    if (i === text.length || text.startsWith(separator, i)) {
      const pair = text.slice(start, i);
      const cut = eq < 0 ? pair.length : eq - start;
      pairs.push([kvUnescape(pair.slice(0, cut)), kvUnescape(pair.slice(cut + 1))]);
      start = i + separator.length;
      i = start - 1;
      eq = -1;
    } else if (text[i] === '=' && eq < 0) eq = i;
  }
  return pairs;
}

/**
 * LEEF 2.0 as IBM documents it: `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|` then
 * key=value attributes separated by the delimiter; a backslash escapes the delimiter (and itself),
 * `\t`, `\r`, `\n` stand for their characters. Written here, independently of src/format.
 */
export function readLeef(text: string): { header: string[]; attributes: Record<string, string> } {
  const header: string[] = [];
  let at = 0;
  for (let field = ''; header.length < 6; at++) {
    const c = text[at]!;
    if (c === '\\') field += text[++at];
    else if (c === '|') (header.push(field), (field = ''));
    else field += c;
  }
  const delimiter = header[5] === 'x09' || header[5] === '' ? '\t' : header[5]!.startsWith('x') ? String.fromCharCode(parseInt(header[5]!.slice(1), 16)) : header[5]!;
  const attributes: Record<string, string> = {};
  let pair = '';
  const take = () => {
    const eq = pair.indexOf('=');
    if (pair !== '') attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
    pair = '';
  };
  for (; at < text.length; at++) {
    const c = text[at]!;
    if (c === '\\') {
      const n = text[++at]!;
      pair += n === 't' ? '\t' : n === 'r' ? '\r' : n === 'n' ? '\n' : n;
    } else if (c === delimiter) take();
    else pair += c;
  }
  take();
  return { header, attributes };
}

/**
 * CEF as ArcSight's standard documents it: `CEF:Version|Device Vendor|Device Product|Device
 * Version|Signature ID|Name|Severity|Extension`; in the header `\|` and `\\` are escapes; the
 * extension is `key=value` pairs separated by spaces, a value running up to the space before the
 * next unescaped `key=`, with `\=`, `\\`, `\n` and `\r` as escapes. Written here, independently of
 * src/format.
 */
export function readCef(text: string): { header: string[]; extensions: Record<string, string> } {
  const start = text.indexOf('CEF:');
  if (start < 0) throw new Error(`not CEF: ${text.slice(0, 80)}`);
  const header: string[] = [];
  let at = start + 4;
  for (let field = ''; header.length < 7; at++) {
    const c = text[at];
    if (c === undefined) throw new Error('a CEF header of fewer than 8 fields');
    if (c === '\\' && (text[at + 1] === '|' || text[at + 1] === '\\')) field += text[++at];
    else if (c === '|') (header.push(field), (field = ''));
    else field += c;
  }
  const extension = text.slice(at);
  // Where each key starts: an unescaped `key=` at the start or after a space.
  const keys = [...extension.matchAll(/(?:^| )([A-Za-z0-9_.]+)=/g)].filter((m) => {
    let slashes = 0;
    for (let i = m.index! + m[0].length - 2; i >= 0 && extension[i] === '\\'; i--) slashes++;
    return slashes % 2 === 0;
  });
  const extensions: Record<string, string> = {};
  keys.forEach((m, i) => {
    const valueStart = m.index! + m[0].length;
    const valueEnd = i + 1 < keys.length ? keys[i + 1]!.index! : extension.length;
    const raw = extension.slice(valueStart, valueEnd);
    extensions[m[1]!] = raw.replace(/\\([=\\nr])/g, (_, e: string) => (e === 'n' ? '\n' : e === 'r' ? '\r' : e));
  });
  return { header, extensions };
}
