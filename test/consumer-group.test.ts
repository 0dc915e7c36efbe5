/**
 * `sls-syslog-forwarder consume`: two real worker processes share a 4-shard logstore through the
 * emulator's consumer-group API; one is killed, the other takes over its shards from their
 * checkpoints; the receiver gets every record (duplicates counted, none lost); new data keeps
 * flowing; SIGTERM drains, checkpoints and exits.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';

const SHARDS = 4;
const GROUPS = 12;
const PER_GROUP = 40;
let emulator: SlsEmulator;
let rsyslog: Rsyslog;

function seed(shard: number, g: number): void {
  const logs = Array.from({ length: PER_GROUP }, (_, i) => ({ time: 1737669036, contents: [['id', `s${shard}-g${g}-${i}`]] as Array<[string, string]> }));
  emulator.appendGroup('p', 'store', shard, encodeLogGroup({ logs }));
}

before(async () => {
  rsyslog = await new Rsyslog().start();
  emulator = await startEmulator();
  emulator.createLogstore('p', 'store', SHARDS);
  for (let shard = 0; shard < SHARDS; shard++) for (let g = 0; g < GROUPS; g++) seed(shard, g);
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

interface Worker { child: ChildProcess; output: () => string; exited: Promise<number | null> }

function startWorker(name: string, credentials: Record<string, string>): Worker {
  const child = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'consume'], {
    env: {
      PATH: process.env.PATH ?? '',
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: 'p', SLS_LOGSTORE: 'store', SLS_CONSUMER_GROUP: 'siem', SLS_CONSUMER_NAME: name,
      SLS_START: 'begin', SLS_HEARTBEAT_MS: '200', SLS_CONSUMER_TIMEOUT_SECONDS: '2', SLS_IDLE_MS: '100', SLS_CHECKPOINT_MS: '0', SLS_PULL_COUNT: '1',
      ...credentials,
      SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ids = () => rsyslog.messages('tcp').map((m) => /id=([^|]+)/.exec(m.msg)?.[1] ?? '?');

test('two workers share the shards; one dies; the other takes over from the checkpoints and every record arrives', async () => {
  emulator.pullDelayMs = 100; // one group per pull: each shard takes ~1.2 s, long enough to fail over mid-way
  // worker-a has fixed keys; worker-b gets STS credentials from a credentials URI that says they
  // expire in 5 min + 1 s, so it must fetch them again while running.
  let served = 0;
  const provider = http.createServer((_req, res) => {
    served++;
    res.end(JSON.stringify({
      Code: 'Success', AccessKeyId: TEST_CREDENTIALS.accessKeyId, AccessKeySecret: TEST_CREDENTIALS.accessKeySecret,
      SecurityToken: TEST_CREDENTIALS.securityToken, Expiration: new Date(Date.now() + 5 * 60_000 + 1_000).toISOString(),
    }));
  });
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  const a = startWorker('worker-a', {
    ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
    ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
  });
  let b: Worker | undefined;
  try {
    const group = () => emulator.consumerGroups.get('p/store/siem');
    const holds = (name: string) => [...(group()?.owners.values() ?? [])].filter((o) => o === name).length;
    // worker-a alone holds every shard and checkpoints as it ships...
    await until(() => holds('worker-a') === SHARDS && ids().length >= 50, 10_000, 'worker-a shipping all shards');
    // ...then worker-b joins, the shards are rebalanced, and worker-b takes its two from worker-a's checkpoints.
    const wb = startWorker('worker-b', { ALIBABA_CLOUD_CREDENTIALS_URI: `http://127.0.0.1:${(provider.address() as AddressInfo).port}/credentials` });
    b = wb;
    const bOut = () => wb.output();
    await until(() => holds('worker-a') === 2 && holds('worker-b') === 2 && (bOut().match(/"result":"acquired"/g) ?? []).length === 2, 10_000, 'two shards each');
    a.child.kill('SIGKILL');
    await a.exited;
    seed(0, GROUPS); // new data after the failover is consumed too
    const total = SHARDS * GROUPS * PER_GROUP + PER_GROUP;
    await until(() => new Set(ids()).size >= total, 30_000, `all ${total} records (have ${new Set(ids()).size})`);
    // worker-a's shards move once its consumer times out (2 s); its unproven tail is re-sent by worker-b.
    await until(() => [...group()!.owners.values()].every((o) => o === 'worker-b'), 10_000, 'worker-b holding every shard');
    await until(() => [...Array(SHARDS).keys()].every((s) => group()!.checkpoints.get(s)?.checkpoint === emulator.cursor('p', 'store', s, 'end')), 10_000, 'checkpoints at the end of every shard');
    const got = ids();
    const duplicates = got.length - new Set(got).size;
    assert.equal(new Set(got).size, total, 'none lost');
    assert.ok(duplicates < total / 2, `duplicates stay bounded (${duplicates})`);
    assert.match(wb.output(), /"result":"start","from":"checkpoint"/, 'worker-b resumed shards from worker-a\'s checkpoints');

    assert.ok(served >= 2, `worker-b refreshed its credentials from the provider (${served} fetches)`);
    wb.child.kill('SIGTERM');
    assert.equal(await wb.exited, 0, 'SIGTERM drains and exits cleanly');
    assert.match(wb.output(), /"result":"stopped"/);
    for (const out of [a.output(), wb.output()]) {
      assert.ok(!out.includes(TEST_CREDENTIALS.accessKeySecret) && !out.includes(TEST_CREDENTIALS.securityToken), 'no credential printed');
    }
  } finally {
    provider.close();
    emulator.pullDelayMs = 0;
    a.child.kill('SIGKILL');
    b?.child.kill('SIGKILL');
  }
});

test('worker: a receiver that stops reading (SIGSTOP) and is SIGKILLed: no checkpoint moves without a proof, and 0 records are lost', async (t) => {
  const logstore = 'stall';
  emulator.createLogstore('p', logstore, 2);
  const written = 2 * 30 * 50;
  for (let shard = 0; shard < 2; shard++) {
    for (let g = 0; g < 30; g++) {
      const logs = Array.from({ length: 50 }, (_, i) => ({ time: 1737669036, contents: [['id', `w${shard}-g${g}-${i}`], ['pad', 'q'.repeat(400)]] as Array<[string, string]> }));
      emulator.appendGroup('p', logstore, shard, encodeLogGroup({ logs }));
    }
  }
  rsyslog.clear();
  emulator.pullDelayMs = 50;
  const worker = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'consume'], {
    env: {
      PATH: process.env.PATH ?? '',
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: 'p', SLS_LOGSTORE: logstore, SLS_CONSUMER_GROUP: 'stall-siem', SLS_CONSUMER_NAME: 'w1',
      SLS_START: 'begin', SLS_HEARTBEAT_MS: '200', SLS_CONSUMER_TIMEOUT_SECONDS: '5', SLS_IDLE_MS: '100', SLS_CHECKPOINT_MS: '0', SLS_PULL_COUNT: '1',
      ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
      SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), SYSLOG_COMMIT_BYTES: '65536',
      SYSLOG_PROOF_TIMEOUT_MS: '1000', SYSLOG_WRITE_TIMEOUT_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  worker.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise((r) => worker.once('exit', r));
  const mine = () => rsyslog.messages('tcp').map((m) => /id=([^|]+)/.exec(m.msg)?.[1] ?? '?').filter((id) => id.startsWith('w'));
  const checkpoints = () => JSON.stringify([...(emulator.consumerGroups.get(`p/${logstore}/stall-siem`)?.checkpoints ?? new Map())].map(([s, c]) => [s, c.checkpoint]));
  try {
    await until(() => mine().length >= 400, 15_000, 'the worker shipping');
    rsyslog.signal('SIGSTOP');
    await new Promise((r) => setTimeout(r, 300)); // a proof already answered may still land
    const frozen = checkpoints();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(checkpoints(), frozen, 'no checkpoint moved while the receiver read nothing');
    await rsyslog.restart('SIGKILL', 300);
    await until(() => new Set(mine()).size >= written, 40_000, `all ${written} records (have ${new Set(mine()).size})`);
    const ids = mine();
    const c = { written, delivered: new Set(ids).size, lost: written - new Set(ids).size, duplicated: ids.length - new Set(ids).size };
    t.diagnostic(`records: ${JSON.stringify(c)}`);
    assert.equal(c.lost, 0);
    await until(() => [0, 1].every((s) => emulator.consumerGroups.get(`p/${logstore}/stall-siem`)!.checkpoints.get(s)?.checkpoint === emulator.cursor('p', logstore, s, 'end')), 15_000, 'checkpoints at the end');
    worker.kill('SIGTERM');
    assert.equal(await exited, 0, out.slice(-2000));
  } finally {
    rsyslog.signal('SIGCONT');
    emulator.pullDelayMs = 0;
    worker.kill('SIGKILL');
  }
});
