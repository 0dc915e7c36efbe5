/**
 * Splunk HEC events: the byte-level formatter (FastFormatter's JSON body inside the HEC envelope)
 * writes exactly what the string reference writes, on hostile content and for every setting that
 * shapes an event (renames, filters, record ids, host, source, index).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, type Env } from '../src/config';
import { decodeGroupViews } from '../src/decode/log-group';
import { HecEventFormatter, ReferenceHecEventFormatter } from '../src/format/hec-event';
import { encodeLogGroup, encodeLogGroupList } from './support/log-group-writer';

const bad = (...b: number[]) => Buffer.from(b);
const views = decodeGroupViews(
  encodeLogGroupList([
    encodeLogGroup({
      topic: bad(0x74, 0xff), source: '10.1.2.3', tags: [['__hostname__', 'h1'], [bad(0xc3), 'v"\\'], ['__receive_time__', '1']],
      logs: [
        { time: 1737669036, timeNs: 123456789, contents: [['a', '1'], ['b', 'x y'], ['ctl', '\u0000\b\n\u001f'], ['q', 'say "hi" \\o/'], ['e', '']] },
        { time: 0, contents: [[bad(0x6b, 0xff), bad(0x61, 0xc3, 0x28)], ['中文键', '值 😀'], ['dup', '1'], ['dup', '2'], ['dup_2', '3']] },
        { time: 4294967295, timeNs: 4_000_000_000, contents: [] },
      ],
    }),
    encodeLogGroup({ logs: [{ time: 5, contents: [['x', 'y']] }] }), // no source: host left out
  ]),
);

const base: Env = { OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: 'https://127.0.0.1:8088', SPLUNK_HEC_TOKEN: 't' };
const variants: Env[] = [
  {},
  { SPLUNK_HEC_INDEX: 'waf', SPLUNK_HEC_SOURCE: 'src"x', SPLUNK_HEC_SOURCETYPE: 'alicloud:waf' },
  { SYSLOG_HOSTNAME: 'fixed', SYSLOG_FIELD_MAP: 'a:dup,b:__topic__', SYSLOG_EXCLUDE_FIELDS: '__tag__:__receive_time__,e' },
  { SYSLOG_INCLUDE_FIELDS: 'nothing-matches' },
];

test('HEC events: the byte-level formatter writes the reference bytes for every setting and record', () => {
  let compared = 0;
  for (const v of variants) {
    const config = loadConfig({ ...base, ...v });
    const fast = new HecEventFormatter(config, { project: 'p', logstore: 'ls' });
    const reference = new ReferenceHecEventFormatter(config, { project: 'p', logstore: 'ls' });
    for (const g of views) {
      for (const [i, log] of g.logs.entries()) {
        for (const id of [undefined, `ls:0:${i}:7`]) {
          const a = fast.format(g, log, id).bytes.toString();
          const b = reference.format(g, log, id).bytes.toString();
          assert.equal(a, b, JSON.stringify(v));
          assert.doesNotThrow(() => JSON.parse(a));
          compared++;
        }
      }
    }
  }
  assert.equal(compared, variants.length * 4 * 2);
});
