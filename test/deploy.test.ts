/**
 * The deploy path without the cloud: s.yaml against the project's schema, reproducible code and
 * layer zips, the handler run from those zips unpacked like the FC runtime lays them out, and the
 * scripts that use @alicloud/fc2 against a local FC API that checks their requests.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkFc3Yaml, checkSYaml, configSources, NOT_DEPLOYED, parseDotenv, passedSettings, settingsDeployed, settingsReadByFunction } from '../scripts/lib/s-yaml';
import { packageArtifacts } from '../scripts/package';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { FcApiMock } from './support/fc-api-mock';
import { Fc3ApiMock } from './support/fc3-api-mock';
import { FcInstance, invokeFunction, startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';

const root = join(__dirname, '..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');

describe('s.fc2.yaml (FC 2.0, for Alibaba\'s FC 2.0 guide)', () => {
  const sYaml = read('s.fc2.yaml');
  const env = parseDotenv(read('.env.example'));
  const configSource = configSources(root);
  const check = (text: string, e = env) => checkSYaml(text, e, '123456789012', configSource).problems;

  test('is valid against the project schema with the values of .env.example', () => {
    assert.deepEqual(check(sYaml), []);
    const rendered = checkSYaml(sYaml, env, '123456789012', configSource).rendered as { services: { forwarder: { props: { function: Record<string, unknown>; triggers: Array<Record<string, unknown>> } } } };
    const fn = rendered.services.forwarder.props.function;
    assert.equal(fn.handler, 'index.handler');
    assert.equal(fn.initializer, 'index.initializer');
    assert.equal(rendered.services.forwarder.props.triggers[0]!.sourceArn, 'acs:log:cn-hangzhou:123456789012:project/my-project');
  });

  test('fan-out: each prefixed setting .env sets must be passed, a prefixed secret value never, and the 4 KB limit measured', (t) => {
    const fanOut = { ...env, OUTPUTS: 'siem:syslog,lake:splunk-hec', SIEM_SYSLOG_HOST: '10.0.0.5', SIEM_SYSLOG_PROTOCOL: 'tls', SIEM_SYSLOG_MESSAGE_FORMAT: 'leef', LAKE_SPLUNK_HEC_URL: 'https://splunk.corp.example:8088', LAKE_SPLUNK_HEC_TOKEN_SECRET: 'siem/hec-token', SIEM_OUTPUT_FILTER: 'final_action!=pass' };
    const missing = check(sYaml, fanOut).filter((p) => /for an output of OUTPUTS/.test(p));
    assert.deepEqual(missing.map((p) => /sets (\w+)/.exec(p)![1]).sort(), ['LAKE_SPLUNK_HEC_TOKEN_SECRET', 'LAKE_SPLUNK_HEC_URL', 'SIEM_OUTPUT_FILTER', 'SIEM_SYSLOG_HOST', 'SIEM_SYSLOG_MESSAGE_FORMAT', 'SIEM_SYSLOG_PROTOCOL']);
    assert.match(missing[0]!, /add \w+: \$\{env\('\w+', ''\)\} there/);
    // The user adds them, as the message says: clean, and the size is measured against 4 KB.
    const added = Object.keys(fanOut).filter((k) => /^(SIEM|LAKE)_/.test(k) && !(k in env)).map((k) => `          ${k}: \${env(${k})}\n`).join('');
    const withPrefixed = sYaml.replace('          OUTPUTS: ${env(OUTPUTS)}\n', `          OUTPUTS: \${env(OUTPUTS)}\n${added}`);
    assert.deepEqual(check(withPrefixed, fanOut), []);
    const size = (e: Record<string, string>, text: string) => {
      const vars = (checkSYaml(text, e, '123456789012', configSource).rendered as { services: { forwarder: { props: { function: { environmentVariables: Record<string, string> } } } } }).services.forwarder.props.function.environmentVariables;
      return Object.entries(vars).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
    };
    const one = size(env, sYaml);
    const two = size(fanOut, withPrefixed);
    t.diagnostic(`environment variables: ${one} bytes with one output, ${two} bytes with two outputs and 6 prefixed settings (FC allows 4096)`);
    assert.ok(two < 4096, `${two} bytes fit FC's 4 KB`);
    // A secret value for one output is refused like the unprefixed one.
    assert.ok(check(withPrefixed, { ...fanOut, LAKE_SPLUNK_HEC_TOKEN: 'abc' }).some((p) => /\.env sets LAKE_SPLUNK_HEC_TOKEN: a secret value never goes into/.test(p)));
  });

  test('catches the mistakes the FC API would reject at deploy time', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['runtime: nodejs20', 'runtime: nodejs22', /runtime: must be equal to one of the allowed values/],
      ['memorySize: 256', 'memorySize: 100', /memorySize: must be >= 128/],
      ['maxRetryTime: 10', 'maxRetryTime: "10"', /maxRetryTime: must be integer/],
      ['triggerInterval: 60', 'triggerInterval: 1', /triggerInterval: must be >= 3/],
      ['              logstore: ${env(SLS_LOGSTORE)}\n', '              logstre: ${env(SLS_LOGSTORE)}\n', /sourceConfig: must have required property 'logstore'/],
      ['          SLS_PULL_COUNT: ${env(SLS_PULL_COUNT)}\n', '', /lacks SLS_PULL_COUNT, which the function reads/],
      ['codeUri: ./build/code.zip', 'codeUri: ./src', /codeUri: must be equal to constant/],
      ['SYSLOG_HOST: ${env(SYSLOG_HOST)}', 'SYSLOG_HOST: ${env(SIEM_HOST)}', /\$\{env\(SIEM_HOST\)\} is used in s.fc2.yaml but not defined/],
    ];
    for (const [from, to, expected] of cases) {
      assert.ok(sYaml.includes(from), `fixture text ${from}`);
      const problems = check(sYaml.replace(from, to));
      assert.ok(problems.some((p) => expected.test(p)), `${to}: ${problems.join(' | ')}`);
    }
    assert.ok(check(sYaml, { ...env, FUNCTION_ROLE_ARN: 'my-role' }).some((p) => /role: must match pattern/.test(p)));
    // Edition 1.0.0 cannot drop or add the layer by itself: a mismatch with LAYER_ARN says what to do.
    const layerArn = 'acs:fc:cn-hangzhou:123456789012:layers/sls-syslog-forwarder/versions/1';
    assert.ok(check(sYaml, { ...env, LAYER_ARN: layerArn }).some((p) => /LAYER_ARN is set but s.fc2.yaml names no layer.*add `layers:`/.test(p)), 'layer set, file without: says what to do');
    const withLayer = sYaml.replace('        environmentVariables:\n', '        layers:\n          - ${env(LAYER_ARN)}\n        environmentVariables:\n');
    assert.notEqual(withLayer, sYaml);
    assert.deepEqual(check(withLayer, { ...env, LAYER_ARN: layerArn }), []);
    const fn = (checkSYaml(withLayer, { ...env, LAYER_ARN: layerArn }, '123456789012', configSource).rendered as { services: { forwarder: { props: { function: { layers: string[] } } } } }).services.forwarder.props.function;
    assert.deepEqual(fn.layers, [layerArn]);
    assert.ok(check(withLayer, { ...env, LAYER_ARN: '' }).some((p) => /LAYER_ARN is empty but s.fc2.yaml names .* delete its two `layers` lines/.test(p)), 'no layer, file with: says what to do');
  });

  test('npm run check-deploy reports success and failure with an exit code', () => {
    const ok = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/check-s-yaml.ts', '--env', '.env.example'], { cwd: root }).toString();
    assert.match(ok, /s.yaml \(FC 3.0\) is valid/);
    assert.match(ok, /s.fc2.yaml \(FC 2.0\) is valid/);
    const dir = mkdtempSync(join(tmpdir(), 'sls-fwd-env-'));
    writeFileSync(join(dir, '.env'), read('.env.example').replace(/^REGION=.*$/m, 'REGION=Hangzhou'));
    assert.throws(
      () => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/check-s-yaml.ts', '--env', join(dir, '.env')], { cwd: root, stdio: 'pipe' }),
      (err: Error & { stderr: Buffer }) => /region: must match pattern/.test(err.stderr.toString()),
    );
  });
});

describe('s.yaml (FC 3.0), rendered offline by the real Serverless Devs CLI (s preview)', () => {
  const sYaml = read('s.yaml');
  const envText = read('.env.example');
  const env = parseDotenv(envText);
  const configSource = configSources(root);
  type Props = {
    functionName: string; runtime: string; handler: string; memorySize: number; timeout: number; layers: string[];
    environmentVariables: Record<string, string>; instanceLifecycleConfig: Record<string, { handler: string }>;
    triggers: Array<{ triggerType: string; sourceArn: string; triggerConfig: { sourceConfig: { logstore: string }; jobConfig: { maxRetryTime: number; triggerInterval: number } } }>;
  };
  const propsOf = (rendered: unknown) => (rendered as { resources: { forwarder: { props: Props } } }).resources.forwarder.props;

  test('renders every setting, the function and the trigger as FC 3.0 takes them', () => {
    const { rendered, problems } = checkFc3Yaml(sYaml, envText, '123456789012', configSource);
    assert.deepEqual(problems, []);
    const p = propsOf(rendered);
    assert.equal(p.functionName, env.FC_FUNCTION_NAME);
    assert.equal(p.runtime, 'nodejs20');
    assert.equal(p.handler, 'index.handler');
    assert.equal(p.memorySize, 256);
    assert.equal(p.timeout, 300);
    assert.equal(p.instanceLifecycleConfig.initializer!.handler, 'index.initializer');
    assert.equal(p.instanceLifecycleConfig.preStop!.handler, 'index.preStop');
    assert.deepEqual(p.layers, [], 'LAYER_ARN is empty in .env.example: no layer');
    // Every environment variable the function reads, with the .env value (or empty: the default).
    assert.deepEqual(Object.keys(p.environmentVariables).sort(), settingsDeployed(configSource));
    for (const [name, value] of Object.entries(p.environmentVariables)) assert.equal(value, env[name] ?? '', name);
    const t = p.triggers[0]!;
    assert.equal(t.triggerType, 'log');
    assert.equal(t.sourceArn, `acs:log:${env.REGION}:123456789012:project/${env.SLS_PROJECT}`);
    assert.equal(t.triggerConfig.sourceConfig.logstore, env.SLS_LOGSTORE);
    assert.equal(t.triggerConfig.jobConfig.triggerInterval, 60);
    assert.equal(t.triggerConfig.jobConfig.maxRetryTime, 10);
  });

  test('FC\'s 4 KB for all environment variables: an mTLS deployment with its secrets named in KMS stays well under; the same PEMs inline are refused', () => {
    const set = (text: string, values: Record<string, string>) =>
      Object.entries(values).reduce((t, [k, v]) => (new RegExp(`^${k}=.*$`, 'm').test(t) ? t.replace(new RegExp(`^${k}=.*$`, 'm'), `${k}=${v}`) : `${t}\n${k}=${v}`), text);
    const tls = { SYSLOG_HOST: 'siem.corp.example', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_SERVERNAME: 'siem.corp.example', SLS_ALLOWED_ENDPOINTS: 'sls-proxy.corp.example' };
    const kms = set(envText, {
      ...tls, SYSLOG_TLS_CA_SECRET: 'siem/ca', SYSLOG_TLS_CERT_SECRET: 'siem/client-cert', SYSLOG_TLS_KEY_SECRET: 'siem/client-key', SYSLOG_TLS_KEY_PASSPHRASE_SECRET: 'siem/client-key-passphrase',
    });
    const { rendered, problems } = checkFc3Yaml(sYaml, kms, '123456789012', configSource);
    assert.deepEqual(problems, []);
    const vars = propsOf(rendered).environmentVariables;
    const size = Object.entries(vars).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
    assert.ok(size < 3072, `${size} bytes of environment variables: at least 1 KB to spare`);
    const pem = (label: string) => `-----BEGIN ${label}-----\\n${'A'.repeat(1200)}\\n-----END ${label}-----`;
    const inline = set(envText, { ...tls, SYSLOG_TLS_CA: pem('CERTIFICATE'), SYSLOG_TLS_CERT: pem('CERTIFICATE'), SYSLOG_TLS_KEY: pem('PRIVATE KEY') });
    assert.ok(checkFc3Yaml(sYaml, inline, '123456789012', configSource).problems.some((p) => /FC allows 4 KB/.test(p)), 'check-deploy refuses what FC would');
  });

  test('a secret value is refused by check-deploy, in .env or passed by s.yaml: only its _SECRET and _FILE forms deploy', () => {
    const inEnv = checkFc3Yaml(sYaml, `${envText}\nSPLUNK_HEC_TOKEN=abc-SECRET`, '123456789012', configSource).problems;
    assert.ok(inEnv.some((p) => /\.env sets SPLUNK_HEC_TOKEN: a secret value never goes into the function's configuration.*SPLUNK_HEC_TOKEN_SECRET/.test(p)), inEnv.join(' | '));
    assert.ok(!inEnv.join(' ').includes('abc-SECRET'), 'the value is not repeated');
    const passed = sYaml.replace("        SPLUNK_HEC_TOKEN_FILE:", "        SPLUNK_HEC_TOKEN: ${env('SPLUNK_HEC_TOKEN', '')}\n        SPLUNK_HEC_TOKEN_FILE:");
    assert.ok(checkFc3Yaml(passed, envText, '123456789012', configSource).problems.some((p) => /passes SPLUNK_HEC_TOKEN: a secret value must not be in the function's configuration/.test(p)));
  });

  test('a LAYER_ARN yields exactly that layer', () => {
    const layerArn = 'acs:fc:cn-hangzhou:123456789012:layers/sls-syslog-forwarder/versions/1';
    const { rendered, problems } = checkFc3Yaml(sYaml, envText.replace(/^LAYER_ARN=.*$/m, `LAYER_ARN=${layerArn}`), '123456789012', configSource);
    assert.deepEqual(problems, []);
    assert.deepEqual(propsOf(rendered).layers, [layerArn]);
  });

  test('the fc3 props constraints catch what FC 3.0 would reject', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['runtime: nodejs20', 'runtime: nodejs22', /runtime: must be equal to one of the allowed values/],
      ['memorySize: 256', 'memorySize: 300', /memorySize: must be multiple of 64/],
      ['memorySize: 256', 'memorySize: 64', /memorySize: must be >= 128/],
      ['timeout: 300', 'timeout: 0', /timeout: must be >= 1/],
      ['triggerType: log', 'triggerType: logs', /triggerType: must be equal to one of the allowed values/],
      ['      logConfig: auto\n', '      logConfig: auto\n      memorySiz: 512\n', /must NOT have additional properties/],
      ["        SLS_PULL_COUNT: ${env('SLS_PULL_COUNT', '')}\n", '', /lacks SLS_PULL_COUNT, which the function reads/],
      ["functionName: ${env('FC_FUNCTION_NAME')}", "functionName: ${env('FC_FUNCTION')}", /does not render with s preview: .*FC_FUNCTION/],
    ];
    for (const [from, to, expected] of cases) {
      assert.ok(sYaml.includes(from), `fixture text ${from}`);
      const { problems } = checkFc3Yaml(sYaml.replace(from, to), envText, '123456789012', configSource);
      assert.ok(problems.some((p) => expected.test(p)), `${to}: ${problems.join(' | ')}`);
    }
  });
});

test('one list of settings: the function, s.yaml, s.fc2.yaml, .env.example and the README tables carry exactly the same (the deploy files no secret value)', () => {
  const fn = settingsReadByFunction(configSources(root));
  const deployed = settingsDeployed(configSources(root));
  assert.deepEqual(fn.filter((n) => !deployed.includes(n)), NOT_DEPLOYED.map((s) => s.name).sort(), 'only the confidential values stay out of the deploy files');
  assert.deepEqual(passedSettings(read('s.yaml')), deployed, 's.yaml');
  assert.deepEqual(passedSettings(read('s.fc2.yaml')), deployed, 's.fc2.yaml');
  const deployOnly = new Set(['SLS_TRIGGER_LOGSTORE']);
  const env = Object.keys(parseDotenv(read('.env.example'))).filter((k) => /^(SYSLOG|SLS|SPLUNK_HEC|KMS)_|^OUTPUT(S|_[A-Z0-9_]+)?$|^(FIELD_PRESET|JSON_SCHEMA|SIEM_PROFILE)$/.test(k) && !deployOnly.has(k)).sort();
  assert.deepEqual(env, deployed, '.env.example');
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## Settings'), readme.indexOf('## Delivery guarantee'));
  const inTables = new Set<string>();
  for (const line of section.split('\n')) for (const m of (/^\| ([^|]+)\|/.exec(line)?.[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)) inTables.add(m[1]!);
  assert.deepEqual([...inTables].sort(), fn, 'the README settings tables');
});

describe('artifacts', () => {
  let pki: TestPki;
  let rsyslog: Rsyslog;
  let emulator: SlsEmulator;
  let certs: string;
  const PROJECT = 'proj';
  const LOGSTORE = 'store';

  before(async () => {
    pki = makeTestPki();
    certs = mkdtempSync(join(tmpdir(), 'sls-fwd-certs-'));
    copyFileSync(pki.caFile, join(certs, 'siem-ca.pem'));
    rsyslog = await new Rsyslog({ tls: pki }).start();
    emulator = await startEmulator();
    emulator.createLogstore(PROJECT, LOGSTORE, 1);
    for (let g = 0; g < 4; g++) {
      emulator.appendGroup(PROJECT, LOGSTORE, 0, encodeLogGroup({ source: '10.1.1.1', logs: Array.from({ length: 25 }, (_, i) => ({ time: 1737669036, contents: [['id', `${g}-${i}`], ['msg', 'multi\nline']] as Array<[string, string]> })) }));
    }
  });
  after(async () => {
    await rsyslog?.stop();
    await emulator?.stop();
  });

  const event = () => ({
    parameter: {},
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: LOGSTORE, shardId: 0,
      beginCursor: emulator.cursor(PROJECT, LOGSTORE, 0, 'begin'), endCursor: emulator.cursor(PROJECT, LOGSTORE, 0, 'end'),
    },
  });

  test('the code and layer zips are reproducible, valid, both carry the CA and nothing secret', () => {
    const a = packageArtifacts(mkdtempSync(join(tmpdir(), 'sls-fwd-pkg-')), certs);
    const b = packageArtifacts(mkdtempSync(join(tmpdir(), 'sls-fwd-pkg-')), certs);
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    assert.equal(sha(a.codeZip), sha(b.codeZip));
    assert.equal(sha(a.layerZip), sha(b.layerZip));
    for (const zip of [a.codeZip, a.layerZip]) execFileSync('unzip', ['-tq', zip]);
    const listing = (zip: string) => execFileSync('unzip', ['-Z1', zip]).toString().trim().split('\n');
    assert.deepEqual(listing(a.codeZip), ['certs/', 'certs/siem-ca.pem', 'index.js', 'index.js.map', 'kms-sdk.js', 'kms-sdk.js.map'], 'the function and the CA, for a deployment without a layer');
    assert.deepEqual(listing(a.layerZip), ['certs/', 'certs/siem-ca.pem', 'nodejs/', 'nodejs/node_modules/', 'nodejs/package.json']);
    writeFileSync(join(certs, 'oops.pem'), readFileSync(pki.keyFile));
    assert.throws(() => packageArtifacts(mkdtempSync(join(tmpdir(), 'sls-fwd-pkg-')), certs), /private key/);
    execFileSync('rm', [join(certs, 'oops.pem')]);
  });

  test('the handler runs from the unpacked zips laid out like FC (code dir + /opt layer, no project node_modules)', async () => {
    const { codeZip, layerZip } = packageArtifacts(mkdtempSync(join(tmpdir(), 'sls-fwd-pkg-')), certs);
    const fcRoot = mkdtempSync(join(tmpdir(), 'sls-fwd-fcroot-'));
    const code = join(fcRoot, 'code');
    const opt = join(fcRoot, 'opt');
    mkdirSync(code);
    mkdirSync(opt);
    execFileSync('unzip', ['-q', codeZip, '-d', code]);
    execFileSync('unzip', ['-q', layerZip, '-d', opt]);
    // Nothing of the project is reachable from there.
    assert.throws(() => execFileSync(process.execPath, ['-e', "require.resolve('protobufjs')"], { cwd: code, stdio: 'pipe', env: { PATH: process.env.PATH ?? '' } }));

    rsyslog.clear();
    const out = await invokeFunction(
      {
        // FC's Node.js runtimes resolve layer modules from /opt/nodejs/node_modules.
        NODE_PATH: join(opt, 'nodejs/node_modules'),
        SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_PROTOCOL: 'tls',
        SYSLOG_TLS_CA_FILE: join(opt, 'certs/siem-ca.pem'),
      },
      event(),
      { bundle: join(code, 'index.js'), cwd: code },
    );
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.records, 100);
    await rsyslog.waitForCount('tls', 100);
    assert.equal((await rsyslog.settle('tls')).length, 100);
  });

  test('without a layer: the code zip alone runs FC-style, with the CA from the code package (/code/certs)', async () => {
    const { codeZip } = packageArtifacts(mkdtempSync(join(tmpdir(), 'sls-fwd-pkg-')), certs);
    const code = join(mkdtempSync(join(tmpdir(), 'sls-fwd-fcroot-')), 'code');
    mkdirSync(code);
    execFileSync('unzip', ['-q', codeZip, '-d', code]);
    assert.ok(readFileSync(join(code, 'certs/siem-ca.pem'), 'utf8').includes('BEGIN CERTIFICATE'), 'the CA is in the code package');
    rsyslog.clear();
    const out = await invokeFunction(
      { SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA_FILE: join(code, 'certs/siem-ca.pem') },
      event(),
      { bundle: join(code, 'index.js'), cwd: code },
    );
    assert.equal(out.error, null, out.error?.message);
    assert.equal(out.result!.records, 100);
    assert.equal((await rsyslog.waitForCount('tls', 100)).length, 100);
  });

  test('scripts/invoke --fc-version 2 asks SLS for real cursors, calls FC 2.0 InvokeFunction through @alicloud/fc2 and shows the log tail', async () => {
    const accountId = '1234567890123456';
    const cloudCreds = { accessKeyId: 'STS.invoker-key', accessKeySecret: 'invoker-secret-Qw3rTy', securityToken: 'invoker-token-Zx9' };
    emulator.addKey(cloudCreds.accessKeyId, { secret: cloudCreds.accessKeySecret, securityToken: cloudCreds.securityToken });
    const seen: Array<Record<string, unknown>> = [];
    // The FC stand-in runs the real function on the event it receives: script -> FC API -> function -> SLS -> rsyslog.
    const fcApi = new FcApiMock({
      accountId, ...cloudCreds,
      onInvoke: async (service, fn, body, headers) => {
        assert.equal(service, 'sls-syslog');
        assert.equal(fn, 'forwarder');
        assert.equal(headers['x-fc-log-type'], 'Tail');
        assert.equal(headers['x-fc-invocation-type'], 'Sync');
        seen.push(JSON.parse(body.toString()) as Record<string, unknown>);
        const instance = new FcInstance({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp) });
        await instance.init();
        const out = await instance.invoke(body.toString());
        await instance.stop();
        return {
          headers: { 'x-fc-log-result': Buffer.from(out.stdout).toString('base64'), ...(out.error ? { 'x-fc-error-type': 'UnhandledInvocationError' } : {}) },
          body: JSON.stringify(out.error ?? out.result),
        };
      },
    });
    await fcApi.start();
    try {
      rsyslog.clear();
      const args = [
        '--import', 'tsx', 'scripts/invoke.ts', '--region', 'cn-hangzhou', '--project', PROJECT, '--logstore', LOGSTORE,
        '--fc-version', '2', '--service', 'sls-syslog', '--function', 'forwarder', '--account-id', accountId, '--shard', '0', '--minutes', '30',
        '--sls-endpoint', emulator.endpoint, '--event-endpoint', emulator.endpoint, '--fc-endpoint', fcApi.endpoint,
      ];
      const env = {
        PATH: process.env.PATH ?? '', ALIBABA_CLOUD_ACCESS_KEY_ID: cloudCreds.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: cloudCreds.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: cloudCreds.securityToken,
      };
      const { code, stdout, stderr } = await runScript(args, env);
      assert.equal(code, 0, stderr);
      assert.equal(seen.length, 1);
      const source = seen[0]!.source as Record<string, unknown>;
      // Groups were received "now": 30 minutes back starts at the first one.
      assert.equal(source.beginCursor, emulator.cursor(PROJECT, LOGSTORE, 0, 'begin'));
      assert.equal(source.endCursor, emulator.cursor(PROJECT, LOGSTORE, 0, 'end'));
      assert.match(stdout, /Function log \(tail\):\n.*"event":"sls-syslog-forwarder.invocation".*"records":100/s);
      assert.match(stdout, /"records": 100/);
      await rsyslog.waitForCount('tcp', 100);
      for (const secret of [cloudCreds.accessKeySecret, cloudCreds.securityToken, TEST_CREDENTIALS.accessKeySecret]) {
        assert.ok(!(stdout + stderr).includes(secret), 'no credential printed');
      }
      const gets = emulator.requests.filter((r) => r.api === 'GetCursor' && r.headers['x-acs-security-token'] === cloudCreds.securityToken);
      assert.equal(gets.length, 2);

      // A time range instead of "the last N minutes" (re-shipping after an outage), printed with --dry-run.
      const base = args.filter((a, i) => a !== '--minutes' && args[i - 1] !== '--minutes');
      const ranged = await runScript([...base, '--from=-2h', '--to', 'end', '--dry-run'], env);
      assert.equal(ranged.code, 0, ranged.stderr);
      assert.match(ranged.stdout, new RegExp(`"beginCursor": "${emulator.cursor(PROJECT, LOGSTORE, 0, 'begin')}"`));
      assert.match(ranged.stdout, /from -2h to end/);
      const wrongTime = await runScript([...base, '--from', 'yesterday-ish', '--dry-run'], env);
      assert.notEqual(wrongTime.code, 0);
      assert.match(wrongTime.stderr, /--from yesterday-ish must be begin, end, an ISO-8601 time or a relative time/);
      assert.doesNotMatch(wrongTime.stderr, /\n\s+at /, 'no stack trace');
      const dashed = await runScript([...base, '--from', '-2h', '--dry-run'], env);
      assert.equal(dashed.code, 2);
      assert.match(dashed.stderr, /^Option '--from' argument is ambiguous\..*--from=-XYZ/);
      assert.doesNotMatch(dashed.stderr, /\n\s+at /, 'a flag mistake is one line, not a stack trace');
      const bad = await runScript(args, { ...env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong' });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /SignatureNotMatch/);
    } finally {
      await fcApi.stop();
    }
  });

  test('scripts/publish-layer --fc-version 2 uploads build/layer.zip through @alicloud/fc2 and prints the ARN', async () => {
    const accountId = '1234567890123456';
    const creds = { accessKeyId: 'LTAI-publisher', accessKeySecret: 'publisher-secret' };
    const { layerZip } = packageArtifacts(mkdtempSync(join(tmpdir(), 'sls-fwd-pkg-')), certs);
    let uploaded: Buffer | undefined;
    const fcApi = new FcApiMock({
      accountId, ...creds,
      onPublishLayer: async (name, body) => {
        assert.equal(name, 'sls-syslog-forwarder');
        assert.deepEqual(body.compatibleRuntime, ['nodejs20', 'nodejs18']);
        uploaded = Buffer.from((body.code as { zipFile: string }).zipFile, 'base64');
        return { body: JSON.stringify({ version: 7, arnV2: `acs:fc:cn-hangzhou:${accountId}:layers/${name}/versions/7` }) };
      },
    });
    await fcApi.start();
    try {
      const { code, stdout, stderr } = await runScript(
        ['--import', 'tsx', 'scripts/publish-layer.ts', '--fc-version', '2', '--region', 'cn-hangzhou', '--account-id', accountId, '--zip', layerZip, '--fc-endpoint', fcApi.endpoint],
        { PATH: process.env.PATH ?? '', ALIBABA_CLOUD_ACCESS_KEY_ID: creds.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: creds.accessKeySecret },
      );
      assert.equal(code, 0, stderr);
      assert.ok(uploaded?.equals(readFileSync(layerZip)), 'the exact zip was uploaded');
      assert.match(stdout, /LAYER_ARN=acs:fc:cn-hangzhou:1234567890123456:layers\/sls-syslog-forwarder\/versions\/7/);
    } finally {
      await fcApi.stop();
    }
  });

  test('scripts/invoke on FC 3.0 (the default) calls InvokeFunction through @alicloud/fc20230330, signed with OpenAPI v3, and shows the log tail', async () => {
    const cloudCreds = { accessKeyId: 'STS.fc3-invoker', accessKeySecret: 'fc3-invoker-secret-Kp2', securityToken: 'fc3-invoker-token-Lm4' };
    emulator.addKey(cloudCreds.accessKeyId, { secret: cloudCreds.accessKeySecret, securityToken: cloudCreds.securityToken });
    const fc3 = new Fc3ApiMock({
      ...cloudCreds, tls: { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) },
      onInvoke: async (fn, body, headers) => {
        assert.equal(fn, 'forwarder');
        assert.equal(headers['x-fc-log-type'], 'Tail');
        assert.equal(headers['x-fc-invocation-type'], 'Sync');
        const instance = new FcInstance({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp) });
        await instance.init();
        const out = await instance.invoke(body.toString());
        await instance.stop();
        return { headers: { 'x-fc-log-result': Buffer.from(out.stdout).toString('base64') }, body: JSON.stringify(out.error ?? out.result) };
      },
    });
    await fc3.start();
    try {
      rsyslog.clear();
      const args = [
        '--import', 'tsx', 'scripts/invoke.ts', '--region', 'cn-hangzhou', '--project', PROJECT, '--logstore', LOGSTORE, '--function', 'forwarder',
        '--account-id', '1234567890123456', '--minutes', '30', '--sls-endpoint', emulator.endpoint, '--event-endpoint', emulator.endpoint, '--fc-endpoint', fc3.endpoint,
      ];
      const env = {
        PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: pki.caFile, ALIBABA_CLOUD_ACCESS_KEY_ID: cloudCreds.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: cloudCreds.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: cloudCreds.securityToken,
      };
      const { code, stdout, stderr } = await runScript(args, env);
      assert.equal(code, 0, stderr);
      assert.deepEqual(fc3.requests.map((r) => [r.action, r.status]), [['InvokeFunction', 200]], 'one signed FC 3.0 call, accepted');
      assert.match(stdout, /Function log \(tail\):\n.*"event":"sls-syslog-forwarder.invocation".*"records":100/s);
      assert.match(stdout, /Result \(FC 3\.0, request mock-fc3-request-1\)/);
      await rsyslog.waitForCount('tcp', 100);
      for (const secret of [cloudCreds.accessKeySecret, cloudCreds.securityToken]) assert.ok(!(stdout + stderr).includes(secret), 'no credential printed');
      // An FC endpoint that knows another secret for this key: the signature is refused, in one line.
      const other = new Fc3ApiMock({ ...cloudCreds, accessKeySecret: 'not-the-same', tls: { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) } });
      await other.start();
      try {
        const bad = await runScript(args.map((a) => (a === fc3.endpoint ? other.endpoint : a)), env);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /SignatureDoesNotMatch/);
        assert.doesNotMatch(bad.stderr, /\n\s+at /, 'one line, not a stack trace');
      } finally {
        await other.stop();
      }
    } finally {
      await fc3.stop();
    }
  });

  test('scripts/publish-layer on FC 3.0 (the default) creates a layer version through @alicloud/fc20230330 and prints its ARN', async () => {
    const creds = { accessKeyId: 'LTAI-fc3-publisher', accessKeySecret: 'fc3-publisher-secret' };
    const { layerZip } = packageArtifacts(mkdtempSync(join(tmpdir(), 'sls-fwd-pkg-')), certs);
    let uploaded: Buffer | undefined;
    const fc3 = new Fc3ApiMock({
      ...creds, tls: { key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) },
      onCreateLayerVersion: async (name, body) => {
        assert.equal(name, 'sls-syslog-forwarder');
        assert.deepEqual(body.compatibleRuntime, ['nodejs20', 'nodejs18']);
        uploaded = Buffer.from((body.code as { zipFile: string }).zipFile, 'base64');
        return { body: JSON.stringify({ layerName: name, version: 3, layerVersionArn: `acs:fc:cn-hangzhou:1234567890123456:layers/${name}/versions/3` }) };
      },
    });
    await fc3.start();
    try {
      const { code, stdout, stderr } = await runScript(
        ['--import', 'tsx', 'scripts/publish-layer.ts', '--region', 'cn-hangzhou', '--account-id', '1234567890123456', '--zip', layerZip, '--fc-endpoint', fc3.endpoint],
        { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: pki.caFile, ALIBABA_CLOUD_ACCESS_KEY_ID: creds.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: creds.accessKeySecret },
      );
      assert.equal(code, 0, stderr);
      assert.deepEqual(fc3.requests.map((r) => r.action), ['CreateLayerVersion']);
      assert.ok(uploaded?.equals(readFileSync(layerZip)), 'the exact zip was uploaded');
      assert.match(stdout, /on FC 3\.0 .*\nSet in \.env: {2}LAYER_ARN=acs:fc:cn-hangzhou:1234567890123456:layers\/sls-syslog-forwarder\/versions\/3/s);
    } finally {
      await fc3.stop();
    }
  });
});

function runScript(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
