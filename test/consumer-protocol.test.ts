/**
 * The consumer-group protocol as SLS defines it, with real worker processes, the emulator's
 * hold-until-released assignment, a steady writer and a real rsyslog counting every record
 * (written / delivered / lost / duplicated). Each worker names itself as the syslog HOSTNAME, so
 * every record says who shipped it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { decodeCursor } from '../src/sls/cursor';
import { SlsEmulator } from './sls-emulator/server';
import { startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog, type Received } from './support/rsyslog';

const PROJECT = 'cg';
const PER_GROUP = 20;
let emulator: SlsEmulator;
let rsyslog: Rsyslog;

before(async () => {
  rsyslog = await new Rsyslog().start();
  emulator = await startEmulator();
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

interface Worker { name: string; child: ChildProcess; output: () => string; exited: Promise<number | null> }

function startWorker(logstore: string, name: string, extra: Record<string, string> = {}): Worker {
  const child = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'consume'], {
    env: {
      PATH: process.env.PATH ?? '',
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: PROJECT, SLS_LOGSTORE: logstore, SLS_CONSUMER_GROUP: 'siem', SLS_CONSUMER_NAME: name,
      SLS_START: 'begin', SLS_HEARTBEAT_MS: '200', SLS_CONSUMER_TIMEOUT_SECONDS: '2', SLS_IDLE_MS: '50', SLS_CHECKPOINT_MS: '0', SLS_PULL_COUNT: '1',
      ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
      SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), SYSLOG_HOSTNAME: name, SYSLOG_COMMIT_BYTES: '65536', SYSLOG_COMMIT_SECONDS: '1',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { name, child, output: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Appends one log group to every writable shard every `everyMs`, until stopped; counts what it wrote. */
class SteadyWriter {
  written = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly logstore: string, private readonly tag: string) {}
  start(everyMs = 40): this {
    this.timer = setInterval(() => this.writeOnce(), everyMs);
    return this;
  }
  writeOnce(): void {
    for (const shard of emulator.shardIds(PROJECT, this.logstore)) {
      if (emulator.isReadonly(PROJECT, this.logstore, shard)) continue;
      const g = this.seq++;
      const logs = Array.from({ length: PER_GROUP }, (_, i) => ({ time: 1737669036, contents: [['id', `${this.tag}-${shard}-${g}-${i}`]] as Array<[string, string]> }));
      emulator.appendGroup(PROJECT, this.logstore, shard, encodeLogGroup({ logs }));
      this.written += PER_GROUP;
    }
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

const mine = (tag: string): Received[] => rsyslog.messages('tcp').filter((m) => m.msg.startsWith(`id=${tag}-`));
const idOf = (m: Received) => /^id=([^|]+)/.exec(m.msg)![1]!;
/** Ids are `<tag>-<shard>-<group>-<index>`. */
const shardOf = (m: Received) => Number(idOf(m).split('-')[1]);

async function count(t: TestContext, tag: string, written: number) {
  await until(() => new Set(mine(tag).map(idOf)).size >= written, 30_000, `all ${written} ${tag} records (have ${new Set(mine(tag).map(idOf)).size})`);
  await rsyslog.settle('tcp', 500);
  const ids = mine(tag).map(idOf);
  const unique = new Set(ids).size;
  const c = { written, delivered: unique, lost: written - unique, duplicated: ids.length - unique };
  t.diagnostic(`records: ${JSON.stringify(c)}`);
  return c;
}

function group(logstore: string) {
  return emulator.consumerGroups.get(`${PROJECT}/${logstore}/siem`)!;
}

/** No shard's checkpoint ever moved backwards, and none was forced. */
function assertCheckpointsForward(logstore: string): void {
  const last = new Map<number, bigint>();
  for (const h of group(logstore).history) {
    assert.equal(h.forced, false, 'the worker never forces a checkpoint');
    const at = decodeCursor(h.checkpoint)!;
    const before = last.get(h.shard);
    assert.ok(before === undefined || at >= before, `shard ${h.shard}'s checkpoint moved back (${before} -> ${at}) by ${h.consumer}`);
    last.set(h.shard, at);
  }
}

const holders = (logstore: string) => [...(emulator.consumerGroups.get(`${PROJECT}/${logstore}/siem`)?.owners.values() ?? [])];

async function stopAll(...workers: Worker[]): Promise<void> {
  for (const w of workers) w.child.kill('SIGTERM');
  for (const w of workers) {
    const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
    await w.exited;
    clearTimeout(timer);
  }
}

test('SIGTERM one of two workers under load: its shards move only after it checkpointed them; 0 lost, 0 duplicates', async (t) => {
  emulator.createLogstore(PROJECT, 'term', 4);
  const writer = new SteadyWriter('term', 'term').start();
  const a = startWorker('term', 'worker-a');
  const b = startWorker('term', 'worker-b');
  try {
    await until(() => holders('term').filter((o) => o === 'worker-a').length === 2 && holders('term').filter((o) => o === 'worker-b').length === 2, 15_000, 'two shards each');
    await until(() => mine('term').length > 400, 15_000, 'shipping');
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.output().slice(-1500));
    await until(() => holders('term').filter((o) => o === 'worker-b').length === 4, 10_000, 'worker-b holding all four');
    await new Promise((r) => setTimeout(r, 1000));
    writer.stop();
    const c = await count(t, 'term', writer.written);
    assert.equal(c.lost, 0, 'none lost');
    assert.equal(c.duplicated, 0, 'no duplicates on a SIGTERM hand-over');
    assertCheckpointsForward('term');
  } finally {
    writer.stop();
    await stopAll(a, b);
  }
});

test('a third worker joins under load: shards are handed over, not shared; 0 lost, 0 duplicates', async (t) => {
  emulator.createLogstore(PROJECT, 'join', 4);
  const writer = new SteadyWriter('join', 'join').start();
  const a = startWorker('join', 'worker-a');
  const b = startWorker('join', 'worker-b');
  let c: Worker | undefined;
  try {
    await until(() => holders('join').length === 4 && new Set(holders('join')).size === 2, 15_000, 'two workers holding all shards');
    await until(() => mine('join').length > 400, 15_000, 'shipping');
    c = startWorker('join', 'worker-c');
    await until(() => holders('join').includes('worker-c') && holders('join').length === 4, 15_000, 'worker-c holding a shard');
    await until(() => mine('join').some((m) => m.hostname === 'worker-c'), 15_000, 'worker-c shipping');
    await new Promise((r) => setTimeout(r, 1000));
    writer.stop();
    const n = await count(t, 'join', writer.written);
    assert.equal(n.lost, 0, 'none lost');
    assert.equal(n.duplicated, 0, 'no duplicates on rebalancing');
    assertCheckpointsForward('join');
    // Each shard was shipped by one worker at a time: per shard, the hosts follow each other, never interleave.
    for (const shard of [0, 1, 2, 3]) {
      const hosts = mine('join').filter((m) => shardOf(m) === shard).map((m) => m.hostname);
      const runs = hosts.filter((h, i) => i === 0 || h !== hosts[i - 1]);
      assert.equal(new Set(runs).size, runs.length, `shard ${shard} went back and forth: ${runs.join(' > ')}`);
    }
  } finally {
    writer.stop();
    await stopAll(a, b, ...(c ? [c] : []));
  }
});

test('a worker SIGSTOPped past the group timeout stops shipping the moment it runs again, rejoins cleanly; 0 lost', async (t) => {
  emulator.createLogstore(PROJECT, 'pause', 4);
  const writer = new SteadyWriter('pause', 'pause').start();
  const a = startWorker('pause', 'worker-a');
  const b = startWorker('pause', 'worker-b');
  try {
    await until(() => holders('pause').filter((o) => o === 'worker-a').length === 2 && holders('pause').length === 4, 15_000, 'two shards each');
    await until(() => mine('pause').length > 400, 15_000, 'shipping');
    const lostShards = [...group('pause').owners].filter(([, o]) => o === 'worker-a').map(([shard]) => shard);
    // Frozen with a heartbeat in flight: SLS accepts it now and its answer waits in the socket until
    // the worker runs again. Read late, it must not count as a fresh lease.
    const lateAnswer = { api: 'ConsumerGroupHeartBeat', consumer: 'worker-a', answerDelayMs: 300 };
    emulator.faults.push(lateAnswer);
    await until(() => !emulator.faults.includes(lateAnswer), 5_000, 'worker-a sending a heartbeat');
    a.child.kill('SIGSTOP');
    await until(() => holders('pause').filter((o) => o === 'worker-b').length === 4, 10_000, 'worker-b taking over after the timeout');
    await new Promise((r) => setTimeout(r, 1000));
    const seen = rsyslog.messages('tcp').length;
    a.child.kill('SIGCONT');
    await until(() => /"result":"fenced"/.test(a.output()), 5_000, 'worker-a fencing itself');
    await until(() => holders('pause').includes('worker-a'), 15_000, 'worker-a rejoining');
    await new Promise((r) => setTimeout(r, 1000));
    writer.stop();
    const n = await count(t, 'pause', writer.written);
    assert.equal(n.lost, 0, 'none lost');
    // After it ran again, worker-a shipped for a shard it had lost at most the batch it was in (one
    // group each): a record it sent then that worker-b also sent is one shipped without holding the shard.
    const fromB = new Set(mine('pause').filter((m) => m.hostname === 'worker-b').map(idOf));
    const late = rsyslog.messages('tcp').slice(seen).filter((m) => m.hostname === 'worker-a' && m.msg.startsWith('id=pause-') && lostShards.includes(shardOf(m)) && fromB.has(idOf(m)));
    t.diagnostic(`worker-a, after SIGCONT, for the ${lostShards.length} shards worker-b had taken: ${late.length} records (one batch = ${PER_GROUP})`);
    assert.ok(late.length <= lostShards.length * PER_GROUP, `${late.length} records shipped for lost shards`);
    assertCheckpointsForward('pause');
    assert.match(a.output(), /"result":"fenced"/);
  } finally {
    a.child.kill('SIGCONT');
    writer.stop();
    await stopAll(a, b);
  }
});

for (const inOrder of [false, true]) {
  test(`a shard split while consuming${inOrder ? ' (SLS_CONSUMER_IN_ORDER=on)' : ''}: the parent is finished to its end, the children start at their beginning; 0 lost`, async (t) => {
    const logstore = inOrder ? 'splitord' : 'split';
    emulator.createLogstore(PROJECT, logstore, 2);
    const extra = { SLS_START: 'end', ...(inOrder ? { SLS_CONSUMER_IN_ORDER: 'on' } : {}) };
    const a = startWorker(logstore, 'worker-a', extra);
    const b = startWorker(logstore, 'worker-b', extra);
    const writer = new SteadyWriter(logstore, logstore);
    try {
      // SLS_START=end: what counts is written after the group's first checkpoints.
      await until(() => group(logstore)?.checkpoints.size === 2, 15_000, 'both shards started');
      writer.start();
      await until(() => mine(logstore).length > 200, 15_000, 'shipping');
      const children = emulator.splitShard(PROJECT, logstore, 0);
      await until(() => mine(logstore).some((m) => children.includes(shardOf(m))), 15_000, 'a child shard shipped');
      await new Promise((r) => setTimeout(r, 1000));
      writer.stop();
      const n = await count(t, logstore, writer.written);
      assert.equal(n.lost, 0, 'none lost: the children started at their beginning, not at SLS_START=end');
      const parent = group(logstore).checkpoints.get(0)!.checkpoint;
      assert.equal(parent, emulator.cursor(PROJECT, logstore, 0, 'end'), 'the parent was checkpointed at its end');
      await until(() => !group(logstore).owners.has(0), 5_000, 'the finished parent let go');
      if (inOrder) {
        const got = mine(logstore);
        const lastParent = got.map(shardOf).lastIndexOf(0);
        const firstChild = got.findIndex((m) => children.includes(shardOf(m)));
        assert.ok(lastParent < firstChild, `in order: every parent record (last at ${lastParent}) before the first child record (${firstChild})`);
      }
      assertCheckpointsForward(logstore);
    } finally {
      writer.stop();
      await stopAll(a, b);
    }
  });
}
