/**
 * End to end, with real parts: the built bundle invoked as FC does, the SLS emulator seeded by
 * the official SDK, and a real rsyslog on 127.0.0.1 receiving over TCP, UDP and TLS.
 */
import assert from 'node:assert/strict';
import { readKv } from './support/siem-readers';
import { after, before, describe, test } from 'node:test';
import { TRUNCATION_MARK } from '../src/format/syslog-message';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { exactlyOnce, isoMicros, kvText, RECEIVE_TIME, seedShard, type ExpectedRecord } from './support/dataset';
import { invokeFunction, TEST_CREDENTIALS, TEST_KEYS } from './support/fc-invoke';
import { Rsyslog, freePort } from './support/rsyslog';
import { officialSdk } from './support/sdk';

const PROJECT = 'sec-logs';
const LOGSTORE = 'waf-logs';

let pki: TestPki;
let rsyslog: Rsyslog;
let emulator: SlsEmulator;
let expected: ExpectedRecord[];

function event(shard = 0, begin?: string, end?: string) {
  return {
    parameter: {},
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: LOGSTORE, shardId: shard,
      beginCursor: begin ?? emulator.cursor(PROJECT, LOGSTORE, shard, 'begin'),
      endCursor: end ?? emulator.cursor(PROJECT, LOGSTORE, shard, 'end'),
    },
    jobName: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed', taskId: 'task', cursorTime: RECEIVE_TIME,
  };
}

function env(extra: Record<string, string>): Record<string, string> {
  return { SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), ...extra };
}

function assertNoSecrets(text: string): void {
  assert.ok(!text.includes(TEST_CREDENTIALS.accessKeySecret), 'secret printed');
  assert.ok(!text.includes(TEST_CREDENTIALS.securityToken), 'token printed');
}

before(async () => {
  pki = makeTestPki();
  rsyslog = await new Rsyslog({ tls: pki }).start();
  emulator = new SlsEmulator({
    keys: TEST_KEYS,
    maxPullBytes: 64 * 1024, // several pulls per invocation
    clock: () => RECEIVE_TIME,
  });
  await emulator.start();
  const sdk = officialSdk(emulator.endpoint, TEST_CREDENTIALS);
  await sdk.client.createProject(PROJECT, { description: 'e2e' }, sdk.options);
  await sdk.client.createLogStore(PROJECT, LOGSTORE, { ttl: 7, shardCount: 2 }, sdk.options);
  expected = await seedShard(sdk, emulator, PROJECT, LOGSTORE);
});

after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

describe('ships every record exactly once with its content intact', () => {
  test('TCP, RFC 5424, key=value body, octet-counting', async () => {
    rsyslog.clear();
    const out = await invokeFunction(env({ SYSLOG_PROTOCOL: 'tcp', SYSLOG_FACILITY: 'local3', SYSLOG_SEVERITY: 'notice' }), event());
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.records, expected.length);
    assert.ok((out.result!.pulls as number) > 1, 'the byte cap made the handler loop');
    const got = await rsyslog.waitForCount('tcp', expected.length);
    await rsyslog.settle('tcp');
    assert.deepEqual(exactlyOnce(rsyslog.messages('tcp').map((m) => m.msg), expected.map((e) => kvText(e.fields))), [], `summary: ${JSON.stringify(out.result)}`);
    const byId = new Map(got.map((m) => [/^id=([^|]*)/.exec(m.msg)![1], m]));
    for (const e of expected) {
      const m = byId.get(e.id)!;
      assert.equal(m.timestamp, isoMicros(e.time, e.timeNs), `timestamp of ${e.id}`);
      assert.equal(m.pri, String(19 * 8 + 5));
      assert.equal(m.hostname, e.source);
      assert.equal(m.app, LOGSTORE);
    }
    assert.equal(byId.get('midnight')!.timestamp, '2025-01-23T23:59:59.999999Z');
    // One message; its line breaks escaped (no raw CR/LF can start a forged line at the SIEM).
    assert.match(byId.get('multi-line')!.msg, /boom\\n {4}at f \(a\.js:1\)\\r\\n/);
    assertNoSecrets(out.stdout + out.stderr);
  });

  test('TLS (CA file), RFC 5424, JSON body: fields come back equal, tail included', async () => {
    rsyslog.clear();
    const out = await invokeFunction(
      env({ SYSLOG_PROTOCOL: 'tls', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_TLS_CA_FILE: pki.caFile, SYSLOG_MESSAGE_FORMAT: 'json' }),
      event(),
    );
    assert.equal(out.error, null, out.error?.message);
    await rsyslog.waitForCount('tls', expected.length);
    const got = await rsyslog.settle('tls');
    assert.equal(got.length, expected.length);
    const byId = new Map(got.map((m) => {
      const obj = JSON.parse(m.msg) as Record<string, string>;
      return [obj.id, obj];
    }));
    for (const e of expected) assert.deepEqual(byId.get(e.id), Object.fromEntries(e.fields), `record ${e.id}`);
    // The very last record of the range arrived: the TLS close did not cut the tail.
    assert.ok(byId.has(expected[expected.length - 2]!.id));
  });

  test('UDP: every record arrives; the one over the datagram limit (2048 by default, RFC 5426) is cut at a character boundary and marked', async () => {
    rsyslog.clear();
    const out = await invokeFunction(env({ SYSLOG_PROTOCOL: 'udp', SYSLOG_PORT: String(rsyslog.ports.udp) }), event());
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.truncated, 1);
    await rsyslog.waitForCount('udp', expected.length);
    const got = await rsyslog.settle('udp');
    const big = got.find((m) => m.msg.startsWith('id=big'))!;
    assert.ok(big.msg.includes(TRUNCATION_MARK), 'marked as truncated');
    assert.ok(Buffer.byteLength(big.msg) < 2048);
    assert.ok(!big.msg.includes('\ufffd'));
    const others = expected.filter((e) => e.id !== 'big').map((e) => kvText(e.fields));
    assert.deepEqual(exactlyOnce(got.filter((m) => m !== big).map((m) => m.msg), others), [], `summary: ${JSON.stringify(out.result)}`);
  });

  test('TCP, RFC 3164, newline framing: a multi-line record is still one message', async () => {
    rsyslog.clear();
    const out = await invokeFunction(
      env({ SYSLOG_FORMAT: 'rfc3164', SYSLOG_FRAMING: 'newline', SYSLOG_HOSTNAME: 'fc-forwarder', SYSLOG_APP_NAME: 'waf', SYSLOG_KV_SEPARATOR: ' ; ' }),
      event(),
    );
    assert.equal(out.error, null, out.error?.message);
    await rsyslog.waitForCount('tcp', expected.length);
    const got = await rsyslog.settle('tcp');
    // One line per record, byte for byte: kv's own escaping keeps line breaks out of the message, so
    // the framing adds nothing, and the values read back exactly (a literal "\\n" stays two characters).
    const msgs = got.map((m) => m.msg.replace(/^ /, ''));
    assert.deepEqual(exactlyOnce(msgs, expected.map((e) => kvText(e.fields, ' ; '))), [], `summary: ${JSON.stringify(out.result)}`);
    for (const e of expected.filter((x) => ['literal-escapes', 'multi-line', 'separators'].includes(x.id))) {
      const msg = msgs.find((m) => m === kvText(e.fields, ' ; '))!;
      assert.deepEqual(readKv(msg, ' ; '), e.fields, `${e.id} decodes back to its original values`);
    }
    assert.ok(got.every((m) => m.hostname === 'fc-forwarder' && m.programname === 'waf'));
    const midnight = got.find((m) => m.msg.includes('id=midnight'))!;
    assert.equal(midnight.timestamp.slice(0, 19).replace(/^\d{4}/, ''), '-01-23T23:59:59', 'UTC time, no +2400 offset');
  });
});

describe('ranges and failures', () => {
  test('a partial range ships exactly its log groups', async () => {
    rsyslog.clear();
    const out = await invokeFunction(env({}), event(0, emulator.cursor(PROJECT, LOGSTORE, 0, 0), emulator.cursor(PROJECT, LOGSTORE, 0, 1)));
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.groups, 1);
    assert.equal(out.result!.records, 5);
    const got = await rsyslog.waitForCount('tcp', 5);
    assert.deepEqual(exactlyOnce((await rsyslog.settle('tcp')).map((m) => m.msg), expected.slice(0, 5).map((e) => kvText(e.fields))), [], `summary: ${JSON.stringify(out.result)}`);
    assert.equal(got.length, 5);
  });

  test('the summary says how far behind the shard is shipped (lagSeconds, from the trigger\'s cursorTime)', async () => {
    rsyslog.clear();
    const cursorTime = Math.floor(Date.now() / 1000) - 90;
    const out = await invokeFunction(env({}), { ...event(0, emulator.cursor(PROJECT, LOGSTORE, 0, 0), emulator.cursor(PROJECT, LOGSTORE, 0, 1)), cursorTime });
    assert.equal(out.error, null, out.error?.message);
    const lag = out.result!.lagSeconds as number;
    assert.ok(lag >= 90 && lag < 120, `lagSeconds ${lag}`);
    assert.match(out.stdout, /"event":"sls-syslog-forwarder.invocation".*"lagSeconds":\d+/, 'in the summary line too');
  });

  test('the summary names the engine: the kernel, or the reference (and why) for a setting the kernel declines', async () => {
    rsyslog.clear();
    const kernel = await invokeFunction(env({}), event());
    assert.equal(kernel.error, null, kernel.error?.message);
    assert.equal(kernel.result!.engine, 'kernel');
    await rsyslog.waitForCount('tcp', expected.length);
    rsyslog.clear();
    const reference = await invokeFunction(env({ SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: '¦' }), event());
    assert.equal(reference.error, null, reference.error?.message);
    assert.equal(reference.result!.engine, 'reference (SYSLOG_LEEF_DELIMITER "¦" (not ASCII))');
    assert.match(reference.stdout, /"engine":"reference \(SYSLOG_LEEF_DELIMITER/, 'in the summary line');
    // Slower, not different: every record still arrives, once.
    const got = await rsyslog.waitForCount('tcp', expected.length);
    assert.equal(new Set(got.map((m) => m.msg)).size, expected.length);
  });

  test('an empty range succeeds at once, without contacting SLS or the SIEM', async () => {
    const pullsBefore = emulator.requests.length;
    const closed = await freePort('tcp');
    const cursor = emulator.cursor(PROJECT, LOGSTORE, 1, 'end');
    // per-invocation: no connection opened by the initializer, so a dead SIEM would show.
    const out = await invokeFunction(env({ SYSLOG_PORT: String(closed), SYSLOG_CONNECTION: 'per-invocation' }), event(1, cursor, cursor));
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.records, 0);
    assert.equal(out.result!.connection, 'none');
    assert.equal(emulator.requests.length, pullsBefore);
  });

  test('a shard with no data in the range succeeds with zero records', async () => {
    const out = await invokeFunction(env({}), event(1));
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.records, 0);
  });

  test('throttling is retried and the range still arrives whole', async () => {
    rsyslog.clear();
    emulator.faults.push({ api: 'PullLogs', status: 403, code: 'ShardReadQuotaExceed', message: 'shard read quota exceed' });
    const out = await invokeFunction(env({}), event(0, emulator.cursor(PROJECT, LOGSTORE, 0, 0), emulator.cursor(PROJECT, LOGSTORE, 0, 2)));
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.slsRetries, 1);
    await rsyslog.waitForCount('tcp', 6);
    assert.equal((await rsyslog.settle('tcp')).length, 6);
  });

  test('an unreachable SIEM fails the invocation with what to check', async () => {
    const closed = await freePort('tcp');
    const out = await invokeFunction(env({ SYSLOG_PORT: String(closed) }), event());
    assert.ok(out.error, 'must not report success');
    assert.match(out.error.message, /ECONNREFUSED/);
    assert.match(out.error.message, /SYSLOG_HOST, SYSLOG_PORT/);
    assert.match(out.stdout, /"result":"error"/);
    assertNoSecrets(out.stdout + out.stderr + out.error.message);
  });

  test('a server certificate from another CA fails the invocation and nothing is sent', async () => {
    rsyslog.clear();
    const out = await invokeFunction(
      env({ SYSLOG_PROTOCOL: 'tls', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_TLS_CA_FILE: pki.otherCaFile }),
      event(),
    );
    assert.ok(out.error, 'must not report success');
    assert.match(out.error.message, /certificate/i);
    assert.match(out.error.message, /SYSLOG_TLS_CA_FILE/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rsyslog.messages('tls').length, 0);
  });

  test('TLS without a CA setting verifies against public roots, so a private CA is refused', async () => {
    const out = await invokeFunction(env({ SYSLOG_PROTOCOL: 'tls', SYSLOG_PORT: String(rsyslog.ports.tls) }), event());
    assert.ok(out.error);
    assert.match(out.error.message, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to (verify|get)/i);
  });

  test('wrong credentials fail with the SLS error code and request id, not a crash', async () => {
    const out = await invokeFunction(env({}), event(), { credentials: { ...TEST_CREDENTIALS, accessKeySecret: 'wrong-secret-value' } });
    assert.ok(out.error);
    assert.match(out.error.message, /SignatureNotMatch \(HTTP 401\).*request id [0-9A-F]{24}/);
    assert.ok(!(out.stdout + out.error.message).includes('wrong-secret-value'));
  });

  test('missing credentials, console placeholder events and bad settings each say what to fix', async () => {
    const noCreds = await invokeFunction(env({}), event(), { credentials: null });
    assert.match(noCreds.error!.message, /no credentials.*RAM role/);
    const placeholder = await invokeFunction(env({}), '{"key1":"value1","key2":"value2","key3":"value3"}');
    assert.match(placeholder.error!.message, /default test event/);
    const fc3Default = await invokeFunction(env({}), '{"key": "value"}');
    assert.match(fc3Default.error!.message, /default test event/);
    const nothingSaved = await invokeFunction(env({}), '');
    assert.match(nothingSaved.error!.message, /event is empty/);
    for (const out of [placeholder, fc3Default, nothingSaved]) assert.doesNotMatch(out.stdout + out.error!.message, /\n\s+at /, 'no stack trace');
    const badSettings = await invokeFunction({ SYSLOG_PROTOCOL: 'smtp' }, event());
    assert.equal(badSettings.error!.name, 'ConfigError');
    assert.match(badSettings.error!.message, /SYSLOG_HOST is not set/);
    assert.match(badSettings.error!.message, /SYSLOG_PROTOCOL="smtp"/);
  });
});
