/**
 * `npm run bench`: ships realistic WAF-like ranges from the SLS emulator through the built function
 * (dist/index.js, in its own process as on FC) to fast local sinks, and reports records/s, MB/s of
 * raw log content (uncompressed protobuf), CPU seconds per GB and peak RSS; median of several runs.
 * The naive approach (protobufjs objects + one syslog-client log() per record) runs in the same
 * session for the ratio. Writes benchmarks/results/latest.json; `npm run bench:chart` draws it.
 * Options: --runs N (default 3), --quick (smaller ranges, 1 run), --only <text> (scenarios whose
 * name starts with it; nothing is written to results/).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../scripts/lib/cloud';
import { build } from 'esbuild';
import { SlsEmulator } from '../test/sls-emulator/server';
import { makeServerCert, makeTestPki } from '../test/support/certs';
import { encodeLogGroup } from '../test/support/log-group-writer';
import { hecSink, latencyRelay, tcpSink, udpSink, type Sink } from './sinks';

const root = join(__dirname, '..');
const args = parseFlags({ runs: { type: 'string', default: '3' }, quick: { type: 'boolean', default: false }, only: { type: 'string' }, baseline: { type: 'string' } }, `
npm run bench -- [options]: the function (and the worker) against local sinks, with the naive
baseline; numbers in docs/benchmarks.md, results in benchmarks/results/latest.json.

  --runs N       runs per scenario, median reported (default 3)
  --quick        smaller ranges, one run, nothing written to results/
  --only TEXT    only the scenarios whose name starts with TEXT (nothing written to results/)
  --baseline F   also run another build's dist/index.js (F), run for run alternating with this one,
                 and print the ratio: a before/after comparison on the same machine at the same time
  -h, --help     this text`);
const RUNS = args.quick ? 1 : Number(args.runs);
const CREDS = { accessKeyId: 'STS.bench', accessKeySecret: 'bench-secret', securityToken: 'bench-token' };
const PROJECT = 'bench';
const SLS_HOST = 'cn-hangzhou-intranet.log.aliyuncs.com';
const PER_GROUP = 500;
const POOL = 20;

type Profile = 'waf' | 'wide' | 'gbk';

/** "中文日志 用户代理" in GBK, as a producer writing GBK puts it into SLS: not UTF-8. */
const GBK = Buffer.from('d6d0cec4c8d5d6be20d3c3bba7b4fac0ed', 'hex');

/** ~400-byte WAF access records (15 fields), ~1.3 KB records with 45 fields, or WAF records whose user agent and URI hold GBK bytes. */
function record(profile: Profile, g: number, i: number): Array<[string, string | Buffer]> {
  const n = g * PER_GROUP + i;
  const waf: Array<[string, string]> = [
    ['time', `2025-01-23T21:50:${String(i % 60).padStart(2, '0')}+08:00`], ['host', 'shop.example.com'],
    ['real_client_ip', `203.0.${n % 255}.${(n * 7) % 255}`], ['request_method', n % 4 ? 'GET' : 'POST'],
    ['request_uri', `/api/v2/items/${n}?page=${i % 9}&sort=desc`], ['status', String([200, 200, 304, 404, 405][n % 5])],
    ['final_action', n % 7 ? 'pass' : 'block'], ['final_rule_id', String(100000 + (n % 977))],
    ['user_agent', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36'],
    ['request_time_msec', String(n % 300)], ['body_bytes_sent', String(1000 + (n % 50000))], ['upstream_status', '200'],
    ['request_traceid', `7b0d${n.toString(16).padStart(12, '0')}`], ['region', 'cn-hangzhou'], ['matched_host', 'shop.example.com'],
  ];
  if (profile === 'waf') return waf;
  if (profile === 'gbk') {
    return waf.map(([k, v]): [string, string | Buffer] => (k === 'user_agent' || k === 'request_uri' ? [k, Buffer.concat([Buffer.from(v.slice(0, v.length - GBK.length)), GBK])] : [k, v]));
  }
  const extra: Array<[string, string]> = Array.from({ length: 30 }, (_, k) => [`attr_${k}`, `value-${(n * 31 + k) % 10007}-${'z'.repeat(k % 5)}`]);
  return [...waf, ...extra];
}

function pool(profile: Profile): Buffer[] {
  return Array.from({ length: POOL }, (_, g) =>
    encodeLogGroup({
      topic: 'waf_access_log', source: `100.64.0.${g}`, tags: [['__hostname__', `waf-node-${g}`], ['__receive_time__', '1737669100']],
      logs: Array.from({ length: PER_GROUP }, (_, i) => ({ time: 1737669036 + i, timeNs: i * 1000, contents: record(profile, g, i) })),
    }),
  );
}

interface RunResult { records: number; rawBytes: number; wallMs: number; cpuMs: number; maxRssMB: number }

/**
 * One invocation in a fresh process. With `receiver` (TCP/TLS) the wall time runs until the
 * receiver has read the last byte: without a proof the function returns once its bytes are in
 * socket buffers (or a relay's), so its own clock would stop before delivery.
 */
async function runChild(bundle: string, env: Record<string, string>, eventFile: string, receiver?: Sink): Promise<RunResult> {
  const { returnedAt, ...result } = await runChildProcess(bundle, env, eventFile);
  if (!receiver?.lastDataAt) return result;
  // Until nothing more arrives for 100 ms (the relays hold data 10 ms).
  for (let seen = receiver.bytes(), quietSince = Date.now(); Date.now() - quietSince < 100; ) {
    await new Promise((r) => setTimeout(r, 5));
    if (receiver.bytes() !== seen) [seen, quietSince] = [receiver.bytes(), Date.now()];
  }
  // Both on the epoch clock: the handler's return (in the child) and the receiver's last read (here).
  return { ...result, wallMs: result.wallMs + Math.max(0, receiver.lastDataAt() - returnedAt) };
}

function runChildProcess(bundle: string, env: Record<string, string>, eventFile: string): Promise<RunResult & { returnedAt: number }> {
  return new Promise((resolve, reject) => {
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...prof, join(__dirname, 'child.cjs'), bundle, eventFile], {
      env: { PATH: process.env.PATH ?? '', BENCH_CREDENTIALS: JSON.stringify(CREDS), ...env }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('@@'));
      if (!line) return reject(new Error(`no result: ${out}`));
      if (process.env.BENCH_VERBOSE) console.log(line.slice(2));
      const r = JSON.parse(line.slice(2)) as { error?: string; result: { records: number; rawBytes?: number }; wallMs: number; returnedAt: number; cpuMs: number; maxRssMB: number };
      if (r.error) return reject(new Error(r.error));
      resolve({ records: r.result.records, rawBytes: r.result.rawBytes ?? 0, wallMs: r.wallMs, returnedAt: r.returnedAt, cpuMs: r.cpuMs, maxRssMB: r.maxRssMB });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function row(scenario: string, results: RunResult[]): Record<string, number | string> {
  return {
    scenario,
    records: results[0]!.records,
    rawMB: +(results[0]!.rawBytes / 1e6).toFixed(1),
    recordsPerSec: Math.round(median(results.map((x) => x.records / (x.wallMs / 1000)))),
    MBps: +median(results.map((x) => x.rawBytes / 1e6 / (x.wallMs / 1000))).toFixed(1),
    cpuSecPerGB: +median(results.map((x) => x.cpuMs / 1000 / (x.rawBytes / 1e9))).toFixed(2),
    peakRssMB: Math.round(Math.max(...results.map((x) => x.maxRssMB))),
    runs: results.length,
  };
}

/**
 * One `sls-syslog-forwarder consume` process on a fresh consumer group over 8 shards: wall time
 * and CPU from its "started" line until every shard's checkpoint is at the end, and its peak RSS.
 */
async function runWorker(emulator: SlsEmulator, group: string, env: Record<string, string>, groupsPool: Buffer[], groupsPerShard: number): Promise<RunResult> {
  const child = spawn(process.execPath, [join(root, 'bin/sls-syslog-forwarder.js'), 'consume'], {
    env: {
      PATH: process.env.PATH ?? '', ...env,
      SLS_ENDPOINT: emulator.endpoint, SLS_PROJECT: PROJECT, SLS_LOGSTORE: 'worker-8', SLS_CONSUMER_GROUP: group, SLS_START: 'begin',
      SLS_HEARTBEAT_MS: '500', SLS_IDLE_MS: '200',
      ALIBABA_CLOUD_ACCESS_KEY_ID: CREDS.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: CREDS.accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: CREDS.securityToken,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // CPU (utime + stime, USER_HZ = 100) and VmHWM of the worker, from /proc.
  const cpuMsOf = () => {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(stat[11]) + Number(stat[12])) * 1000) / 100;
  };
  // Measured from its "started" line, as the function is measured from its handler: start-up is not shipping.
  let out = '';
  await new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('"result":"started"')) resolve();
  }));
  child.stdout!.resume();
  const t0 = Date.now();
  const cpu0 = cpuMsOf();
  const ends = Array.from({ length: 8 }, (_, shard) => emulator.cursor(PROJECT, 'worker-8', shard, 'end'));
  const done = () => ends.every((end, shard) => emulator.consumerGroups.get(`${PROJECT}/worker-8/${group}`)?.checkpoints.get(shard)?.checkpoint === end);
  while (!done()) {
    if (Date.now() - t0 > 300_000) throw new Error('the worker did not finish within 5 minutes');
    await new Promise((r) => setTimeout(r, 20));
  }
  const wallMs = Date.now() - t0;
  const cpuMs = cpuMsOf() - cpu0;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const rawBytes = groupsPool.slice(0, POOL).reduce((sum, g) => sum + g.length, 0) / POOL * groupsPerShard * 8;
  return { records: 8 * groupsPerShard * PER_GROUP, rawBytes, wallMs, cpuMs, maxRssMB: hwm ? Number(hwm[1]) / 1024 : 0 };
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  const work = mkdtempSync(join(os.tmpdir(), 'sls-fwd-bench-'));
  const naive = join(work, 'naive.js');
  await build({ entryPoints: [join(__dirname, 'naive-baseline.ts')], outfile: naive, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
  const bundle = join(root, 'dist/index.js');

  const emulator = new SlsEmulator({ keys: { [CREDS.accessKeyId]: { secret: CREDS.accessKeySecret, securityToken: CREDS.securityToken } }, maxPullBytes: 4 * 1024 * 1024 });
  emulator.cachePulls = true;
  await emulator.start();
  const scale = args.quick ? 0.2 : 1;
  const sizes = { '1x': Math.round(40 * scale), '10x': Math.round(400 * scale), '100x': Math.round(4000 * scale) }; // log groups of 500
  const rawPool: Record<Profile, Buffer[]> = { waf: pool('waf'), wide: pool('wide'), gbk: pool('gbk') };
  const logstores: Array<[string, Profile, number]> = [
    ['waf-1x', 'waf', sizes['1x']], ['waf-10x', 'waf', sizes['10x']], ['waf-100x', 'waf', sizes['100x']], ['waf-30x', 'waf', sizes['10x'] * 3], ['wide-10x', 'wide', sizes['10x']], ['gbk-10x', 'gbk', sizes['10x']],
  ];
  for (const [name, profile, groups] of logstores) {
    emulator.createLogstore(PROJECT, name, 1);
    for (let g = 0; g < groups; g++) emulator.appendTaggedGroup(PROJECT, name, 0, rawPool[profile][g % POOL]!, 1737669100);
  }
  const eventFile = (logstore: string, endpoint = emulator.endpoint) => {
    const f = join(work, `${logstore}-${endpoint.length}.json`);
    writeFileSync(f, JSON.stringify({ source: { endpoint, projectName: PROJECT, logstoreName: logstore, shardId: 0, beginCursor: emulator.cursor(PROJECT, logstore, 0, 'begin'), endCursor: emulator.cursor(PROJECT, logstore, 0, 'end') } }));
    return f;
  };

  const pki = makeTestPki();
  const tlsKey = { key: readFileSync(pki.keyFile, 'utf8'), cert: readFileSync(pki.certFile, 'utf8') };
  const sinks: Record<string, Sink> = { tcp: await tcpSink(), tls: await tcpSink(tlsKey), udp: await udpSink(), hec: await hecSink(tlsKey) };
  // 10 ms each way (20 ms round trip): a SIEM in another data centre of the same region.
  sinks['tcp-rtt20'] = await latencyRelay(sinks.tcp!.port, 10);
  sinks['tls-rtt20'] = await latencyRelay(sinks.tls!.port, 10);
  const hecEnv = { OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: `https://127.0.0.1:${sinks.hec!.port}`, SPLUNK_HEC_TOKEN: 'bench-token', SPLUNK_HEC_CA_FILE: pki.caFile, SLS_ALLOWED_ENDPOINTS: '127.0.0.1' };
  const envFor = (protocol: 'tcp' | 'tls' | 'udp', sink: string = protocol): Record<string, string> => ({
    SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(sinks[sink]!.port), SYSLOG_PROTOCOL: protocol,
    // The emulator listens on loopback: named as an operator names a private endpoint.
    SLS_ALLOWED_ENDPOINTS: '127.0.0.1',
    ...(protocol === 'tls' ? { SYSLOG_TLS_CA_FILE: pki.caFile } : {}),
  });
  // HTTPS to SLS: the same data from an emulator serving TLS under the trigger's intranet name
  // (resolved to 127.0.0.1 in the function's process, its CA added to the roots).
  const slsCert = makeServerCert(pki, [`*.${SLS_HOST}`, SLS_HOST]);
  const slsTls = new SlsEmulator({
    keys: { [CREDS.accessKeyId]: { secret: CREDS.accessKeySecret, securityToken: CREDS.securityToken } }, maxPullBytes: 4 * 1024 * 1024,
    tls: { key: readFileSync(slsCert.keyFile), cert: readFileSync(slsCert.certFile) },
  });
  slsTls.cachePulls = true;
  await slsTls.start();
  slsTls.createLogstore(PROJECT, 'waf-10x', 1);
  for (let g = 0; g < sizes['10x']; g++) slsTls.appendTaggedGroup(PROJECT, 'waf-10x', 0, rawPool.waf[g % POOL]!, 1737669100);
  const slsHttps = {
    endpoint: `http://${SLS_HOST}:${slsTls.listenPort}`,
    env: { NODE_OPTIONS: `--require ${join(root, 'test/support/resolve-sls-to-loopback.cjs')}`, NODE_EXTRA_CA_CERTS: pki.caFile },
  };
  const fanOutEnv = {
    OUTPUTS: 'siem:syslog,lake:splunk-hec', SIEM_SYSLOG_HOST: '127.0.0.1', SIEM_SYSLOG_PORT: String(sinks.tcp!.port),
    LAKE_SPLUNK_HEC_URL: hecEnv.SPLUNK_HEC_URL, LAKE_SPLUNK_HEC_TOKEN: hecEnv.SPLUNK_HEC_TOKEN, LAKE_SPLUNK_HEC_CA_FILE: pki.caFile, SLS_ALLOWED_ENDPOINTS: '127.0.0.1',
  };
  const noProof = { SYSLOG_DELIVERY_PROOF: 'none' };
  // The defaults are 1 s / 32 MiB segments with 4 proofs in flight; against them: one proof at a
  // time, 8 MiB and 1 MiB segments, and the former defaults (16 MiB / 10 s, one proof at a time).
  // On 300 MB ranges (1.3 s): on 100 MB the last proof's round trip, once per invocation, weighs as
  // much as the throughput measured (20 ms RTT: 0.93 on 100 MB, 1.01 on 300 MB, run for run).
  const oneProof = { SYSLOG_PROOFS_IN_FLIGHT: '1' };
  const oneMiB = { SYSLOG_COMMIT_BYTES: String(1024 * 1024) };
  const eightMiB = { SYSLOG_COMMIT_BYTES: String(8 * 1024 * 1024) };
  const formerDefaults = { SYSLOG_COMMIT_BYTES: String(16 * 1024 * 1024), SYSLOG_COMMIT_SECONDS: '10', SYSLOG_PROOFS_IN_FLIGHT: '1' };

  // `turns`: scenarios compared with each other run round by round (the machine's drift falls on all alike).
  const scenarios: Array<{ name: string; bundle: string; env: Record<string, string>; logstore: string; runs: number; endpoint?: string; turns?: string }> = [
    { name: 'tcp waf 10x', bundle, env: envFor('tcp'), logstore: 'waf-10x', runs: RUNS },
    { name: 'tls waf 10x', bundle, env: envFor('tls'), logstore: 'waf-10x', runs: RUNS },
    // What HTTPS to SLS costs: the same range pulled over TLS (the default for *.log.aliyuncs.com).
    { name: 'tcp waf 10x sls-https', bundle, env: { ...envFor('tcp'), ...slsHttps.env }, logstore: 'waf-10x', runs: RUNS, endpoint: slsHttps.endpoint },
    { name: 'commit tcp no-proof', bundle, env: { ...envFor('tcp'), ...noProof }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp', bundle, env: envFor('tcp'), logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp one-proof', bundle, env: { ...envFor('tcp'), ...oneProof }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp 1MiB', bundle, env: { ...envFor('tcp'), ...oneMiB }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp 8MiB', bundle, env: { ...envFor('tcp'), ...eightMiB }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp 16MiB', bundle, env: { ...envFor('tcp'), ...formerDefaults }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls no-proof', bundle, env: { ...envFor('tls'), ...noProof }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls', bundle, env: envFor('tls'), logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls one-proof', bundle, env: { ...envFor('tls'), ...oneProof }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls 8MiB', bundle, env: { ...envFor('tls'), ...eightMiB }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls 1MiB', bundle, env: { ...envFor('tls'), ...oneMiB }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp rtt20', bundle, env: envFor('tcp', 'tcp-rtt20'), logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp rtt20 no-proof', bundle, env: { ...envFor('tcp', 'tcp-rtt20'), ...noProof }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp rtt20 one-proof', bundle, env: { ...envFor('tcp', 'tcp-rtt20'), ...oneProof }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp rtt20 1MiB', bundle, env: { ...envFor('tcp', 'tcp-rtt20'), ...oneMiB }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp rtt20 8MiB', bundle, env: { ...envFor('tcp', 'tcp-rtt20'), ...eightMiB }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tcp rtt20 16MiB', bundle, env: { ...envFor('tcp', 'tcp-rtt20'), ...formerDefaults }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls rtt20', bundle, env: envFor('tls', 'tls-rtt20'), logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls rtt20 no-proof', bundle, env: { ...envFor('tls', 'tls-rtt20'), ...noProof }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls rtt20 8MiB', bundle, env: { ...envFor('tls', 'tls-rtt20'), ...eightMiB }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'commit tls rtt20 1MiB', bundle, env: { ...envFor('tls', 'tls-rtt20'), ...oneMiB }, logstore: 'waf-30x', runs: RUNS, turns: 'commit' },
    { name: 'udp waf 10x', bundle, env: envFor('udp'), logstore: 'waf-10x', runs: RUNS },
    { name: 'tcp wide 10x', bundle, env: envFor('tcp'), logstore: 'wide-10x', runs: RUNS },
    { name: 'tcp waf 10x json', bundle, env: { ...envFor('tcp'), SYSLOG_MESSAGE_FORMAT: 'json' }, logstore: 'waf-10x', runs: RUNS, turns: 'presets' },
    { name: 'tcp waf 10x waf-preset', bundle, env: { ...envFor('tcp'), SYSLOG_SEVERITY_PRESET: 'waf', SYSLOG_FACILITY: 'local0' }, logstore: 'waf-10x', runs: RUNS },
    // STRUCTURED-DATA (every field twice) and CEF.
    { name: 'tcp waf 10x structured-data', bundle, env: { ...envFor('tcp'), SYSLOG_STRUCTURED_DATA: 'on' }, logstore: 'waf-10x', runs: RUNS },
    { name: 'tcp waf 10x cef', bundle, env: { ...envFor('tcp'), SYSLOG_MESSAGE_FORMAT: 'cef' }, logstore: 'waf-10x', runs: RUNS, turns: 'presets' },
    // Field presets (docs/benchmarks.md, "Field presets"): WAF's standard names in CEF and LEEF (the
    // kernel), in ECS (nested JSON, the reference) and as Splunk CIM over HEC; goal: CEF with the
    // preset >= 0.8 of plain CEF.
    { name: 'tcp waf 10x cef preset', bundle, env: { ...envFor('tcp'), SYSLOG_MESSAGE_FORMAT: 'cef', FIELD_PRESET: 'waf' }, logstore: 'waf-10x', runs: RUNS, turns: 'presets' },
    { name: 'tcp waf 10x leef', bundle, env: { ...envFor('tcp'), SYSLOG_MESSAGE_FORMAT: 'leef' }, logstore: 'waf-10x', runs: RUNS, turns: 'presets' },
    { name: 'tcp waf 10x leef preset', bundle, env: { ...envFor('tcp'), SYSLOG_MESSAGE_FORMAT: 'leef', FIELD_PRESET: 'waf' }, logstore: 'waf-10x', runs: RUNS, turns: 'presets' },
    { name: 'tcp waf 10x json ecs preset', bundle, env: { ...envFor('tcp'), SYSLOG_MESSAGE_FORMAT: 'json', JSON_SCHEMA: 'ecs', FIELD_PRESET: 'waf' }, logstore: 'waf-10x', runs: RUNS, turns: 'presets' },
    // Every record carries invalid UTF-8 (GBK bytes in two fields): repaired to U+FFFD in the kernel.
    { name: 'tcp gbk 10x invalid-utf8', bundle, env: envFor('tcp'), logstore: 'gbk-10x', runs: RUNS },
    // Splunk HEC (the kernel's events, gzip'd HTTPS batches) to a sink that only counts.
    { name: 'hec waf 10x', bundle, env: hecEnv, logstore: 'waf-10x', runs: RUNS, turns: 'hec' },
    { name: 'hec waf 10x cim preset', bundle, env: { ...hecEnv, FIELD_PRESET: 'waf' }, logstore: 'waf-10x', runs: RUNS, turns: 'hec' },
    { name: 'hec waf 10x no-gzip', bundle, env: { ...hecEnv, SPLUNK_HEC_GZIP: 'off' }, logstore: 'waf-10x', runs: RUNS },
    { name: 'hec waf 10x batch-4MiB', bundle, env: { ...hecEnv, SPLUNK_HEC_BATCH_BYTES: String(4 << 20) }, logstore: 'waf-10x', runs: RUNS },
    // Fan-out (OUTPUTS): the same range to a syslog receiver and to HEC side by side; and one
    // output's filter (the reference engine reads whole records for it).
    { name: 'fan-out tcp+hec waf 10x', bundle, env: fanOutEnv, logstore: 'waf-10x', runs: RUNS },
    { name: 'tcp waf 10x filter', bundle, env: { ...envFor('tcp'), OUTPUT_FILTER: 'final_action!=pass' }, logstore: 'waf-10x', runs: RUNS },
    { name: 'tcp waf 1x', bundle, env: envFor('tcp'), logstore: 'waf-1x', runs: RUNS },
    { name: 'tcp waf 100x', bundle, env: envFor('tcp'), logstore: 'waf-100x', runs: 1 },
    { name: 'naive tcp waf 1x', bundle: naive, env: envFor('tcp'), logstore: 'waf-1x', runs: RUNS },
    { name: 'naive tcp waf 10x', bundle: naive, env: envFor('tcp'), logstore: 'waf-10x', runs: 1 },
  ];
  // Warm the emulator's response cache so its compression is not part of any measurement.
  await runChild(bundle, envFor('tcp'), eventFile('waf-100x'));
  await runChild(bundle, envFor('tcp'), eventFile('waf-30x'));
  await runChild(bundle, envFor('tcp'), eventFile('wide-10x'));
  await runChild(bundle, envFor('tcp'), eventFile('gbk-10x'));
  await runChild(bundle, { ...envFor('tcp'), ...slsHttps.env }, eventFile('waf-10x', slsHttps.endpoint));

  const rows: Array<Record<string, number | string>> = [];
  /** Each run of the scenarios that take turns: run r of one and run r of another ran back to back. */
  const runsOf = new Map<string, RunResult[]>();
  /**
   * A / B as the median of the ratios of runs made back to back (each pair shares the machine's
   * state of the moment), not the ratio of two medians: the machine drifts more between runs (±10 %)
   * than the difference measured.
   */
  const paired = (a: string, b: string): number => {
    const [ra, rb] = [runsOf.get(a), runsOf.get(b)];
    // With --baseline nothing takes turns: then the ratio of the medians.
    if (!ra || !rb) return +((byName(a).MBps as number) / (byName(b).MBps as number)).toFixed(3);
    const mbps = (x: RunResult) => x.rawBytes / x.wallMs;
    return +median(ra.map((x, r) => mbps(x) / mbps(rb[r]!))).toFixed(3);
  };
  const chosen = scenarios.filter((x) => !args.only || x.name.startsWith(args.only));
  // Scenarios that take turns (`turns`) run round by round within their set.
  const interleaved = chosen.filter((x) => x.turns !== undefined && !args.baseline);
  for (const set of new Set(interleaved.map((x) => x.turns))) {
    const members = interleaved.filter((x) => x.turns === set);
    const results = members.map(() => [] as RunResult[]);
    for (let r = 0; r < RUNS; r++) {
      for (const [i, s] of members.entries()) {
        const protocol = s.env.SYSLOG_PROTOCOL;
        results[i]!.push(await runChild(s.bundle, s.env, eventFile(s.logstore, s.endpoint), protocol === 'tcp' || protocol === 'tls' ? sinks[protocol] : undefined));
      }
    }
    for (const [i, s] of members.entries()) {
      rows.push(row(s.name, results[i]!));
      runsOf.set(s.name, results[i]!);
      console.log(JSON.stringify(rows[rows.length - 1]));
    }
  }
  const commitRatios = Object.fromEntries(
    ['tcp', 'tls', 'tcp rtt20', 'tls rtt20'].filter((k) => runsOf.has(`commit ${k}`) && runsOf.has(`commit ${k} no-proof`)).map((k) => [k, paired(`commit ${k}`, `commit ${k} no-proof`)]),
  );
  if (Object.keys(commitRatios).length) console.log(JSON.stringify({ defaultsVsNoProofPaired: commitRatios }));
  for (const s of chosen.filter((x) => !interleaved.includes(x))) {
    const results: RunResult[] = [];
    const before: RunResult[] = [];
    const baseline = args.baseline && s.bundle === bundle ? args.baseline : undefined;
    const protocol = s.env.SYSLOG_PROTOCOL;
    const receiver = protocol === 'tcp' || protocol === 'tls' ? sinks[protocol] : undefined;
    for (let r = 0; r < s.runs; r++) {
      if (baseline) before.push(await runChild(baseline, s.env, eventFile(s.logstore, s.endpoint), receiver));
      results.push(await runChild(s.bundle, s.env, eventFile(s.logstore, s.endpoint), receiver));
    }
    rows.push(row(s.name, results));
    console.log(JSON.stringify(rows[rows.length - 1]));
    if (baseline) {
      const b = row(`${s.name} [baseline]`, before);
      const now = rows[rows.length - 1]!;
      console.log(JSON.stringify({ ...b, MBpsRatio: +((now.MBps as number) / (b.MBps as number)).toFixed(3), cpuRatio: +((now.cpuSecPerGB as number) / (b.cpuSecPerGB as number)).toFixed(3) }));
    }
  }
  // The consumer-group worker: 8 shards in one process, to the TCP sink (last: it leaves the
  // emulator with more to serve).
  const WORKER_GROUPS_PER_SHARD = Math.round(50 * scale);
  emulator.createLogstore(PROJECT, 'worker-8', 8);
  for (let shard = 0; shard < 8; shard++) {
    for (let g = 0; g < WORKER_GROUPS_PER_SHARD; g++) emulator.appendTaggedGroup(PROJECT, 'worker-8', shard, rawPool.waf[(g + shard) % POOL]!, 1737669100);
  }
  if (!args.only || 'worker 8 shards'.startsWith(args.only)) {
    const results: RunResult[] = [];
    for (let r = 0; r < RUNS; r++) results.push(await runWorker(emulator, `bench-${r}-${Date.now()}`, envFor('tcp'), rawPool.waf, WORKER_GROUPS_PER_SHARD));
    rows.push(row('worker 8 shards', results));
    console.log(JSON.stringify(rows[rows.length - 1]));
  }
  if (args.only) return closeAll();
  const byName = (n: string) => rows.find((r) => r.scenario === n)!;
  const summary = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` },
    rows,
    ratios: {
      tcpVsNaive1x: +((byName('tcp waf 1x').MBps as number) / (byName('naive tcp waf 1x').MBps as number)).toFixed(1),
      tcpVsNaive10x: +((byName('tcp waf 10x').MBps as number) / (byName('naive tcp waf 10x').MBps as number)).toFixed(1),
      tlsVsTcp: +((byName('tcp waf 10x').MBps as number) / (byName('tls waf 10x').MBps as number)).toFixed(2),
      workerCpuSecPerGBVsPythonGuide: +((byName('worker 8 shards').cpuSecPerGB as number) / 20).toFixed(2),
      invalidUtf8VsClean: +((byName('tcp gbk 10x invalid-utf8').MBps as number) / (byName('tcp waf 10x').MBps as number)).toFixed(2),
      slsHttpsVsHttp: +((byName('tcp waf 10x sls-https').MBps as number) / (byName('tcp waf 10x').MBps as number)).toFixed(3),
      // The default commit points against no proof at all, run for run (goal: >= 0.95 each).
      proofVsNoProofTcp: paired('commit tcp', 'commit tcp no-proof'),
      proofVsNoProofTls: paired('commit tls', 'commit tls no-proof'),
      proofVsNoProofTcpRtt20: paired('commit tcp rtt20', 'commit tcp rtt20 no-proof'),
      proofVsNoProofTlsRtt20: paired('commit tls rtt20', 'commit tls rtt20 no-proof'),
      // Field presets against the same body without one, run for run (goal for CEF: >= 0.8).
      cefPresetVsCef: paired('tcp waf 10x cef preset', 'tcp waf 10x cef'),
      leefPresetVsLeef: paired('tcp waf 10x leef preset', 'tcp waf 10x leef'),
      ecsPresetVsJson: paired('tcp waf 10x json ecs preset', 'tcp waf 10x json'),
      cimPresetVsHec: paired('hec waf 10x cim preset', 'hec waf 10x'),
    },
  };
  console.log(JSON.stringify(summary.ratios));
  if (!args.quick) {
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results/latest.json'), JSON.stringify(summary, null, 2) + '\n');
  }
  await closeAll();

  async function closeAll(): Promise<void> {
    for (const s of Object.values(sinks)) await s.close();
    await emulator.stop();
    await slsTls.stop();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
