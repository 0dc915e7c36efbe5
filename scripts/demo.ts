/**
 * `npm run demo`: the whole data path on this machine, no cloud account needed.
 * Starts the SLS emulator seeded (through the official @alicloud/log SDK) with sample WAF logs,
 * starts a real rsyslog on 127.0.0.1, invokes the built function exactly as the SLS trigger
 * would, and prints what the receiver got. Options: --protocol tcp|tls|udp, --format rfc5424|rfc3164,
 * --message kv|json, --records N.
 */
import { parseArgs } from 'node:util';
import { SlsEmulator } from '../test/sls-emulator/server';
import { makeTestPki } from '../test/support/certs';
import { invokeFunction, TEST_CREDENTIALS } from '../test/support/fc-invoke';
import { Rsyslog } from '../test/support/rsyslog';
import { officialSdk } from '../test/support/sdk';

const { values: args } = parseArgs({
  options: {
    protocol: { type: 'string', default: 'tcp' },
    format: { type: 'string', default: 'rfc5424' },
    message: { type: 'string', default: 'kv' },
    records: { type: 'string', default: '300' },
  },
});
const protocol = args.protocol as 'tcp' | 'tls' | 'udp';
const records = Number(args.records);
const PROJECT = 'demo-project';
const LOGSTORE = 'waf-logs';

const ACTIONS = ['pass', 'pass', 'pass', 'block', 'captcha'];
const URIS = ['/login', '/api/cart?id=42', "/search?q=' OR 1=1 --", '/static/app.js', '/admin/../etc/passwd'];

function wafLog(i: number, now: number) {
  const timestamp = now - 60 + Math.floor(i / 10);
  const timestampNsPart = (i % 10) * 100_000_000 + 123_456;
  return {
    timestamp,
    timestampNsPart,
    content: {
      time: new Date(timestamp * 1000 + timestampNsPart / 1e6).toISOString(),
      host: 'shop.example.com',
      real_client_ip: `203.0.113.${(i * 37) % 255}`,
      request_method: i % 4 === 0 ? 'POST' : 'GET',
      request_uri: URIS[i % URIS.length]!,
      status: ACTIONS[i % 5] === 'block' ? '405' : '200',
      final_action: ACTIONS[i % 5]!,
      final_plugin: ACTIONS[i % 5] === 'block' ? 'waf' : '',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
      request_traceid: `7b0d${i.toString(16).padStart(8, '0')}`,
    },
  };
}

async function main(): Promise<void> {
  const pki = makeTestPki();
  const rsyslog = await new Rsyslog({ tls: pki }).start();
  const emulator = new SlsEmulator({
    keys: { [TEST_CREDENTIALS.accessKeyId]: { secret: TEST_CREDENTIALS.accessKeySecret, securityToken: TEST_CREDENTIALS.securityToken } },
    maxPullBytes: 32 * 1024,
  });
  try {
    await emulator.start();
    const sdk = officialSdk(emulator.endpoint, TEST_CREDENTIALS);
    await sdk.client.createProject(PROJECT, { description: 'demo' }, sdk.options);
    await sdk.client.createLogStore(PROJECT, LOGSTORE, { ttl: 7, shardCount: 1 }, sdk.options);
    const now = Math.floor(Date.now() / 1000);
    for (let start = 0; start < records; start += 50) {
      const logs = Array.from({ length: Math.min(50, records - start) }, (_, k) => wafLog(start + k, now));
      await sdk.client.postLogStoreLogs(PROJECT, LOGSTORE, { logs, topic: 'waf_access_log', source: '100.64.0.12', tags: [{ __hostname__: 'waf-node-1' }] }, sdk.options);
    }
    const event = {
      parameter: {},
      source: {
        endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: LOGSTORE, shardId: 0,
        beginCursor: emulator.cursor(PROJECT, LOGSTORE, 0, 'begin'), endCursor: emulator.cursor(PROJECT, LOGSTORE, 0, 'end'),
      },
      jobName: 'demo-job', taskId: 'demo-task', cursorTime: now,
    };
    const env: Record<string, string> = {
      SYSLOG_HOST: '127.0.0.1',
      // The local emulator is not Alibaba's endpoint: named, as a proxy or private endpoint would be.
      SLS_ALLOWED_ENDPOINTS: '127.0.0.1',
      SYSLOG_PORT: String(rsyslog.ports[protocol]),
      SYSLOG_PROTOCOL: protocol,
      SYSLOG_FORMAT: args.format!,
      SYSLOG_MESSAGE_FORMAT: args.message!,
      ...(protocol === 'tls' ? { SYSLOG_TLS_CA_FILE: pki.caFile } : {}),
    };
    console.log(`SLS emulator  ${emulator.endpoint}  project=${PROJECT} logstore=${LOGSTORE}: ${records} WAF records in ${emulator.groupCount(PROJECT, LOGSTORE, 0)} log groups (seeded with @alicloud/log)`);
    console.log(`rsyslog       ${protocol}://127.0.0.1:${rsyslog.ports[protocol]}  (real rsyslogd, pid-managed)`);
    console.log(`invoking      dist/index.js handler(event, context, callback) as the SLS trigger would\n`);
    const out = await invokeFunction(env, event);
    process.stdout.write(out.stdout.split('\n').map((l) => (l ? `  function log | ${l}\n` : '')).join(''));
    if (out.error) throw new Error(`the function failed: ${out.error.message}`);
    await rsyslog.waitForCount(protocol, records);
    const got = await rsyslog.settle(protocol);
    console.log(`\nFirst messages as rsyslog parsed them (of ${got.length}):`);
    for (const m of got.slice(0, 5)) {
      console.log(`  <${m.pri}> ${m.timestamp} host=${m.hostname} app=${m.app}\n    ${m.msg.length > 220 ? `${m.msg.slice(0, 220)}...` : m.msg}`);
    }
    const r = out.result as Record<string, number>;
    console.log('\nSummary');
    console.log(`  pulled    ${r.groups} log groups, ${r.records} records, ${r.rawBytes} bytes in ${r.pulls} PullLogs calls`);
    console.log(`  sent      ${r.records} syslog messages (${r.sentBytes} bytes) over ${protocol} in ${r.durationMs} ms`);
    console.log(`  received  ${got.length} messages at rsyslog: ${got.length === records ? 'every record, once' : 'MISMATCH'}`);
    if (got.length !== records) process.exitCode = 1;
  } finally {
    await rsyslog.stop();
    await emulator.stop();
  }
}

main().catch((err: Error) => {
  console.error(`demo failed: ${err.message}`);
  process.exit(1);
});
