/**
 * SPL on the way (SLS_QUERY, SLS_CONSUME_PROCESSOR), through the emulator's documented SPL subset:
 * filtering, column trimming and a constant column; pulls whose groups were all filtered out still
 * move the cursor and are not the end of the range; an invalid statement fails at the first pull
 * with SLS's message and what to fix. Also the worker's backfill (SLS_END) with a query.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/settings';
import { compileSpl } from './sls-emulator/spl';
import { SlsEmulator } from './sls-emulator/server';
import { invokeFunction, startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';

const PROJECT = 'spl';
const GROUPS = 30;
const PER_GROUP = 10;
let emulator: SlsEmulator;
let rsyslog: Rsyslog;
/** Ids of the records with status 500: every third group has one per record, the rest none. */
const errors = new Set<string>();

before(async () => {
  rsyslog = await new Rsyslog().start();
  emulator = await startEmulator();
  emulator.createLogstore(PROJECT, 'web', 2);
  for (let shard = 0; shard < 2; shard++) {
    for (let g = 0; g < GROUPS; g++) {
      const logs = Array.from({ length: PER_GROUP }, (_, i) => {
        const id = `w${shard}-${g}-${i}`;
        const status = g % 3 === 0 ? '500' : '200';
        if (status === '500') errors.add(id);
        return { time: 1737669036, contents: [['id', id], ['status', status], ['path', i % 2 ? '/api/login' : '/static/x.png'], ['pad', 'z'.repeat(50)]] as Array<[string, string]> };
      });
      emulator.appendGroup(PROJECT, 'web', shard, encodeLogGroup({ logs }));
    }
  }
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

test("the emulator's SPL subset: where (comparisons, like, and/or/not), project, project-away, extend; errors say where", () => {
  const f: Array<[string, string]> = [['status', '500'], ['path', '/api/login'], ['ms', '1200'], ['pad', 'x']];
  assert.deepEqual(compileSpl("* | where status = '500' and path like '/api/%' | project-away pad | extend env = 'prod'")(f), [['status', '500'], ['path', '/api/login'], ['ms', '1200'], ['env', 'prod']]);
  assert.equal(compileSpl('* | where ms > 999 and not (status = \'200\' or status = \'404\')')(f)?.length, 4, 'numbers compare as numbers');
  assert.equal(compileSpl("* | where ms < '2'")(f), undefined, 'numeric: 1200 is not below 2');
  assert.equal(compileSpl("* | where missing = 'x'")(f), undefined, 'a missing field compares false');
  assert.deepEqual(compileSpl('* | project "status", path')(f), [['status', '500'], ['path', '/api/login']]);
  assert.throws(() => compileSpl("* | where status = "), /SPL syntax error at the end/);
  assert.throws(() => compileSpl("* | wher status = '1'"), /SPL syntax error at position 4 \("wher"\): unknown command/);
});

function event() {
  return {
    parameter: {},
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: 'web', shardId: 0,
      beginCursor: emulator.cursor(PROJECT, 'web', 0, 'begin'), endCursor: emulator.cursor(PROJECT, 'web', 0, 'end'),
    },
  };
}
const base = () => ({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), SLS_PULL_COUNT: '1' });
const ids = (shard: number) => rsyslog.messages('tcp').map((m) => /id=([^|]+)/.exec(m.msg)?.[1] ?? '?').filter((id) => id.startsWith(`w${shard}-`));
const shardErrors = (shard: number) => [...errors].filter((id) => id.startsWith(`w${shard}-`));

for (const way of ['SLS_QUERY', 'SLS_CONSUME_PROCESSOR'] as const) {
  test(`${way}: only the matching records arrive, trimmed and extended; filtered-out pulls move on; the summary counts before and after`, async () => {
    rsyslog.clear();
    emulator.processors.set('only-errors', "* | where status = '500' | project-away pad | extend env = 'prod'");
    const setting: Record<string, string> = way === 'SLS_QUERY' ? { SLS_QUERY: "* | where status = '500' | project-away pad | extend env = 'prod'" } : { SLS_CONSUME_PROCESSOR: 'only-errors' };
    const before = emulator.requests.length;
    const out = await invokeFunction({ ...base(), ...setting }, event());
    assert.equal(out.error, null, out.error?.message);
    const r = out.result!;
    assert.equal(r.records, shardErrors(0).length, 'records after the query');
    assert.equal(r.recordsBeforeQuery, GROUPS * PER_GROUP, 'records before the query');
    assert.ok((r.bytesBeforeQuery as number) > 0);
    const pulls = emulator.requests.slice(before).filter((q) => q.api === 'PullLogs');
    assert.equal(pulls.length, GROUPS, 'one pull per group: those answering no groups did not end the range');
    assert.ok(pulls.every((q) => (way === 'SLS_QUERY' ? q.query.pullMode === 'scan_on_stream' && q.query.query !== undefined : q.query.processor === 'only-errors')));
    const got = await rsyslog.waitForCount('tcp', shardErrors(0).length);
    assert.deepEqual(ids(0).sort(), shardErrors(0).sort(), 'exactly the status-500 records, once');
    assert.ok(got.every((m) => !m.msg.includes('pad=') && m.msg.includes('env=prod')), 'pad trimmed, env added');
  });
}

test('an invalid SPL statement fails at the first pull with SLS\'s message and what to fix; an unknown processor too', async () => {
  const before = emulator.requests.length;
  const bad = await invokeFunction({ ...base(), SLS_QUERY: "* | where status == '500'" }, event());
  assert.ok(bad.error);
  assert.match(bad.error.message, /SLS PullLogs failed: InvalidSpl \(HTTP 400\): SPL syntax error at position \d+/);
  assert.match(bad.error.message, /SLS refused the SPL statement in SLS_QUERY/);
  assert.equal(emulator.requests.slice(before).filter((q) => q.api === 'PullLogs').length, 1, 'failed at the first pull, not retried');
  const missing = await invokeFunction({ ...base(), SLS_CONSUME_PROCESSOR: 'nope' }, event());
  assert.match(missing.error!.message, /ConsumeProcessorNotExist .*check that it exists in the project/);
  assert.throws(() => loadConfig({ ...base(), SLS_QUERY: '*', SLS_CONSUME_PROCESSOR: 'x' }), /set one of them/);
});

test('worker backfill (SLS_END=end) with a query: every shard is shipped to where it ended at the start, then the worker exits 0', async () => {
  rsyslog.clear();
  const child = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'consume'], {
    env: {
      PATH: process.env.PATH ?? '',
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: PROJECT, SLS_LOGSTORE: 'web', SLS_CONSUMER_GROUP: 'backfill', SLS_START: 'begin', SLS_END: 'end',
      SLS_HEARTBEAT_MS: '200', SLS_CONSUMER_TIMEOUT_SECONDS: '2', SLS_IDLE_MS: '50', SLS_CHECKPOINT_MS: '0', SLS_QUERY: "* | where status = '500'",
      // The sample program's names, as aliases.
      SLS_AK_ID: TEST_CREDENTIALS.accessKeyId, SLS_AK_KEY: TEST_CREDENTIALS.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
      ...base(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  // Written once the worker has fixed each shard's end (its GetCursor from=end): past SLS_END, so not shipped.
  const endFixed = (shard: number) => emulator.requests.some((r) => r.api === 'GetCursor' && r.query.from === 'end' && r.path.endsWith(`/web/shards/${shard}`) && r.status === 200);
  const written = new Set<number>();
  const late = setInterval(() => {
    for (let shard = 0; shard < 2; shard++) {
      if (written.has(shard) || !endFixed(shard)) continue;
      written.add(shard);
      emulator.appendGroup(PROJECT, 'web', shard, encodeLogGroup({ logs: [{ time: 1737669036, contents: [['id', `w${shard}-late`], ['status', '500']] }] }));
    }
  }, 5);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise((r) => child.once('exit', r));
  clearTimeout(timer);
  clearInterval(late);
  assert.equal(written.size, 2, 'a late record was written to each shard after its end was fixed');
  assert.equal(code, 0, output.slice(-2000));
  assert.match(output, /"result":"backfill-done"/);
  assert.match(output, /SLS_AK_ID is the sample program's name for ALIBABA_CLOUD_ACCESS_KEY_ID/);
  assert.ok(!output.includes(TEST_CREDENTIALS.accessKeySecret), 'no credential printed');
  await rsyslog.settle('tcp');
  for (const shard of [0, 1]) assert.deepEqual(ids(shard).sort(), shardErrors(shard).sort(), `shard ${shard}: its status-500 records up to the start, once`);
});
