/**
 * Splunk HEC events from the reference engine: valid JSON that carries every field back, on
 * hostile content and for every setting that shapes an event (renames, filters, record ids, host,
 * source, index). test/kernel-engine.test.ts checks the kernel writes the same bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Env } from '../src/settings';
import { flatConfig as loadConfig } from './support/settings';
import { decodeGroupViews, materializeGroupMeta, materializeLog } from '../src/decode/log-group';
import { recordFields, selectFields } from '../src/format/fields';
import { referenceFormatter } from '../src/format/reference-engine';
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

test('HEC events are valid JSON that give back every field, in the record\'s order, for every setting', () => {
  let compared = 0;
  for (const v of variants) {
    const config = loadConfig({ ...base, ...v });
    const reference = referenceFormatter(config, { project: 'p', logstore: 'ls' });
    for (const g of views) {
      const meta = materializeGroupMeta(g);
      for (const [i, log] of g.logs.entries()) {
        for (const id of [undefined, `ls:0:${i}:7`]) {
          const event = JSON.parse(reference.format(g, log, id).bytes.toString()) as { time: number; host?: string; source: string; event: Record<string, string> };
          assert.equal(event.time, log.time + Math.floor(Math.min(log.timeNs, 999_999_999) / 1e6) / 1000);
          assert.equal(event.host, config.hostname ?? (meta.source || undefined));
          const fields = selectFields([...recordFields(meta, materializeLog(g, log)), ...(id ? [['__record_id__', id] as [string, string]] : [])], config.fields);
          // Values byte for byte (invalid UTF-8 read as U+FFFD), a repeated key numbered, nothing reordered.
          assert.deepEqual(Object.values(event.event).sort(), fields.map(([, value]) => value).sort(), JSON.stringify(v));
          compared++;
        }
      }
    }
  }
  assert.equal(compared, variants.length * 4 * 2);
});

test('JSON bodies keep the record\'s order even for integer-like keys (an object would move them first)', () => {
  const config = loadConfig({ ...base });
  const g = decodeGroupViews(encodeLogGroupList([encodeLogGroup({ logs: [{ time: 1, contents: [['b', 'x'], ['10', 'y'], ['2', 'z']] }] })]))[0]!;
  const text = referenceFormatter(config, { project: 'p', logstore: 'ls' }).format(g, g.logs[0]!).bytes.toString();
  assert.match(text, /"event":\{"b":"x","10":"y","2":"z"\}\}$/);
});
