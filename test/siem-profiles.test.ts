/**
 * SIEM_PROFILE end to end: each profile's defaults, through the real receiver a SOC would put in
 * front of that SIEM (rsyslog as Sentinel's AMA forwarder and ArcSight's syslog path, syslog-ng for
 * QRadar's syslog header, the HEC stub for Splunk, rsyslog with mmjsonparse for Elastic), read back
 * field by field. Also: every preset's CEF through liblognorm (rsyslog mmnormalize), a CEF parser
 * from Debian, compared with what the preset's table promises.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { after, before, test } from 'node:test';
import { FieldLookup } from '../src/format/lookup';
import { FIELD_PRESETS } from '../src/format/presets';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { invokeFunction, startEmulator } from './support/fc-invoke';
import { HecStub } from './support/hec-stub';
import { encodeLogGroup } from './support/log-group-writer';
import { PRESET_GROUPS, WAF_BLOCK } from './support/preset-records';
import { Rsyslog } from './support/rsyslog';
import { readCef, readLeef } from './support/siem-readers';
import { SyslogNg } from './support/syslog-ng';

const PROJECT = 'proj';
const TOKEN = '3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b';
let pki: TestPki;
let rsyslog: Rsyslog;
let sng: SyslogNg;
let hec: HecStub;
let emulator: SlsEmulator;

before(async () => {
  pki = makeTestPki();
  [rsyslog, sng] = await Promise.all([new Rsyslog().start(), new SyslogNg().start()]);
  hec = await new HecStub({ key: readFileSync(pki.keyFile, 'utf8'), cert: readFileSync(pki.certFile, 'utf8'), token: TOKEN, ack: false }).start();
  emulator = await startEmulator();
  for (const [preset, group] of Object.entries(PRESET_GROUPS)) {
    emulator.createLogstore(PROJECT, preset, 1);
    emulator.appendGroup(PROJECT, preset, 0, encodeLogGroup(group), 1765000100);
  }
});

after(async () => {
  await rsyslog?.stop();
  await sng?.stop();
  await hec?.stop();
  await emulator?.stop();
});

async function ship(preset: string, env: Record<string, string>): Promise<void> {
  const event = {
    parameter: {},
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: preset, shardId: 0,
      beginCursor: emulator.cursor(PROJECT, preset, 0, 'begin'), endCursor: emulator.cursor(PROJECT, preset, 0, 'end'),
    },
  };
  const out = await invokeFunction({ FIELD_PRESET: preset, SYSLOG_HOST: '127.0.0.1', ...env }, event);
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.records, PRESET_GROUPS[preset]!.logs.length);
}

/** Where a CEF value lands: its standard key, or (an address key given no address, as WAF's "-") its own name. */
const cefName = (from: string, to: string, value: string) => ((to === 'src' || to === 'dst') && isIP(value) === 0 ? from : to);

/** Each record's fields as the preset's tables read them (a name, or a path into JSON). */
const lookups = (preset: string) => PRESET_GROUPS[preset]!.logs.map((l) => new FieldLookup(l.contents));

test('every preset\'s CEF, read back by liblognorm: each key of the preset\'s table carries its field\'s value, and each custom key its label', async () => {
  for (const preset of Object.keys(FIELD_PRESETS)) {
    rsyslog.clear();
    await ship(preset, { SYSLOG_PROTOCOL: 'tcp', SYSLOG_PORT: String(rsyslog.ports.tcp), SYSLOG_MESSAGE_FORMAT: 'cef' });
    const got = await rsyslog.waitForCount('tcp', PRESET_GROUPS[preset]!.logs.length);
    const table = FIELD_PRESETS[preset]!.cef;
    const records = lookups(preset);
    let compared = 0;
    for (const m of got) {
      const cef = (JSON.parse(m.parsed) as { cef?: { DeviceVendor: string; DeviceProduct: string; Extensions: Record<string, string> } }).cef;
      assert.ok(cef, `${preset}: liblognorm did not parse ${m.msg.slice(0, 120)}`);
      assert.equal(cef.DeviceVendor, 'Alibaba Cloud');
      assert.equal(cef.DeviceProduct, FIELD_PRESETS[preset]!.header.product);
      const ext = { ...cef.Extensions };
      // liblognorm 2.0.6 drops the first character of the first extension key ("rt" arrives as "t").
      delete ext.t;
      // Which record: the one whose mapped values all match.
      const record = records.find((r) => Object.entries(table).every(([from, to]) => (r.get(from) ?? '') === '' || ext[cefName(from, to, r.get(from)!)] === r.get(from)));
      assert.ok(record, `${preset}: no record matches ${JSON.stringify(ext).slice(0, 300)}`);
      for (const [from, to] of Object.entries(table)) {
        const value = record.get(from);
        if (value === undefined || value === '') continue;
        assert.equal(ext[cefName(from, to, value)], value, `${preset}: ${to} from ${from}`);
        compared++;
        const label = FIELD_PRESETS[preset]!.cefLabels[to];
        if (label) assert.equal(ext[`${to}Label`], label, `${preset}: ${to}Label`);
      }
    }
    assert.ok(compared >= got.length * 5, `${preset}: ${compared} mapped fields compared`);
  }
});

test('SIEM_PROFILE=sentinel: CEF on facility local4 in the RFC 3164 form Sentinel\'s AMA forwarder takes (ident CEF), at most 8 KiB', async () => {
  rsyslog.clear();
  await ship('waf', { SIEM_PROFILE: 'sentinel', SYSLOG_PROTOCOL: 'tcp', SYSLOG_PORT: String(rsyslog.ports.tcp) });
  const got = await rsyslog.waitForCount('tcp', 3);
  for (const m of got) {
    assert.equal(Math.floor(Number(m.pri) / 8), 20, 'facility local4');
    // What AMA receives from its rsyslog: ident "CEF" and the message "0|vendor|...", as `logger --rfc3164 -t CEF` sends.
    assert.equal(m.programname, 'CEF');
    assert.equal(m.hostname, 'alicloud-waf');
    assert.match(m.msg, /^0\|Alibaba Cloud\|WAF\|3\.0\|/);
    assert.ok(Buffer.byteLength(m.msg) <= 8192);
  }
  const block = got.map((m) => readCef(`CEF:${m.msg}`)).find((c) => c.extensions.act === 'block')!;
  assert.deepEqual(
    [block.extensions.src, block.extensions.requestMethod, block.extensions.requestClientApplication, block.extensions.act, block.extensions.dhost],
    [WAF_BLOCK.real_client_ip, WAF_BLOCK.request_method, WAF_BLOCK.http_user_agent, WAF_BLOCK.final_action, WAF_BLOCK.host],
  );
});

test('SIEM_PROFILE=arcsight: CEF after the host in RFC 3164, newline framed, every value intact', async () => {
  rsyslog.clear();
  await ship('cloudfirewall', { SIEM_PROFILE: 'arcsight', SYSLOG_PROTOCOL: 'tcp', SYSLOG_PORT: String(rsyslog.ports.tcp) });
  const got = await rsyslog.waitForCount('tcp', 2);
  const records = lookups('cloudfirewall');
  for (const m of got) {
    assert.equal(m.programname, 'CEF');
    const { header, extensions } = readCef(`CEF:${m.msg}`);
    assert.deepEqual(header.slice(1, 3), ['Alibaba Cloud', 'Cloud Firewall']);
    const record = records.find((r) => r.get('src_ip') === extensions.src)!;
    assert.ok(record, `no record with src=${extensions.src}`);
    for (const [from, to] of Object.entries(FIELD_PRESETS.cloudfirewall!.cef)) assert.equal(extensions[to], record.get(from), `${to} from ${from}`);
  }
});

test('SIEM_PROFILE=qradar: LEEF 2.0 under a stable HOSTNAME per log type (QRadar\'s log source identifier), src the client IP', async () => {
  await ship('waf', { SIEM_PROFILE: 'qradar', SYSLOG_PORT: String(sng.ports.legacy) });
  await ship('actiontrail', { SIEM_PROFILE: 'qradar', SYSLOG_PORT: String(sng.ports.legacy) });
  const got = await sng.waitForCount('legacy', 5);
  const byHost = (host: string) => got.filter((m) => m.HOST === host);
  assert.equal(byHost('alicloud-waf').length, 3);
  assert.equal(byHost('alicloud-actiontrail').length, 2);
  for (const m of got) {
    assert.equal(m.PROGRAM, 'LEEF');
    const leef = readLeef(`LEEF:${String(m.MESSAGE)}`);
    assert.equal(leef.header[0], 'LEEF:2.0');
    // syslog-ng's own csv + kv reading of the same payload agrees with the reader of IBM's rules.
    const sngAttrs = m._leef as Record<string, string>;
    assert.equal((m.LEEF as Record<string, string>).delimiter, 'x09');
    for (const key of ['src', 'devTime', 'sev']) assert.equal(sngAttrs[key], leef.attributes[key], key);
    assert.ok(Buffer.byteLength(String(m.MESSAGE)) <= 4096);
    if (m.HOST === 'alicloud-waf') {
      assert.equal(leef.header[2], 'WAF');
      if (leef.header[4] === WAF_BLOCK.final_rule_id) assert.equal(leef.attributes.src, WAF_BLOCK.real_client_ip);
    } else {
      assert.equal(leef.header[2], 'ActionTrail');
      assert.ok(isIP(leef.attributes.src!) > 0 && leef.attributes.usrName, JSON.stringify(leef.attributes));
    }
  }
  assert.ok(got.some((m) => readLeef(`LEEF:${String(m.MESSAGE)}`).attributes.src === WAF_BLOCK.real_client_ip));
});

test('SIEM_PROFILE=splunk: HEC events with the log type\'s sourcetype and CIM names', async () => {
  const before = hec.events.length;
  await ship('waf', { SIEM_PROFILE: 'splunk', SPLUNK_HEC_URL: hec.url, SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_CA_FILE: pki.caFile });
  const events = hec.events.slice(before);
  assert.equal(events.length, 3);
  for (const e of events) {
    assert.equal(e.sourcetype, 'alicloud:waf');
    assert.equal(e.event.vendor_product, 'Alibaba Cloud WAF');
    assert.equal(e.event.dest, WAF_BLOCK.host);
  }
  const block = events.find((e) => e.event.action === 'block')!;
  assert.deepEqual([block.event.src, block.event.http_method, block.event.http_user_agent], [WAF_BLOCK.real_client_ip, WAF_BLOCK.request_method, WAF_BLOCK.http_user_agent]);
});

test('SIEM_PROFILE=elastic: one ECS document per message, as rsyslog\'s JSON parser reads it', async () => {
  rsyslog.clear();
  await ship('waf', { SIEM_PROFILE: 'elastic', SYSLOG_PROTOCOL: 'tcp', SYSLOG_PORT: String(rsyslog.ports.tcp) });
  const got = await rsyslog.waitForCount('tcp', 3);
  const docs = got.map((m) => JSON.parse(m.parsed) as Record<string, any>);
  const block = docs.find((d) => d.event?.action === 'block')!;
  assert.ok(block, JSON.stringify(docs[0]).slice(0, 300));
  assert.deepEqual(
    [block.source.ip, block.http.request.method, block.user_agent.original, block.event.action, block.url.domain, block.ecs.version],
    [WAF_BLOCK.real_client_ip, WAF_BLOCK.request_method, WAF_BLOCK.http_user_agent, WAF_BLOCK.final_action, WAF_BLOCK.host, '9.4.0'],
  );
  assert.ok(docs.every((d) => d.cloud.provider === 'alibaba_cloud' && d.event.dataset === 'alibaba_cloud.waf'));
});
