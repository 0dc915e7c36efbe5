/**
 * Secrets in KMS Secrets Manager, end to end on 127.0.0.1: the built function (an FC instance
 * process) and the worker fetch the HEC token, the TLS client key and its passphrase from a local
 * KMS that verifies every request's signature, with their own credentials (FC's
 * context.credentials; the worker's credentials chain). Found, not found, access denied, and
 * rotations: the token (HEC 401/403) and the client certificate (a refused handshake) change in
 * KMS and at the SIEM, and the same instance keeps shipping after fetching them once more.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { FcInstance, invokeFunction, startEmulator, TEST_CREDENTIALS, type Invocation } from './support/fc-invoke';
import { HecStub } from './support/hec-stub';
import { KmsApiMock } from './support/kms-api-mock';
import { encodeLogGroup } from './support/log-group-writer';
import { MtlsReceiver } from './support/mtls-receiver';

const TOKEN_V1 = 'hec-token-v1-3f9a-SECRET';
const TOKEN_V2 = 'hec-token-v2-77c1-SECRET';
const PASSPHRASE = 'key-pass-SECRET-4411';
const GROUPS = 3;
const PER_GROUP = 20;
let pki: TestPki;
let kms: KmsApiMock;
let hec: HecStub;
let emulator: SlsEmulator;
let receiver: MtlsReceiver;
let encryptedKey: string;
/** A second client certificate and key, from the other CA (the rotated ones). */
let rotated: { cert: string; key: string };

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: pki.dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

before(async () => {
  pki = makeTestPki();
  const tls = { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) };
  kms = await new KmsApiMock({ ...TEST_CREDENTIALS, tls }).start();
  hec = await new HecStub({ key: tls.key.toString(), cert: tls.cert.toString(), token: TOKEN_V1, ack: false }).start();
  receiver = await new MtlsReceiver({ key: tls.key.toString(), cert: tls.cert.toString(), clientCa: pki.caPem }).start();
  openssl(['pkey', '-in', 'client.key', '-out', 'client-encrypted.key', '-aes256', '-passout', `pass:${PASSPHRASE}`]);
  encryptedKey = readFileSync(join(pki.dir, 'client-encrypted.key'), 'utf8');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=rotated', '-keyout', 'rotated.key', '-out', 'rotated.csr']);
  openssl(['x509', '-req', '-in', 'rotated.csr', '-CA', 'other-ca.pem', '-CAkey', 'other-ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'client.ext', '-out', 'rotated.pem']);
  rotated = { cert: readFileSync(join(pki.dir, 'rotated.pem'), 'utf8'), key: readFileSync(join(pki.dir, 'rotated.key'), 'utf8') };
  emulator = await startEmulator();
  emulator.createLogstore('proj', 'waf', 1);
  for (let g = 0; g < GROUPS; g++) {
    emulator.appendGroup('proj', 'waf', 0, encodeLogGroup({ logs: Array.from({ length: PER_GROUP }, (_, i) => ({ time: 1737669036, contents: [['id', `${g}-${i}`]] as Array<[string, string]> })) }));
  }
});
after(async () => {
  await Promise.all([kms?.stop(), hec?.stop(), receiver?.stop(), emulator?.stop()]);
});

const RECORDS = GROUPS * PER_GROUP;
const event = () => ({ source: { endpoint: emulator.endpoint, projectName: 'proj', logstoreName: 'waf', shardId: 0, beginCursor: 'begin', endCursor: 'end' } });
/** The local KMS, trusted through the test CA as a real endpoint is through the public roots. */
const kmsEnv = () => ({ NODE_EXTRA_CA_CERTS: pki.caFile, KMS_ENDPOINT: kms.endpoint });
const hecEnv = (secret: string, extra: Record<string, string> = {}) => ({
  OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: hec.url, SPLUNK_HEC_CA_FILE: pki.caFile, SPLUNK_HEC_TOKEN_SECRET: secret, SPLUNK_HEC_GZIP: 'off', ...kmsEnv(), ...extra,
});
const tlsEnv = (extra: Record<string, string>) => ({
  SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(receiver.port), SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA_FILE: pki.caFile, ...kmsEnv(), ...extra,
});

const SECRETS = () => [TOKEN_V1, TOKEN_V2, PASSPHRASE, encryptedKey.split('\n')[2]!, rotated.key.split('\n')[1]!, TEST_CREDENTIALS.accessKeySecret, TEST_CREDENTIALS.securityToken];
function assertNothingSecret(text: string): void {
  for (const s of SECRETS()) assert.ok(!text.includes(s), `a secret was printed: …${s.slice(0, 6)}…`);
}
const printed = (...runs: Invocation[]) => runs.map((r) => r.stdout + r.stderr + JSON.stringify(r.error ?? '')).join('\n');

test('the HEC token in KMS: fetched once per instance with the function\'s own credentials, shipped with, never printed', async () => {
  kms.putSecret('siem/hec-token', `${TOKEN_V1}\n`);
  hec.acceptOnly(TOKEN_V1);
  hec.events.length = 0;
  const instance = new FcInstance(hecEnv('siem/hec-token'));
  try {
    const init = await instance.init();
    assert.equal(init.error, null, init.error?.message);
    assert.equal(kms.fetchesOf('siem/hec-token'), 1, 'fetched by the initializer, signed with context.credentials');
    assert.match(init.stdout, /"event":"sls-syslog-forwarder.secrets","fetched":\["SPLUNK_HEC_TOKEN_SECRET"\]/);
    assert.match(init.stdout, /"tokenSource":"KMS secret \\"siem\/hec-token\\" \(SPLUNK_HEC_TOKEN_SECRET\)"/);
    const first = await instance.invoke(event());
    const second = await instance.invoke(event());
    for (const run of [first, second]) assert.equal(run.error, null, run.error?.message);
    assert.equal(hec.events.length, 2 * RECORDS);
    assert.equal(kms.fetchesOf('siem/hec-token'), 1, 'kept for the instance\'s life');
    assert.ok(hec.authorizations.every((a) => a === `Splunk ${TOKEN_V1}`), 'the trimmed token from KMS');
    assertNothingSecret(printed(init, first, second, await instance.stop()));
  } finally {
    instance.kill();
  }
});

test('a missing secret, a denied one, and wrong credentials: each error names the secret and the setting; granting heals without a redeploy', async () => {
  const before = hec.requests.length;
  const missing = await invokeFunction(hecEnv('siem/not-there'), event());
  assert.match(missing.error!.message, /has no secret "siem\/not-there" \(SPLUNK_HEC_TOKEN_SECRET\): create it in this region, or correct SPLUNK_HEC_TOKEN_SECRET\. \(KMS: Forbidden\.ResourceNotFound/);

  kms.putSecret('siem/locked', TOKEN_V1);
  kms.deny('siem/locked');
  const denied = await invokeFunction(hecEnv('siem/locked'), event());
  assert.match(denied.error!.message, /Not allowed to read the KMS secret "siem\/locked" \(SPLUNK_HEC_TOKEN_SECRET\): .*RAM action kms:GetSecretValue on acs:kms:<region>:<account>:secret\/siem\/locked/);
  assert.match(denied.stdout, /"sls-syslog-forwarder.init","result":"error","error":"SecretError: Not allowed to read the KMS secret/);

  // The request is signed with context.credentials: another secret key fails KMS's signature check.
  const forged = new FcInstance(hecEnv('siem/hec-token'));
  try {
    const init = await forged.init({ ...TEST_CREDENTIALS, accessKeySecret: 'not-the-secret' });
    assert.match(init.error!.message, /refused the credentials used to read "siem\/hec-token" \(SPLUNK_HEC_TOKEN_SECRET\)\. \(KMS: SignatureDoesNotMatch/);
    await forged.stop();
  } finally {
    forged.kill();
  }
  assert.equal(hec.requests.length, before, 'nothing reached the collector without a token');

  // The secret is created afterwards: the same instance's next invocation fetches it and ships.
  const instance = new FcInstance(hecEnv('siem/created-later'));
  try {
    const init = await instance.init();
    assert.match(init.error!.message, /has no secret "siem\/created-later"/);
    kms.putSecret('siem/created-later', TOKEN_V1);
    hec.acceptOnly(TOKEN_V1);
    const out = await instance.invoke(event());
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.delivered, RECORDS);
    assertNothingSecret(printed(missing, denied, init, out, await instance.stop()));
  } finally {
    instance.kill();
  }
});

test('token rotated between invocations: the instance fetches it once more when the collector refuses the old one, and keeps shipping', async () => {
  kms.putSecret('siem/rotating', TOKEN_V1);
  hec.acceptOnly(TOKEN_V1);
  const instance = new FcInstance(hecEnv('siem/rotating', { SPLUNK_HEC_BATCH_BYTES: '1024' }));
  try {
    const init = await instance.init();
    const first = await instance.invoke(event());
    assert.equal(first.error, null, first.error?.message);
    assert.equal(kms.fetchesOf('siem/rotating'), 1);

    // The operator rotates: a new version in KMS, and the collector accepts only the new token.
    kms.putSecret('siem/rotating', TOKEN_V2);
    hec.acceptOnly(TOKEN_V2);
    hec.events.length = 0;
    const refusedBefore = hec.requests.filter((r) => r.status === 403).length;
    const second = await instance.invoke(event());
    assert.equal(second.error, null, second.error?.message);
    assert.equal(second.result!.delivered, RECORDS);
    assert.equal(new Set(hec.events.map((e) => e.event.id)).size, RECORDS, 'every record, after the refusal');
    assert.equal(kms.fetchesOf('siem/rotating'), 2, 'fetched once more, by all refused batches together');
    assert.ok(hec.requests.filter((r) => r.status === 403).length > refusedBefore, 'the old token was refused first');
    assert.match(second.stdout, /"event":"sls-syslog-forwarder.secrets","refetched":\["SPLUNK_HEC_TOKEN_SECRET"\],"why":"the collector refused the token","changed":true/);

    // Refused although KMS has nothing newer: one more fetch, then the invocation fails saying so.
    hec.acceptOnly('a-token-nobody-has');
    const third = await instance.invoke(event());
    assert.match(third.error!.message, /Splunk HEC rejected a batch: HTTP 403, code 4: Invalid token\. Check KMS secret "siem\/rotating" \(SPLUNK_HEC_TOKEN_SECRET\): fetched again after the refusal, and KMS has no other/);
    assert.equal(kms.fetchesOf('siem/rotating'), 3);
    assertNothingSecret(printed(init, first, second, third, await instance.stop()));
  } finally {
    instance.kill();
  }
});

test('TLS: the client key and its passphrase in KMS; the function ships over mTLS', async () => {
  kms.putSecret('siem/tls-key', encryptedKey);
  kms.putSecret('siem/tls-key-pass', `${PASSPHRASE}\n`);
  receiver.messages.length = 0;
  const out = await invokeFunction(tlsEnv({ SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_KEY_SECRET: 'siem/tls-key', SYSLOG_TLS_KEY_PASSPHRASE_SECRET: 'siem/tls-key-pass' }), event());
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.delivered, RECORDS);
  assert.equal(new Set(receiver.messages.map((m) => /id=([^|]+)/.exec(m)?.[1])).size, RECORDS);
  assert.match(out.stdout, /"fetched":\["SYSLOG_TLS_KEY_SECRET","SYSLOG_TLS_KEY_PASSPHRASE_SECRET"\]/);
  assertNothingSecret(printed(out));
});

test('client certificate rotated: a refused handshake fetches the TLS secrets once more and the same instance connects with the new ones', async () => {
  kms.putSecret('siem/tls-cert', readFileSync(pki.clientCertFile, 'utf8'));
  kms.putSecret('siem/tls-key-plain', readFileSync(pki.clientKeyFile, 'utf8'));
  receiver.trustOnly(pki.caPem);
  const instance = new FcInstance(tlsEnv({ SYSLOG_TLS_CERT_SECRET: 'siem/tls-cert', SYSLOG_TLS_KEY_SECRET: 'siem/tls-key-plain', SYSLOG_CONNECTION: 'per-invocation' }));
  try {
    const init = await instance.init();
    assert.equal(init.error, null, init.error?.message);
    const first = await instance.invoke(event());
    assert.equal(first.error, null, first.error?.message);

    kms.putSecret('siem/tls-cert', rotated.cert);
    kms.putSecret('siem/tls-key-plain', rotated.key);
    receiver.trustOnly(readFileSync(pki.otherCaFile, 'utf8'));
    receiver.messages.length = 0;
    const refusedBefore = receiver.refused;
    const second = await instance.invoke(event());
    assert.equal(second.error, null, second.error?.message);
    assert.equal(second.result!.delivered, RECORDS);
    assert.ok(receiver.refused > refusedBefore, 'the old certificate was refused first');
    assert.equal(kms.fetchesOf('siem/tls-cert'), 2);
    assert.equal(kms.fetchesOf('siem/tls-key-plain'), 2);
    assert.match(second.stdout, /"refetched":\["SYSLOG_TLS_CERT_SECRET","SYSLOG_TLS_KEY_SECRET"\],"why":"the TLS handshake failed over a certificate","changed":true/);
    assertNothingSecret(printed(init, first, second, await instance.stop()));
  } finally {
    instance.kill();
    receiver.trustOnly(pki.caPem);
  }
});

/** `sls-syslog-forwarder consume` until SLS_END: every shard shipped to its end, exit 0. */
async function runWorker(group: string, output: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'consume'], {
    env: {
      PATH: process.env.PATH ?? '', HOME: '/nonexistent',
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: 'proj', SLS_LOGSTORE: 'waf', SLS_CONSUMER_GROUP: group, SLS_START: 'begin', SLS_END: 'end',
      SLS_HEARTBEAT_MS: '200', SLS_IDLE_MS: '100',
      ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
      ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
      ...output,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  return { code, out };
}

test('the worker fetches the HEC token and the TLS key from KMS with its credentials chain, and ships with them', async () => {
  kms.putSecret('siem/hec-token', TOKEN_V1);
  hec.acceptOnly(TOKEN_V1);
  hec.events.length = 0;
  const viaHec = await runWorker('kms-hec', hecEnv('siem/hec-token'));
  assert.equal(viaHec.code, 0, viaHec.out);
  assert.equal(new Set(hec.events.map((e) => e.event.id)).size, RECORDS);
  assert.match(viaHec.out, /"fetched":\["SPLUNK_HEC_TOKEN_SECRET"\]/);

  receiver.messages.length = 0;
  const viaTls = await runWorker('kms-tls', tlsEnv({ SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_KEY_SECRET: 'siem/tls-key', SYSLOG_TLS_KEY_PASSPHRASE_SECRET: 'siem/tls-key-pass' }));
  assert.equal(viaTls.code, 0, viaTls.out);
  assert.equal(new Set(receiver.messages.map((m) => /id=([^|]+)/.exec(m)?.[1])).size, RECORDS);

  kms.deny('siem/worker-denied');
  const denied = await runWorker('kms-denied', hecEnv('siem/worker-denied'));
  assert.equal(denied.code, 1);
  assert.match(denied.out, /SecretError: Not allowed to read the KMS secret "siem\/worker-denied" \(SPLUNK_HEC_TOKEN_SECRET\): .*kms:GetSecretValue/);
  for (const run of [viaHec, viaTls, denied]) assertNothingSecret(run.out);
});

test('`check` fetches the secrets as the worker does and says so, or names the one it may not read', async () => {
  const run = async (env: Record<string, string>) => {
    const child = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'check'], {
      env: {
        PATH: process.env.PATH ?? '', HOME: '/nonexistent', ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken, ...env,
      },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    return { code, out };
  };
  kms.putSecret('siem/hec-token', TOKEN_V1);
  const ok = await run(hecEnv('siem/hec-token'));
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /^\[ ok \] secrets +fetched from KMS: SPLUNK_HEC_TOKEN_SECRET \(siem\/hec-token\)$/m);
  assert.match(ok.out, /^\[ ok \] Splunk HEC health/m);
  kms.deny('siem/check-denied');
  const denied = await run(hecEnv('siem/check-denied'));
  assert.equal(denied.code, 1);
  assert.match(denied.out, /^\[FAIL\] secrets +Not allowed to read the KMS secret "siem\/check-denied" \(SPLUNK_HEC_TOKEN_SECRET\): .*kms:GetSecretValue/m);
  for (const r of [ok, denied]) assertNothingSecret(r.out);
});
