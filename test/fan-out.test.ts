/**
 * Fan-out (OUTPUTS=siem:syslog,lake:splunk-hec): every record of a range to a real rsyslog and to
 * the HEC collector side by side, through the built function, on 127.0.0.1. One output killed
 * mid-range: the range is sent again to both from the last point both proved, so the healthy one
 * counts duplicates and none loses a record. Each test prints written / delivered per output /
 * lost / duplicated, and fails on any loss.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test, type TestContext } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { FcInstance, invokeFunction, TEST_KEYS } from './support/fc-invoke';
import { HecStub } from './support/hec-stub';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';

const PROJECT = 'proj';
const GROUPS = 40;
const PER_GROUP = 50;
const TOTAL = GROUPS * PER_GROUP;
const TOKEN = 'fan-out-token-0123456789';

let rsyslog: Rsyslog;
let hec: HecStub;
let emulator: SlsEmulator;
let pki: TestPki;

before(async () => {
  pki = makeTestPki();
  rsyslog = await new Rsyslog().start();
  hec = await new HecStub({ key: readFileSync(pki.keyFile, 'utf8'), cert: readFileSync(pki.certFile, 'utf8'), token: TOKEN, ack: true }).start();
  emulator = new SlsEmulator({ keys: TEST_KEYS, maxPullBytes: 16 * 1024 });
  await emulator.start();
  emulator.createLogstore(PROJECT, 'waf', 1);
  for (let g = 0; g < GROUPS; g++) {
    const logs = Array.from({ length: PER_GROUP }, (_, i) => ({
      time: 1737669036,
      contents: [['id', `${g}-${i}`], ['final_action', i % 5 === 0 ? 'block' : 'pass'], ['pad', 'x'.repeat(200)]] as Array<[string, string]>,
    }));
    emulator.appendGroup(PROJECT, 'waf', 0, encodeLogGroup({ logs, source: '10.0.0.1' }));
  }
});
after(async () => {
  await rsyslog?.stop();
  await hec?.stop();
  await emulator?.stop();
});

function event() {
  return {
    parameter: {},
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: 'waf', shardId: 0,
      beginCursor: emulator.cursor(PROJECT, 'waf', 0, 'begin'), endCursor: emulator.cursor(PROJECT, 'waf', 0, 'end'),
    },
  };
}

/** Two outputs, each with its own prefixed settings; the format settings are shared (unprefixed). */
function fanOutEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    OUTPUTS: 'siem:syslog,lake:splunk-hec',
    SIEM_SYSLOG_HOST: '127.0.0.1', SIEM_SYSLOG_PORT: String(rsyslog.ports.tcp),
    LAKE_SPLUNK_HEC_URL: hec.url, LAKE_SPLUNK_HEC_TOKEN: TOKEN, LAKE_SPLUNK_HEC_CA_FILE: pki.caFile, LAKE_SPLUNK_HEC_ACK: 'on',
    SYSLOG_RECORD_ID: 'on',
    ...extra,
  };
}

const syslogIds = () => rsyslog.messages('tcp').map((m) => /^id=([^|]+)/.exec(m.msg)?.[1] ?? '?');
const hecIds = () => hec.events.map((e) => e.event.id ?? '?');

/** written / delivered / lost / duplicated for one output; fails on a loss. */
function account(t: TestContext, name: string, ids: string[], expected: Set<string>): { delivered: number; duplicated: number } {
  const unique = new Set(ids);
  const lost = [...expected].filter((id) => !unique.has(id)).length;
  const strangers = [...unique].filter((id) => !expected.has(id));
  const duplicated = ids.length - unique.size;
  t.diagnostic(`${name}: written ${expected.size}, delivered ${unique.size - strangers.length}, lost ${lost}, duplicated ${duplicated}`);
  assert.equal(lost, 0, `${name}: no record lost`);
  assert.deepEqual(strangers, [], `${name}: only records of the range`);
  return { delivered: unique.size, duplicated };
}

const allIds = () => new Set(Array.from({ length: GROUPS }, (_, g) => Array.from({ length: PER_GROUP }, (_, i) => `${g}-${i}`)).flat());

function reset(): void {
  rsyslog.clear();
  hec.events.length = 0;
}

test('fan-out: every record reaches rsyslog and the HEC collector, each output counted in the summary', async (t) => {
  reset();
  const out = await invokeFunction(fanOutEnv(), event());
  assert.equal(out.error, null, out.error?.message);
  const outputs = out.result!.outputs as Array<Record<string, unknown>>;
  assert.deepEqual(outputs.map((o) => [o.name, o.records, o.delivered, o.proof]), [['siem', TOTAL, TOTAL, 'close'], ['lake', TOTAL, TOTAL, 'ack']]);
  await rsyslog.waitForCount('tcp', TOTAL);
  assert.equal(account(t, 'siem (rsyslog)', syslogIds(), allIds()).duplicated, 0);
  assert.equal(account(t, 'lake (HEC)', hecIds(), allIds()).duplicated, 0);
});

test('fan-out: rsyslog killed mid-range; both outputs resend from the point both proved, 0 lost at either', async (t) => {
  reset();
  emulator.pullDelayMs = 100; // ~40 pulls: long enough to kill the receiver in the middle
  try {
    const fc = new FcInstance(fanOutEnv({ SLS_PULL_COUNT: '2', SYSLOG_COMMIT_BYTES: String(64 * 1024) }));
    await fc.init();
    const running = fc.invoke(event());
    await rsyslog.waitForCount('tcp', 300);
    await rsyslog.restart('SIGKILL', 300);
    const out = await running;
    await fc.stop();
    assert.equal(out.error, null, out.error?.message);
    assert.ok((out.result!.reconnects as number) >= 1, 'reconnected');
    await new Promise((r) => setTimeout(r, 500));
    const siem = account(t, 'siem (rsyslog, killed)', syslogIds(), allIds());
    const lake = account(t, 'lake (HEC, healthy)', hecIds(), allIds());
    const [siemSummary, lakeSummary] = out.result!.outputs as Array<{ resent: number }>;
    t.diagnostic(`summary resent: siem ${siemSummary!.resent}, lake ${lakeSummary!.resent}`);
    assert.ok(siem.duplicated <= siemSummary!.resent, `siem duplicates (${siem.duplicated}) are bounded by what it resent`);
    assert.ok(lake.duplicated <= lakeSummary!.resent, `lake duplicates (${lake.duplicated}) are bounded by what it resent`);
  } finally {
    emulator.pullDelayMs = 0;
  }
});

test('fan-out: the HEC collector down longer than the reconnects: the range fails for both, the retry delivers everything', async (t) => {
  reset();
  emulator.pullDelayMs = 100;
  let first;
  try {
    const fc = new FcInstance(fanOutEnv({ SLS_PULL_COUNT: '2', SYSLOG_RECONNECT_ATTEMPTS: '1', SLS_RESUME: 'off' }));
    await fc.init();
    const running = fc.invoke(event());
    await rsyslog.waitForCount('tcp', 300);
    const down = hec.restart(8_000);
    first = await running;
    await down;
    await fc.stop();
  } finally {
    emulator.pullDelayMs = 0;
  }
  assert.ok(first.error, 'an output that cannot prove the range fails it');
  t.diagnostic(`first attempt: ${first.error.message.split('\n')[0]}`);
  assert.match(first.error.message, /Splunk HEC/);
  assert.match(first.error.message, /none is lost/);
  // The trigger retries the same window.
  const retry = await invokeFunction(fanOutEnv(), event());
  assert.equal(retry.error, null, retry.error?.message);
  await rsyslog.waitForCount('tcp', TOTAL);
  account(t, 'siem (rsyslog, healthy)', syslogIds(), allIds());
  account(t, 'lake (HEC, was down)', hecIds(), allIds());
});

test('fan-out: OUTPUT_FILTER per output routes only blocked requests to the SIEM, everything to the lake', async (t) => {
  reset();
  const out = await invokeFunction(fanOutEnv({ SIEM_OUTPUT_FILTER: 'final_action!=pass' }), event());
  assert.equal(out.error, null, out.error?.message);
  const blocked = new Set([...allIds()].filter((id) => Number(id.split('-')[1]) % 5 === 0));
  const [siem, lake] = out.result!.outputs as Array<Record<string, unknown>>;
  assert.deepEqual([siem!.records, siem!.filtered, lake!.records, lake!.filtered], [blocked.size, TOTAL - blocked.size, TOTAL, 0]);
  await rsyslog.waitForCount('tcp', blocked.size);
  assert.equal(account(t, 'siem (filtered)', syslogIds(), blocked).duplicated, 0);
  assert.equal(account(t, 'lake', hecIds(), allIds()).duplicated, 0);
});

test('fan-out settings: a missing prefixed setting names the output, and OUTPUT with OUTPUTS is refused', async () => {
  const out = await invokeFunction({ ...fanOutEnv(), SIEM_SYSLOG_HOST: '', OUTPUT: 'syslog' }, event());
  assert.ok(out.error);
  assert.match(out.error.message, /output "siem" \(its SIEM_\* settings, else the unprefixed ones\): SYSLOG_HOST is not set/);
  assert.match(out.error.message, /OUTPUT and OUTPUTS are both set/);
  const bad = await invokeFunction({ OUTPUTS: 'syslog:syslog,lake', SYSLOG_HOST: 'h' }, event());
  assert.match(bad.error!.message, /"syslog" is not an output name/);
  assert.match(bad.error!.message, /"lake" needs a type, one of syslog, splunk-hec/);
});
