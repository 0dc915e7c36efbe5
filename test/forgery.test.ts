/**
 * Attacker text inside a record (a WAF log's URI, User-Agent, headers) cannot forge a field, a
 * message or a header at the SIEM, in any body format, at default settings. A hostile corpus goes
 * through the built function, and parsers written by others read it back: syslog-ng's kv-parser
 * (kv, the default), JSON.parse over what syslog-ng received (JSON), rsyslog's liblognorm (CEF) and
 * syslog-ng's csv-parser + kv-parser (LEEF). Each record must come back with exactly its own keys
 * and values, once, under its own header.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SlsEmulator } from './sls-emulator/server';
import { controlPictures, kvUnescape } from './support/dataset';
import { HOSTILE } from './support/hostile';
import { readLeef } from './support/siem-readers';
import { invokeFunction, startEmulator } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';
import { SyslogNg } from './support/syslog-ng';

type Pair = [string, string];

const PROJECT = 'forge-proj';
const LOGSTORE = 'waf-logs';
const TOPIC = 'waf||final_action=pass';
const SOURCE = '10.0.0.1\n<13>1 forged';

/** Record i: its hostile value in `request_uri`, the next one in `user_agent`, and the WAF's verdict. */
const records = HOSTILE.map((v, i): Pair[] => [
  ['id', `h-${i}`], ['request_uri', v], ['user_agent', HOSTILE[(i + 1) % HOSTILE.length]!], ['final_action', 'block'],
]);
/** What every record carries besides its own fields (SLS adds the receive time tag). */
const groupFields = (): Pair[] => [['__topic__', TOPIC], ['__source__', SOURCE], ['__tag__:zone', 'z|=\n1'], ['__tag__:__receive_time__', '1737669100']];

/** Records fast-check makes (seeded): any text in values, for syslog-ng's kv-parser to read back. */
const GENERATED_STORE = 'generated';
const generated: Pair[][] = fc.sample(
  fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/), fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 50 }).map((v) => Buffer.from(v).toString()))), { minLength: 1, maxLength: 6, selector: ([k]) => k }),
  { numRuns: 200, seed: 19 },
).map((pairs, i): Pair[] => [['gid', `g-${i}`], ...pairs.filter(([k]) => k !== 'gid')]);

let emulator: SlsEmulator;
let sng: SyslogNg;
let rsyslog: Rsyslog;

before(async () => {
  [sng, rsyslog] = await Promise.all([new SyslogNg().start(), new Rsyslog().start()]);
  emulator = await startEmulator();
  emulator.createLogstore(PROJECT, LOGSTORE, 1);
  emulator.appendGroup(PROJECT, LOGSTORE, 0, encodeLogGroup({
    topic: TOPIC, source: SOURCE, tags: [['zone', 'z|=\n1']],
    logs: records.map((contents, i) => ({ time: 1737669036 + i, contents })),
  }), 1737669100);
  emulator.createLogstore(PROJECT, GENERATED_STORE, 1);
  emulator.appendGroup(PROJECT, GENERATED_STORE, 0, encodeLogGroup({ logs: generated.map((contents, i) => ({ time: 1737669036 + i, contents })) }), 1737669100);
});
after(async () => {
  await Promise.all([sng?.stop(), rsyslog?.stop(), emulator?.stop()]);
});

async function ship(env: Record<string, string>, logstore = LOGSTORE, count = records.length): Promise<void> {
  const out = await invokeFunction({ SYSLOG_HOST: '127.0.0.1', ...env }, {
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: logstore, shardId: 0,
      beginCursor: emulator.cursor(PROJECT, logstore, 0, 'begin'), endCursor: emulator.cursor(PROJECT, logstore, 0, 'end'),
    },
  });
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.records, count);
}

/** The record a parsed message claims to be, which must exist; each may be claimed once. */
function claim(seen: Set<string>, id: unknown): Pair[] {
  const i = /^h-(\d+)$/.exec(String(id))?.[1];
  assert.ok(i !== undefined && records[Number(i)], `a message claims an unknown record: ${String(id)}`);
  assert.ok(!seen.has(String(id)), `${String(id)} arrived twice`);
  seen.add(String(id));
  return [...records[Number(i)]!, ...groupFields()];
}

describe('a hostile corpus read back by parsers written by others', () => {
  test('kv (the default): syslog-ng kv-parser splits each message into exactly the record\'s keys; each value, unescaped by the README rule, is the record\'s', async () => {
    await ship({ SYSLOG_PORT: String(sng.ports.kv) });
    const got = await sng.waitForCount('kv', records.length);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sng.messages('kv').length, records.length, 'no forged message');
    const seen = new Set<string>();
    for (const m of got) {
      const kv = m._kv as Record<string, string>;
      const fields = claim(seen, kv.id);
      // syslog-ng's keys are [A-Za-z0-9_.-]: a tag `__tag__:zone` arrives as `zone`.
      const expected = Object.fromEntries(fields.map(([k, v]) => [k.replace(/^.*[^A-Za-z0-9_.-]/, ''), v]));
      assert.deepEqual(Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, kvUnescape(v)])), expected, `record ${kv.id}: ${String(m.MESSAGE).slice(0, 200)}`);
      assert.equal(m.HOST, '10.0.0.1_<13>1_forged', 'HOSTNAME: printable ASCII only, spaces and controls as _');
      assert.equal(m.PROGRAM, LOGSTORE);
    }
  });

  test('kv: 200 records fast-check made, read back by syslog-ng kv-parser: exactly their keys, and values by the README rule', async () => {
    const before = sng.messages('kv').length;
    await ship({ SYSLOG_PORT: String(sng.ports.kv), SYSLOG_EXCLUDE_FIELDS: '__*' }, GENERATED_STORE, generated.length);
    const got = (await sng.waitForCount('kv', before + generated.length)).slice(before);
    const seen = new Set<string>();
    for (const m of got) {
      const kv = m._kv as Record<string, string>;
      const i = Number(/^g-(\d+)$/.exec(kv.gid ?? '')?.[1]);
      assert.ok(generated[i] && !seen.has(kv.gid!), `unknown or repeated record ${kv.gid}`);
      seen.add(kv.gid!);
      // syslog-ng trims white space around an unquoted value; the kv rule keeps spaces raw.
      const expected = Object.fromEntries(generated[i]!.map(([k, v]) => [k, v.replace(/^ +| +$/g, '')]));
      assert.deepEqual(Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, kvUnescape(v)])), expected, String(m.MESSAGE).slice(0, 300));
    }
    assert.equal(seen.size, generated.length);
  });

  test('JSON: every message is one JSON object with exactly the record\'s fields (no raw control byte, DEL as \\u007f)', async () => {
    const before = sng.messages('plain').length;
    await ship({ SYSLOG_PORT: String(sng.ports.plain), SYSLOG_MESSAGE_FORMAT: 'json' });
    const got = (await sng.waitForCount('plain', before + records.length)).slice(before);
    const seen = new Set<string>();
    for (const m of got) {
      const text = String(m.MESSAGE);
      assert.doesNotMatch(text, /[\x00-\x1f\x7f]/, 'no raw control byte');
      const parsed = JSON.parse(text) as Record<string, string>;
      assert.deepEqual(parsed, Object.fromEntries(claim(seen, parsed.id)));
    }
    assert.equal(seen.size, records.length);
  });

  test('CEF: liblognorm reads exactly the record\'s extensions; controls other than CR/LF as control pictures', async () => {
    rsyslog.clear();
    await ship({ SYSLOG_PORT: String(rsyslog.ports.tcp), SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_EVENT_PRODUCT: 'WAF|x=1' });
    const got = await rsyslog.waitForCount('tcp', records.length);
    const seen = new Set<string>();
    for (const m of got) {
      const cef = (JSON.parse(m.parsed) as { cef?: { DeviceProduct: string; Extensions: Record<string, string> } }).cef;
      assert.ok(cef, `not parsed as CEF: ${m.msg.slice(0, 120)}`);
      assert.equal(cef.DeviceProduct, 'WAF|x=1');
      const ext = { ...cef.Extensions };
      // liblognorm 2.0.6 drops the first character of the first extension key ("rt" arrives as "t").
      delete ext.rt;
      delete ext.t;
      const fields = claim(seen, ext.id);
      const expected = Object.fromEntries(fields.map(([k, v]) => [k === '__source__' ? 'dvc' : k.replace(/[^A-Za-z0-9]/g, '_'), controlPictures(v, '\r\n')]));
      assert.deepEqual(ext, expected);
    }
  });

  test('LEEF: read by QRadar\'s documented rules (attributes split on the unescaped delimiter, then at the first "="), exactly the record\'s attributes', async () => {
    const before = sng.messages('plain').length;
    await ship({ SYSLOG_PORT: String(sng.ports.plain), SYSLOG_MESSAGE_FORMAT: 'leef' });
    const got = (await sng.waitForCount('plain', before + records.length)).slice(before);
    const seen = new Set<string>();
    for (const m of got) {
      const { header, attributes } = readLeef(String(m.MESSAGE));
      assert.deepEqual(header.slice(0, 3), ['LEEF:2.0', 'Alibaba Cloud', 'Log Service']);
      const fields = claim(seen, attributes.id);
      delete attributes.devTime;
      delete attributes.devTimeFormat;
      delete attributes.sev;
      assert.deepEqual(attributes, Object.fromEntries(fields.map(([k, v]) => [k.replace(/[^A-Za-z0-9_]/g, '_'), controlPictures(v, '\t\r\n')])));
    }
    assert.equal(seen.size, records.length);
  });
});
