/**
 * Faults, deterministic and bounded, on 127.0.0.1 only: SLS answering 403/500/502, resetting and
 * stalling; rsyslog killed and restarted mid-range; a receiver that accepts and never reads; UDP
 * to nobody; the function's deadline. In every case either every record arrives (duplicates
 * allowed and counted) or the invocation fails with a clear error and a retry delivers everything.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { SlsClient } from '../src/sls/client';
import { SlsEmulator } from './sls-emulator/server';
import { FcInstance, invokeFunction, TEST_CREDENTIALS, TEST_KEYS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { freePort, Rsyslog } from './support/rsyslog';

const PROJECT = 'proj';
const GROUPS = 40;
const PER_GROUP = 50;
const TOTAL = GROUPS * PER_GROUP;

let rsyslog: Rsyslog;
let emulator: SlsEmulator;

before(async () => {
  rsyslog = await new Rsyslog().start();
  emulator = new SlsEmulator({
    keys: TEST_KEYS,
    maxPullBytes: 16 * 1024,
  });
  await emulator.start();
  emulator.createLogstore(PROJECT, 'small', 1);
  emulator.createLogstore(PROJECT, 'big', 1);
  for (let g = 0; g < GROUPS; g++) {
    const logs = Array.from({ length: PER_GROUP }, (_, i) => ({ time: 1737669036, contents: [['id', `${g}-${i}`], ['pad', 'x'.repeat(200)]] as Array<[string, string]> }));
    emulator.appendGroup(PROJECT, 'small', 0, encodeLogGroup({ logs, source: '10.0.0.1' }));
  }
  // ~16 MB: more than the kernel's socket buffers on both sides, so a receiver that stops reading blocks the sender.
  const pad = 'y'.repeat(1000);
  for (let g = 0; g < 160; g++) {
    const logs = Array.from({ length: 100 }, (_, i) => ({ time: 1737669036, contents: [['id', `big-${g}-${i}`], ['pad', pad]] as Array<[string, string]> }));
    emulator.appendGroup(PROJECT, 'big', 0, encodeLogGroup({ logs }));
  }
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

function event(logstore = 'small') {
  return {
    parameter: {},
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: logstore, shardId: 0,
      beginCursor: emulator.cursor(PROJECT, logstore, 0, 'begin'), endCursor: emulator.cursor(PROJECT, logstore, 0, 'end'),
    },
  };
}

const tcpEnv = () => ({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp) });

function idsOn(input: 'tcp' | 'udp'): string[] {
  return rsyslog.messages(input).map((m) => /^id=([^|]+)/.exec(m.msg)?.[1] ?? '?');
}

function assertAllOnceOrMore(ids: string[], total: number): number {
  const unique = new Set(ids);
  assert.equal(unique.size, total, `every record arrived (${unique.size} of ${total})`);
  return ids.length - unique.size;
}

test('SLS throttling, 500, 502, a reset and a too-slow answer are all retried; the range arrives exactly once', async () => {
  rsyslog.clear();
  emulator.faults.push(
    { api: 'PullLogs', status: 403, code: 'ReadQuotaExceed', message: 'Read QPS Exceed' },
    { api: 'PullLogs', status: 500, code: 'InternalServerError' },
    { api: 'PullLogs', status: 502, code: 'BadGateway' },
    { api: 'PullLogs', reset: true },
    { api: 'PullLogs', delayMs: 1500 },
    { api: 'PullLogs', status: 403, code: 'ShardReadQuotaExceed' },
  );
  const out = await invokeFunction({ ...tcpEnv(), SLS_REQUEST_TIMEOUT_MS: '500' }, event());
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.slsRetries, 6);
  assert.equal(emulator.faults.length, 0);
  await rsyslog.waitForCount('tcp', TOTAL);
  const ids = idsOn('tcp');
  assert.equal(assertAllOnceOrMore(ids, TOTAL), 0, 'SLS faults cause no duplicates');
});

test('corrupt LZ4 bodies (found when the kernel decodes them, or by the client on a re-pull) are pulled again; the range arrives exactly once', async () => {
  rsyslog.clear();
  emulator.faults.push({ api: 'PullLogs', corruptBody: true }, { api: 'PullLogs', corruptBody: true }, { api: 'PullLogs', corruptBody: true });
  const out = await invokeFunction(tcpEnv(), event());
  assert.equal(out.error, null, out.error?.message);
  assert.equal(emulator.faults.length, 0);
  assert.equal(out.result!.slsRetries, 3, 'each corrupt answer cost one more pull');
  await rsyslog.waitForCount('tcp', TOTAL);
  assert.equal(assertAllOnceOrMore(idsOn('tcp'), TOTAL), 0, 'no duplicates');
});

test('errors that cannot heal fail at once with the SLS code and request id', async () => {
  const before = emulator.requests.length;
  emulator.faults.push({ api: 'PullLogs', status: 401, code: 'Unauthorized', message: 'AccessKeyId is disabled' });
  const out = await invokeFunction(tcpEnv(), event());
  assert.match(out.error!.message, /SLS PullLogs failed: Unauthorized \(HTTP 401\): AccessKeyId is disabled \[request id [0-9A-F]{24}/);
  assert.match(out.error!.message, /log:GetCursorOrData/);
  assert.equal(emulator.requests.filter((r, i) => i >= before && r.api === 'PullLogs').length, 1, 'not retried');
});

test('rsyslog killed (SIGKILL) and restarted mid-range: the function reconnects, resends, and every record arrives', async () => {
  rsyslog.clear();
  emulator.pullDelayMs = 100; // ~40 pulls: long enough to kill the receiver in the middle
  try {
    const fc = new FcInstance({ ...tcpEnv(), SLS_PULL_COUNT: '2' });
    await fc.init();
    const running = fc.invoke(event());
    await rsyslog.waitForCount('tcp', 300);
    await rsyslog.restart('SIGKILL', 300);
    const out = await running;
    await fc.stop();
    assert.equal(out.error, null, out.error?.message);
    assert.ok((out.result!.reconnects as number) >= 1, 'reconnected');
    assert.ok((out.result!.resent as number) > 0, 'resent what was on the broken connection');
    assert.equal(out.result!.records, TOTAL);
    await new Promise((r) => setTimeout(r, 500));
    const duplicates = assertAllOnceOrMore(idsOn('tcp'), TOTAL);
    assert.ok(duplicates <= (out.result!.resent as number), `duplicates (${duplicates}) are bounded by what was resent`);
  } finally {
    emulator.pullDelayMs = 0;
  }
});

test('a receiver that accepts and then stops reading is detected (write timeout, or the missing proof), and a retry delivers everything', async () => {
  const stalled = net.createServer((socket) => socket.pause()); // accepts, never reads
  await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
  const port = (stalled.address() as net.AddressInfo).port;
  try {
    // Segments larger than the socket buffers: a write blocks, and the write timeout says so.
    let started = Date.now();
    const big = await invokeFunction(
      { SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(port), SYSLOG_WRITE_TIMEOUT_MS: '1000', SYSLOG_RECONNECT_ATTEMPTS: '1', SYSLOG_COMMIT_BYTES: String(16 << 20), SYSLOG_PROOFS_IN_FLIGHT: '1' },
      event('big'),
    );
    assert.ok(big.error, 'must not report success');
    assert.match(big.error.message, /stopped reading: a write waited 1000 ms/);
    assert.ok(Date.now() - started < 20_000, 'did not hang');
    // The default segments: a write that blocks or a proof that never comes says so.
    started = Date.now();
    const small = await invokeFunction(
      { SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(port), SYSLOG_WRITE_TIMEOUT_MS: '1000', SYSLOG_PROOF_TIMEOUT_MS: '1000', SYSLOG_RECONNECT_ATTEMPTS: '1' },
      event('big'),
    );
    assert.ok(small.error, 'must not report success');
    assert.match(small.error.message, /did not answer our close within 1000 ms|stopped reading: a write waited 1000 ms/);
    assert.ok(Date.now() - started < 20_000, 'did not hang');
  } finally {
    stalled.close();
  }
  rsyslog.clear();
  const retry = await invokeFunction(tcpEnv(), event('big'));
  assert.equal(retry.error, null, retry.error?.message);
  await rsyslog.waitForCount('tcp', 16_000, 30_000);
  assert.equal(new Set(idsOn('tcp')).size, 16_000);
});

test('UDP to a port nobody listens on reports the error instead of swallowing it', async () => {
  const port = await freePort('udp');
  const out = await invokeFunction({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(port), SYSLOG_PROTOCOL: 'udp', SYSLOG_RECONNECT_ATTEMPTS: '0' }, event());
  assert.ok(out.error, 'must not report success');
  assert.match(out.error.message, /udp:\/\/127\.0\.0\.1:\d+ failed: ECONNREFUSED/);
});

test('near the deadline it stops pulling, says how far it got, and a retry with more time delivers everything', async () => {
  rsyslog.clear();
  emulator.pullDelayMs = 400;
  try {
    const started = Date.now();
    const out = await invokeFunction({ ...tcpEnv(), SLS_PULL_COUNT: '2' }, event(), { timeoutSeconds: 3 });
    const took = Date.now() - started;
    assert.ok(out.error, 'must fail, not be killed');
    assert.equal(out.error.name, 'ShipError');
    assert.match(out.error.message, /Stopped before the function timeout: \d+ records were sent and proven delivered, up to cursor \S+ of \[/);
    assert.match(out.error.message, /Raise the function timeout/);
    assert.ok(took < 3_000 + 1_500, `answered before FC's 3 s timeout (took ${took} ms incl. process start)`);
    const sent = Number(/: (\d+) records/.exec(out.error.message)![1]);
    assert.ok(sent > 0 && sent < TOTAL);
    await rsyslog.waitForCount('tcp', sent);
  } finally {
    emulator.pullDelayMs = 0;
  }
  const retry = await invokeFunction(tcpEnv(), event());
  assert.equal(retry.error, null, retry.error?.message);
  await rsyslog.waitForCount('tcp', TOTAL);
  assertAllOnceOrMore(idsOn('tcp'), TOTAL);
});

test('a storm of connection resets from SLS is reported as dropped connections, not as a wrong endpoint', async () => {
  emulator.faults.push({ api: 'PullLogs', reset: true }, { api: 'PullLogs', reset: true }, { api: 'PullLogs', reset: true });
  const client = new SlsClient({ endpoint: emulator.endpoint, project: PROJECT, credentials: TEST_CREDENTIALS, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
  try {
    const ev = event().source;
    await assert.rejects(client.pullLogs('small', 0, ev.beginCursor, ev.endCursor, 10), (err: Error) => {
      assert.match(err.message, /dropped the connection mid-request/);
      assert.doesNotMatch(err.message, /could not reach|Check source\.endpoint/);
      return true;
    });
  } finally {
    client.close();
  }
  const port = await freePort('tcp');
  const nowhere = new SlsClient({ endpoint: `http://127.0.0.1:${port}`, project: PROJECT, credentials: TEST_CREDENTIALS, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  await assert.rejects(nowhere.getCursor('small', 0, 'end'), /could not reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED .*Check source\.endpoint/);
  nowhere.close();
});
