/**
 * The FC instance lifecycle against real parts: the initializer opens the SIEM connection once,
 * invocations reuse it and reconnect when the receiver restarted; hand-written console test
 * events with begin/end/time cursors; one summary line per invocation.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { encodeLogGroup } from './support/log-group-writer';
import { FcInstance, startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { Rsyslog } from './support/rsyslog';

const PROJECT = 'proj';
const LOGSTORE = 'app-logs';
const GROUPS = 6;
const PER_GROUP = 50;
const RECEIVED_AT = Math.floor(Date.now() / 1000) - 3600; // group i was received at RECEIVED_AT + i*60

let rsyslog: Rsyslog;
let emulator: SlsEmulator;

before(async () => {
  rsyslog = await new Rsyslog().start();
  emulator = await startEmulator();
  emulator.createLogstore(PROJECT, LOGSTORE, 1);
  for (let g = 0; g < GROUPS; g++) {
    const logs = Array.from({ length: PER_GROUP }, (_, i) => ({ time: RECEIVED_AT + g * 60, contents: [['id', `g${g}-r${i}`], ['msg', 'hello']] as Array<[string, string]> }));
    emulator.appendGroup(PROJECT, LOGSTORE, 0, encodeLogGroup({ logs, source: '10.0.0.1' }), RECEIVED_AT + g * 60);
  }
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

function event(beginCursor: string | number, endCursor: string | number) {
  return { parameter: {}, source: { endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: LOGSTORE, shardId: 0, beginCursor, endCursor } };
}

function ids(): string[] {
  return rsyslog.messages('tcp').map((m) => /id=([^|]+)/.exec(m.msg)![1]!);
}

test('the initializer connects once; invocations reuse the connection and reconnect after a receiver restart', async () => {
  rsyslog.clear();
  const fc = new FcInstance({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp) });
  try {
    const init = await fc.init();
    assert.equal(init.error, null, init.error?.message);
    assert.match(init.stdout, /"event":"sls-syslog-forwarder.init","result":"ok"/);

    const c = (i: number) => emulator.cursor(PROJECT, LOGSTORE, 0, i);
    const first = await fc.invoke(event(c(0), c(2)));
    assert.equal(first.error, null, first.error?.message);
    assert.equal(first.result!.connection, 'reused', 'the connection opened by the initializer');
    const second = await fc.invoke(event(c(2), c(3)));
    assert.equal(second.result!.connection, 'reused');
    await rsyslog.waitForCount('tcp', 3 * PER_GROUP);

    await rsyslog.restart(); // the old connection gets a FIN while the instance idles
    const third = await fc.invoke(event(c(3), c(6)));
    assert.equal(third.error, null, third.error?.message);
    assert.equal(third.result!.connection, 'new', 'a dead connection is replaced');
    await rsyslog.waitForCount('tcp', GROUPS * PER_GROUP);
    const got = ids();
    assert.equal(new Set(got).size, GROUPS * PER_GROUP, 'every record of the three ranges arrived');
    assert.equal(got.length, GROUPS * PER_GROUP, 'and none twice');

    // Exactly one summary line per invocation, with the fields the README documents.
    for (const inv of [first, second, third]) {
      const lines = inv.stdout.trim().split('\n').filter((l) => l.includes('sls-syslog-forwarder.invocation'));
      assert.equal(lines.length, 1);
      const s = JSON.parse(lines[0]!) as Record<string, unknown>;
      for (const k of ['requestId', 'result', 'shard', 'beginCursor', 'endCursor', 'groups', 'records', 'rawBytes', 'sentBytes', 'durationMs', 'slsRetries', 'connection']) {
        assert.ok(k in s, `summary has ${k}`);
      }
      const all = inv.stdout + inv.stderr + JSON.stringify(inv.result);
      assert.ok(!all.includes(TEST_CREDENTIALS.accessKeySecret) && !all.includes(TEST_CREDENTIALS.securityToken));
    }
  } finally {
    await fc.stop();
  }
});

test('a hand-written test event may use begin/end, ISO-8601 and relative times as cursors', async () => {
  const fc = new FcInstance({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp) });
  try {
    await fc.init();
    rsyslog.clear();
    const all = await fc.invoke(event('begin', 'end'));
    assert.equal(all.error, null, all.error?.message);
    assert.equal(all.result!.records, GROUPS * PER_GROUP);
    assert.equal(all.result!.beginCursor, emulator.cursor(PROJECT, LOGSTORE, 0, 'begin'), 'resolved with GetCursor');

    // Groups received at or after RECEIVED_AT+120 s (group 2) up to the end.
    const iso = new Date((RECEIVED_AT + 120) * 1000).toISOString();
    const fromIso = await fc.invoke(event(iso, 'end'));
    assert.equal(fromIso.result!.groups, GROUPS - 2);

    // "-3570s": group 0 was received 60 min ago (excluded), group 1 59 min ago (included).
    const relative = await fc.invoke(event('-3570s', 'end'));
    assert.equal(relative.error, null, relative.error?.message);
    assert.equal(relative.result!.groups, GROUPS - 1);
    const getCursor = emulator.requests.filter((r) => r.api === 'GetCursor').map((r) => r.query.from);
    assert.ok(getCursor.includes('begin') && getCursor.includes('end') && getCursor.includes(String(RECEIVED_AT + 120)));
  } finally {
    await fc.stop();
  }
});

test('the SLS template sample event and a bad cursor word are answered with what to change', async () => {
  const fc = new FcInstance({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp) });
  try {
    await fc.init();
    const sample = await fc.invoke({ ...event('MTUyOTQ4MDIwOTY1NTk3ODQ2Mw==', 'MTUyOTQ4MDIwOTY1NTk3ODQ2NA=='), source: { ...event(0, 0).source, projectName: 'log-com', logstoreName: 'log-en', beginCursor: 'MTUyOTQ4MDIwOTY1NTk3ODQ2Mw==', endCursor: 'MTUyOTQ4MDIwOTY1NTk3ODQ2NA==' } });
    assert.match(sample.error!.message, /placeholders/);
    assert.match(sample.error!.message, /-15m/);
    const word = await fc.invoke(event('yesterday', 'end'));
    assert.match(word.error!.message, /source.beginCursor "yesterday" is not an SLS cursor.*"begin", "end"/);
  } finally {
    await fc.stop();
  }
});

test('an initializer that cannot reach the SIEM fails with the address to check', async () => {
  const fc = new FcInstance({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: '1' });
  try {
    const init = await fc.init();
    assert.match(init.error!.message, /tcp:\/\/127\.0\.0\.1:1.*ECONNREFUSED/);
    assert.match(init.stdout, /"event":"sls-syslog-forwarder.init","result":"error"/);
  } finally {
    await fc.stop();
  }
});
