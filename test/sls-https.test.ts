/**
 * HTTPS to SLS by default: the trigger event names `http://<region>-intranet.log.aliyuncs.com`;
 * the function upgrades Alibaba's endpoints to HTTPS (the STS token never travels in clear),
 * verifies the certificate, and says which it used. Served by the emulator over HTTPS under such a
 * name (a throwaway CA added to the roots with NODE_EXTRA_CA_CERTS; a resolver override maps
 * *.log.aliyuncs.com to 127.0.0.1 in the function's process only).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { operatorEndpoint, triggerEndpoint } from '../src/sls/endpoint';
import { SlsEmulator } from './sls-emulator/server';
import { makeServerCert, makeTestPki, type TestPki } from './support/certs';
import { invokeFunction, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';

const HOST = 'cn-hangzhou-intranet.log.aliyuncs.com';
const keys = { [TEST_CREDENTIALS.accessKeyId]: { secret: TEST_CREDENTIALS.accessKeySecret, securityToken: TEST_CREDENTIALS.securityToken } };
let pki: TestPki;
let secure: SlsEmulator;
let plain: SlsEmulator;
let rsyslog: Rsyslog;

function seed(e: SlsEmulator): void {
  e.createLogstore('sec-logs', 'waf', 1);
  e.appendGroup('sec-logs', 'waf', 0, encodeLogGroup({ logs: Array.from({ length: 20 }, (_, i) => ({ time: 1737669036, contents: [['id', `h-${i}`]] as Array<[string, string]> })) }));
}

before(async () => {
  pki = makeTestPki();
  const cert = makeServerCert(pki, [`*.${HOST}`, HOST]);
  secure = new SlsEmulator({ keys, tls: { key: readFileSync(cert.keyFile), cert: readFileSync(cert.certFile) } });
  plain = new SlsEmulator({ keys });
  await Promise.all([secure.start(), plain.start()]);
  seed(secure);
  seed(plain);
  rsyslog = await new Rsyslog().start();
});
after(async () => {
  await Promise.all([secure?.stop(), plain?.stop(), rsyslog?.stop()]);
});

function event(e: SlsEmulator) {
  return {
    parameter: {},
    // As the trigger writes it: http, the intranet name (with the test emulator's port).
    source: { endpoint: `http://${HOST}:${e.listenPort}`, projectName: 'sec-logs', logstoreName: 'waf', shardId: 0, beginCursor: e.cursor('sec-logs', 'waf', 0, 'begin'), endCursor: e.cursor('sec-logs', 'waf', 0, 'end') },
  };
}

const env = (extra: Record<string, string> = {}) => ({
  SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp),
  NODE_OPTIONS: `--require ${join(__dirname, 'support/resolve-sls-to-loopback.cjs')}`, ...extra,
});

test('which endpoints are upgraded: the operator\'s Alibaba http ones, unless SLS_HTTPS=off; others as given', () => {
  assert.deepEqual(operatorEndpoint('http://cn-shanghai-intranet.log.aliyuncs.com', true), { url: 'https://cn-shanghai-intranet.log.aliyuncs.com', scheme: 'https' });
  assert.deepEqual(operatorEndpoint('http://cn-shanghai-intranet.log.aliyuncs.com', false), { url: 'http://cn-shanghai-intranet.log.aliyuncs.com', scheme: 'http' });
  assert.deepEqual(operatorEndpoint('cn-shanghai.log.aliyuncs.com', true), { url: 'https://cn-shanghai.log.aliyuncs.com', scheme: 'https' });
  assert.deepEqual(operatorEndpoint('http://sls-proxy.corp.example:8080', true), { url: 'http://sls-proxy.corp.example:8080', scheme: 'http' }, 'not Alibaba\'s: as given');
  assert.deepEqual(operatorEndpoint('http://evil-log.aliyuncs.com.example', true).scheme, 'http', 'only *.log.aliyuncs.com itself');
});

test('an event\'s endpoint: Alibaba\'s always over HTTPS (in FC_REGION when set), anything else only when named in SLS_ALLOWED_ENDPOINTS', () => {
  const policy = { https: true, allowed: [] as string[], region: undefined as string | undefined };
  assert.deepEqual(triggerEndpoint('http://cn-shanghai-intranet.log.aliyuncs.com', policy), { url: 'https://cn-shanghai-intranet.log.aliyuncs.com', scheme: 'https' });
  assert.equal(triggerEndpoint('http://cn-shanghai-intranet.log.aliyuncs.com', { ...policy, https: false }).scheme, 'https', 'SLS_HTTPS=off alone never sends an event\'s token in clear');
  assert.equal(triggerEndpoint('cn-shanghai-finance-1-share.log.aliyuncs.com', policy).url, 'https://cn-shanghai-finance-1-share.log.aliyuncs.com');
  assert.equal(triggerEndpoint('http://log-global.aliyuncs.com', policy).url, 'https://log-global.aliyuncs.com');
  const refusedHosts = [
    'http://127.0.0.1:8080', 'http://attacker.example:8080', 'http://cn-hangzhou.log.aliyuncs.com.attacker.example',
    'http://100.100.100.200', 'http://evil.cn-hangzhou.log.aliyuncs.com', 'http://localhost', 'http://[::1]:80', 'https://log.aliyuncs.com',
    'http://user@cn-hangzhou.log.aliyuncs.com', 'http://cn-hangzhou.log.aliyuncs.com/x',
  ];
  for (const endpoint of refusedHosts) {
    assert.throws(() => triggerEndpoint(endpoint, policy), /Refused source\.endpoint .*SLS_ALLOWED_ENDPOINTS/, endpoint);
  }
  assert.throws(() => triggerEndpoint('http://cn-shanghai.log.aliyuncs.com', { ...policy, region: 'cn-hangzhou' }), /region "cn-shanghai".*"cn-hangzhou" \(FC_REGION\)/);
  assert.equal(triggerEndpoint('http://cn-hangzhou-intranet.log.aliyuncs.com', { ...policy, region: 'cn-hangzhou' }).scheme, 'https');
  const named = { ...policy, allowed: ['sls-proxy.corp.example', '*.sls.corp.example', '127.0.0.1'], project: 'proj' };
  assert.throws(() => triggerEndpoint('http://sls-proxy.corp.example', { ...named, project: undefined }), /reached as <project>\.sls-proxy\.corp\.example.*set SLS_PROJECT/, 'the event would choose the host');
  assert.equal(triggerEndpoint('http://127.0.0.1:9', { ...named, project: undefined }).url, 'http://127.0.0.1:9', 'an IP is connected to directly');
  assert.deepEqual(triggerEndpoint('http://sls-proxy.corp.example:8080', named), { url: 'http://sls-proxy.corp.example:8080', scheme: 'http' }, 'a named host may use plain http');
  assert.equal(triggerEndpoint('http://a.b.sls.corp.example', named).scheme, 'http');
  assert.equal(triggerEndpoint('http://127.0.0.1:9', named).url, 'http://127.0.0.1:9');
  assert.throws(() => triggerEndpoint('http://sls.corp.example', named), /Refused/, '*.suffix is for subdomains');
  assert.throws(() => triggerEndpoint('http://sls-proxy.corp.example.attacker.example', named), /Refused/);
});

test('the trigger\'s http://…log.aliyuncs.com endpoint is used over HTTPS, certificate verified; the summary says so', async () => {
  rsyslog.clear();
  const before = secure.requests.length;
  const out = await invokeFunction(env({ NODE_EXTRA_CA_CERTS: pki.caFile }), event(secure));
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.sls, 'https');
  assert.equal(out.result!.records, 20);
  const pulls = secure.requests.slice(before).filter((r) => r.api === 'PullLogs');
  assert.ok(pulls.length >= 1 && pulls.every((r) => r.headers.host === `sec-logs.${HOST}:${secure.listenPort}`), 'the project named as SLS expects');
  assert.ok(pulls.every((r) => r.headers['x-acs-security-token'] === TEST_CREDENTIALS.securityToken), 'the STS token, now inside TLS');
  assert.equal((await rsyslog.waitForCount('tcp', 20)).length, 20);
});

test('an SLS certificate the roots do not trust fails (verification is on), with what to check', async () => {
  const out = await invokeFunction(env(), event(secure));
  assert.ok(out.error, 'no silent fallback to plain HTTP');
  assert.match(out.error.message, /SLS (PullLogs|GetCursor) could not reach https:\/\/sec-logs\.cn-hangzhou-intranet\.log\.aliyuncs\.com:\d+: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
});

test('SLS_HTTPS=off is the only way to plain HTTP to an Alibaba endpoint, and only for a host named in SLS_ALLOWED_ENDPOINTS', async () => {
  rsyslog.clear();
  const unnamed = await invokeFunction(env({ SLS_HTTPS: 'off' }), event(plain));
  assert.ok(unnamed.error, 'not named: used over HTTPS, which the plain emulator does not speak');
  const before = plain.requests.length;
  const out = await invokeFunction(env({ SLS_HTTPS: 'off', SLS_ALLOWED_ENDPOINTS: HOST }), event(plain));
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.sls, 'http');
  assert.equal(out.result!.records, 20);
  assert.ok(plain.requests.length > before);
});
