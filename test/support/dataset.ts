/**
 * Seed data for end-to-end tests: records that break naive forwarders (multi-line values, CJK
 * and emoji, separators and quotes in keys and values, empty values, a value over 64 KB, a
 * timestamp at 23:59:59.999999 UTC, invalid UTF-8), plus a bulk of WAF-like records.
 */
import type { SlsEmulator } from '../sls-emulator/server';
import type { Sdk } from './sdk';
import { encodeLogGroup } from './log-group-writer';

export type Pair = [string, string];

export interface ExpectedRecord {
  id: string;
  time: number;
  timeNs: number;
  source: string;
  /** Every field the forwarder must ship, in order. */
  fields: Pair[];
}

export const RECEIVE_TIME = 1737669100;
export const BIG_VALUE = 'A'.repeat(70_000) + '中文结尾';

interface SdkGroup {
  topic: string;
  source: string;
  tags: Array<Record<string, string>>;
  logs: Array<{ timestamp: number; timestampNsPart: number; content: Record<string, string> }>;
}

function tricky(): SdkGroup[] {
  const log = (id: string, timestamp: number, timestampNsPart: number, content: Record<string, string>) => ({
    timestamp, timestampNsPart, content: { id, ...content },
  });
  return [
    {
      topic: 'waf_access', source: '10.20.30.40', tags: [{ region: 'cn-hangzhou' }, { 'tag=with|odd]"chars': 'v "q" ]' }],
      logs: [
        log('multi-line', 1737669036, 123456789, { stack: 'Error: boom\n    at f (a.js:1)\r\n    at g (b.js:2)', after: 'x' }),
        log('cjk-emoji', 1737669036, 5000, { message: '防火墙拦截了请求 🚫🔥 テスト 한국어', 'ключ': 'значение' }),
        log('separators', 1737669037, 0, { 'k=ey|x]"': 'v=al||ue]"\\end', 'a b': 'c d', pipe: '||', eq: '=' }),
        log('empty', 1737669037, 999, { empty: '', also_empty: '' }),
        log('midnight', Date.UTC(2025, 0, 23, 23, 59, 59) / 1000, 999_999_999, { note: 'last microsecond of the day' }),
      ],
    },
    {
      topic: '', source: '192.168.1.7', tags: [],
      logs: [log('big', 1737669040, 1, { body: BIG_VALUE, tail: 'end' })],
    },
    {
      topic: '', source: '192.168.1.8', tags: [],
      // Already escaped-looking text: newline framing must not turn "\\n" back into a newline.
      logs: [log('literal-escapes', 1737669041, 0, { path: 'C:\\new\\table\\r1', regex: '^a\\nb$', both: 'x\\\ny' })],
    },
  ];
}

function bulk(groups: number, perGroup: number): SdkGroup[] {
  return Array.from({ length: groups }, (_, g) => ({
    topic: 'waf', source: `10.0.${g}.1`, tags: [{ __hostname__: `waf-node-${g}` }],
    logs: Array.from({ length: perGroup }, (_, i) => ({
      timestamp: 1737669100 + g, timestampNsPart: i * 1000,
      content: {
        id: `bulk-${g}-${i}`, host: 'shop.example.com', request_uri: `/api/items/${i}?q=${g}`, real_client_ip: `203.0.113.${i % 255}`,
        status: String(200 + (i % 5)), final_action: i % 7 === 0 ? 'block' : 'pass', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
        request_time_msec: String(i % 300), final_rule_id: String(100000 + i),
      },
    })),
  }));
}

function expectations(groups: SdkGroup[]): ExpectedRecord[] {
  return groups.flatMap((g) =>
    g.logs.map((l) => ({
      id: l.content.id!,
      time: l.timestamp,
      timeNs: l.timestampNsPart,
      source: g.source,
      fields: [
        ...Object.entries(l.content),
        ...(g.topic ? ([['__topic__', g.topic]] as Pair[]) : []),
        ['__source__', g.source] as Pair,
        ...g.tags.flatMap((t) => Object.entries(t).map(([k, v]) => [`__tag__:${k}`, v] as Pair)),
        ['__tag__:__receive_time__', String(RECEIVE_TIME)] as Pair,
      ],
    })),
  );
}

/** Seeds shard 0 through the official SDK (and one raw group with invalid UTF-8). */
export async function seedShard(sdk: Sdk, emulator: SlsEmulator, project: string, logstore: string, opts: { bulkGroups?: number; bulkPerGroup?: number } = {}): Promise<ExpectedRecord[]> {
  const groups = [...tricky(), ...bulk(opts.bulkGroups ?? 3, opts.bulkPerGroup ?? 400)];
  for (const g of groups) {
    await sdk.client.postLogStoreLogs(project, logstore, { logs: g.logs, topic: g.topic || undefined, source: g.source, tags: g.tags }, sdk.options);
  }
  const expected = expectations(groups);
  // Bytes the SDK cannot send: invalid UTF-8 in a key and a value.
  emulator.appendGroup(project, logstore, 0, encodeLogGroup({
    source: '10.9.9.9',
    logs: [{ time: 1737669050, timeNs: 0, contents: [['id', 'invalid-utf8'], [Buffer.from([0x6b, 0xff]), Buffer.from([0x61, 0xc3, 0x28, 0xe2, 0x82])]] }],
  }));
  expected.push({
    id: 'invalid-utf8', time: 1737669050, timeNs: 0, source: '10.9.9.9',
    fields: [['id', 'invalid-utf8'], ['k\ufffd', 'a\ufffd(\ufffd'], ['__source__', '10.9.9.9'], ['__tag__:__receive_time__', String(RECEIVE_TIME)]],
  });
  return expected;
}

/**
 * The default kv body, written from the README's rule (not from src/format): a backslash before
 * `\`, `=`, `"`, `'` and each separator character; CR, LF, TAB as `\r`, `\n`, `\t`; other
 * controls and DEL as `\xHH`.
 */
export function kvEscape(text: string, separator = '||'): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (c === '\r') out += '\\r';
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\\' || c === '=' || c === '"' || c === "'" || separator.includes(c)) out += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

/**
 * CEF, LEEF and STRUCTURED-DATA, from the README's rule: controls their specs cannot escape
 * (all but those in `escaped`) are written as Unicode control pictures, U+2400 + code, DEL U+2421.
 */
export function controlPictures(text: string, escaped = ''): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => (escaped.includes(c) ? c : String.fromCharCode(c === '\x7f' ? 0x2421 : 0x2400 + c.charCodeAt(0))));
}

/** Undoes kvEscape, left to right. */
export function kvUnescape(text: string): string {
  return text.replace(/\\(x[0-9a-f]{2}|.)/gs, (_, e: string) => (e === 'r' ? '\r' : e === 'n' ? '\n' : e === 't' ? '\t' : e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e));
}

export function kvText(fields: Pair[], separator = '||'): string {
  return fields.map(([k, v]) => `${kvEscape(k, separator)}=${kvEscape(v, separator)}`).join(separator);
}

/** RFC 3339 with microseconds, computed independently of src/format. */
export function isoMicros(time: number, timeNs: number): string {
  return new Date(time * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(Math.floor(timeNs / 1000)).padStart(6, '0')}Z`);
}

/** Asserts each expected message arrived exactly once and nothing else arrived. */
export function exactlyOnce(received: string[], expected: string[]): string[] {
  const counts = new Map<string, number>();
  for (const r of received) counts.set(r, (counts.get(r) ?? 0) + 1);
  const problems: string[] = [];
  for (const e of expected) {
    const n = counts.get(e) ?? 0;
    if (n !== 1) problems.push(`${n === 0 ? 'missing' : `${n} copies of`}: ${e.slice(0, 160)}`);
    counts.delete(e);
  }
  for (const [r] of counts) problems.push(`unexpected: ${r.slice(0, 160)}`);
  return problems.slice(0, 5);
}
