/**
 * The bad-input corpus (test/corpus/): malformed events and settings must each give a clear error
 * naming what to fix; hostile log content (invalid UTF-8 everywhere, a gigantic field, thousands of
 * fields, empty groups, unknown protobuf fields, extreme times) must be shipped intact or, where a
 * size limit applies, cut and marked - never crash, never vanish.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDotenv } from '../scripts/lib/s-yaml';
import { loadConfig } from '../src/settings';
import { ConfigError, EventError } from '../src/errors';
import { parseTriggerEvent } from '../src/event';
import { TRUNCATION_MARK } from '../src/format/syslog-message';
import { SlsEmulator } from './sls-emulator/server';
import { invokeFunction, startEmulator } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';

const corpus = join(__dirname, 'corpus');

describe('malformed events', () => {
  const expected = JSON.parse(readFileSync(join(corpus, 'events/expected.json'), 'utf8')) as Record<string, string>;
  const files = readdirSync(join(corpus, 'events')).filter((f) => f !== 'expected.json');
  test('every corpus file has an expectation', () => assert.deepEqual(files.sort(), Object.keys(expected).sort()));
  for (const file of files) {
    test(file, () => {
      const raw = readFileSync(join(corpus, 'events', file));
      assert.throws(() => parseTriggerEvent(raw), (err: Error) => {
        assert.ok(err instanceof EventError, `${err.name}: ${err.message}`);
        assert.match(err.message, new RegExp(expected[file]!, 's'));
        return true;
      });
    });
  }
});

describe('malformed settings', () => {
  for (const file of readdirSync(join(corpus, 'settings'))) {
    test(file, () => {
      const text = readFileSync(join(corpus, 'settings', file), 'utf8');
      const expect = /^# expect: (.*)$/m.exec(text)![1]!;
      assert.throws(() => loadConfig(parseDotenv(text)), (err: Error) => {
        assert.ok(err instanceof ConfigError, `${err.name}: ${err.message}`);
        assert.match(err.message, new RegExp(expect));
        assert.match(err.message, /Fix the function's environment variables/);
        return true;
      });
    });
  }
});

describe('hostile log content, shipped through the built function to rsyslog', () => {
  let rsyslog: Rsyslog;
  let emulator: SlsEmulator;
  const bad = (...bytes: number[]) => Buffer.from(bytes);
  const giant = 'G'.repeat(3 * 1024 * 1024);
  const many: Array<[string, string]> = Array.from({ length: 5000 }, (_, i) => [`f${i}`, `v${i}`]);

  before(async () => {
    rsyslog = await new Rsyslog().start();
    emulator = await startEmulator();
    emulator.createLogstore('proj', 'logs', 1);
    const add = (g: Parameters<typeof encodeLogGroup>[0]) => emulator.appendGroup('proj', 'logs', 0, encodeLogGroup(g), 1);
    add({ logs: [], topic: 'empty-group' });
    add({
      topic: bad(0x74, 0xff), source: bad(0xc0, 0x80), tags: [[bad(0xed, 0xa0, 0x80), bad(0xf8)]],
      logs: [{ time: 1, contents: [['id', 'invalid-utf8'], [bad(0x6b, 0xfe), bad(0x76, 0xe2, 0x28, 0xa1)]] }],
    });
    // 2099-12-31T23:59:59: rsyslog's RFC 5424 parser refuses years past 2099 (the uint32 maximum, 2106, is checked in format tests).
    add({ logs: [{ time: 0, contents: [['id', 'epoch-zero']] }, { time: 4102444799, timeNs: 999_999_999, contents: [['id', 'time-max']] }] });
    add({ logs: [{ time: 5, contents: [] }] });
    add({ logs: [{ time: 6, contents: [['id', 'thousands'], ...many] }] });
    add({ logs: [{ time: 7, contents: [['id', 'giant'], ['blob', giant]] }] });
    // Unknown fields a newer producer might add: MachineUUID (5) and a made-up varint field 99.
    const extra = Buffer.concat([encodeLogGroup({ machineUuid: 'm-1', logs: [{ time: 8, contents: [['id', 'unknown-fields']] }] }), Buffer.from([0x98, 0x06, 0x2a])]);
    emulator.appendGroup('proj', 'logs', 0, extra, 1);
  });
  after(async () => {
    await rsyslog?.stop();
    await emulator?.stop();
  });

  test('each record arrives, equal to what was stored (invalid bytes as U+FFFD); the giant one is cut and marked', async () => {
    const out = await invokeFunction(
      { SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), SYSLOG_MESSAGE_FORMAT: 'json' },
      { source: { endpoint: emulator.endpoint, projectName: 'proj', logstoreName: 'logs', shardId: 0, beginCursor: 'begin', endCursor: 'end' } },
    );
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.groups, 7);
    assert.equal(out.result!.records, 7);
    assert.equal(out.result!.truncated, 1);
    const got = await rsyslog.waitForCount('tcp', 7);
    const json = got.filter((m) => !m.msg.includes(TRUNCATION_MARK)).map((m) => JSON.parse(m.msg) as Record<string, string>);
    const byId = new Map(json.map((j) => [j.id ?? '(no contents)', j]));
    assert.deepEqual(byId.get('invalid-utf8'), {
      id: 'invalid-utf8', 'k\ufffd': 'v\ufffd(\ufffd', __topic__: 't\ufffd', __source__: '\ufffd\ufffd', '__tag__:\ufffd\ufffd\ufffd': '\ufffd', '__tag__:__receive_time__': '1',
    });
    assert.deepEqual(byId.get('(no contents)'), { '__tag__:__receive_time__': '1' });
    assert.equal(Object.keys(byId.get('thousands')!).length, 5002);
    assert.equal(byId.get('thousands')!.f4999, 'v4999');
    assert.deepEqual(byId.get('unknown-fields'), { id: 'unknown-fields', '__tag__:__receive_time__': '1' });
    const times = new Map(got.map((m) => [/"id":"([^"]+)"/.exec(m.msg)?.[1], m.timestamp]));
    assert.equal(times.get('epoch-zero'), '1970-01-01T00:00:00.000000Z');
    assert.equal(times.get('time-max'), '2099-12-31T23:59:59.999999Z');
    const giantMsg = got.find((m) => m.msg.includes(TRUNCATION_MARK))!;
    assert.ok(giantMsg.msg.startsWith('{"id":"giant","blob":"GGGG'));
    const tail = giantMsg.msg.slice(-80);
    assert.match(tail, /original message 3145\d{3} bytes\]$/, tail);
    assert.ok(Buffer.byteLength(giantMsg.msg) <= 128 * 1024, 'within the TCP default limit');
  });
});
