/**
 * The worker outlives its SIEM and SLS: started while the receiver (a real rsyslog) is down, or
 * while SLS answers 503, it stays up, holds its shards, says why it is not ready on /readyz, logs
 * one line per state change (not one per retry), and ships every record once the other side is
 * back. A logstore that does not exist cannot heal: the worker exits with one clear line.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { freePort, Rsyslog } from './support/rsyslog';

let emulator: SlsEmulator;
let rsyslog: Rsyslog;

before(async () => {
  emulator = await startEmulator();
  rsyslog = await new Rsyslog().start();
});
after(async () => {
  await Promise.all([rsyslog?.stop(), emulator?.stop()]);
});

/** A logstore with `shards` x `groups` x 20 records, each with a unique id `<prefix><shard>-<group>-<i>`. */
function seed(logstore: string, prefix: string, shards: number, groups: number): string[] {
  emulator.createLogstore('p', logstore, shards);
  const ids: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    for (let g = 0; g < groups; g++) {
      const logs = Array.from({ length: 20 }, (_, i) => ({ time: 1737669036, contents: [['id', `${prefix}${shard}-${g}-${i}`]] as Array<[string, string]> }));
      ids.push(...logs.map((l) => l.contents[0]![1]));
      emulator.appendGroup('p', logstore, shard, encodeLogGroup({ logs }));
    }
  }
  return ids;
}

interface Worker { child: ChildProcess; output: () => string; stderr: () => string; exited: Promise<number | null> }

function startWorker(logstore: string, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'consume'], {
    env: {
      PATH: process.env.PATH ?? '',
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: 'p', SLS_LOGSTORE: logstore, SLS_CONSUMER_GROUP: `${logstore}-siem`, SLS_CONSUMER_NAME: 'outliver',
      SLS_START: 'begin', SLS_HEARTBEAT_MS: '200', SLS_CONSUMER_TIMEOUT_SECONDS: '2', SLS_IDLE_MS: '100', SLS_CHECKPOINT_MS: '0',
      ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
      SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return { child, output: () => out, stderr: () => err, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

/** SIGTERM by pid, and SIGKILL if it has not drained in time; answers the exit code. */
async function stopWorker(w: Worker): Promise<number | null> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return w.child.exitCode;
  w.child.kill('SIGTERM');
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000);
  const code = await w.exited;
  clearTimeout(timer);
  return code;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve().then(check).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readyz = (port: number, status: number, body: RegExp) => async () => {
  const r = await get(port, '/readyz');
  return r.status === status && body.test(r.body) ? r.body : undefined;
};

/** The worker's JSON lines with this result. */
const lines = (w: Worker, result: string) =>
  w.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.result === result);

/** Written, delivered, lost and duplicated records of one data set, as the receiver has them. */
function count(t: TestContext, written: string[], prefix: string): { lost: number; duplicated: number } {
  const got = rsyslog.messages('tcp').map((m) => /id=([^|]+)/.exec(m.msg)?.[1] ?? '?').filter((id) => id.startsWith(prefix));
  const unique = new Set(got);
  const lost = written.filter((id) => !unique.has(id)).length;
  const duplicated = got.length - unique.size;
  t.diagnostic(`written ${written.length}, delivered ${unique.size}, lost ${lost}, duplicated ${duplicated}`);
  return { lost, duplicated };
}

const received = (written: string[], prefix: string) => () => {
  const ids = new Set(rsyslog.messages('tcp').map((m) => /id=([^|]+)/.exec(m.msg)?.[1] ?? '?').filter((id) => id.startsWith(prefix)));
  return written.every((id) => ids.has(id)) || undefined;
};

test('the SIEM is down when the worker starts and comes up 10 s later: it stays up, not ready with the reason, then delivers every record', async (t) => {
  const written = seed('siem-down', 'a', 2, 10);
  await rsyslog.crash(); // its port is free now: nothing listens there until relaunch()
  const metricsPort = await freePort('tcp');
  const started = Date.now();
  const w = startWorker('siem-down', { METRICS_PORT: String(metricsPort), OUTPUT_MAX_EVENTS_PER_SECOND: '1000000' });
  let receiverUp = false;
  try {
    const notReady = await until(readyz(metricsPort, 503, /SIEM unreachable \(output \w+\): .*ECONNREFUSED/), 10_000, '/readyz 503 naming the SIEM');
    t.diagnostic(`while down: ${notReady.trim()}`);
    await until(() => lines(w, 'acquired').length === 2 || undefined, 10_000, 'both shards held while the SIEM is down');
    await new Promise((r) => setTimeout(r, Math.max(0, started + 10_000 - Date.now())));
    assert.equal(w.child.exitCode, null, `the worker is still running 10 s after its start:\n${w.output()}${w.stderr()}`);
    assert.equal(lines(w, 'releasing').length + lines(w, 'fenced').length, 0, 'it kept its shards while the SIEM was down');
    await rsyslog.relaunch();
    receiverUp = true;

    await until(received(written, 'a'), 40_000, 'every record at the receiver');
    await until(readyz(metricsPort, 200, /^ready/), 10_000, '/readyz 200 once the SIEM is back');
    const { lost, duplicated } = count(t, written, 'a');
    assert.equal(lost, 0, 'no record lost');
    assert.ok(duplicated <= written.length, `duplicates stay bounded (${duplicated})`);
    assert.equal(w.child.exitCode, null, 'the process never exited');

    assert.equal(lines(w, 'siem-unreachable').length, 1, 'one siem-unreachable line at the start');
    assert.equal(lines(w, 'siem-reachable').length, 1, 'one line when it answered again');
    const scrape = (await get(metricsPort, '/metrics')).body;
    const reconnects = [...scrape.matchAll(/^slsfwd_siem_reconnects_total\{shard="\d+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.match(scrape, /^slsfwd_output_throttled_seconds_total\{output="\w+"\} [\d.e-]+$/m, 'the rate limit\'s metric is served');
    for (const shard of [0, 1]) {
      const errors = lines(w, 'error').filter((l) => l.shard === shard);
      const recovered = lines(w, 'recovered').filter((l) => l.shard === shard);
      t.diagnostic(`shard ${shard}: ${errors.length} error line(s), recovered after ${String(recovered[0]?.retries)} retries of its range in ${String(recovered[0]?.downMs)} ms`);
      assert.ok(errors.length >= 1 && errors.length <= 3, `shard ${shard}: a few error lines, not one per retry (${errors.length})`);
      assert.equal(recovered.length, 1, `shard ${shard}: one recovered line`);
      assert.ok(Number(recovered[0]!.retries) >= 1, `shard ${shard}: its range was retried`);
    }
    t.diagnostic(`SIEM reconnects within ranges: ${reconnects}`);
    assert.ok(reconnects > lines(w, 'error').length, 'far more retries than log lines');
    assert.equal(await stopWorker(w), 0, 'SIGTERM drains and exits 0');
  } finally {
    w.child.kill('SIGKILL');
    if (!receiverUp) await rsyslog.relaunch(); // for the next test
  }
});

test('SLS answers 503 when the worker starts: it stays up, not ready with the reason, and ships once SLS is back', async (t) => {
  const written = seed('sls-down', 'b', 2, 5);
  for (let i = 0; i < 500; i++) emulator.faults.push({ status: 503, code: 'ServerBusy' });
  const metricsPort = await freePort('tcp');
  const w = startWorker('sls-down', { METRICS_PORT: String(metricsPort) });
  try {
    const notReady = await until(readyz(metricsPort, 503, /SLS unreachable: .*ServerBusy/), 10_000, '/readyz 503 naming SLS');
    t.diagnostic(`while down: ${notReady.trim()}`);
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal(w.child.exitCode, null, `the worker is still running while SLS is down:\n${w.output()}${w.stderr()}`);
    emulator.faults.length = 0;

    await until(received(written, 'b'), 40_000, 'every record at the receiver');
    await until(readyz(metricsPort, 200, /^ready/), 10_000, '/readyz 200 once SLS is back');
    const { lost } = count(t, written, 'b');
    assert.equal(lost, 0, 'no record lost');
    assert.equal(w.child.exitCode, null, 'the process never exited');
    assert.equal(lines(w, 'sls-unreachable').length, 1, 'one sls-unreachable line, not one per retry');
    const back = lines(w, 'sls-reachable');
    assert.equal(back.length, 1);
    t.diagnostic(`joined after ${String(back[0]!.retries)} failed tries in ${String(back[0]!.downMs)} ms`);
    assert.ok(Number(back[0]!.retries) >= 2, 'it retried');
    assert.equal(await stopWorker(w), 0, 'SIGTERM drains and exits 0');
  } finally {
    emulator.faults.length = 0;
    w.child.kill('SIGKILL');
  }
});

test('a logstore that does not exist cannot heal: the worker exits non-zero with one clear line and no stack trace', async () => {
  const w = startWorker('no-such-logstore', {});
  try {
    const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
    const code = await w.exited;
    clearTimeout(timer);
    assert.equal(code, 1, w.output() + w.stderr());
    const err = w.stderr().trim();
    assert.equal(err.split('\n').length, 1, `one line: ${err}`);
    assert.match(err, /^SlsError: Cannot join consumer group no-such-logstore-siem of p\/no-such-logstore: .*LogStoreNotExist.*Check SLS_LOGSTORE/);
    assert.doesNotMatch(err, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    assert.ok(!(w.output() + err).includes(TEST_CREDENTIALS.accessKeySecret), 'no credential printed');
  } finally {
    w.child.kill('SIGKILL');
  }
});
