/**
 * How operations teams run the worker: the systemd unit for ECS / a plain server (checked with
 * the real `systemd-analyze verify`), the Kubernetes manifests (validated against the object
 * schemas, and their command and environment run for real against the emulator), and the
 * container image definition. Each is held to what the worker needs: SIGTERM drains within the
 * stop timeout or grace period, settings from the environment, secrets from files (systemd
 * credentials, a read-only Secret volume), a non-root user.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { makeTestPki } from './support/certs';
import { startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Podman } from './support/podman';
import { freePort, Rsyslog } from './support/rsyslog';

const UNIT = join(__dirname, '../deploy/systemd/sls-syslog-forwarder.service');
/** The longest a drain takes: one range window (src/consume/worker.ts) plus the default proof timeout. */
const DRAIN_SECONDS = 20 + 10;

const verify = (file: string) => spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });

test('the systemd unit passes systemd-analyze verify, and a broken one does not', (t) => {
  if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
    t.skip('systemd-analyze is not installed on this machine: the unit is NOT verified here');
    return;
  }
  const ok = verify(UNIT);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr.trim(), '', 'no warnings');
  const broken = join(mkdtempSync(join(tmpdir(), 'sls-fwd-unit-')), 'sls-syslog-forwarder.service');
  writeFileSync(broken, readFileSync(UNIT, 'utf8').replace('ExecStart=/usr/bin/node', 'ExecStart=/usr/bin/no-such-node').replace('KillSignal=SIGTERM', 'KillSignal=SIGTERMINATE').replace('LoadCredential=secret:', 'LoadCredential=se/cret:'));
  const bad = verify(broken);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /no-such-node is not executable/);
  assert.match(bad.stderr, /Failed to parse signal name/);
  // This systemd knows LoadCredential= (an older one says "Unknown key"): it parses the line and checks the name.
  assert.match(bad.stderr, /Credential name "se\/cret" not valid/);
});

test('the unit runs the worker as the worker needs: SIGTERM drain within the stop timeout, EnvironmentFile, own user, restart', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
  assert.match(value('ExecStart') ?? '', /bin\/sls-syslog-forwarder\.js consume$/);
  assert.equal(value('KillSignal'), 'SIGTERM');
  assert.ok(Number(value('TimeoutStopSec')) > DRAIN_SECONDS, `TimeoutStopSec ${value('TimeoutStopSec')} leaves the ${DRAIN_SECONDS} s drain room`);
  assert.match(value('EnvironmentFile') ?? '', /^\/etc\/sls-syslog-forwarder\/env$/);
  assert.ok(value('User') && value('User') !== 'root', 'a dedicated user');
  assert.equal(value('Restart'), 'on-failure');
  assert.equal(value('NoNewPrivileges'), 'true');
});

/** Where systemd puts this unit's credentials (fixed for a system service; $CREDENTIALS_DIRECTORY). */
const CREDENTIALS_DIRECTORY = '/run/credentials/sls-syslog-forwarder.service';
const DEPLOY_MD = join(__dirname, '../docs/deploy.md');

test('the unit hands secrets over as systemd credentials, and the docs point the *_FILE settings at them', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const loads = [...unit.matchAll(/^LoadCredential=([^:\n]+):(.*)$/gm)];
  assert.deepEqual(loads.map((m) => [m[1], m[2]]), [['secret', '/etc/sls-syslog-forwarder/credentials']], 'every file of one root-only directory');
  assert.doesNotMatch(unit, /^Environment=.*(TOKEN|SECRET|PASSPHRASE|KEY)=/m, 'no secret in the unit itself');
  // A directory's files arrive as <id>_<file name>: each *_FILE path the docs give has that form.
  const docs = readFileSync(DEPLOY_MD, 'utf8');
  const systemd = docs.slice(docs.indexOf('## The worker on ECS'), docs.indexOf('## The worker on Kubernetes'));
  const paths = [...systemd.matchAll(/\b([A-Z_]+_FILE)=(\S+)/g)].map((m) => [m[1]!, m[2]!.replace(/[`|]+$/, '')] as const);
  const names = new Set(paths.map(([name]) => name));
  for (const name of ['SPLUNK_HEC_TOKEN_FILE', 'SYSLOG_TLS_KEY_FILE', 'SYSLOG_TLS_CERT_FILE', 'SYSLOG_TLS_KEY_PASSPHRASE_FILE', 'ALIBABA_CLOUD_CREDENTIALS_FILE']) assert.ok(names.has(name), `docs/deploy.md gives ${name}`);
  for (const [name, path] of paths) assert.match(path, new RegExp(`^${CREDENTIALS_DIRECTORY}/secret_[\\w.-]+$`), `${name}=${path}`);
});

test('docs/deploy.md runs `check` as the service does (its user, its env file), with no secret on a command line', () => {
  const unit = readFileSync(UNIT, 'utf8');
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
  const docs = readFileSync(DEPLOY_MD, 'utf8');
  assert.doesNotMatch(docs, /env \$\(|xargs/, 'no `env $(cat ... | xargs)`: it puts every secret into argv, readable in ps');
  const command = /^sudo systemd-run (.*\\\n)*.*sls-syslog-forwarder\.js check$/m.exec(docs)?.[0].replace(/\\\n\s*/g, ' ');
  assert.ok(command, 'a systemd-run ... check command');
  assert.match(command, /--pipe --wait/);
  assert.match(command, new RegExp(`-p User=${value('User')} `));
  assert.match(command, new RegExp(`-p EnvironmentFile=${value('EnvironmentFile')} `));
  assert.ok(command.endsWith(`${value('ExecStart')!.replace(/ consume$/, '')} check`), 'the unit\'s program, with `check`');
});

const MANIFEST = join(__dirname, '../deploy/kubernetes/sls-syslog-forwarder.yaml');
type Doc = { kind: string; metadata: { name: string }; data?: Record<string, string>; stringData?: Record<string, string>; spec?: any };

async function validateManifest(text: string): Promise<void> {
  const models = {
    ...(await import('kubernetes-models/v1')),
    ...(await import('kubernetes-models/apps/v1')),
    ...(await import('kubernetes-models/networking.k8s.io/v1')),
  } as unknown as Record<string, new (doc: unknown) => { validate(): void }>;
  for (const doc of yaml.loadAll(text) as Doc[]) {
    const Model = models[doc.kind];
    assert.ok(Model, `a Kubernetes kind: ${doc.kind}`);
    new Model(doc).validate();
  }
}

test('the Kubernetes manifests are valid against the Kubernetes object schemas (kubernetes-models), and a broken one is not', async () => {
  const text = readFileSync(MANIFEST, 'utf8');
  await validateManifest(text);
  await assert.rejects(validateManifest(text.replace('containerPort: 9464', 'containerPort: metrics-port')), /containerPort must be integer/);
  await assert.rejects(validateManifest(text.replace('terminationGracePeriodSeconds: 45', 'terminationGracePeriodSeconds: soon')), /terminationGracePeriodSeconds must be integer/);
  const deployment = (yaml.loadAll(text) as Doc[]).find((d) => d.kind === 'Deployment')!;
  const pod = deployment.spec.template.spec;
  assert.ok(pod.terminationGracePeriodSeconds > DRAIN_SECONDS, 'SIGTERM drain fits the grace period');
  assert.equal(pod.serviceAccountName, 'sls-syslog-forwarder');
  const sa = (yaml.loadAll(text) as Doc[]).find((d) => d.kind === 'ServiceAccount') as Doc & { metadata: { annotations: Record<string, string> } };
  assert.ok(sa.metadata.annotations['pod-identity.alibabacloud.com/role-name'], 'annotated for RRSA');
  const c = pod.containers[0];
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.ok(c.resources.requests.memory && c.resources.limits.memory);
  await assert.rejects(validateManifest(text.replace('port: 9464 }', 'port: [9464] }')), /ports\/0\/port must be/, 'the NetworkPolicy is validated too');
});

/** The secret settings the ConfigMap offers (commented out until their Secret key exists): name -> path. */
function fileSettings(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^ {2}# ([A-Z_]+_FILE): (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

test('Kubernetes secrets are files of a read-only Secret volume (mode 0400, readable through fsGroup), never environment variables', () => {
  const text = readFileSync(MANIFEST, 'utf8');
  const docs = yaml.loadAll(text) as Doc[];
  assert.equal(docs.filter((d) => d.kind === 'Secret').length, 0, 'no Secret object (nor a secret value) in a file that goes to git');
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec;
  for (const c of pod.containers) {
    for (const from of c.envFrom ?? []) assert.equal(from.secretRef, undefined, `${c.name}: no envFrom of a Secret`);
    for (const e of c.env ?? []) assert.equal(e.valueFrom?.secretKeyRef, undefined, `${c.name}: ${e.name} not from a Secret`);
  }
  const volume = pod.volumes.find((v: { secret?: unknown }) => v.secret);
  assert.equal(volume.secret.secretName, 'sls-syslog-forwarder');
  assert.equal(volume.secret.defaultMode, 0o400);
  const mount = pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === volume.name);
  assert.equal(mount.readOnly, true);
  // Root owns a Secret's files: the non-root worker reads them through the group fsGroup gives them.
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal(pod.securityContext.fsGroup, pod.securityContext.runAsGroup);
  // Each secret setting names a file of that volume, one per Secret key the manifest documents.
  const settings = fileSettings(text);
  assert.deepEqual([...settings.keys()].sort(), ['SPLUNK_HEC_TOKEN_FILE', 'SYSLOG_TLS_CERT_FILE', 'SYSLOG_TLS_KEY_FILE', 'SYSLOG_TLS_KEY_PASSPHRASE_FILE']);
  const keys = /# Keys: ([^(]+)\(/.exec(text)![1]!.split(',').map((k) => k.trim());
  assert.deepEqual([...settings.values()].map((p) => p.replace(`${mount.mountPath}/`, '')).sort(), [...keys].sort());
});

test('the NetworkPolicy lets only the monitoring namespace reach the metrics port', () => {
  const docs = yaml.loadAll(readFileSync(MANIFEST, 'utf8')) as Doc[];
  const policy = docs.find((d) => d.kind === 'NetworkPolicy')!.spec;
  const deployment = docs.find((d) => d.kind === 'Deployment')!.spec;
  assert.deepEqual(policy.podSelector.matchLabels, deployment.selector.matchLabels, 'it selects the worker\'s pods');
  assert.deepEqual(policy.policyTypes, ['Ingress']);
  assert.equal(policy.ingress.length, 1, 'one rule: nothing else may connect');
  const [rule] = policy.ingress;
  assert.deepEqual(rule.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
  assert.deepEqual(rule.ports, [{ protocol: 'TCP', port: Number(docs.find((d) => d.kind === 'ConfigMap')!.data!.METRICS_PORT) }]);
});

test('the container command, environment and secret files the manifest defines start the worker: it ships and turns ready', async () => {
  const text = readFileSync(MANIFEST, 'utf8');
  const docs = yaml.loadAll(text) as Doc[];
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec;
  const container = pod.containers[0] as { command: string[]; ports: Array<{ containerPort: number }>; volumeMounts: Array<{ name: string; mountPath: string }> };
  const manifestEnv = { ...docs.find((d) => d.kind === 'ConfigMap')!.data } as Record<string, string>;
  const pki = makeTestPki();
  // The Secret volume, as the kubelet lays it out: one read-only file per key. mTLS with an
  // encrypted key, so the worker must read all three files (and the passphrase) to connect.
  const mountPath = container.volumeMounts.find((m) => m.name === pod.volumes.find((v: { secret?: unknown }) => v.secret).name)!.mountPath;
  const secrets = mkdtempSync(join(tmpdir(), 'sls-fwd-secret-volume-'));
  const passphrase = 'correct horse battery staple';
  const secretFiles: Record<string, string | Buffer> = {
    'tls.crt': readFileSync(pki.clientCertFile),
    'tls.key': createPrivateKey(readFileSync(pki.clientKeyFile)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }),
    'tls-key-passphrase': `${passphrase}\n`,
  };
  for (const [key, data] of Object.entries(secretFiles)) {
    writeFileSync(join(secrets, key), data);
    chmodSync(join(secrets, key), 0o400);
  }
  // The ConfigMap's commented secret settings, uncommented for the keys present (the HEC token is not: OUTPUT is syslog).
  const fileEnv: Record<string, string> = {};
  for (const [name, path] of fileSettings(text)) {
    const key = path.slice(mountPath.length + 1);
    if (key in secretFiles) fileEnv[name] = join(secrets, key);
  }
  assert.deepEqual(Object.keys(fileEnv).sort(), ['SYSLOG_TLS_CERT_FILE', 'SYSLOG_TLS_KEY_FILE', 'SYSLOG_TLS_KEY_PASSPHRASE_FILE']);
  const rsyslog = await new Rsyslog({ tls: pki }).start();
  const emulator = await startEmulator();
  // The project and logstore the ConfigMap names, with data in them.
  emulator.createLogstore(manifestEnv.SLS_PROJECT!, manifestEnv.SLS_LOGSTORE!, 2);
  for (let shard = 0; shard < 2; shard++) emulator.appendGroup(manifestEnv.SLS_PROJECT!, manifestEnv.SLS_LOGSTORE!, shard, encodeLogGroup({ logs: Array.from({ length: 25 }, (_, i) => ({ time: 1737669036, contents: [['id', `k${shard}-${i}`]] as Array<[string, string]> })) }));
  const metricsPort = await freePort('tcp');
  // Exactly the manifest's environment, but for what only exists in the cluster: the addresses
  // (emulator, rsyslog, loopback for the metrics), the CA and secret paths, and keys instead of RRSA.
  const env = {
    ...manifestEnv, ...fileEnv, PATH: process.env.PATH ?? '', SLS_START: 'begin',
    SLS_ENDPOINT: emulator.endpoint, SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_TLS_CA_FILE: pki.caFile,
    METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1', SLS_HEARTBEAT_MS: '200',
    ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
  };
  const [program, ...args] = container.command.map((a) => a.replace(/^\/app\//, `${join(__dirname, '..')}/`));
  assert.equal(program, 'node');
  const worker = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    assert.equal(container.ports[0]!.containerPort, Number(manifestEnv.METRICS_PORT), 'the probes\' port is the one the worker serves');
    await rsyslog.waitForCount('tls', 50, 20_000);
    const deadline = Date.now() + 10_000;
    let ready = 0;
    while (Date.now() < deadline && ready !== 200) {
      ready = await new Promise<number>((resolve) => http.get({ host: '127.0.0.1', port: metricsPort, path: '/readyz' }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', () => resolve(0)));
      if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ready, 200, '/readyz');
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await Promise.all([rsyslog.stop(), emulator.stop()]);
  }
});

test('the container image: built from deploy/container/Dockerfile, started, it ships every record and drains on SIGTERM', async (t) => {
  const dockerfile = readFileSync(join(__dirname, '../deploy/container/Dockerfile'), 'utf8');
  assert.match(dockerfile, /^USER 10001$/m, 'runs as a non-root user');
  assert.match(dockerfile, /ENTRYPOINT \["node", "\/app\/bin\/sls-syslog-forwarder\.js"\]/);
  const missing = Podman.unavailable();
  if (missing) {
    t.skip(`${missing} (scripts/ensure-debian-packages.sh installs podman and runc): the image is NOT built or started here`);
    return;
  }
  const podman = new Podman();
  const rsyslog = await new Rsyslog().start();
  const emulator = await startEmulator();
  const name = `sls-fwd-test-${process.pid}`;
  try {
    emulator.createLogstore('p', 'ls', 2);
    for (let shard = 0; shard < 2; shard++) emulator.appendGroup('p', 'ls', shard, encodeLogGroup({ logs: Array.from({ length: 40 }, (_, i) => ({ time: 1737669036, contents: [['id', `c${shard}-${i}`]] as Array<[string, string]> })) }));
    podman.buildNodeBase('localhost/sls-fwd-test-node:20');
    podman.run(['build', '--isolation', 'chroot', '--pull=never', '--build-arg', 'NODE_IMAGE=localhost/sls-fwd-test-node:20', '-f', 'deploy/container/Dockerfile', '-t', 'localhost/sls-syslog-forwarder:test', join(__dirname, '..')], 300_000);
    const user = podman.run(['image', 'inspect', '--format', '{{.Config.User}}', 'localhost/sls-syslog-forwarder:test']).trim();
    assert.equal(user, '10001', 'the image runs as a non-root user');
    const metricsPort = await freePort('tcp');
    const env = {
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: 'p', SLS_LOGSTORE: 'ls', SLS_CONSUMER_GROUP: 'container-test', SLS_START: 'begin', SLS_HEARTBEAT_MS: '200',
      SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), SYSLOG_PROTOCOL: 'tcp', METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1',
      ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken,
    };
    podman.run(['run', '-d', '--name', name, '--network', 'host', ...podman.ulimits(), ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), 'localhost/sls-syslog-forwarder:test']);
    await rsyslog.waitForCount('tcp', 80, 30_000);
    const ids = (await rsyslog.settle('tcp')).map((m) => /id=(c\d-\d+)/.exec(m.msg)?.[1]).filter((x): x is string => x !== undefined);
    const counts = { written: 80, delivered: new Set(ids).size, duplicated: ids.length - new Set(ids).size };
    assert.deepEqual({ ...counts, lost: 80 - counts.delivered }, { written: 80, delivered: 80, duplicated: 0, lost: 0 });
    const ready = await new Promise<number>((resolve) => http.get({ host: '127.0.0.1', port: metricsPort, path: '/readyz' }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', () => resolve(0)));
    assert.equal(ready, 200, '/readyz from inside the container');
    // SIGTERM, then wait, as Kubernetes does within terminationGracePeriodSeconds: the worker drains and exits 0.
    podman.run(['kill', '--signal', 'TERM', name]);
    const stopBy = Date.now() + 25_000;
    while (Date.now() < stopBy && podman.run(['inspect', '--format', '{{.State.Status}}', name]).trim() === 'running') await new Promise((r) => setTimeout(r, 250));
    t.diagnostic(`written 80, delivered ${counts.delivered}, lost ${80 - counts.delivered}, duplicated ${counts.duplicated}; drained and exited ${Date.now() - stopBy + 25_000} ms after SIGTERM`);
    const exit = podman.run(['inspect', '--format', '{{.State.ExitCode}}', name]).trim();
    assert.equal(exit, '0', `a clean exit after SIGTERM; its log ends:\n${podman.run(['logs', '--tail', '15', name]).slice(-3000)}`);
  } finally {
    podman.cleanup();
    await Promise.all([rsyslog.stop(), emulator.stop()]);
  }
});
