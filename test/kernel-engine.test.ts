/**
 * The kernel engine must write exactly the frames the reference engine writes, for every setting
 * it accepts (syslog and Splunk HEC) and on hostile bodies: invalid UTF-8, Unicode spaces,
 * separators in values, unusual protobuf encodings, oversized messages, endless distinct keys,
 * huge group tags, corrupt groups, every size limit. It must also do the work itself for ordinary
 * records and for invalid UTF-8 (not quietly hand everything to the reference).
 */
import assert from 'node:assert/strict';
import { HOSTILE } from './support/hostile';
import { test } from 'node:test';
import type { Env } from '../src/settings';
import { flatConfig as loadConfig } from './support/settings';
import { decodeGroupViews } from '../src/decode/log-group';
import { DecodeError } from '../src/errors';
import { kernelDeclines, KernelEngine } from '../src/format/kernel-engine';
import { sendBody, type BatchCounts } from './support/settings';
import { referenceFormatter } from '../src/format/reference-engine';
import { frameInto, maxFramedLength } from '../src/outputs/syslog/framing';
import type { Transport } from '../src/outputs/transport';
import { bytes, encodeLog, encodeLogGroup, encodeLogGroupList, pair, type Bytes } from './support/log-group-writer';

const bad = (...b: number[]) => Buffer.from(b);
const long = 'Ωx"\\'.repeat(120) + '😀'.repeat(50);
const actions = ['block', 'PASS', 'Captcha', '', 'monitor', 'js', 'unknown', 'pass'];
const ordinary = (n: number, repeats = true): Array<[Bytes, Bytes]> => [
  ['time', `2025-01-23T21:50:${n % 60}+08:00`], ['real_client_ip', `203.0.113.${n % 255}`], ['request_uri', `/a?b=${n}&c=d`],
  ['user_agent', 'Mozilla/5.0 (X11; Linux)'], ['status', String([200, 404, 500][n % 3])], ['empty', ''],
  ...(n % 9 === 8 ? [] : [['final_action', actions[n % actions.length]!] as [string, string]]),
  ...(repeats && n % 5 === 0 ? [['final_action', 'block'] as [string, string]] : []), // a repeat: rules read the first
];
/** Only ordinary records (no repeated names, valid UTF-8): the kernel must write every one itself. */
const ordinaryBody = encodeLogGroupList(
  [0, 1, 2].map((g) => encodeLogGroup({ source: `10.0.0.${g}`, topic: 'waf', tags: [['__hostname__', `n${g}`]], logs: Array.from({ length: 40 }, (_, i) => ({ time: 1737669036 + i, timeNs: i * 1000, contents: ordinary(g * 40 + i, false) })) })),
);
const contents: Array<Array<[Bytes, Bytes]>> = [
  ...Array.from({ length: 20 }, (_, n) => ordinary(n)),
  [['a', '1'], ['b', 'x y'], ['c', 'p||q'], ['d', 'say "hi" \\o/'], ['e', ''], ['k=1', 'v'], ['ctl', '\u0000\u0001\b\f\n\r\t\u001f\u007f']],
  [[bad(0x6b, 0xff), 'key is invalid'], ['ok', 'value ok']],
  [['v', bad(0x61, 0xc3, 0x28, 0xe2, 0x82)], ['ok', bad(0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80)]],
  [['dup', '1'], ['dup', '2'], ['ip', '10.0.0.1'], ['src', 'collides with rename']],
  [['long', long], ['sp', '\u00a0nbsp\u3000ideo'], ['ogham', 'a\u1680b'], ['thin', 'a\u2009b'], ['ls', 'a\u2028b'], ['nnbsp', 'a\u202fb'], ['mm', 'a\u205fb'], ['bom', '\ufeffx']],
  [['notspace', 'a\u200bb\u2030c\u00a1d'], ['中文键', '值 😀'], ['sep', ' , '], ['pipe', 'a|b'], ['nl', 'line1\nline2\r\n']],
  [['big', 'x'.repeat(300 * 1024)]], // over the kernel's own limit, under the default message limit
  [],
];
const tags: Array<[Bytes, Bytes]> = [['__hostname__', 'h1'], [bad(0xc3), 'v"\\'], ['__receive_time__', '1']];
const group = encodeLogGroup({
  topic: bad(0x74, 0xff), source: '10.1.2.3', tags,
  logs: contents.map((c, i) => ({ time: 1737669036 + i * 40000, timeNs: i * 123456789, contents: c })),
});

/** Logs the kernel does not parse itself (valid protobuf all the same). */
const unusualLogs = [
  // value before key; a pair without a value; an unknown field inside a pair
  Buffer.concat([bytes(2, Buffer.concat([bytes(2, 'v1'), bytes(1, 'k1')])), pair(2, ['k2', 'v2'])]),
  Buffer.concat([Buffer.from([0x08, 0x05]), bytes(2, bytes(1, 'only-key'))]),
  Buffer.concat([Buffer.from([0x08, 0x05]), bytes(2, Buffer.concat([bytes(1, 'k'), bytes(2, 'v'), bytes(3, 'x')]))]),
  // an unknown Log field (varint 7), a two-byte tag for field 16, a long varint time
  Buffer.concat([Buffer.from([0x38, 0x01]), pair(2, ['k', 'v'])]),
  Buffer.concat([Buffer.from([0x82, 0x01, 0x01, 0x61]), pair(2, ['k', 'v'])]),
  Buffer.concat([Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0x7f]), pair(2, ['k', 'v'])]),
];
const unusual = Buffer.concat([
  ...unusualLogs.map((l) => bytes(1, l)),
  bytes(1, encodeLog({ time: 7, contents: [['after', 'the unusual ones']] })),
  bytes(2, 'reserved'), Buffer.from([0x38, 0x01]), // a varint at group level: the rest goes to JS
  bytes(1, encodeLog({ time: 8, contents: [['tail', 'record']] })),
]);
const manyKeys = encodeLogGroup({ source: 's', logs: Array.from({ length: 50 }, (_, i) => ({ time: i, contents: Array.from({ length: 100 }, (_, k) => [`k${i}_${k}`, `v${k}`] as [string, string]) })) });
const hugeTag = encodeLogGroup({ source: 's', tags: [['big', 'y'.repeat(70 * 1024)]], logs: [{ time: 1, contents: [['a', 'b']] }] });
const bigKey = encodeLogGroup({ logs: [{ time: 1, contents: [['K'.repeat(70 * 1024), 'b'], ['a', 'b']] }] });
// Times the calendar arithmetic must get right: epoch, leap days, century rules, ends of month and year, uint32's end.
const times = [0, 59, 951782400, 951868800, 1709164800, 1709251199, 1735689599, 1735689600, 4107542400, 4107456000, 4294967295, 1e9 - 1];
const calendar = encodeLogGroup({ source: 'cal', logs: times.map((time, i) => ({ time, timeNs: [0, 999, 999_999_999, 1_500_000_000][i % 4], contents: [['t', String(time)]] })) });
// Attacker text in every field, the group's source, topic and a tag.
const hostile = encodeLogGroup({ topic: 'waf||final_action=pass', source: '10.0.0.1\n<13>1 forged', tags: [['zone', 'z|=\n1']], logs: HOSTILE.map((v, i) => ({ time: i, contents: [['id', String(i)], ['uri', v], [v, 'as a key']] as Array<[string, string]> })) });
const body = encodeLogGroupList([group, hostile, encodeLogGroup({ logs: [{ time: 5, contents: [['x', 'y']] }] }), unusual, manyKeys, hugeTag, bigKey, calendar]);

const variants: Env[] = [
  {},
  // Field presets: renames and constant fields (CEF custom-key labels) on the kernel.
  { FIELD_PRESET: 'waf', SYSLOG_MESSAGE_FORMAT: 'cef' },
  { FIELD_PRESET: 'waf', SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_FIELD_MAP: 'ip:src' },
  { FIELD_PRESET: 'cloudfirewall', SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_FORMAT: 'rfc3164', SYSLOG_APP_NAME: '-' },
  { FIELD_PRESET: 'alb', SIEM_PROFILE: 'qradar' },
  { SYSLOG_KV_QUOTE: 'auto' },
  { SYSLOG_KV_QUOTE: 'always', SYSLOG_KV_SEPARATOR: ' ' },
  { SYSLOG_KV_QUOTE: 'auto', SYSLOG_KV_SEPARATOR: ',' },
  { SYSLOG_KV_QUOTE: 'auto', SYSLOG_KV_SEPARATOR: ':' }, // the record id holds the separator: quoted
  { SYSLOG_KV_QUOTE: 'none', SYSLOG_KV_SEPARATOR: '¦' },
  { SYSLOG_KV_QUOTE: 'none' },
  { SYSLOG_KV_SEPARATOR: ' ' },
  { SYSLOG_KV_SEPARATOR: '\t', SYSLOG_FRAMING: 'newline' },
  { SYSLOG_KV_QUOTE: 'auto', SYSLOG_KV_SEPARATOR: '¦' },
  { SYSLOG_FIELD_MAP: 'ip:src,a:dup,__topic__:topic', SYSLOG_EXCLUDE_FIELDS: '__tag__:__receive_time__,e,__record_id__' },
  { SYSLOG_INCLUDE_FIELDS: 'a*,d*,__*', SYSLOG_KV_QUOTE: 'auto' },
  { SYSLOG_INCLUDE_FIELDS: 'nothing-matches' },
  { SYSLOG_BOM: 'on', SYSLOG_PROCID: '42', SYSLOG_MSGID: 'M', SYSLOG_HOSTNAME: 'fixed', SYSLOG_FACILITY: 'kern', SYSLOG_SEVERITY: 'emerg' },
  { SYSLOG_FRAMING: 'newline' },
  { SYSLOG_FRAMING: 'newline', SYSLOG_KV_QUOTE: 'auto', SYSLOG_MAX_MESSAGE_BYTES: '700' },
  { SYSLOG_MAX_MESSAGE_BYTES: '480' },
  { SYSLOG_MAX_MESSAGE_BYTES: '1000', SYSLOG_KV_QUOTE: 'always' },
  { SYSLOG_MESSAGE_FORMAT: 'json' },
  { SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_FIELD_MAP: 'ip:src,a:dup', SYSLOG_EXCLUDE_FIELDS: '__tag__:__receive_time__,e' },
  { SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_FRAMING: 'newline', SYSLOG_MAX_MESSAGE_BYTES: '700', SYSLOG_BOM: 'on' },
  { SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_FIELD_MAP: 'status:__topic__' }, // a record field named like a group field
  { SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_EXCLUDE_FIELDS: '__record_id__' },
  { SYSLOG_SEVERITY_PRESET: 'waf', SYSLOG_FACILITY: 'local0' },
  { SYSLOG_SEVERITY_PRESET: 'waf', SYSLOG_EXCLUDE_FIELDS: 'final_action', SYSLOG_FRAMING: 'newline' }, // rules still read excluded fields
  {
    SYSLOG_SEVERITY_FIELD: 'status', SYSLOG_SEVERITY_MAP: '200:info,*:err', SYSLOG_FACILITY_FIELD: 'final_action',
    SYSLOG_FACILITY_MAP: 'block:auth,pass:kern,*:local7', SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_FRAMING: 'newline',
  },
  { SYSLOG_FACILITY_FIELD: 'final_action', SYSLOG_FACILITY_MAP: 'block:kern,*:local7', SYSLOG_SEVERITY: 'emerg' }, // PRI 0: `<0>`
  { SYSLOG_SEVERITY_PRESET: 'actiontrail' }, // dotted fields: records without them go to JavaScript
  { SYSLOG_FORMAT: 'rfc3164', SYSLOG_TIMEZONE: 'Asia/Shanghai', SYSLOG_APP_NAME: 'waf' },
  { SYSLOG_FORMAT: 'rfc3164', SYSLOG_SEVERITY_PRESET: 'waf', SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_FRAMING: 'newline', SYSLOG_TIMEZONE: 'America/New_York' },
  { SYSLOG_FORMAT: 'rfc3164', SYSLOG_INCLUDE_FIELDS: 'nothing-matches', SYSLOG_FACILITY_FIELD: 'final_action', SYSLOG_FACILITY_MAP: 'block:kern,*:local7', SYSLOG_SEVERITY: 'emerg' },
  { SYSLOG_STRUCTURED_DATA: 'on' },
  { SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_MESSAGE_FORMAT: 'none', SYSLOG_SD_ID: 'waf@32473' },
  { SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_BOM: 'on', SYSLOG_FIELD_MAP: 'a:dup,ip:src' },
  { SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_MESSAGE_FORMAT: 'none', SYSLOG_MAX_MESSAGE_BYTES: '700', SYSLOG_FRAMING: 'newline' }, // SD dropped: JS
  { SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_INCLUDE_FIELDS: 'nothing-matches', SYSLOG_SEVERITY_PRESET: 'waf' },
  { SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_KV_QUOTE: 'auto', SYSLOG_FIELD_MAP: 'ip:real_client_ip,a:b=c' }, // sanitized PARAM-NAMEs that collide
  { SYSLOG_MESSAGE_FORMAT: 'cef' },
  { SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_EVENT_ID_FIELD: 'final_action', SYSLOG_EVENT_NAME_FIELD: 'request_uri', SYSLOG_SEVERITY_PRESET: 'waf', SYSLOG_EVENT_VENDOR: 'A|B\\C' },
  { SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_EVENT_ID_FIELD: 'event.errorCode', SYSLOG_FORMAT: 'rfc3164', SYSLOG_FIELD_MAP: 'ip:src,a:dup,empty:rt' },
  { SYSLOG_MESSAGE_FORMAT: 'leef' },
  { SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: '^', SYSLOG_EVENT_ID_FIELD: 'status', SYSLOG_FRAMING: 'newline', SYSLOG_BOM: 'on' },
  { SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: ',', SYSLOG_INCLUDE_FIELDS: 'nothing-matches', SYSLOG_FACILITY: 'kern', SYSLOG_SEVERITY: 'emerg' },
  { SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: '\t', SYSLOG_FIELD_MAP: 'a:devTime,b:sev' }, // names the header uses: numbered by the reference
  { SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: 'r' }, // a delimiter that is also an escape's letter: one table, both engines
  // Every size limit: cuts at UTF-8 boundaries and never inside an escape.
  ...['480', '600', '2000'].flatMap((limit): Env[] => [
    { SYSLOG_MAX_MESSAGE_BYTES: limit, SYSLOG_KV_QUOTE: 'auto' },
    { SYSLOG_MAX_MESSAGE_BYTES: limit, SYSLOG_MESSAGE_FORMAT: 'json' },
    { SYSLOG_MAX_MESSAGE_BYTES: limit, SYSLOG_MESSAGE_FORMAT: 'cef' },
    { SYSLOG_MAX_MESSAGE_BYTES: limit, SYSLOG_STRUCTURED_DATA: 'on' },
  ]),
  // Splunk HEC: the same kernel, an event envelope instead of a syslog header.
  ...([
    {},
    { SPLUNK_HEC_INDEX: 'waf', SPLUNK_HEC_SOURCE: 'src"x', SPLUNK_HEC_SOURCETYPE: 'alicloud:waf' },
    { SYSLOG_HOSTNAME: 'fixed', SYSLOG_FIELD_MAP: 'a:dup,b:__topic__', SYSLOG_EXCLUDE_FIELDS: '__tag__:__receive_time__,e' },
    { SYSLOG_INCLUDE_FIELDS: 'nothing-matches' },
  ] as Env[]).map((v): Env => ({ OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: 'https://127.0.0.1:8088', SPLUNK_HEC_TOKEN: 't', ...v })),
];

const framingOf = (config: ReturnType<typeof loadConfig>) => (config.output === 'splunk-hec' ? 'none' : config.framing);

/** Collects what a stream transport would put on the wire. */
class CaptureTransport implements Transport {
  readonly target = 'capture';
  readonly alive = true;
  readonly proof = 'none' as const;
  readonly reusable = true;
  deadlineMs = Number.POSITIVE_INFINITY;
  async commit(): Promise<void> {}
  private readonly parts: Buffer[] = [];
  constructor(private readonly framing: 'octet-counting' | 'newline' | 'none') {}
  send(message: Buffer): undefined {
    if (this.framing === 'none') return void this.parts.push(Buffer.from(message));
    const out = Buffer.alloc(maxFramedLength(this.framing, message.length));
    this.parts.push(out.subarray(0, frameInto(this.framing, message, out, 0)));
    return undefined;
  }
  sendFramed(frames: Uint8Array): undefined {
    this.parts.push(Buffer.from(frames));
    return undefined;
  }
  wire(): Buffer {
    return Buffer.concat(this.parts);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  destroy(): void {}
}

const prefixOf = (g: number) => `ls:0:${1000 + g}:`;

function expected(config: ReturnType<typeof loadConfig>, withIds: boolean, groups = decodeGroupViews(body)): { wire: Buffer; counts: BatchCounts } {
  const reference = referenceFormatter(config, { project: 'p', logstore: 'ls' });
  const t = new CaptureTransport(config.output === 'splunk-hec' ? 'none' : config.framing);
  const counts: BatchCounts = { records: 0, sentBytes: 0, truncated: 0, groups: 0 };
  groups.forEach((g, gi) => {
    g.logs.forEach((log, i) => {
      const m = reference.format(g, log, withIds ? prefixOf(gi) + i : undefined);
      t.send(m.bytes);
      counts.records++;
      counts.sentBytes += m.bytes.length;
      if (m.truncated) counts.truncated++;
    });
    counts.groups++;
  });
  return { wire: t.wire(), counts };
}

test('kernel and reference write identical frames for every setting the kernel takes', async () => {
  for (const v of variants) {
    for (const withIds of [false, true]) {
      const env: Env = { SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tcp', ...v, ...(withIds ? { SYSLOG_RECORD_ID: 'on' } : {}) };
      const config = loadConfig(env);
      assert.ok(kernelDeclines(config) === undefined, JSON.stringify(env));
      const kernel = new KernelEngine(config, { project: 'p', logstore: 'ls' });
      const t = new CaptureTransport(framingOf(config));
      const counts: BatchCounts = { records: 0, sentBytes: 0, truncated: 0, groups: 0 };
      // Twice: the second pass runs with the kernel's key cache warm.
      for (let pass = 0; pass < 2; pass++) await sendBody(kernel, body, t, counts, withIds ? prefixOf : () => undefined);
      const want = expected(config, withIds);
      const got = t.wire();
      const wantTwice = Buffer.concat([want.wire, want.wire]);
      if (!got.equals(wantTwice)) {
        let i = 0;
        while (got[i] === wantTwice[i]) i++;
        assert.fail(`${JSON.stringify(env)}: first difference at byte ${i}\nkernel: ${got.subarray(Math.max(0, i - 80), i + 80)}\njs:     ${wantTwice.subarray(Math.max(0, i - 80), i + 80)}`);
      }
      assert.deepEqual(counts, { records: 2 * want.counts.records, sentBytes: 2 * want.counts.sentBytes, truncated: 2 * want.counts.truncated, groups: 2 * want.counts.groups });
      // Ordinary records are the kernel's own: none may go to the reference (ActionTrail rules read
      // inside JSON fields, which only the reference does).
      const plain = new KernelEngine(config, { project: 'p', logstore: 'ls' });
      const t2 = new CaptureTransport(framingOf(config));
      await sendBody(plain, ordinaryBody, t2, { records: 0, sentBytes: 0, truncated: 0, groups: 0 }, withIds ? prefixOf : () => undefined);
      assert.ok(t2.wire().equals(expected(config, withIds, decodeGroupViews(ordinaryBody)).wire), `${JSON.stringify(env)}: ordinary body`);
      // (Nor does a JSON record whose field is renamed onto a group field's name: the reference numbers the repeat.)
      const allKernel = env.SYSLOG_SEVERITY_PRESET !== 'actiontrail' && env.SYSLOG_FIELD_MAP !== 'status:__topic__' && !env.SYSLOG_EVENT_ID_FIELD?.includes('.');
      // STRUCTURED-DATA that leaves under 200 bytes of the limit is dropped: the reference's case, for some records.
      const mixed = env.SYSLOG_STRUCTURED_DATA === 'on' && Number(env.SYSLOG_MAX_MESSAGE_BYTES ?? 2048) < 700;
      if (!mixed) assert.deepEqual(plain.stats, allKernel ? { kernel: 120, fallback: 0 } : { kernel: 0, fallback: 120 }, JSON.stringify(env));
    }
  }
});

test('a corrupt group fails with the same DecodeError on the kernel path, after the records before it', async () => {
  const good = encodeLogGroup({ logs: [{ time: 1, contents: [['a', 'b']] }] });
  const corrupt = Buffer.concat([bytes(1, encodeLog({ time: 2, contents: [['c', 'd']] })), Buffer.from([0x0a, 0x20, 0x08])]); // a Log running past the end
  const config = loadConfig({ SYSLOG_HOST: 'h' });
  const t = new CaptureTransport(framingOf(config));
  const counts: BatchCounts = { records: 0, sentBytes: 0, truncated: 0, groups: 0 };
  const kernel = new KernelEngine(config, { project: 'p', logstore: 'ls' });
  await assert.rejects(sendBody(kernel, encodeLogGroupList([good, corrupt]), t, counts, () => undefined), (err: Error) => err instanceof DecodeError && /Truncated protobuf/.test(err.message));
  assert.equal(counts.groups, 1);
  assert.match(t.wire().toString(), /a=b$/);
});

test('records with invalid UTF-8 stay on the kernel, repaired to U+FFFD exactly as the reference reads them', async () => {
  // GBK-encoded values (whole logstores hold them), truncated and overlong sequences, surrogates, bytes never valid in UTF-8.
  const gbk = [bad(0xd6, 0xd0, 0xce, 0xc4), bad(0xb1, 0xa8, 0xbe, 0xaf, 0x20, 0x41), bad(0xc0, 0xaf), bad(0xe0, 0x80, 0x80), bad(0xed, 0xa0, 0x80),
    bad(0xf4, 0x90, 0x80, 0x80), bad(0xf0, 0x9f, 0x98), bad(0xe2, 0x82), bad(0xff, 0xfe, 0x41), bad(0x80, 0xbf), bad(0xf8, 0x88, 0x80, 0x80, 0x80), bad(0x61, 0xc3)];
  const invalid = encodeLogGroupList([encodeLogGroup({
    source: '10.0.0.1', topic: 'waf',
    logs: Array.from({ length: 60 }, (_, i) => ({ time: 1737669036 + i, contents: [['ok', 'plain'], ['msg', gbk[i % gbk.length]!], ['quoted', Buffer.concat([Buffer.from('a "b" '), gbk[(i + 3) % gbk.length]!])]] as Array<[Bytes, Bytes]> })),
  })]);
  for (const env of [{}, { SYSLOG_KV_QUOTE: 'auto' }, { SYSLOG_MESSAGE_FORMAT: 'json' }, { SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_EVENT_ID_FIELD: 'msg' }, { SYSLOG_MESSAGE_FORMAT: 'leef' },
    { SYSLOG_STRUCTURED_DATA: 'on' }, { OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: 'https://127.0.0.1:8088', SPLUNK_HEC_TOKEN: 't' }] as Env[]) {
    const config = loadConfig({ SYSLOG_HOST: 'h', ...env });
    const kernel = new KernelEngine(config, { project: 'p', logstore: 'ls' });
    const t = new CaptureTransport(framingOf(config));
    await sendBody(kernel, invalid, t, { records: 0, sentBytes: 0, truncated: 0, groups: 0 }, () => undefined);
    const want = expected(config, false, decodeGroupViews(invalid)).wire;
    assert.ok(t.wire().equals(want), `${JSON.stringify(env)}\nkernel:    ${t.wire().subarray(0, 300)}\nreference: ${want.subarray(0, 300)}`);
    assert.match(t.wire().toString('utf8'), /\ufffd/);
    assert.deepEqual(kernel.stats, { kernel: 60, fallback: 0 }, JSON.stringify(env));
  }
});

test('the kernel takes RFC 5424/3164 kv, JSON, CEF, LEEF (and STRUCTURED-DATA) over TCP/TLS/UDP and Splunk HEC; what it declines is named', () => {
  const declines = (env: Env) => kernelDeclines(loadConfig({ SYSLOG_HOST: 'h', ...env }));
  for (const env of [{}, { SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_INSECURE: 'on' }, { SYSLOG_MESSAGE_FORMAT: 'json' }, { SYSLOG_SEVERITY_PRESET: 'waf' }, { SYSLOG_PROTOCOL: 'udp' },
    { SYSLOG_MESSAGE_FORMAT: 'cef' }, { SYSLOG_FORMAT: 'rfc3164' }, { SYSLOG_STRUCTURED_DATA: 'on' }, { SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: '\t' },
    { OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: 'https://127.0.0.1:8088', SPLUNK_HEC_TOKEN: 't' }] as Env[]) {
    assert.equal(declines(env), undefined, JSON.stringify(env));
  }
  assert.match(declines({ SYSLOG_SEVERITY_FIELD: '__topic__', SYSLOG_SEVERITY_MAP: 'x:err' })!, /group field/);
  assert.equal(declines({ SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: 'r' }), undefined, 'an ASCII delimiter is one table entry');
  assert.match(declines({ SYSLOG_MESSAGE_FORMAT: 'leef', SYSLOG_LEEF_DELIMITER: '¦' })!, /SYSLOG_LEEF_DELIMITER "¦" \(not ASCII\)/);
  assert.match(declines({ SYSLOG_MESSAGE_FORMAT: 'cef', SYSLOG_EVENT_ID_FIELD: '__topic__' })!, /group field/);
  assert.match(declines({ SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_MESSAGE_FORMAT: 'cef' })!, /STRUCTURED-DATA with a CEF or LEEF body/);
});
