import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flatConfig as loadConfig } from './support/settings';
import type { LogGroup } from '../src/decode/log-group';
import { jsonBody, kvBody } from '../src/format/body';
import { rfc3164Timestamp, rfc5424Timestamp } from '../src/format/header';
import { MessageFormatter, TRUNCATION_MARK, utf8Boundary } from '../src/format/syslog-message';
import type { Framing } from '../src/format/encoding';
import { frameInto, maxFramedLength } from '../src/outputs/syslog/framing';

function frame(framing: Framing, text: string): string {
  const message = Buffer.from(text);
  const dst = Buffer.alloc(maxFramedLength(framing, message.length));
  return dst.subarray(0, frameInto(framing, message, dst, 0)).toString();
}

const source = { project: 'proj', logstore: 'waf-logs' };
const group: LogGroup = {
  topic: 'waf', source: '10.1.2.3', tags: [['__receive_time__', '1737669037']],
  logs: [{ time: 1737669036, timeNs: 987654321, contents: [['host', 'a.example'], ['msg', 'x=1|y']] }],
};

test('RFC 5424 timestamp carries the log\'s microseconds, in UTC', () => {
  assert.equal(rfc5424Timestamp(1737669036, 987654321), '2025-01-23T21:50:36.987654Z');
  assert.equal(rfc5424Timestamp(0, 0), '1970-01-01T00:00:00.000000Z');
  assert.equal(rfc5424Timestamp(4294967295, 999_999_999), '2106-02-07T06:28:15.999999Z', 'the largest uint32 time');
});

test('RFC 3164 timestamp is UTC with a space-padded day (no +2400 offsets)', () => {
  assert.equal(rfc3164Timestamp(Date.UTC(2025, 0, 3, 23, 59, 59) / 1000), 'Jan  3 23:59:59');
  assert.equal(rfc3164Timestamp(Date.UTC(2025, 11, 31, 0, 0, 0) / 1000), 'Dec 31 00:00:00');
});

test('kv body joins key=value with the separator; json keeps repeated keys', () => {
  assert.equal(kvBody([['a', '1'], ['b', '']], '||'), 'a=1||b=');
  assert.deepEqual(JSON.parse(jsonBody([['a', '1'], ['a', '2'], ['b', '"\n']])), { a: '1', a_2: '2', b: '"\n' });
});

test('RFC 5424 message: PRI, version, header from settings and the log group', () => {
  const config = loadConfig({ SYSLOG_HOST: 'siem', SYSLOG_FACILITY: 'local4', SYSLOG_SEVERITY: 'warning' });
  const { bytes, truncated } = new MessageFormatter(config, source).format(group, group.logs[0]!);
  assert.equal(truncated, false);
  assert.equal(
    bytes.toString(),
    // The default kv body escapes `=` and the separator's `|` inside a value: no forged pair.
    '<164>1 2025-01-23T21:50:36.987654Z 10.1.2.3 waf-logs - - - host=a.example||msg=x\\=1\\|y||__topic__=waf||__source__=10.1.2.3||__tag__:__receive_time__=1737669037',
  );
});

test('facility and severity 0 can be set (kern.emerg = PRI 0)', () => {
  const config = loadConfig({ SYSLOG_HOST: 'siem', SYSLOG_FACILITY: 'kern', SYSLOG_SEVERITY: '0', SYSLOG_HOSTNAME: 'fc', SYSLOG_APP_NAME: 'app' });
  const text = new MessageFormatter(config, source).format(group, group.logs[0]!).bytes.toString();
  assert.ok(text.startsWith('<0>1 '), text);
});

test('RFC 3164 message with JSON body and fixed hostname/app-name', () => {
  const config = loadConfig({
    SYSLOG_HOST: 'siem', SYSLOG_FORMAT: 'rfc3164', SYSLOG_MESSAGE_FORMAT: 'json', SYSLOG_HOSTNAME: 'fc-fwd', SYSLOG_APP_NAME: 'waf',
  });
  const text = new MessageFormatter(config, source).format(group, group.logs[0]!).bytes.toString();
  const prefix = '<14>Jan 23 21:50:36 fc-fwd waf: ';
  assert.ok(text.startsWith(prefix), text);
  assert.deepEqual(JSON.parse(text.slice(prefix.length)), {
    host: 'a.example', msg: 'x=1|y', __topic__: 'waf', __source__: '10.1.2.3', '__tag__:__receive_time__': '1737669037',
  });
});

test('an oversize message is cut at a UTF-8 boundary, marked, and within the limit', () => {
  const config = loadConfig({ SYSLOG_HOST: 'siem', SYSLOG_PROTOCOL: 'udp' });
  const big: LogGroup = { ...group, logs: [{ time: 1, timeNs: 0, contents: [['v', '😀'.repeat(30_000)]] }] };
  const { bytes, truncated } = new MessageFormatter(config, source).format(big, big.logs[0]!);
  assert.equal(truncated, true);
  assert.ok(bytes.length <= 65000, `${bytes.length}`);
  const text = bytes.toString('utf8');
  assert.ok(!text.includes('\ufffd'), 'no character was split');
  assert.match(text, new RegExp(`${TRUNCATION_MARK.replace(/[[\]]/g, '\\$&')}\\d+ bytes\\]$`));
  const buf = Buffer.from('a€b');
  assert.equal(utf8Boundary(buf, 2), 1);
  assert.equal(utf8Boundary(buf, 4), 4);
});

test('octet-counting frames by byte length; newline framing leaves a message without line breaks as it is, and escapes one with them', () => {
  assert.equal(frame('octet-counting', '中\nx'), '5 中\nx');
  assert.equal(frame('newline', 'a\nb\r\nc'), 'a\\nb\\r\\nc\n');
  assert.equal(frame('newline', 'plain'), 'plain\n');
  // CEF, LEEF and JSON escape their own line breaks: a second escaping would break their backslashes.
  assert.equal(frame('newline', 'CEF:0|a|b|1|x|y|5|request=/q?a\\=1'), 'CEF:0|a|b|1|x|y|5|request=/q?a\\=1\n');
  assert.equal(frame('newline', '{"path":"C:\\\\new"}'), '{"path":"C:\\\\new"}\n');
  // A message with a line break becomes one line, its backslashes escaped with it.
  const unescape = (framed: string) => framed.slice(0, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  for (const original of ['x\\\ny\r\\r', 'C:\\new\ntable', '\n\\']) {
    const framed = frame('newline', original);
    assert.ok(!/[\r\n]/.test(framed.slice(0, -1)), JSON.stringify(framed));
    assert.equal(unescape(framed), original, JSON.stringify(original));
  }
});
