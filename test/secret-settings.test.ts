/**
 * Secret-bearing settings: each from one place (the value, `<NAME>_FILE`, `<NAME>_SECRET`),
 * files read once with the trailing newline trimmed, and no settings error repeating a secret,
 * a pasted secret in a `_FILE` setting, or the password of a URL. HEC only over TLS unless
 * SPLUNK_HEC_ALLOW_HTTP=on. The KMS overlay and the renew hooks with a fake fetcher.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { describeConfig, loadConfig, type Env } from '../src/settings';
import { kmsEndpoint, readKmsEndpoint } from '../src/secrets/endpoint';
import { secretReferences } from '../src/settings/with-secrets';
import { hecOf, syslogOf } from './support/settings';
import { ConfigError } from '../src/errors';
import type { SecretRequest } from '../src/secrets/kms';
import { kmsFetcher, loadConfigWithSecrets } from '../src/settings/with-secrets';
import { makeTestPki, type TestPki } from './support/certs';

const TOKEN = 'hec-token-1f0e7d1c-SECRET-5a3b';
const PASSPHRASE = 'pass phrase SECRET 77';
let pki: TestPki;
let keyPem: string;
let keyBody: string;

before(() => {
  pki = makeTestPki();
  keyPem = readFileSync(pki.clientKeyFile, 'utf8');
  keyBody = keyPem.split('\n')[1]!;
});

const hec = (extra: Env = {}): Env => ({ OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: 'https://splunk.example.com:8088', ...extra });
const tls = (extra: Env = {}): Env => ({ SYSLOG_HOST: 'siem.example.com', SYSLOG_PROTOCOL: 'tls', ...extra });

/** The settings error's whole text (every problem), asserted free of the given secrets. */
function problemsOf(env: Env, ...secrets: string[]): string {
  let message = '';
  assert.throws(() => loadConfig(env), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    message = err.message;
    return true;
  });
  for (const s of secrets) assert.ok(!message.includes(s), `the error repeats a secret: ${message}`);
  return message;
}

test('SPLUNK_HEC_TOKEN_FILE and SYSLOG_TLS_KEY_PASSPHRASE_FILE are read once, the trailing newline trimmed', () => {
  const tokenFile = join(pki.dir, 'hec-token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const passFile = join(pki.dir, 'key-pass');
  writeFileSync(passFile, `${PASSPHRASE}\r\n`);
  const config = loadConfig(hec({ SPLUNK_HEC_TOKEN_FILE: tokenFile }));
  assert.equal(hecOf(config)!.token, TOKEN);
  assert.equal(hecOf(config)!.tokenSource, `file ${tokenFile}`);
  const t = syslogOf(loadConfig(tls({ SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_KEY_FILE: pki.clientKeyFile, SYSLOG_TLS_KEY_PASSPHRASE_FILE: passFile }))).tls;
  assert.equal(t.passphrase, PASSPHRASE);
  const echoed = JSON.stringify(describeConfig(config)) + JSON.stringify(describeConfig(loadConfig(tls({ SYSLOG_TLS_KEY_PASSPHRASE_FILE: passFile, SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_KEY_FILE: pki.clientKeyFile }))));
  assert.ok(!echoed.includes(TOKEN) && !echoed.includes(PASSPHRASE));
  writeFileSync(tokenFile, '\n');
  assert.match(problemsOf(hec({ SPLUNK_HEC_TOKEN_FILE: tokenFile })), /SPLUNK_HEC_TOKEN_FILE: the file .* is empty/);
});

test('a value together with its _FILE or _SECRET is an error naming both settings, never the value', () => {
  const tokenFile = join(pki.dir, 'hec-token-2');
  writeFileSync(tokenFile, TOKEN);
  assert.match(problemsOf(hec({ SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_TOKEN_SECRET: 'siem/hec-token' }), TOKEN), /SPLUNK_HEC_TOKEN and SPLUNK_HEC_TOKEN_SECRET are all set: give SPLUNK_HEC_TOKEN one way only/);
  assert.match(problemsOf(hec({ SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_TOKEN_FILE: tokenFile }), TOKEN), /SPLUNK_HEC_TOKEN and SPLUNK_HEC_TOKEN_FILE are all set/);
  assert.match(problemsOf(tls({ SYSLOG_TLS_KEY_FILE: pki.clientKeyFile, SYSLOG_TLS_KEY_SECRET: 'siem/key', SYSLOG_TLS_CERT_FILE: pki.clientCertFile }), keyBody), /SYSLOG_TLS_KEY_FILE and SYSLOG_TLS_KEY_SECRET are all set/);
  assert.match(
    problemsOf(tls({ SYSLOG_TLS_KEY_PASSPHRASE: PASSPHRASE, SYSLOG_TLS_KEY_PASSPHRASE_SECRET: 'siem/pass', SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_KEY_FILE: pki.clientKeyFile }), PASSPHRASE),
    /SYSLOG_TLS_KEY_PASSPHRASE and SYSLOG_TLS_KEY_PASSPHRASE_SECRET are all set/,
  );
  assert.match(problemsOf(tls({ SYSLOG_TLS_CA: pki.caPem, SYSLOG_TLS_CA_SECRET: 'siem/ca' })), /SYSLOG_TLS_CA and SYSLOG_TLS_CA_SECRET are all set/);
  // Such a pair is not fetched: the clash is reported with everything else.
  assert.deepEqual(secretReferences(hec({ SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_TOKEN_SECRET: 'siem/hec-token' })), []);
  // Nor is a secret the chosen output does not read (the HEC token with syslog output).
  assert.deepEqual(secretReferences({ SYSLOG_HOST: 'h', SPLUNK_HEC_TOKEN_SECRET: 'siem/hec-token' }), []);
  const refs = (env: Env) => secretReferences(env).map(({ setting, secretSetting, secretName, output }) => ({ setting, secretSetting, secretName, output }));
  assert.deepEqual(refs(hec({ SPLUNK_HEC_TOKEN_SECRET: 'siem/hec-token' })), [{ setting: 'SPLUNK_HEC_TOKEN', secretSetting: 'SPLUNK_HEC_TOKEN_SECRET', secretName: 'siem/hec-token', output: 'splunk-hec' }]);
  // Fan-out: an output's own secret goes to its prefixed setting; a shared one is read by each output that uses it.
  assert.deepEqual(
    refs({ OUTPUTS: 'siem:syslog,lake:splunk-hec,lake2:splunk-hec', SIEM_SYSLOG_PROTOCOL: 'tls', SIEM_SYSLOG_TLS_KEY_SECRET: 'siem/key', LAKE_SPLUNK_HEC_TOKEN_SECRET: 'lake/token', SPLUNK_HEC_TOKEN_SECRET: 'shared/token' }),
    [
      { setting: 'SIEM_SYSLOG_TLS_KEY', secretSetting: 'SIEM_SYSLOG_TLS_KEY_SECRET', secretName: 'siem/key', output: 'siem' },
      { setting: 'LAKE_SPLUNK_HEC_TOKEN', secretSetting: 'LAKE_SPLUNK_HEC_TOKEN_SECRET', secretName: 'lake/token', output: 'lake' },
      { setting: 'SPLUNK_HEC_TOKEN', secretSetting: 'SPLUNK_HEC_TOKEN_SECRET', secretName: 'shared/token', output: 'lake2' },
    ],
  );
  // A _SECRET nobody fetched (loadConfig alone) says so instead of "not set".
  assert.match(problemsOf(hec({ SPLUNK_HEC_TOKEN_SECRET: 'siem/hec-token' })), /SPLUNK_HEC_TOKEN_SECRET="siem\/hec-token" was not fetched from KMS/);
  // The CA bundle still combines a file and the inline value (two CAs during a change).
  assert.match(syslogOf(loadConfig(tls({ SYSLOG_TLS_CA_FILE: pki.caFile, SYSLOG_TLS_CA: pki.caPem }))).tls.caSource, /^file .* \+ SYSLOG_TLS_CA$/);
});

test('a secret pasted into a _FILE setting is named, never repeated', () => {
  for (const [setting, secret, extra] of [
    ['SYSLOG_TLS_KEY_FILE', keyPem, { SYSLOG_TLS_CERT_FILE: pki.clientCertFile }],
    ['SYSLOG_TLS_KEY_FILE', keyPem.replace(/\n/g, '\\n'), { SYSLOG_TLS_CERT_FILE: pki.clientCertFile }],
    ['SYSLOG_TLS_CA_FILE', pki.caPem, {}],
    ['SYSLOG_TLS_KEY_PASSPHRASE_FILE', PASSPHRASE, { SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_KEY_FILE: pki.clientKeyFile }],
  ] as const) {
    const message = problemsOf(tls({ ...extra, [setting]: secret }), secret, keyBody, PASSPHRASE);
    assert.match(message, new RegExp(`${setting} \\(\\d+ characters, not repeated here`), setting);
  }
  for (const secret of [TOKEN, `${TOKEN}\n`]) {
    assert.match(problemsOf(hec({ SPLUNK_HEC_TOKEN_FILE: secret }), TOKEN), /SPLUNK_HEC_TOKEN_FILE \(\d+ characters, not repeated here: it does not look like a path/);
  }
  assert.match(problemsOf(hec({ SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_CA_FILE: pki.caPem }), TOKEN, 'BEGIN CERTIFICATE'), /SPLUNK_HEC_CA_FILE \(\d+ characters/);
  // A real path is named, so the user sees which file is missing.
  assert.match(problemsOf(hec({ SPLUNK_HEC_TOKEN_FILE: '/nonexistent/hec-token' })), /SPLUNK_HEC_TOKEN_FILE="\/nonexistent\/hec-token" cannot be read \(ENOENT\)/);
});

test('SPLUNK_HEC_URL with user:password@ is refused without printing the password', () => {
  const password = 'pw-SECRET-9931';
  for (const url of [`https://admin:${password}@splunk.example.com:8088`, `https://${password}@splunk.example.com:8088`]) {
    const message = problemsOf(hec({ SPLUNK_HEC_URL: url, SPLUNK_HEC_TOKEN: TOKEN }), password, TOKEN);
    assert.match(message, /SPLUNK_HEC_URL carries a user name and password .* HEC authenticates with the token alone/);
  }
  // Not a URL at all: not repeated (a password with `/`, `?` or `#` would defeat any cut).
  for (const url of [`https://admin:${password}@[bad`, `https://admin:se#cret/${password}@splunk:8088`]) {
    const message = problemsOf(hec({ SPLUNK_HEC_URL: url, SPLUNK_HEC_TOKEN: TOKEN }), password, TOKEN, 'se#cret');
    assert.match(message, /SPLUNK_HEC_URL \(\d+ characters\) is not a URL/);
  }
});

test('HEC over http:// is refused unless SPLUNK_HEC_ALLOW_HTTP=on', () => {
  const message = problemsOf(hec({ SPLUNK_HEC_URL: 'http://splunk.example.com:8088', SPLUNK_HEC_TOKEN: TOKEN }), TOKEN);
  assert.match(message, /SPLUNK_HEC_URL is http:\/\/splunk\.example\.com:8088: the HEC token and the logs would cross the network in clear.*SPLUNK_HEC_ALLOW_HTTP=on/);
  const allowed = loadConfig(hec({ SPLUNK_HEC_URL: 'http://splunk.example.com:8088', SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_ALLOW_HTTP: 'on' }));
  assert.equal(hecOf(allowed)!.url.protocol, 'http:');
  assert.equal(hecOf(allowed)!.allowHttp, true);
  assert.match(problemsOf(hec({ SPLUNK_HEC_URL: 'ftp://splunk.example.com', SPLUNK_HEC_TOKEN: TOKEN })), /is a ftp:\/\/ URL, not an https:\/\/ one/);
});

test('secret-bearing TLS settings with a non-TLS protocol are named, never repeated', () => {
  const message = problemsOf({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tcp', SYSLOG_TLS_KEY: keyPem, SYSLOG_TLS_KEY_PASSPHRASE: PASSPHRASE, SYSLOG_TLS_KEY_SECRET: 'x' }, keyBody, PASSPHRASE);
  assert.match(message, /SYSLOG_TLS_KEY, SYSLOG_TLS_KEY_SECRET, SYSLOG_TLS_KEY_PASSPHRASE are set but SYSLOG_PROTOCOL is "tcp"/);
});

test('KMS_ENDPOINT: host[:port] over HTTPS; the default is the region\'s VPC endpoint', () => {
  assert.equal(kmsEndpoint({ FC_REGION: 'cn-hangzhou' }), 'kms-vpc.cn-hangzhou.aliyuncs.com');
  assert.equal(kmsEndpoint({ FC_REGION: 'cn-hangzhou', KMS_ENDPOINT: 'https://kms.cn-hangzhou.aliyuncs.com' }), 'kms.cn-hangzhou.aliyuncs.com');
  assert.equal(kmsEndpoint({}, 'https://cn-shanghai-intranet.log.aliyuncs.com'), 'kms-vpc.cn-shanghai.aliyuncs.com');
  assert.equal(kmsEndpoint({}, 'cn-shanghai.log.aliyuncs.com'), 'kms.cn-shanghai.aliyuncs.com');
  assert.equal(kmsEndpoint({}, 'http://127.0.0.1:8080'), undefined);
  assert.match(readKmsEndpoint({ KMS_ENDPOINT: 'http://kms.cn-hangzhou.aliyuncs.com' }).problem!, /KMS_ENDPOINT=.* must be a host name .*always used over HTTPS/);
  assert.throws(() => kmsFetcher({ KMS_ENDPOINT: 'http://kms.example' }, async () => ({ accessKeyId: 'a', accessKeySecret: 'b' }))(), /KMS_ENDPOINT/);
  assert.throws(() => kmsFetcher({}, async () => ({ accessKeyId: 'a', accessKeySecret: 'b' }))(), /KMS_ENDPOINT is not set and the region is not known/);
});

/** A stand-in for KMS: a table, counting fetches. */
function fakeKms(table: Record<string, string>) {
  const fetched: SecretRequest[] = [];
  return {
    fetched,
    table,
    fetch: async (req: SecretRequest) => {
      fetched.push(req);
      await new Promise((r) => setTimeout(r, 5));
      const v = table[req.secretName];
      if (v === undefined) throw new Error(`no secret ${req.secretName}`);
      return v;
    },
  };
}

test('KMS-held values are laid over the settings, named as such, and renewed in place once on request', async () => {
  const kms = fakeKms({ 'siem/hec-token': `${TOKEN}\n`, 'siem/key': keyPem, 'siem/ca': pki.caPem });
  const silent = () => {};
  const h = await loadConfigWithSecrets(hec({ SPLUNK_HEC_TOKEN_SECRET: 'siem/hec-token' }), () => kms.fetch, silent);
  assert.equal(hecOf(h)!.token, TOKEN, 'trimmed');
  assert.equal(hecOf(h)!.tokenSource, 'KMS secret "siem/hec-token" (SPLUNK_HEC_TOKEN_SECRET)');
  assert.ok(!JSON.stringify(describeConfig(h)).includes(TOKEN));
  kms.table['siem/hec-token'] = 'rotated-token';
  // Batches refused together share one fetch.
  await Promise.all([hecOf(h)!.renewToken!(), hecOf(h)!.renewToken!(), hecOf(h)!.renewToken!()]);
  assert.equal(hecOf(h)!.token, 'rotated-token');
  assert.equal(kms.fetched.filter((r) => r.secretName === 'siem/hec-token').length, 2, 'once at start, once for the renewal');

  const t = await loadConfigWithSecrets(tls({ SYSLOG_TLS_KEY_SECRET: 'siem/key', SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_CA_SECRET: 'siem/ca' }), () => kms.fetch, silent);
  assert.equal(syslogOf(t).tls.key, keyPem);
  assert.equal(syslogOf(t).tls.caSource, 'KMS secret "siem/ca" (SYSLOG_TLS_CA_SECRET)');
  assert.ok(syslogOf(t).tls.renew, 'TLS material from KMS can be renewed');
  kms.table['siem/key'] = 'not a key';
  await assert.rejects(syslogOf(t).tls.renew!(), /The client key from KMS secret "siem\/key" \(SYSLOG_TLS_KEY_SECRET\) is not PEM/);
  // Without references: no fetcher is even made.
  const plain = await loadConfigWithSecrets(hec({ SPLUNK_HEC_TOKEN: TOKEN }), () => assert.fail('no fetcher needed'), silent);
  assert.equal(hecOf(plain)!.renewToken, undefined);
  // A failed fetch is the answer, naming the secret.
  await assert.rejects(loadConfigWithSecrets(hec({ SPLUNK_HEC_TOKEN_SECRET: 'siem/none' }), () => kms.fetch, silent), /no secret siem\/none/);
  // An empty secret is a settings problem naming it.
  kms.table['siem/empty'] = ' \n';
  await assert.rejects(loadConfigWithSecrets(hec({ SPLUNK_HEC_TOKEN_SECRET: 'siem/empty' }), () => kms.fetch, silent), /The KMS secret "siem\/empty" \(SPLUNK_HEC_TOKEN_SECRET\) is empty/);
});
