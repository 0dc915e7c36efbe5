/**
 * `sls-syslog-forwarder check` against the real parts: rsyslog over TLS, the SLS emulator and the
 * HEC stub, on 127.0.0.1. Each failure a user meets (wrong CA, wrong port, bad credentials, a
 * missing logstore) is a line that says what to fix, and the exit code says whether all passed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { HecStub } from './support/hec-stub';
import { encodeLogGroup } from './support/log-group-writer';
import { freePort, Rsyslog } from './support/rsyslog';

let pki: TestPki;
let rsyslog: Rsyslog;
let emulator: SlsEmulator;
let hec: HecStub;

before(async () => {
  pki = makeTestPki();
  rsyslog = await new Rsyslog({ tls: pki }).start();
  emulator = await startEmulator();
  emulator.createLogstore('p', 'waf', 2);
  emulator.appendGroup('p', 'waf', 0, encodeLogGroup({ logs: [{ time: 1737669036, contents: [['id', 'c-1']] }] }));
  hec = await new HecStub({ key: readFileSync(pki.keyFile, 'utf8'), cert: readFileSync(pki.certFile, 'utf8'), token: 'hec-token', ack: false }).start();
});
after(async () => {
  await Promise.all([rsyslog?.stop(), emulator?.stop(), hec?.stop()]);
});

const sls = {
  SLS_ENDPOINT: '', SLS_PROJECT: 'p', SLS_LOGSTORE: 'waf', SLS_CONSUMER_GROUP: 'siem',
  ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
  ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
};
const tlsSiem = () => ({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA_FILE: pki.caFile });

/** Runs `check` in its own process (asynchronously: the emulator and the HEC stub answer from this one). */
async function check(env: Record<string, string>, ...args: string[]) {
  const child = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'check', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const lines = out.trim().split('\n');
  const line = (what: RegExp) => lines.find((l) => what.test(l)) ?? '';
  return { code, out, err, line };
}

test('all good (TLS with the CA, SLS readable): every line ok, the test certificate\'s near expiry a warning, exit 0', async () => {
  const r = await check({ ...tlsSiem(), ...sls, SLS_ENDPOINT: emulator.endpoint });
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.line(/settings/), /^\[ ok \] settings .*valid \(tls to 127\.0\.0\.1:\d+\)/);
  assert.match(r.line(/SIEM connection/), /^\[ ok \] .*accepted the TLS handshake/);
  // makeTestPki signs for 2 days: inside the 30-day warning window.
  assert.match(r.line(/SIEM certificate/), /^\[warn\] .*expires in [01] day\(s\).*renew it/);
  assert.match(r.line(/SLS logstore/), /^\[ ok \] .*p\/waf: 2 shard\(s\)/);
  assert.match(r.line(/SLS PullLogs/), /^\[ ok \] .*shard 0: read 1 log group/);
  assert.match(r.line(/SLS consumer group/), /^\[warn\] .*siem does not exist yet: the worker creates it/);
  assert.ok(!r.out.includes(TEST_CREDENTIALS.accessKeySecret) && !r.out.includes(TEST_CREDENTIALS.securityToken), 'no credential printed');
});

test('--send-test sends one message marked as a test, proven delivered', async () => {
  rsyslog.clear();
  const r = await check(tlsSiem(), '--send-test');
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.line(/test message/), /^\[ ok \] test message .*proven delivered \(close\)/);
  const [got] = await rsyslog.waitForCount('tls', 1);
  assert.equal(got!.app, 'sls-syslog-forwarder');
  assert.equal(got!.msgid, 'CHECK');
  assert.match(got!.msg, /\[TEST\]/);
});

test('each failure is a line that says what to fix, and exit 1', async () => {
  const otherCa = await check({ ...tlsSiem(), SYSLOG_TLS_CA_FILE: pki.otherCaFile });
  assert.equal(otherCa.code, 1);
  assert.match(otherCa.line(/SIEM connection/), /^\[FAIL\] .*certificate was not accepted.*SYSLOG_TLS_CA_FILE/);

  const port = await freePort('tcp');
  const wrongPort = await check({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(port) });
  assert.equal(wrongPort.code, 1);
  assert.match(wrongPort.line(/SIEM connection/), /^\[FAIL\] .*ECONNREFUSED.*check SYSLOG_HOST, SYSLOG_PORT/);

  const badKey = await check({ ...tlsSiem(), ...sls, SLS_ENDPOINT: emulator.endpoint, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret' });
  assert.equal(badKey.code, 1);
  assert.match(badKey.line(/SLS/), /^\[FAIL\] SLS .*SignatureNotMatch/);
  assert.ok(!badKey.out.includes('not-the-secret'));

  const noStore = await check({ ...tlsSiem(), ...sls, SLS_ENDPOINT: emulator.endpoint, SLS_LOGSTORE: 'missing' });
  assert.equal(noStore.code, 1);
  assert.match(noStore.line(/SLS/), /^\[FAIL\] SLS .*LogStoreNotExist.*Check source\.logstoreName/);

  const badSetting = await check({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'smoke-signals' });
  assert.equal(badSetting.code, 1);
  assert.match(badSetting.line(/settings/), /^\[FAIL\] settings +SYSLOG_PROTOCOL="smoke-signals" is not one of/);
  for (const r of [otherCa, wrongPort, badKey, noStore, badSetting]) assert.doesNotMatch(r.out + r.err, /\n\s+at .+:\d+:\d+/, 'no stack trace');
});

test('Splunk HEC: the collector\'s health call is the check', async () => {
  const ok = await check({ OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: hec.url, SPLUNK_HEC_TOKEN: 'hec-token', SPLUNK_HEC_CA_FILE: pki.caFile });
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.line(/Splunk HEC health/), /^\[ ok \] Splunk HEC health .*accepted/);
});

test('SYSLOG_TLS_INSECURE: the handshake is reported, the certificate as NOT verified (a warning), never as verified', async () => {
  const r = await check({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_INSECURE: 'true' });
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.line(/SIEM connection/), /^\[ ok \] .*accepted the TLS handshake$/);
  assert.match(r.line(/SIEM certificate/), /^\[warn\] SIEM certificate +certificate NOT verified \(SYSLOG_TLS_INSECURE=true\)/);
  assert.doesNotMatch(r.out, /(?<!NOT )verified/, 'no line says verified');
});
