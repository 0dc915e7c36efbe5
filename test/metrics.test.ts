/**
 * The worker's /healthz, /readyz and /metrics, checked with the real tools: Debian's `promtool
 * check metrics` on a scrape, and a Prometheus server on 127.0.0.1 that scrapes the worker and
 * answers a query with the records the receiver got.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { startEmulator, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { freePort, Rsyslog } from './support/rsyslog';

const RECORDS = 3 * 10 * 20;
let emulator: SlsEmulator;
let rsyslog: Rsyslog;

before(async () => {
  rsyslog = await new Rsyslog().start();
  emulator = await startEmulator();
  emulator.createLogstore('p', 'm', 3);
  for (let shard = 0; shard < 3; shard++) {
    for (let g = 0; g < 10; g++) {
      emulator.appendGroup('p', 'm', shard, encodeLogGroup({ logs: Array.from({ length: 20 }, (_, i) => ({ time: 1737669036, contents: [['id', `m${shard}-${g}-${i}`]] as Array<[string, string]> })) }));
    }
  }
});
after(async () => {
  await Promise.all([rsyslog?.stop(), emulator?.stop()]);
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function until<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('/healthz, /readyz and /metrics: promtool accepts the scrape, and a real Prometheus scrapes the shipped-records count', async (t) => {
  if (spawnSync('promtool', ['--version']).status !== 0) {
    t.skip('promtool (Debian package prometheus) is not installed: the metrics are NOT checked here');
    return;
  }
  const port = await freePort('tcp');
  let worker: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  try {
    worker = spawn(process.execPath, [join(__dirname, '../bin/sls-syslog-forwarder.js'), 'consume'], {
      env: {
        PATH: process.env.PATH ?? '', METRICS_PORT: String(port),
        SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: 'p', SLS_LOGSTORE: 'm', SLS_CONSUMER_GROUP: 'metrics', SLS_START: 'begin',
        SLS_HEARTBEAT_MS: '200', SLS_CONSUMER_TIMEOUT_SECONDS: '2', SLS_IDLE_MS: '100',
        ALIBABA_CLOUD_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TEST_CREDENTIALS.accessKeySecret,
        ALIBABA_CLOUD_SECURITY_TOKEN: TEST_CREDENTIALS.securityToken, SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    assert.equal((await until(() => get(port, '/healthz'), 10_000, '/healthz')).status, 200);
    await rsyslog.waitForCount('tcp', RECORDS, 20_000);
    await until(async () => ((await get(port, '/readyz')).status === 200 ? true : undefined), 10_000, '/readyz');
    const scrape = await until(async () => {
      const m = await get(port, '/metrics');
      const sum = [...m.body.matchAll(/^slsfwd_records_shipped_total\{shard="\d+"\} (\d+)$/gm)].reduce((n, x) => n + Number(x[1]), 0);
      return sum === RECORDS ? m.body : undefined;
    }, 10_000, 'every record counted in /metrics');
    assert.match(scrape, /^slsfwd_shards_held 3$/m);
    assert.match(scrape, /^slsfwd_shard_behind_seconds\{shard="0"\} 0(\.\d+)?$/m, 'caught up');
    assert.match(scrape, /^slsfwd_checkpoint_age_seconds\{shard="1"\} /m);
    assert.match(scrape, /^# TYPE slsfwd_heartbeat_failures_total counter$/m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);

    // A real Prometheus on 127.0.0.1 scrapes the worker every second.
    const dir = mkdtempSync(join(tmpdir(), 'sls-fwd-prom-'));
    const promPort = await freePort('tcp');
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sls-syslog-forwarder\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`);
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
    const value = await until(async () => {
      const q = await get(promPort, `/api/v1/query?query=${encodeURIComponent('sum(slsfwd_records_shipped_total)')}`);
      const result = (JSON.parse(q.body) as { data?: { result?: Array<{ value: [number, string] }> } }).data?.result?.[0]?.value[1];
      return result === undefined ? undefined : Number(result);
    }, 30_000, 'Prometheus to scrape the worker');
    assert.equal(value, RECORDS, 'Prometheus sees every shipped record');
    const up = await get(promPort, `/api/v1/query?query=${encodeURIComponent('up{job="sls-syslog-forwarder"}')}`);
    assert.match(up.body, /"value":\[[\d.]+,"1"\]/, 'the target is up');
  } finally {
    prometheus?.kill('SIGTERM');
    worker?.kill('SIGTERM');
    if (worker && worker.exitCode === null) await new Promise((r) => worker!.once('exit', r));
    if (prometheus && prometheus.exitCode === null) await new Promise((r) => prometheus!.once('exit', r));
  }
});
