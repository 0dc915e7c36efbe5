/**
 * The fast byte-level formatter must produce exactly the bytes of the reference (string)
 * formatter, for every setting it handles, on hostile content: invalid UTF-8 in keys, values,
 * topic, source and tags; control characters; quotes and backslashes; separators inside values;
 * repeated and renamed keys; long values (native copy path); truncation at every limit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, type Env } from '../src/config';
import { decodeGroupViews } from '../src/decode/log-group';
import { createFormatter } from '../src/format';
import { FastFormatter } from '../src/format/fast-formatter';
import { encodeLogGroup, encodeLogGroupList, type Bytes } from './support/log-group-writer';

const bad = (...b: number[]) => Buffer.from(b);
const long = 'Ωx"\\'.repeat(120) + '😀'.repeat(50);
const contents: Array<Array<[Bytes, Bytes]>> = [
  [['a', '1'], ['b', 'x y'], ['c', 'p||q'], ['d', 'say "hi" \\o/'], ['e', ''], ['k=1', 'v'], ['ctl', '\u0000\u0001\b\f\n\r\t\u001f\u007f']],
  [[bad(0x6b, 0xff), bad(0x61, 0xc3, 0x28, 0xe2, 0x82)], ['ok', bad(0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80)]],
  [['dup', '1'], ['dup', '2'], ['dup_2', '3'], ['dup', '4'], ['ip', '10.0.0.1'], ['src', 'collides with rename']],
  [['long', long], ['longbad', Buffer.concat([Buffer.from(long), bad(0xc0, 0xaf), Buffer.from(long)])], ['sp', '\u00a0nbsp\u3000ideo']],
  [['final_action', 'block'], ['event', JSON.stringify({ eventRW: 'Write', errorCode: 'X' })], ['中文键', '值 😀'], ['sep', ' , ']],
  [],
];
const group = encodeLogGroup({
  topic: bad(0x74, 0xff), source: '10.1.2.3', tags: [['__hostname__', 'h1'], [bad(0xc3), 'v"\\'], ['__receive_time__', '1']],
  logs: contents.map((c, i) => ({ time: 1737669036 + i * 40000, timeNs: i * 123456789, contents: c })),
});
const group2 = encodeLogGroup({ logs: [{ time: 5, contents: [['x', 'y']] }] });
const views = decodeGroupViews(encodeLogGroupList([group, group2]));

const variants: Env[] = [
  {},
  { SYSLOG_KV_QUOTE: 'auto' },
  { SYSLOG_KV_QUOTE: 'always', SYSLOG_KV_SEPARATOR: ' ' },
  { SYSLOG_KV_QUOTE: 'auto', SYSLOG_KV_SEPARATOR: ',' },
  { SYSLOG_KV_SEPARATOR: '¦' },
  { SYSLOG_MESSAGE_FORMAT: 'json' },
  { SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_FIELD_MAP: 'ip:src,a:dup', SYSLOG_EXCLUDE_FIELDS: '__tag__:__receive_time__,e' },
  { SYSLOG_INCLUDE_FIELDS: 'a*,d*,__*', SYSLOG_KV_QUOTE: 'auto' },
  { SYSLOG_FORMAT: 'rfc3164', SYSLOG_TIMEZONE: 'Asia/Shanghai', SYSLOG_APP_NAME: 'waf' },
  { SYSLOG_BOM: 'on', SYSLOG_PROCID: '42', SYSLOG_MSGID: 'M', SYSLOG_HOSTNAME: 'fixed' },
  { SYSLOG_SEVERITY_PRESET: 'actiontrail', SYSLOG_SEVERITY_FIELD: 'final_action', SYSLOG_SEVERITY_MAP: 'block:crit', SYSLOG_FACILITY_FIELD: 'ok', SYSLOG_FACILITY_MAP: '*:local2' },
  { SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_INCLUDE_FIELDS: 'nothing-matches' },
  { SYSLOG_INCLUDE_FIELDS: 'nothing-matches' },
  { SYSLOG_MESSAGE_FORMAT: 'cef' },
  { SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_EVENT_ID_FIELD: 'final_action', SYSLOG_EVENT_NAME_FIELD: 'event.eventRW', SYSLOG_SEVERITY_PRESET: 'waf', SYSLOG_EVENT_VENDOR: 'A|B\\C' },
  { SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_FIELD_MAP: 'ip:src,a:dup,__source__:dvc', SYSLOG_EXCLUDE_FIELDS: 'e', SYSLOG_FORMAT: 'rfc3164' },
  { SYSLOG_MESSAGE_FORMAT: 'leef' },
  { SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: '^', SYSLOG_EVENT_ID_FIELD: 'event.errorCode', SYSLOG_BOM: 'on' },
  { SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: ',', SYSLOG_INCLUDE_FIELDS: 'nothing-matches' },
  { SYSLOG_STRUCTURED_DATA: 'on' },
  { SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_MESSAGE_FORMAT: 'none' }, // over the limit: SD dropped, fields as JSON in the body
  { SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_SD_ID: 'waf@32473', SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_FIELD_MAP: 'a:dup', SYSLOG_BOM: 'on' },
  { SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_INCLUDE_FIELDS: 'nothing-matches', SYSLOG_MESSAGE_FORMAT: 'json' },
];
const limits = ['480', '600', '700', '1000', '2000'];

test('fast and reference formatters give identical bytes for every setting, record and size limit', () => {
  let compared = 0;
  for (const v of variants) {
    for (const limit of [undefined, ...limits]) {
      const env: Env = { SYSLOG_HOST: 'h', ...v, ...(limit ? { SYSLOG_MAX_MESSAGE_BYTES: limit } : {}) };
      const config = loadConfig(env);
      assert.ok(FastFormatter.supports(config), JSON.stringify(v));
      const fast = createFormatter(config, { project: 'p', logstore: 'ls' });
      const reference = createFormatter(config, { project: 'p', logstore: 'ls' }, { reference: true });
      for (const g of views) {
        for (const [i, log] of g.logs.entries()) {
          for (const id of [undefined, `ls:0:${i}:7`]) {
            const a = fast.format(g, log, id);
            const aBytes = Buffer.from(a.bytes); // the fast formatter reuses its buffer
            const b = reference.format(g, log, id);
            assert.equal(aBytes.toString('hex'), b.bytes.toString('hex'), `${JSON.stringify(env)} log ${i}\nfast: ${aBytes}\nref:  ${b.bytes}`);
            assert.equal(a.truncated, b.truncated);
            compared++;
          }
        }
      }
    }
  }
  assert.ok(compared > 500);
});

test('the fast path takes every body format and STRUCTURED-DATA, except LEEF delimiters it cannot escape in one pass', () => {
  assert.equal(FastFormatter.supports(loadConfig({ SYSLOG_HOST: 'h' })), true);
  assert.equal(FastFormatter.supports(loadConfig({ SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'cef' })), true);
  assert.equal(FastFormatter.supports(loadConfig({ SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'leef' })), true);
  // LEEF delimiters whose escaping is not one pass (`\`, `r`, `n`, non-ASCII) keep the reference path.
  for (const d of ['r', 'n', '\\', '¦']) assert.equal(FastFormatter.supports(loadConfig({ SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: d })), false, d);
  assert.equal(FastFormatter.supports(loadConfig({ SYSLOG_HOST: 'h', SYSLOG_STRUCTURED_DATA: 'on' })), true);
});
