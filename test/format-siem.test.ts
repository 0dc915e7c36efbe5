import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flatConfig as loadConfig } from './support/settings';
import type { LogGroup } from '../src/decode/log-group';
import { kvBody } from '../src/format/body';
import { cefBody, leefBody } from '../src/format/event-formats';
import { globToRegExp, selectFields } from '../src/format/fields';
import { rfc3164Timestamp } from '../src/format/header';
import { levelFor } from '../src/format/levels';
import { FIELD_PRESETS } from '../src/format/presets';
import { FieldLookup } from '../src/format/lookup';
import { MessageFormatter, truncateMessage } from '../src/format/syslog-message';
import { structuredData } from '../src/format/structured-data';

const header = { vendor: 'Ali|baba', product: 'WAF', version: '1.0', idField: 'rule', nameField: undefined, leefDelimiter: '\t' };

test('RFC 3164 time in a configured time zone (no DST zone and a DST zone)', () => {
  const t = Date.UTC(2025, 0, 23, 21, 50, 36) / 1000;
  assert.equal(rfc3164Timestamp(t), 'Jan 23 21:50:36');
  assert.equal(rfc3164Timestamp(t, 'Asia/Shanghai'), 'Jan 24 05:50:36');
  assert.equal(rfc3164Timestamp(Date.UTC(2025, 6, 1, 12, 0, 0) / 1000, 'Europe/Berlin'), 'Jul  1 14:00:00');
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_TIMEZONE: 'Mars/Olympus' }), /IANA time zone/);
});

test('kv quoting: auto quotes only what a parser could misread; always quotes every value', () => {
  const f: Array<[string, string]> = [['a', '1'], ['b', 'x y'], ['c', 'p||q'], ['d', 'say "hi" \\o/'], ['e', ''], ['k=1', 'v']];
  assert.equal(kvBody(f, '||', 'auto'), 'a=1||b="x y"||c="p||q"||d="say \\"hi\\" \\\\o/"||e=""||"k=1"=v');
  assert.equal(kvBody([['a', '1']], ' ', 'always'), 'a="1"');
});

test('STRUCTURED-DATA escapes ", \\ and ] and makes valid, unique PARAM-NAMEs', () => {
  assert.equal(structuredData('sls@32473', [['a', 'x"y\\z]w']]), '[sls@32473 a="x\\"y\\\\z\\]w"]');
  assert.equal(structuredData('x@1', [['a b', '1'], ['a=b', '2'], ['k'.repeat(40), '3']]), `[x@1 a_b="1" a_b2="2" ${'k'.repeat(32)}="3"]`);
});

test('CEF: header pipes and backslashes escaped, extension = \\ and newlines escaped, keys made alphanumeric', () => {
  const fields: Array<[string, string]> = [['rule', '10|1'], ['msg', 'a=b\\c\nd'], ['__tag__:x', 'y'], ['__source__', '1.2.3.4']];
  const out = cefBody(fields, new FieldLookup(fields), header, 4, 1737669036123, 'store');
  assert.equal(out, 'CEF:0|Ali\\|baba|WAF|1.0|10\\|1|10\\|1|5|rt=1737669036123 rule=10|1 msg=a\\=b\\\\c\\nd __tag___x=y dvc=1.2.3.4');
});

test('LEEF 2.0: tab delimiter declared as x09, devTime/sev attributes, tabs and newlines in values escaped', () => {
  const fields: Array<[string, string]> = [['rule', 'r1'], ['v', 'a\tb\nc']];
  assert.equal(
    leefBody(fields, new FieldLookup(fields), header, 6, 5000, 'store'),
    'LEEF:2.0|Ali\\|baba|WAF|1.0|r1|x09|devTime=5000\tdevTimeFormat=epoch_ms\tsev=2\trule=r1\tv=a\\tb\\nc',
  );
});

test('severity rules: WAF preset, ActionTrail preset through the JSON in `event`, explicit maps first', () => {
  const waf = (action: string) => levelFor(new FieldLookup([['final_action', action]]), FIELD_PRESETS.waf!.severity, 6);
  assert.deepEqual(['block', 'captcha', 'pass', 'unknown'].map(waf), [4, 5, 6, 6]);
  const trail = (ev: object) => levelFor(new FieldLookup([['event', JSON.stringify(ev)]]), FIELD_PRESETS.actiontrail!.severity, 6);
  assert.equal(trail({ eventRW: 'Write' }), 5);
  assert.equal(trail({ eventRW: 'Read', errorCode: 'Forbidden' }), 4);
  assert.equal(trail({ eventRW: 'Read' }), 6);
  const c = loadConfig({ SYSLOG_HOST: 'h', SYSLOG_SEVERITY_PRESET: 'waf', SYSLOG_SEVERITY_FIELD: 'final_action', SYSLOG_SEVERITY_MAP: 'block:crit,*:debug' });
  assert.equal(levelFor(new FieldLookup([['final_action', 'BLOCK']]), c.severityRules, 6), 2, 'explicit map wins, case-insensitive');
  assert.equal(levelFor(new FieldLookup([['final_action', 'pass']]), c.severityRules, 6), 7, '* matches any non-empty value');
  const f = loadConfig({ SYSLOG_HOST: 'h', SYSLOG_FACILITY_FIELD: 'kind', SYSLOG_FACILITY_MAP: 'audit:local5' });
  assert.equal(levelFor(new FieldLookup([['kind', 'audit']]), f.facilityRules, 1), 21);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_SEVERITY_MAP: 'block:warning' }), /go together/);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_SEVERITY_FIELD: 'a', SYSLOG_SEVERITY_MAP: 'block:loud' }), /"loud" is neither/);
});

test('field include/exclude globs apply to SLS names, then renames', () => {
  const policy = { include: undefined, exclude: [globToRegExp('__tag__:*')], rename: new Map([['ip', 'src']]) };
  assert.deepEqual(selectFields([['ip', '1'], ['__tag__:a', 'x'], ['m', 'y']], policy), [['src', '1'], ['m', 'y']]);
  const only = { include: [globToRegExp('req*')], exclude: [], rename: new Map() };
  assert.deepEqual(selectFields([['request', '1'], ['x', '2']], only), [['request', '1']]);
});

test('RFC 5424 with SD, BOM, PROCID/MSGID and record id; fields too big for SD move to the body', () => {
  const group: LogGroup = { topic: '', source: 'h1', tags: [], logs: [{ time: 1, timeNs: 0, contents: [['a', 'b]']] }] };
  const c = loadConfig({ SYSLOG_HOST: 'h', SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_BOM: 'on', SYSLOG_PROCID: '7', SYSLOG_MSGID: 'M' });
  const text = new MessageFormatter(c, { project: 'p', logstore: 'ls' }).format(group, group.logs[0]!, 'ls:0:5:0').bytes.toString();
  assert.equal(text, '<14>1 1970-01-01T00:00:01.000000Z h1 ls 7 M [sls@32473 a="b\\]" __source__="h1" __record_id__="ls:0:5:0"] \ufeffa=b]||__source__=h1||__record_id__=ls:0:5:0');
  const big: LogGroup = { ...group, logs: [{ time: 1, timeNs: 0, contents: [['a', 'x'.repeat(3000)]] }] };
  const small = loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'udp', SYSLOG_STRUCTURED_DATA: 'on', SYSLOG_MESSAGE_FORMAT: 'none' });
  const m = new MessageFormatter(small, { project: 'p', logstore: 'ls' }).format(big, big.logs[0]!);
  assert.equal(m.truncated, true);
  assert.ok(m.bytes.length <= 2048);
  assert.match(m.bytes.toString(), /^<14>1 \S+ h1 ls - - - \{"a":"xxx/);
});

test('truncation never ends on half of a backslash escape', () => {
  const out = truncateMessage(Buffer.from('H '), Buffer.from('a\\=b'.repeat(300)), 540).toString();
  const body = out.slice(2, out.indexOf(' [TRUNCATED'));
  assert.equal((/\\+$/.exec(body)?.[0].length ?? 0) % 2, 0);
});

test('TLS settings: never with UDP or TCP, insecure only when explicit, mTLS needs cert and key', () => {
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'udp', SYSLOG_TLS_INSECURE: 'true' }), /no TLS over UDP/);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'udp', SYSLOG_TLS_CA: 'x' }), /SYSLOG_PROTOCOL is "udp"/);
  assert.equal(loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls' }).tls.insecure, false);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_INSECURE: 'maybe' }), /must be on or off/);
  const pem = '-----BEGIN CERTIFICATE-----\\nAA\\n-----END CERTIFICATE-----';
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CERT: pem }), /needs both a client certificate/);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_MIN_VERSION: 'TLSv1.0' }), /SYSLOG_TLS_MIN_VERSION/);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_FORMAT: 'rfc3164', SYSLOG_STRUCTURED_DATA: 'on' }), /RFC 5424 features/);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: 'none' }), /needs SYSLOG_STRUCTURED_DATA=on/);
  assert.equal(loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'udp' }).maxMessageBytes, 2048);
  assert.equal(loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tcp' }).maxMessageBytes, 128 * 1024);
});
