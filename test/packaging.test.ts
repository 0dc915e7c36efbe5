/**
 * How operations teams run the worker: the systemd unit for ECS / a plain server (checked with
 * the real `systemd-analyze verify`), the Kubernetes manifests (validated against the object
 * schemas, and their command and environment run for real against the emulator), and the
 * container image definition. Each is held to what the worker needs: SIGTERM drains within the
 * stop timeout or grace period, settings from the environment, a non-root user.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  writeFileSync(broken, readFileSync(UNIT, 'utf8').replace('ExecStart=/usr/bin/node', 'ExecStart=/usr/bin/no-such-node').replace('KillSignal=SIGTERM', 'KillSignal=SIGTERMINATE'));
  const bad = verify(broken);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /no-such-node is not executable/);
  assert.match(bad.stderr, /Failed to parse signal name/);
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

const MANIFEST = join(__dirname, '../deploy/kubernetes/sls-syslog-forwarder.yaml');
type Doc = { kind: string; metadata: { name: string }; data?: Record<string, string>; stringData?: Record<string, string>; spec?: any };

async function validateManifest(text: string): Promise<void> {
  const models = {
    ...(await import('kubernetes-models/v1')),
    ...(await import('kubernetes-models/apps/v1')),
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
});

test('the container command and environment the manifest defines start the worker: it ships and turns ready', async () => {
  const docs = yaml.loadAll(readFileSync(MANIFEST, 'utf8')) as Doc[];
  const container = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0] as { command: string[]; ports: Array<{ containerPort: number }> };
  const manifestEnv = { ...docs.find((d) => d.kind === 'ConfigMap')!.data, ...docs.find((d) => d.kind === 'Secret')!.stringData } as Record<string, string>;
  const pki = makeTestPki();
  const rsyslog = await new Rsyslog({ tls: pki }).start();
  const emulator = await startEmulator();
  // The project and logstore the ConfigMap names, with data in them.
  emulator.createLogstore(manifestEnv.SLS_PROJECT!, manifestEnv.SLS_LOGSTORE!, 2);
  for (let shard = 0; shard < 2; shard++) emulator.appendGroup(manifestEnv.SLS_PROJECT!, manifestEnv.SLS_LOGSTORE!, shard, encodeLogGroup({ logs: Array.from({ length: 25 }, (_, i) => ({ time: 1737669036, contents: [['id', `k${shard}-${i}`]] as Array<[string, string]> })) }));
  const metricsPort = await freePort('tcp');
  // Exactly the manifest's environment, but for what only exists in the cluster: the addresses
  // (emulator, rsyslog, loopback for the metrics), the CA path, and keys instead of RRSA.
  const env = {
    ...manifestEnv, PATH: process.env.PATH ?? '', SLS_START: 'begin',
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
