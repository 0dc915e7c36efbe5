/**
 * The emulator is checked with the official @alicloud/log SDK as a client (a signer and protobuf
 * encoder nobody here wrote), then the forwarder's own SLS client is checked against it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeLogGroupList } from '../src/decode/log-group';
import { SlsError } from '../src/errors';
import { SlsClient } from '../src/sls/client';
import { SlsEmulator } from './sls-emulator/server';
import { officialSdk } from './support/sdk';

const creds = { accessKeyId: 'STS.test-key', accessKeySecret: 'test-secret', securityToken: 'test-token' };
const emulator = new SlsEmulator({ keys: { [creds.accessKeyId]: { secret: creds.accessKeySecret, securityToken: creds.securityToken } }, maxPullBytes: 4096 });
const fastRetry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

before(async () => {
  await emulator.start();
  const { client, options } = officialSdk(emulator.endpoint, creds);
  await client.createProject('proj', { description: 'test' }, options);
  await client.createLogStore('proj', 'store', { ttl: 7, shardCount: 2 }, options);
  for (let g = 0; g < 20; g++) {
    await client.postLogStoreLogs(
      'proj', 'store',
      {
        logs: Array.from({ length: 10 }, (_, i) => ({ timestamp: 1737669036 + g, timestampNsPart: i * 1000, content: { g: String(g), i: String(i), pad: 'x'.repeat(100) } })),
        topic: 'topic-a', source: '10.0.0.9', tags: [{ env: 'test' }],
      },
      options,
    );
  }
});
after(() => emulator.stop());

test('the official SDK\'s signed, protobuf PutLogs requests are accepted and stored', () => {
  assert.equal(emulator.groupCount('proj', 'store', 0), 20);
  const puts = emulator.requests.filter((r) => r.api === 'PutLogs');
  assert.equal(puts.length, 20);
  assert.ok(puts.every((r) => r.status === 200 && r.headers['x-acs-security-token'] === 'test-token'));
});

test('the emulator rejects the SDK with a wrong secret (SignatureNotMatch) or a missing STS token', async () => {
  const wrong = officialSdk(emulator.endpoint, { ...creds, accessKeySecret: 'nope' });
  await assert.rejects(wrong.client.postLogStoreLogs('proj', 'store', { logs: [{ timestamp: 1, content: { a: 'b' } }] }, wrong.options), (err: Error & { code?: string; requestid?: string }) => {
    assert.equal(err.code, 'SignatureNotMatch');
    assert.match(err.requestid ?? '', /^[0-9A-F]{24}$/);
    return true;
  });
  const noToken = officialSdk(emulator.endpoint, { accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret });
  await assert.rejects(noToken.client.postLogStoreLogs('proj', 'store', { logs: [{ timestamp: 1, content: { a: 'b' } }] }, noToken.options), { code: 'Unauthorized' });
  assert.equal(emulator.groupCount('proj', 'store', 0), 20, 'nothing stored by rejected requests');
});

test('PullLogs loops under the byte cap and returns the same groups with lz4, deflate and no compression', async () => {
  const results: string[] = [];
  for (const compression of ['lz4', 'deflate', 'none'] as const) {
    const client = new SlsClient({ endpoint: emulator.endpoint, project: 'proj', credentials: creds, compression, retry: fastRetry });
    const end = emulator.cursor('proj', 'store', 0, 'end');
    let cursor = emulator.cursor('proj', 'store', 0, 'begin');
    const groups = [];
    let pulls = 0;
    while (cursor !== end) {
      const r = await client.pullLogs('store', 0, cursor, end, 100);
      pulls++;
      groups.push(...decodeLogGroupList(r.body));
      assert.equal(decodeLogGroupList(r.body).length, r.groupCount);
      cursor = r.nextCursor;
    }
    client.close();
    assert.ok(pulls > 1, `the byte cap forced ${pulls} pulls`);
    assert.equal(groups.length, 20);
    assert.deepEqual(groups[3]!.tags.map(([k]) => k), ['env', '__receive_time__']);
    assert.equal(groups[3]!.logs[9]!.timeNs, 9000);
    results.push(JSON.stringify(groups));
  }
  assert.equal(new Set(results).size, 1);
  const encodings = emulator.requests.filter((r) => r.api === 'PullLogs').map((r) => r.headers['accept-encoding']);
  assert.ok(encodings.includes('lz4') && encodings.includes('deflate'));
});

test('GetCursor answers begin/end/time and an end_cursor bounds the pull', async () => {
  const client = new SlsClient({ endpoint: emulator.endpoint, project: 'proj', credentials: creds, retry: fastRetry });
  assert.equal(await client.getCursor('store', 0, 'begin'), emulator.cursor('proj', 'store', 0, 'begin'));
  assert.equal(await client.getCursor('store', 0, 'end'), emulator.cursor('proj', 'store', 0, 'end'));
  const r = await client.pullLogs('store', 0, emulator.cursor('proj', 'store', 0, 2), emulator.cursor('proj', 'store', 0, 4), 100);
  assert.equal(r.groupCount, 2);
  assert.equal(r.nextCursor, emulator.cursor('proj', 'store', 0, 4));
  client.close();
});

test('SLS errors carry code, status and request id; non-retryable ones fail at once', async () => {
  const client = new SlsClient({ endpoint: emulator.endpoint, project: 'proj', credentials: creds, retry: fastRetry });
  const before = emulator.requests.length;
  await assert.rejects(client.pullLogs('store', 0, Buffer.from('99').toString('base64'), emulator.cursor('proj', 'store', 0, 'end'), 10), (err: SlsError) => {
    assert.ok(err instanceof SlsError);
    assert.equal(err.code, 'InvalidCursor');
    assert.equal(err.status, 400);
    assert.match(err.message, /request id [0-9A-F]{24}/);
    assert.match(err.message, /fresh cursors/);
    return true;
  });
  assert.equal(emulator.requests.length - before, 1, 'InvalidCursor is not retried');
  await assert.rejects(client.pullLogs('nostore', 0, 'MQ==', 'Mg==', 10), { code: 'LogStoreNotExist' });
  const bad = new SlsClient({ endpoint: emulator.endpoint, project: 'proj', credentials: { ...creds, accessKeySecret: 'x' }, retry: fastRetry });
  await assert.rejects(bad.getCursor('store', 0, 'begin'), (err: SlsError) => err.code === 'SignatureNotMatch' && !err.message.includes('x-secret'));
  client.close();
  bad.close();
});

test('throttling, 5xx and connection resets are retried with backoff until they clear', async () => {
  const client = new SlsClient({ endpoint: emulator.endpoint, project: 'proj', credentials: creds, retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 5 } });
  emulator.faults.push(
    { api: 'PullLogs', status: 403, code: 'ShardReadQuotaExceed' },
    { api: 'PullLogs', status: 502, code: 'BadGateway' },
    { api: 'PullLogs', reset: true },
  );
  const r = await client.pullLogs('store', 0, emulator.cursor('proj', 'store', 0, 'begin'), emulator.cursor('proj', 'store', 0, 1), 1);
  assert.equal(r.groupCount, 1);
  assert.equal(emulator.faults.length, 0);
  emulator.faults.push(...Array.from({ length: 5 }, () => ({ api: 'PullLogs', status: 403, code: 'ReadQuotaExceed' })));
  await assert.rejects(client.pullLogs('store', 0, emulator.cursor('proj', 'store', 0, 'begin'), emulator.cursor('proj', 'store', 0, 1), 1), { code: 'ReadQuotaExceed' });
  client.close();
});

test('consumer groups through the SDK\'s own signed requests: hold-until-released hand-over, ownership-checked checkpoints, refused heartbeats after a timeout', async () => {
  const { client, options } = officialSdk(emulator.endpoint, creds);
  const call = (verb: string, path: string, queries: Record<string, string> | undefined, json?: unknown) =>
    client._request(verb, 'proj', `/logstores/store/consumergroups${path}`, queries ?? {}, json === undefined ? undefined : Buffer.from(JSON.stringify(json)), {}, options);
  await call('POST', '', undefined, { consumerGroup: 'sdk-cg', timeout: 1, order: false });
  const beat = (consumer: string, held: number[]) => call('POST', '/sdk-cg', { type: 'heartbeat', consumer }, held) as Promise<number[]>;
  const checkpoint = (consumer: string, shard: number, force: boolean) =>
    call('POST', '/sdk-cg', { type: 'checkpoint', consumer, forceSuccess: String(force) }, { shard, checkpoint: 'MTczNzY2OTAzNjAxNzIxODQ1NQ==' });
  assert.deepEqual(await beat('a', []), [0, 1], 'a alone is given both shards');
  assert.deepEqual(await beat('b', []), [], 'b joins: nothing is free yet');
  assert.deepEqual(await beat('a', [0, 1]), [0], 'a is told to let one go, and still holds it');
  assert.deepEqual(await beat('b', []), [], 'shard 1 is not b\'s until a stops listing it');
  await assert.rejects(checkpoint('b', 1, false), (e: { code?: string }) => e.code === 'ConsumerNotMatch');
  await assert.rejects(checkpoint('nobody', 1, false), (e: { code?: string }) => e.code === 'ConsumerNotExist');
  await checkpoint('a', 1, false); // the holder checkpoints before letting go
  assert.deepEqual(await beat('a', [0]), [0], 'a lets shard 1 go');
  assert.deepEqual(await beat('b', []), [1], 'now b gets it');
  await checkpoint('other', 0, true); // forced: taken from anyone
  const list = (await call('GET', '/sdk-cg', undefined)) as Array<{ shard: number; consumer: string }>;
  assert.deepEqual(list.map((c) => [c.shard, c.consumer]).sort(), [[0, 'other'], [1, 'a']]);
  // a goes silent past the 1 s timeout: its shard goes to b, and its own heartbeat is refused until it holds nothing.
  await new Promise((r) => setTimeout(r, 600));
  await beat('b', [1]);
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(await beat('b', [1]), [0, 1], 'a timed out: b is given shard 0');
  await assert.rejects(beat('a', [0]), (e: { code?: string }) => e.code === 'ConsumerNotExist');
  assert.deepEqual(await beat('a', []), [], 'a rejoins holding nothing');
});
