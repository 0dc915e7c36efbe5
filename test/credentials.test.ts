/**
 * The worker's credentials come through Alibaba Cloud's official chain (@alicloud/credentials):
 * RRSA/OIDC against a local HTTPS STS endpoint that checks what AssumeRoleWithOIDC sends (the
 * worker ships real data with the credentials it got, and fetches new ones before they expire),
 * and the ECS instance role in the hardened metadata mode (IMDSv2 only) served on 100.100.100.200
 * inside a network namespace this test creates. No credential is ever printed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTestPki, type TestPki } from './support/certs';
import { SlsEmulator } from './sls-emulator/server';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';

const ISSUED = { AccessKeyId: 'STS.rrsa-issued', AccessKeySecret: 'rrsa-secret-never-printed', SecurityToken: 'rrsa-token-never-printed' };
let pki: TestPki;
let emulator: SlsEmulator;
let rsyslog: Rsyslog;

before(async () => {
  pki = makeTestPki();
  rsyslog = await new Rsyslog().start();
  emulator = new SlsEmulator({ keys: { [ISSUED.AccessKeyId]: { secret: ISSUED.AccessKeySecret, securityToken: ISSUED.SecurityToken } } });
  await emulator.start();
  emulator.createLogstore('p', 'rrsa', 1);
  for (let g = 0; g < 5; g++) {
    emulator.appendGroup('p', 'rrsa', 0, encodeLogGroup({ logs: Array.from({ length: 10 }, (_, i) => ({ time: 1737669036, contents: [['id', `rrsa-${g}-${i}`]] as Array<[string, string]> })) }));
  }
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

test('RRSA/OIDC (ACK): the worker assumes the role with the projected token, ships with those credentials, and refreshes them before they expire', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sls-fwd-oidc-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig');
  const calls: Array<Record<string, string>> = [];
  const sts = https.createServer({ key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      const query = Object.fromEntries(new URL(req.url ?? '/', 'https://sts').searchParams);
      calls.push({ ...form, Action: query.Action ?? '' });
      // Expires 15 min + 2 s from now: the library's 15-minute margin makes it fetch again within seconds.
      const expiration = new Date(Date.now() + 15 * 60_000 + 2_000).toISOString().replace(/\.\d+Z$/, 'Z');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ RequestId: 'r', Credentials: { ...ISSUED, Expiration: expiration } }));
    });
  });
  await new Promise<void>((r) => sts.listen(0, '127.0.0.1', r));
  const worker = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'consume'], {
    env: {
      PATH: process.env.PATH ?? '', HOME: dir, NODE_EXTRA_CA_CERTS: pki.caFile,
      ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890:role/sls-forwarder', ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1234567890:oidc-provider/ack-rrsa-c123',
      ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile, ALIBABA_CLOUD_STS_ENDPOINT: `127.0.0.1:${(sts.address() as AddressInfo).port}`,
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: 'p', SLS_LOGSTORE: 'rrsa', SLS_CONSUMER_GROUP: 'rrsa', SLS_START: 'begin',
      SLS_HEARTBEAT_MS: '200', SLS_CONSUMER_TIMEOUT_SECONDS: '2', SLS_IDLE_MS: '100',
      SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  worker.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise((r) => worker.once('exit', r));
  try {
    await rsyslog.waitForCount('tcp', 50, 15_000);
    const start = calls.length;
    await new Promise((r) => setTimeout(r, 3_500));
    assert.ok(calls.length > start, `credentials fetched again before they expired (${calls.length} AssumeRoleWithOIDC calls)`);
    const c = calls[0]!;
    assert.equal(c.Action, 'AssumeRoleWithOIDC');
    assert.equal(c.OIDCToken, readFileSync(tokenFile, 'utf8'), 'the projected token, as read from the file');
    assert.equal(c.RoleArn, 'acs:ram::1234567890:role/sls-forwarder');
    assert.equal(c.OIDCProviderArn, 'acs:ram::1234567890:oidc-provider/ack-rrsa-c123');
    worker.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-1500));
    assert.equal(new Set(rsyslog.messages('tcp').map((m) => m.msg).filter((m) => m.startsWith('id=rrsa-'))).size, 50);
    for (const secret of [ISSUED.AccessKeySecret, ISSUED.SecurityToken, 'projected-service-account-token']) assert.ok(!output.includes(secret), 'nothing secret printed');
  } finally {
    worker.kill('SIGKILL');
    sts.close();
  }
});

test('ECS instance RAM role in the hardened metadata mode (IMDSv2 only), on 100.100.100.200 inside a network namespace', (t) => {
  const ns = `slsfwd-${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (made.status !== 0) {
    t.skip(`cannot create a network namespace here (ip netns add: ${made.stderr.trim() || made.error?.message}); the ECS metadata path is not tested on this machine`);
    return;
  }
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', '100.100.100.200/32', 'dev', 'lo']);
    const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(__dirname, 'support/ecs-metadata-check.ts')], {
      encoding: 'utf8', timeout: 30_000, cwd: join(__dirname, '..'),
      env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'sls-fwd-ecs-')), ALIBABA_CLOUD_ECS_METADATA: 'sls-forwarder-role', ALIBABA_CLOUD_IMDSV1_DISABLED: 'true' },
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    const seen = JSON.parse(line || '{}') as { cursor?: string; error?: string; tokenRequests?: number; readsWithToken?: number; readsWithoutToken?: number };
    assert.equal(seen.error, '', `a signed GetCursor with the role's credentials: ${run.stderr}${line}`);
    assert.ok(seen.cursor, 'got a cursor');
    assert.ok(seen.tokenRequests! >= 1 && seen.readsWithToken! >= 1, 'the IMDSv2 token was asked for and sent');
    assert.equal(seen.readsWithoutToken, 0, 'no token-less (IMDSv1) read');
    assert.ok(!run.stdout.includes('ecs-role-secret-do-not-print') && !run.stderr.includes('ecs-role-secret-do-not-print'), 'nothing secret printed');
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});
