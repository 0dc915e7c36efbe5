/**
 * OUTPUT=splunk-hec, end to end through the built function: every record becomes one HEC event
 * with its fields and its own time, batches are gzip'd, authenticated and (when asked)
 * acknowledged before success; busy answers are retried; a rejected token fails at once.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { invokeFunction, startEmulator } from './support/fc-invoke';
import { HecStub } from './support/hec-stub';
import { encodeLogGroup } from './support/log-group-writer';

const TOKEN = 'hec-token-7d1c4f0e-1b2a';
const GROUPS = 6;
const PER_GROUP = 300;
let pki: TestPki;
let emulator: SlsEmulator;
let hec: HecStub;

before(async () => {
  pki = makeTestPki();
  hec = await new HecStub({ key: readFileSync(pki.keyFile, 'utf8'), cert: readFileSync(pki.certFile, 'utf8'), token: TOKEN, ack: true }).start();
  emulator = await startEmulator();
  emulator.createLogstore('proj', 'waf', 1);
  for (let g = 0; g < GROUPS; g++) {
    emulator.appendGroup('proj', 'waf', 0, encodeLogGroup({
      source: `10.0.0.${g}`, topic: 'waf_access',
      logs: Array.from({ length: PER_GROUP }, (_, i) => ({ time: 1737669036 + i, timeNs: i * 1_000_000, contents: [['id', `${g}-${i}`], ['msg', 'line1\n"quoted" 中文'], ['final_action', i % 2 ? 'pass' : 'block']] as Array<[string, string]> })),
    }), 1737669100);
  }
});
after(async () => {
  await hec?.stop();
  await emulator?.stop();
});

const event = () => ({ source: { endpoint: emulator.endpoint, projectName: 'proj', logstoreName: 'waf', shardId: 0, beginCursor: 'begin', endCursor: 'end' } });
const env = (extra: Record<string, string> = {}) => ({
  OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: hec.url, SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_CA_FILE: pki.caFile,
  SPLUNK_HEC_ACK: 'on', SPLUNK_HEC_INDEX: 'security', SPLUNK_HEC_BATCH_BYTES: '65536', ...extra,
});

test('every record arrives once as an HEC event with its fields, time, host, source and index; batches gzip\'d and acknowledged', async () => {
  hec.events.length = 0;
  hec.requests.length = 0;
  const out = await invokeFunction(env({ SYSLOG_RECORD_ID: 'on', SYSLOG_EXCLUDE_FIELDS: '__tag__:*' }), event());
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.records, GROUPS * PER_GROUP);
  assert.equal(hec.events.length, GROUPS * PER_GROUP);
  const ids = new Set(hec.events.map((e) => e.event.id));
  assert.equal(ids.size, GROUPS * PER_GROUP, 'each record once');
  const e = hec.events.find((x) => x.event.id === '2-7')!;
  assert.equal(e.time, 1737669043.007);
  assert.equal(e.host, '10.0.0.2');
  assert.equal(e.source, 'sls:proj/waf');
  assert.equal(e.sourcetype, 'alicloud:sls');
  assert.equal(e.index, 'security');
  assert.deepEqual(Object.keys(e.event), ['id', 'msg', 'final_action', '__topic__', '__source__', '__record_id__']);
  assert.equal(e.event.msg, 'line1\n"quoted" 中文');
  const posts = hec.requests.filter((r) => r.path === '/services/collector/event');
  assert.ok(posts.length > 1 && posts.every((r) => r.gzip && r.status === 200 && r.channel), 'several gzip batches on one channel');
  assert.ok(hec.requests.some((r) => r.path.startsWith('/services/collector/ack')), 'acks were polled');
  assert.ok(!(out.stdout + out.stderr).includes(TOKEN), 'the token is never printed');
  assert.match(out.stdout, /"token":"\[redacted\]"/);
});

test('429 and 503 answers are retried with backoff and nothing is lost or doubled', async () => {
  hec.events.length = 0;
  hec.faults.push(503, 429);
  const out = await invokeFunction(env({ SPLUNK_HEC_ACK: 'off' }), event());
  assert.equal(out.error, null, out.error?.message);
  assert.equal(hec.events.length, GROUPS * PER_GROUP);
  assert.equal(new Set(hec.events.map((e) => e.event.id)).size, GROUPS * PER_GROUP);
});

test('a rejected token fails at once with what to check; missing settings are named', async () => {
  const before = hec.requests.length;
  const out = await invokeFunction(env({ SPLUNK_HEC_TOKEN: 'wrong-token' }), event());
  assert.ok(out.error);
  assert.match(out.error.message, /Splunk HEC rejected a batch: HTTP 403, code 4: Invalid token\. Check SPLUNK_HEC_TOKEN/);
  assert.ok(hec.requests.length - before <= 3, 'no reconnect loop against a bad token');
  const missing = await invokeFunction({ OUTPUT: 'splunk-hec' }, event());
  assert.match(missing.error!.message, /SPLUNK_HEC_URL is not set/);
  assert.match(missing.error!.message, /SPLUNK_HEC_TOKEN is not set/);
});
