/**
 * Credentials never reach a log line, an error or a summary, whatever happens; secrets in settings
 * are redacted when the settings are echoed; TLS verification cannot be switched off by accident.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { describeConfig, loadConfig } from '../src/settings';
import { flatConfig } from './support/settings';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { type Invocation, invokeFunction, startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { freePort, Rsyslog } from './support/rsyslog';

let rsyslog: Rsyslog;
let emulator: SlsEmulator;
let pki: TestPki;
const SECRETS = [TEST_CREDENTIALS.accessKeySecret, TEST_CREDENTIALS.securityToken];

before(async () => {
  pki = makeTestPki();
  rsyslog = await new Rsyslog({ tls: pki }).start();
  emulator = await startEmulator();
  emulator.createLogstore('proj', 'logs', 1);
  emulator.appendGroup('proj', 'logs', 0, encodeLogGroup({ logs: [{ time: 1, contents: [['msg', 'hello']] }] }));
});
after(async () => {
  await rsyslog?.stop();
  await emulator?.stop();
});

const event = () => ({ source: { endpoint: emulator.endpoint, projectName: 'proj', logstoreName: 'logs', shardId: 0, beginCursor: 'begin', endCursor: 'end' } });

function everything(out: Invocation): string {
  // Also look for the secrets base64-encoded, as a careless header dump would show them.
  return [out.stdout, out.stderr, JSON.stringify(out.error), JSON.stringify(out.result)].join('\n');
}

function assertClean(text: string, secrets: string[]): void {
  for (const s of secrets) {
    assert.ok(!text.includes(s), `secret ${s.slice(0, 4)}... leaked`);
    assert.ok(!text.includes(Buffer.from(s).toString('base64')), `base64 of ${s.slice(0, 4)}... leaked`);
  }
}

test('no credential in any output: success, SLS rejection, unreachable SIEM, bad settings, bad event, deadline', async () => {
  const env = { SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp) };
  const wrong = { ...TEST_CREDENTIALS, accessKeySecret: 'WRONG-secret-9f8e7d' };
  const runs = [
    await invokeFunction(env, event()),
    await invokeFunction(env, event(), { credentials: wrong }),
    await invokeFunction({ ...env, SYSLOG_PORT: String(await freePort('tcp')), SYSLOG_CONNECTION: 'per-invocation' }, event()),
    await invokeFunction({ SYSLOG_PROTOCOL: 'nope' }, event()),
    await invokeFunction(env, '{"key1":"value1"}'),
  ];
  emulator.pullDelayMs = 1500;
  try {
    runs.push(await invokeFunction(env, event(), { timeoutSeconds: 2 }));
  } finally {
    emulator.pullDelayMs = 0;
  }
  assert.equal(runs[0]!.error, null);
  for (const out of runs.slice(1)) assert.ok(out.error, 'each failure is reported');
  for (const out of runs) assertClean(everything(out), [...SECRETS, wrong.accessKeySecret]);
});

test('settings with secrets are redacted when echoed (init line, describeConfig)', async () => {
  const passphrase = 'pass-PHRASE-5521';
  const key = readFileSync(pki.clientKeyFile, 'utf8');
  const env = {
    SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA: readFileSync(pki.caFile, 'utf8'),
    SYSLOG_TLS_CERT: readFileSync(pki.clientCertFile, 'utf8'), SYSLOG_TLS_KEY: key, SYSLOG_TLS_KEY_PASSPHRASE: passphrase,
  };
  const echoed = JSON.stringify(describeConfig(loadConfig(env)));
  const keyBody = key.split('\n')[1]!;
  assert.ok(!echoed.includes(passphrase) && !echoed.includes(keyBody) && echoed.includes('[redacted]'));
  const out = await invokeFunction(env, event());
  assert.equal(out.error, null, out.error?.message);
  assert.match(out.stdout, /"sls-syslog-forwarder.init","result":"ok"/);
  assertClean(everything(out), [...SECRETS, passphrase, keyBody]);
});

test('certificate verification is off only with the exact switch; anything else is an error or stays on', async () => {
  for (const v of ['true', 'on', 'yes', '1']) assert.equal(flatConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_INSECURE: v }).tls.insecure, true);
  for (const v of ['', 'false', 'off', '0']) assert.equal(flatConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_INSECURE: v }).tls.insecure, false);
  for (const v of ['ture', 'insecure', 'disable', 'y']) assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_INSECURE: v }), /must be on or off/);
  // Not even Node's global escape hatch turns it off.
  const out = await invokeFunction(
    { SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_PROTOCOL: 'tls', NODE_TLS_REJECT_UNAUTHORIZED: '0' },
    event(),
  );
  assert.ok(out.error, 'an untrusted certificate must still be refused');
  assert.match(out.error.message, /certificate/i);
});
