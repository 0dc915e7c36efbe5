/**
 * "Delivered" means the receiver has it. Real rsyslog on 127.0.0.1, the emulator, the built
 * function in an FC-like process, and the trigger's behaviour (the same range again until an
 * invocation succeeds). Each test counts every record: written, delivered, lost, duplicated.
 */
import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { FcInstance, type Invocation, TEST_CREDENTIALS, TEST_KEYS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { makeTestPki, type TestPki } from './support/certs';
import { Rsyslog } from './support/rsyslog';

const PROJECT = 'proof';
const JOB = 'a3f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8';
let rsyslog: Rsyslog;
let emulator: SlsEmulator;
let pki: TestPki;
const sizes = new Map<string, number>();

/** `groups` log groups of `perGroup` records of ~`pad` bytes each. */
function seed(logstore: string, groups: number, perGroup: number, pad: number): void {
  emulator.createLogstore(PROJECT, logstore, 1);
  for (let g = 0; g < groups; g++) {
    const logs = Array.from({ length: perGroup }, (_, i) => ({ time: 1737669036, contents: [['id', `${logstore}-${g}-${i}`], ['pad', 'p'.repeat(pad)]] as Array<[string, string]> }));
    emulator.appendGroup(PROJECT, logstore, 0, encodeLogGroup({ logs }));
  }
  sizes.set(logstore, groups * perGroup);
}

before(async () => {
  pki = makeTestPki();
  rsyslog = await new Rsyslog({ relp: true, tls: { caFile: pki.caFile, certFile: pki.certFile, keyFile: pki.keyFile } }).start();
  emulator = new SlsEmulator({
    keys: TEST_KEYS,
    maxPullBytes: 64 * 1024,
  });
  await emulator.start();
  seed('small', 20, 50, 300); // 1 000 records, ~330 KB: fits in the socket buffers
  seed('mid', 40, 50, 300); // 2 000 records, ~660 KB
  seed('big', 120, 100, 1000); // 12 000 records, ~12 MB: more than the socket buffers
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

function event(logstore: string) {
  return {
    parameter: {}, jobName: JOB, taskId: 'c2691505-38da-4d1b-998a-f1d4bb8c9994',
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: logstore, shardId: 0,
      beginCursor: emulator.cursor(PROJECT, logstore, 0, 'begin'), endCursor: emulator.cursor(PROJECT, logstore, 0, 'end'),
    },
  };
}

const env = (extra: Record<string, string> = {}) => ({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), ...extra });

interface Count { written: number; delivered: number; lost: number; duplicated: number }

/** What arrived on one input for a logstore, counted against what was written. */
async function count(t: TestContext, input: 'tcp' | 'relp', logstore: string): Promise<Count> {
  const messages = await rsyslog.settle(input, 500);
  const ids = messages.map((m) => /id=([^|]+)/.exec(m.msg)?.[1] ?? '?').filter((id) => id.startsWith(`${logstore}-`));
  const unique = new Set(ids).size;
  const written = sizes.get(logstore)!;
  const c = { written, delivered: unique, lost: written - unique, duplicated: ids.length - unique };
  t.diagnostic(`records: ${JSON.stringify(c)}`);
  return c;
}

/** The SLS trigger: the same range again (up to `retries` times) until an invocation succeeds. */
async function likeTheTrigger(fc: FcInstance, ev: unknown, retries: number, timeoutSeconds = 60, between?: (n: number, out: Invocation) => Promise<void>): Promise<Invocation[]> {
  const attempts: Invocation[] = [];
  for (let n = 0; n <= retries; n++) {
    const out = await fc.invoke(ev, TEST_CREDENTIALS, timeoutSeconds);
    attempts.push(out);
    if (!out.error) return attempts;
    await between?.(n, out);
  }
  return attempts;
}

/** The summary line the function printed for a failed invocation. */
function failedSummary(out: Invocation): Record<string, unknown> {
  const line = out.stdout.split('\n').find((l) => l.includes('"sls-syslog-forwarder.invocation"') && l.includes('"result":"error"'));
  assert.ok(line, `a summary line for the failure: ${out.stdout}`);
  return JSON.parse(line) as Record<string, unknown>;
}

for (const mode of ['reuse', 'per-invocation'] as const) {
  test(`${mode}: a receiver that stops reading (SIGSTOP) and is then SIGKILLed never gets an ok for what was in socket buffers; 0 lost`, async (t) => {
    rsyslog.clear();
    const fc = new FcInstance(env({ SYSLOG_CONNECTION: mode, SYSLOG_PROOF_TIMEOUT_MS: '1000', SYSLOG_RECONNECT_ATTEMPTS: '1' }));
    try {
      assert.equal((await fc.init()).error, null);
      rsyslog.signal('SIGSTOP'); // everything the function sends now stays in socket buffers
      const attempts = await likeTheTrigger(fc, event('small'), 3, 60, async (n) => {
        if (n === 0) await rsyslog.restart('SIGKILL'); // the overloaded SIEM is killed, then comes back
      });
      const first = attempts[0]!;
      assert.ok(first.error, 'no success without a proof: the receiver never read those bytes');
      assert.match(first.error.message, /No proof of delivery from tcp:\/\/127\.0\.0\.1:\d+: it did not answer our close within 1000 ms/);
      const summary = failedSummary(first);
      assert.equal(summary.delivered, 0, 'nothing counted as delivered');
      assert.equal(summary.reachedCursor, event('small').source.beginCursor, 'reachedCursor says how far it got');
      const last = attempts[attempts.length - 1]!;
      assert.equal(last.error, null, last.error?.message);
      assert.equal(last.result!.delivered, sizes.get('small'));
      assert.equal(last.result!.proof, 'close');
      const c = await count(t, 'tcp', 'small');
      assert.equal(c.lost, 0, 'no record lost');
    } finally {
      rsyslog.signal('SIGCONT');
      await fc.stop().catch(() => fc.kill());
    }
  });
}

test('commit points: rsyslog SIGKILLed mid-range costs at most one segment of re-sends; 0 lost', async (t) => {
  rsyslog.clear();
  emulator.pullDelayMs = 60;
  const fc = new FcInstance(env({ SLS_PULL_COUNT: '2', SYSLOG_COMMIT_BYTES: '65536' }));
  try {
    await fc.init();
    const running = fc.invoke(event('mid'));
    await rsyslog.waitForCount('tcp', 700);
    await rsyslog.restart('SIGKILL', 200);
    const out = await running;
    assert.equal(out.error, null, out.error?.message);
    const r = out.result!;
    assert.ok((r.reconnects as number) >= 1 && (r.commits as number) > 5, `reconnected, several commit points (${r.commits})`);
    const c = await count(t, 'tcp', 'mid');
    assert.equal(c.lost, 0, 'no record lost');
    // A segment is 64 KiB (~190 records here) plus the batch that crossed it; one proof may be in flight.
    const perSegment = Math.ceil(65536 / 330) + 100;
    assert.ok(c.duplicated <= (r.resent as number) && (r.resent as number) <= 2 * perSegment, `re-sent ${r.resent}, duplicates ${c.duplicated}, bound ${2 * perSegment}`);
  } finally {
    emulator.pullDelayMs = 0;
    await fc.stop().catch(() => fc.kill());
  }
});

test('a retried range resumes where the last proof ended (resumedFrom), instead of re-sending it all; 0 lost', async (t) => {
  rsyslog.clear();
  emulator.pullDelayMs = 60;
  const fc = new FcInstance(env({ SLS_PULL_COUNT: '2', SYSLOG_COMMIT_BYTES: '65536', SYSLOG_RECONNECT_ATTEMPTS: '0' }));
  try {
    await fc.init();
    const first = fc.invoke(event('mid'));
    await rsyslog.waitForCount('tcp', 1000);
    await rsyslog.crash(); // down until the trigger retries
    const failed = await first;
    assert.ok(failed.error, 'the receiver is down: the invocation fails');
    const progress = failedSummary(failed);
    assert.ok((progress.delivered as number) > 0, `it says how far the proof got (${progress.delivered} records)`);
    await rsyslog.relaunch();
    const retry = await fc.invoke(event('mid'));
    assert.equal(retry.error, null, retry.error?.message);
    const r = retry.result!;
    assert.equal(r.resumedFrom, progress.reachedCursor, 'the retry starts at the last proven cursor');
    assert.equal((r.records as number) + (progress.delivered as number), sizes.get('mid'), 'it sends only what was not proven');
    const c = await count(t, 'tcp', 'mid');
    assert.equal(c.lost, 0, 'no record lost');
    assert.ok(c.duplicated <= (progress.records as number) - (progress.delivered as number), `duplicates (${c.duplicated}) only from the unproven segment`);
    // The range ended well: a later replay of it is not skipped.
    const replay = await fc.invoke(event('mid'));
    assert.equal(replay.result!.resumedFrom, undefined);
    assert.equal(replay.result!.records, sizes.get('mid'));
  } finally {
    emulator.pullDelayMs = 0;
    await fc.stop().catch(() => fc.kill());
  }
});

test('without the consumer-group RAM actions the function still delivers, and says once that it cannot resume', async (t) => {
  rsyslog.clear();
  emulator.faults.push({ api: 'GetCheckPoint', status: 401, code: 'Unauthorized', message: 'denied by sts or ram, action: log:GetConsumerGroupCheckPoint' });
  const fc = new FcInstance(env({ SYSLOG_COMMIT_BYTES: '65536' }));
  try {
    await fc.init();
    const out = await fc.invoke(event('small'));
    assert.equal(out.error, null, out.error?.message);
    assert.equal((out.stdout.match(/cannot resume/g) ?? []).length, 1, out.stdout);
    assert.match(out.stdout, /log:ConsumerGroupUpdateCheckPoint/);
    const c = await count(t, 'tcp', 'small');
    assert.equal(c.lost + c.duplicated, 0);
  } finally {
    await fc.stop().catch(() => fc.kill());
  }
});

test('a function timeout shorter than the write timeout: a stalled receiver cannot make FC kill it silently', async (t) => {
  rsyslog.clear();
  const fc = new FcInstance(env({ SYSLOG_WRITE_TIMEOUT_MS: '30000', SYSLOG_PROOF_TIMEOUT_MS: '30000' }));
  try {
    await fc.init();
    rsyslog.signal('SIGSTOP');
    const started = Date.now();
    const out = await fc.invoke(event('big'), TEST_CREDENTIALS, 3);
    const took = Date.now() - started;
    assert.ok(out.error, 'not a success');
    assert.ok(took < 3_000, `answered within the 3 s timeout (${took} ms)`);
    assert.match(out.error.message, /time ran out/);
    assert.match(out.error.message, /Progress before the failure: \d+ records in \d+ log groups sent, \d+ proven delivered \(close\), up to cursor \S+/);
    rsyslog.signal('SIGCONT');
    const retry = await fc.invoke(event('big'));
    assert.equal(retry.error, null, retry.error?.message);
    const c = await count(t, 'tcp', 'big');
    assert.equal(c.lost, 0, 'no record lost');
  } finally {
    rsyslog.signal('SIGCONT');
    await fc.stop().catch(() => fc.kill());
  }
});

test('RELP (rsyslog imrelp): every message acknowledged; a receiver killed mid-range costs only what it had not acknowledged; 0 lost', async (t) => {
  rsyslog.clear();
  emulator.pullDelayMs = 60;
  const fc = new FcInstance(env({ SYSLOG_PROTOCOL: 'relp', SYSLOG_PORT: String(rsyslog.ports.relp), SLS_PULL_COUNT: '2' }));
  try {
    await fc.init();
    const running = fc.invoke(event('mid'));
    await rsyslog.waitForCount('relp', 700);
    await rsyslog.restart('SIGKILL', 200);
    const out = await running;
    assert.equal(out.error, null, out.error?.message);
    const r = out.result!;
    assert.equal(r.proof, 'ack');
    assert.ok((r.reconnects as number) >= 1);
    const c = await count(t, 'relp', 'mid');
    assert.equal(c.lost, 0, 'no record lost');
    // Only unacknowledged messages go again: at most the window (128) plus what rsyslog read but had not answered.
    assert.ok(c.duplicated <= 128, `duplicates ${c.duplicated} <= RELP window`);
  } finally {
    emulator.pullDelayMs = 0;
    await fc.stop().catch(() => fc.kill());
  }
});

test('RELP over TLS (imrelp with a client certificate): the range arrives acknowledged, exactly once', async (t) => {
  rsyslog.clear();
  const fc = new FcInstance(env({
    SYSLOG_PROTOCOL: 'relp', SYSLOG_RELP_TLS: 'on', SYSLOG_PORT: String(rsyslog.ports.relpTls),
    SYSLOG_TLS_CA_FILE: pki.caFile, SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_KEY_FILE: pki.clientKeyFile,
  }));
  let out: Invocation;
  try {
    assert.equal((await fc.init()).error, null);
    out = await fc.invoke(event('small'));
  } finally {
    await fc.stop().catch(() => fc.kill());
  }
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.proof, 'ack');
  assert.equal(out.result!.delivered, sizes.get('small'));
  const c = await count(t, 'relp', 'small');
  assert.equal(c.lost + c.duplicated, 0);
});
