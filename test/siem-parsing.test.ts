/**
 * Every format, read back by real SIEM-side parsers: rsyslog (RFC 5424 parser, mmpstrucdata for
 * STRUCTURED-DATA, mmnormalize/liblognorm for CEF, mmjsonparse) and syslog-ng (syslog() driver with
 * SDATA, json-parser, kv-parser, csv+kv for LEEF, mTLS). Fields must come back out equal to what
 * was stored in SLS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { controlPictures } from './support/dataset';
import { invokeFunction, startEmulator } from './support/fc-invoke';
import { encodeLogGroup } from './support/log-group-writer';
import { Rsyslog } from './support/rsyslog';
import { SyslogNg } from './support/syslog-ng';
import { TRUNCATION_MARK } from '../src/format/syslog-message';

type Pair = [string, string];
interface Rec { id: string; time: number; timeNs: number; fields: Pair[]; severity: number }

const PROJECT = 'proj';
const LOGSTORE = 'waf-logs';
const RT = 1737669100;
const TRICKY = { body: '请求体😀'.repeat(100), quote: 'say "hi"', slash: 'C:\\temp\\x', bracket: 'a]b[c', eq: 'k=v||p|q', nl: 'line1\nline2', tab: 'a\tb', cjk: '中文 😀', empty: '' };

// WAF records (severity from final_action) and ActionTrail records (severity from the JSON in `event`).
const waf = [['block', 4], ['pass', 6], ['captcha', 5]] as const;
const trail = [[{ eventRW: 'Write', eventName: 'DeleteBucket' }, 5], [{ eventRW: 'Read', eventName: 'GetBucket', errorCode: 'Forbidden' }, 4], [{ eventRW: 'Read', eventName: 'ListBuckets' }, 6]] as const;
const wafRecs: Rec[] = waf.map(([action, severity], i) => ({
  id: `waf-${i}`, time: 1737669036 + i, timeNs: 123456000 + i, severity,
  fields: [['id', `waf-${i}`], ['final_action', action], ['real_client_ip', `203.0.113.${i}`], ...Object.entries(TRICKY)],
}));
const trailRecs: Rec[] = trail.map(([ev, severity], i) => ({
  id: `trail-${i}`, time: 1737669040 + i, timeNs: 0, severity, fields: [['id', `trail-${i}`], ['event', JSON.stringify(ev)]],
}));
const groupFields = (topic: string): Pair[] => [['__topic__', topic], ['__source__', '10.20.30.40'], ['__tag__:__hostname__', 'waf-node-1'], ['__tag__:__receive_time__', String(RT)]];
const ALL: Rec[] = [
  ...wafRecs.map((r) => ({ ...r, fields: [...r.fields, ...groupFields('waf_access')] })),
  ...trailRecs.map((r) => ({ ...r, fields: [...r.fields, ...groupFields('actiontrail_audit_event')] })),
];
const byId = <T>(items: T[], id: (t: T) => string) => new Map(items.map((t) => [id(t), t]));

let pki: TestPki;
let rsyslog: Rsyslog;
let sng: SyslogNg;
let emulator: SlsEmulator;

before(async () => {
  pki = makeTestPki();
  [rsyslog, sng] = await Promise.all([new Rsyslog({ tls: pki }).start(), new SyslogNg({ tls: pki, kvSeparator: '||' }).start()]);
  emulator = await startEmulator();
  emulator.createLogstore(PROJECT, LOGSTORE, 1);
  for (const [topic, recs] of [['waf_access', wafRecs], ['actiontrail_audit_event', trailRecs]] as const) {
    emulator.appendGroup(PROJECT, LOGSTORE, 0, encodeLogGroup({
      topic, source: '10.20.30.40', tags: [['__hostname__', 'waf-node-1']],
      logs: recs.map((r) => ({ time: r.time, timeNs: r.timeNs, contents: r.fields })),
    }), RT);
  }
});
after(async () => {
  await rsyslog?.stop();
  await sng?.stop();
  await emulator?.stop();
});

function event() {
  return {
    parameter: {},
    source: {
      endpoint: emulator.endpoint, projectName: PROJECT, logstoreName: LOGSTORE, shardId: 0,
      beginCursor: emulator.cursor(PROJECT, LOGSTORE, 0, 'begin'), endCursor: emulator.cursor(PROJECT, LOGSTORE, 0, 'end'),
    },
  };
}

async function ship(env: Record<string, string>) {
  const out = await invokeFunction({ SYSLOG_HOST: '127.0.0.1', ...env }, event());
  assert.equal(out.error, null, out.error?.message);
  assert.equal(out.result!.records, ALL.length);
  return out;
}

const SEVERITY_PRESET = 'waf';
// The waf preset covers final_action; ActionTrail records get their rules from the map below
// plus the actiontrail preset, so both presets are exercised in one run.
const LEVEL_ENV = { SYSLOG_SEVERITY_PRESET: SEVERITY_PRESET, SYSLOG_FACILITY: 'local4' };

describe('rsyslog', () => {
  test('RFC 5424 STRUCTURED-DATA over UDP: mmpstrucdata gives back every field; PRI from the WAF preset; record ids', async () => {
    rsyslog.clear();
    await ship({
      ...LEVEL_ENV, SYSLOG_PROTOCOL: 'udp', SYSLOG_PORT: String(rsyslog.ports.udp), SYSLOG_STRUCTURED_DATA: 'on',
      SYSLOG_MESSAGE_FORMAT: 'none', SYSLOG_RECORD_ID: 'on', SYSLOG_PROCID: 'fc-1', SYSLOG_MSGID: 'WAF', SYSLOG_MAX_MESSAGE_BYTES: '8000',
    });
    const got = await rsyslog.waitForCount('udp', ALL.length);
    const ids = new Set<string>();
    for (const m of got) {
      const sd = (JSON.parse(m.parsed) as { 'rfc5424-sd': Record<string, Record<string, string>> })['rfc5424-sd']['sls@32473']!;
      const rec = ALL.find((r) => r.id === sd.id)!;
      assert.ok(rec, `unknown record ${sd.id}`);
      const expected: Record<string, string> = {};
      for (const [k, v] of rec.fields) expected[k.replace(/[=\]"\s]/g, '_')] = controlPictures(v);
      const recordId = sd.__record_id__!;
      delete sd.__record_id__;
      assert.deepEqual(sd, expected, `SD of ${rec.id}`);
      assert.match(recordId, new RegExp(`^${LOGSTORE}:0:\\d+:\\d$`));
      ids.add(recordId);
      assert.equal(m.procid, 'fc-1');
      assert.equal(m.msgid, 'WAF');
      if (rec.id.startsWith('waf')) assert.equal(Number(m.pri), 20 * 8 + rec.severity, `PRI of ${rec.id}`);
    }
    assert.equal(ids.size, ALL.length, 'record ids are unique');
  });

  test('CEF over TLS: liblognorm parses header and extensions back to the stored values; severity from ActionTrail rules', async () => {
    rsyslog.clear();
    await ship({
      SYSLOG_SEVERITY_PRESET: 'actiontrail', SYSLOG_SEVERITY_FIELD: 'final_action', SYSLOG_SEVERITY_MAP: 'block:warning,captcha:notice,pass:info',
      SYSLOG_PROTOCOL: 'tls', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_TLS_CA_FILE: pki.caFile, SYSLOG_MESSAGE_FORMAT: 'cef',
      SYSLOG_EVENT_VENDOR: 'Alibaba|Cloud', SYSLOG_EVENT_PRODUCT: 'WAF', SYSLOG_EVENT_ID_FIELD: 'final_action', SYSLOG_EVENT_NAME_FIELD: 'event.eventName',
    });
    const got = await rsyslog.waitForCount('tls', ALL.length);
    const cefSeverity = [10, 9, 8, 7, 5, 3, 1, 0];
    for (const m of got) {
      const cef = (JSON.parse(m.parsed) as { cef: { DeviceVendor: string; DeviceProduct: string; SignatureID: string; Name: string; Severity: string; Extensions: Record<string, string> } }).cef;
      assert.ok(cef, `not parsed as CEF: ${m.msg.slice(0, 100)}`);
      const ext = { ...cef.Extensions };
      // liblognorm 2.0.6 drops the first character of the first extension key ("rt" arrives as "t").
      const rt = ext.rt ?? ext.t;
      delete ext.rt;
      delete ext.t;
      const rec = ALL.find((r) => r.id === ext.id)!;
      assert.ok(rec, `unknown record ${ext.id}`);
      assert.equal(cef.DeviceVendor, 'Alibaba|Cloud');
      assert.equal(cef.DeviceProduct, 'WAF');
      assert.equal(Number(rt), rec.time * 1000 + Math.floor(rec.timeNs / 1e6));
      assert.equal(cef.Severity, String(cefSeverity[rec.severity]), `severity of ${rec.id}`);
      const action = rec.fields.find(([k]) => k === 'final_action')?.[1];
      assert.equal(cef.SignatureID, action ?? LOGSTORE);
      if (rec.id.startsWith('trail')) assert.equal(cef.Name, JSON.parse(rec.fields[1]![1]).eventName);
      const expected: Record<string, string> = {};
      for (const [k, v] of rec.fields) expected[k === '__source__' ? 'dvc' : k.replace(/[^A-Za-z0-9]/g, '_')] = controlPictures(v, '\r\n');
      assert.deepEqual(ext, expected, `extensions of ${rec.id}`);
    }
  });

  test('JSON over TCP with field rename and exclude: mmjsonparse reads exactly the selected fields', async () => {
    rsyslog.clear();
    await ship({
      SYSLOG_PORT: String(rsyslog.ports.tcp), SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_EXCLUDE_FIELDS: '__tag__:*,empty', SYSLOG_FIELD_MAP: 'real_client_ip:src_ip,__source__:source_ip',
    });
    const got = await rsyslog.waitForCount('tcp', ALL.length);
    for (const m of got) {
      const parsed = JSON.parse(m.parsed) as Record<string, string>;
      const rec = ALL.find((r) => r.id === parsed.id)!;
      const expected: Record<string, string> = {};
      for (const [k, v] of rec.fields) {
        if (k.startsWith('__tag__:') || k === 'empty') continue;
        expected[k === 'real_client_ip' ? 'src_ip' : k === '__source__' ? 'source_ip' : k] = v;
      }
      assert.deepEqual(JSON.parse(m.msg), expected);
    }
  });

  test('a message over the limit is cut at a character boundary, marked and counted; TCP framing stays intact', async () => {
    rsyslog.clear();
    const out = await ship({ SYSLOG_PORT: String(rsyslog.ports.tcp), SYSLOG_MAX_MESSAGE_BYTES: '480', SYSLOG_MESSAGE_FORMAT: 'json' });
    const got = await rsyslog.waitForCount('tcp', ALL.length);
    const cut = got.filter((m) => m.msg.includes(TRUNCATION_MARK));
    assert.equal(out.result!.truncated, cut.length);
    assert.ok(cut.length >= 3, 'the WAF records are over 480 bytes');
    for (const m of cut) {
      assert.ok(!m.msg.includes('\ufffd'), 'no split character');
      assert.match(m.msg, /original message \d+ bytes\]$/);
    }
  });

  test('SYSLOG_TLS_INSECURE=true connects without the CA, and says so loudly', async () => {
    rsyslog.clear();
    const out = await ship({ SYSLOG_PROTOCOL: 'tls', SYSLOG_PORT: String(rsyslog.ports.tls), SYSLOG_TLS_INSECURE: 'true' });
    assert.match(out.stderr, /WARNING .*SYSLOG_TLS_INSECURE=true .*NOT verified/);
    assert.match(out.stdout, /"verifyCertificate":false/);
    await rsyslog.waitForCount('tls', ALL.length);
  });
});

describe('syslog-ng', () => {
  test('RFC 5424 header and SDATA: syslog() parses app, procid, msgid, microsecond time and every SD param', async () => {
    await ship({ SYSLOG_PORT: String(sng.ports.plain), SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_APP_NAME: 'sls-waf', SYSLOG_PROCID: '42', SYSLOG_MSGID: 'ACCESS', SYSLOG_BOM: 'on' });
    const got = await sng.waitForCount('plain', ALL.length);
    const recs = byId(ALL, (r) => r.id);
    for (const m of got) {
      const sd = (m._SDATA as Record<string, Record<string, string>>)['sls@32473']!;
      const rec = recs.get(sd.id!)!;
      const expected: Record<string, string> = {};
      for (const [k, v] of rec.fields) expected[k.replace(/[=\]"\s]/g, '_')] = controlPictures(v);
      assert.deepEqual(sd, expected);
      assert.equal(m.PROGRAM, 'sls-waf');
      assert.equal(m.PID, '42');
      assert.equal(m.MSGID, 'ACCESS');
      assert.equal(m.ISODATE, new Date(rec.time * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(Math.floor(rec.timeNs / 1000)).padStart(6, '0')}+00:00`));
      // The kv body follows the BOM; syslog-ng keeps it in MESSAGE.
      assert.ok(String(m.MESSAGE).includes(`id=${rec.id}`));
    }
  });

  test('kv with auto quoting: kv-parser splits every pair correctly despite separators, quotes and newlines in values', async () => {
    await ship({ SYSLOG_PORT: String(sng.ports.kv), SYSLOG_KV_QUOTE: 'auto', SYSLOG_EXCLUDE_FIELDS: '__tag__:*,__topic__,__source__,event' });
    const got = await sng.waitForCount('kv', ALL.length);
    for (const m of got) {
      const kv = m._kv as Record<string, string>;
      const rec = ALL.find((r) => r.id === kv.id)!;
      const expected = Object.fromEntries(rec.fields.filter(([k]) => !k.startsWith('__') && k !== 'event'));
      // kv-parser unquotes but keeps backslash escapes inside quotes as they are.
      for (const k of Object.keys(kv)) kv[k] = kv[k]!.replace(/\\(["\\])/g, '$1');
      assert.deepEqual(kv, expected, `record ${rec.id}`);
    }
  });

  test('LEEF 2.0: header columns and tab-delimited attributes come back (escaped tabs/newlines stay escaped)', async () => {
    await ship({ SYSLOG_PORT: String(sng.ports.leef), SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_EVENT_PRODUCT: 'WAF', SYSLOG_EVENT_ID_FIELD: 'final_action', ...LEVEL_ENV });
    const got = await sng.waitForCount('leef', ALL.length);
    const leefSev = [10, 9, 8, 7, 5, 3, 2, 1];
    for (const m of got) {
      const header = m.LEEF as Record<string, string>;
      const attrs = m._leef as Record<string, string>;
      const rec = ALL.find((r) => r.id === attrs.id)!;
      assert.equal(header.version, 'LEEF:2.0');
      assert.equal(header.product, 'WAF');
      assert.equal(header.delimiter, 'x09');
      assert.equal(header.eventid, rec.fields.find(([k]) => k === 'final_action')?.[1] ?? LOGSTORE);
      if (rec.id.startsWith('waf')) assert.equal(attrs.sev, String(leefSev[rec.severity]));
      assert.equal(attrs.devTime, String(rec.time * 1000 + Math.floor(rec.timeNs / 1e6)));
      for (const [k, v] of rec.fields) {
        const escaped = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
        assert.equal(attrs[k.replace(/[^A-Za-z0-9_]/g, '_')], escaped, `${rec.id}.${k}`);
      }
    }
  });

  test('mTLS: a receiver that requires a client certificate gets everything with one, and refuses the connection without', async () => {
    const base = { SYSLOG_PROTOCOL: 'tls', SYSLOG_PORT: String(sng.ports.tls), SYSLOG_TLS_CA_FILE: pki.caFile, SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_TLS_SERVERNAME: 'localhost' };
    // Both connection modes: per-invocation sends right after the handshake, where a TLS 1.3 server's
    // rejection of the (missing) client certificate is still in flight.
    for (const mode of ['reuse', 'per-invocation']) {
      const refused = await invokeFunction({ SYSLOG_HOST: '127.0.0.1', SYSLOG_CONNECTION: mode, ...base }, event());
      assert.ok(refused.error, `without a client certificate the invocation must fail (${mode})`);
      assert.match(refused.error.message, /tls:\/\/127\.0\.0\.1:\d+/);
      assert.match(refused.error.message, /SYSLOG_TLS_CERT_FILE and SYSLOG_TLS_KEY_FILE/);
    }
    assert.equal(sng.messages('tls').length, 0);
    await ship({ ...base, SYSLOG_TLS_CERT_FILE: pki.clientCertFile, SYSLOG_TLS_KEY_FILE: pki.clientKeyFile, SYSLOG_TLS_MIN_VERSION: 'TLSv1.3' });
    const got = await sng.waitForCount('tls', ALL.length);
    for (const m of got) {
      const json = m._json as Record<string, string>;
      const rec = ALL.find((r) => r.id === json.id)!;
      assert.deepEqual(json, Object.fromEntries(rec.fields));
    }
  });
});
