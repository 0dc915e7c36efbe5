import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeConfig, loadConfig as loadSettings } from '../src/settings';
import { flatConfig as loadConfig } from './support/settings';
import { ConfigError, EventError } from '../src/errors';
import { EXAMPLE_EVENT, parseTriggerEvent } from '../src/event';
import { decodeCursor, encodeCursor } from '../src/sls/cursor';

test('cursors are base64 decimal int64 and round-trip above 2^53', () => {
  assert.equal(decodeCursor('MTczNzY2OTAzNjAxNzIxODQ1NA=='), 1737669036017218454n);
  assert.equal(encodeCursor(1737669036017218454n), 'MTczNzY2OTAzNjAxNzIxODQ1NA==');
  assert.equal(decodeCursor('not a cursor!'), undefined);
  assert.equal(decodeCursor(Buffer.from('12a').toString('base64')), undefined);
});

test('a real trigger event parses from a Buffer, as FC passes it', () => {
  const ev = parseTriggerEvent(Buffer.from(JSON.stringify({ ...EXAMPLE_EVENT, source: { ...EXAMPLE_EVENT.source, shardId: '3' } })));
  assert.equal(ev.project, 'my-project');
  assert.equal(ev.shardId, 3);
  assert.equal(ev.taskId, EXAMPLE_EVENT.taskId);
});

test('the consoles\' default test events (FC 2.0 and FC 3.0) are recognised and the fix is explained', () => {
  for (const body of ['{"key1":"value1","key2":"value2","key3":"value3"}', '{\n  "key": "value"\n}']) {
    assert.throws(
      () => parseTriggerEvent(Buffer.from(body)),
      (err: Error) => err instanceof EventError && /default test event/.test(err.message) && /Configure Test Parameters/.test(err.message) && /"beginCursor"/.test(err.message),
      body,
    );
  }
  // No saved test event: FC passes an empty body.
  for (const body of [Buffer.alloc(0), Buffer.from(' \n')]) {
    assert.throws(() => parseTriggerEvent(body), (err: Error) => err instanceof EventError && /event is empty/.test(err.message) && /"beginCursor"/.test(err.message));
  }
  assert.throws(() => parseTriggerEvent(Buffer.from('{}')), (err: Error) => err instanceof EventError && /no "source" object \(keys: none\)/.test(err.message));
});

test('the SLS template sample event is called a placeholder', () => {
  const ev = { ...EXAMPLE_EVENT, source: { ...EXAMPLE_EVENT.source, projectName: 'log-com', logstoreName: 'log-en', beginCursor: 'MTUyOTQ4MDIwOTY1NTk3ODQ2Mw==', endCursor: 'MTUyOTQ4MDIwOTY1NTk3ODQ2NA==' } };
  assert.throws(() => parseTriggerEvent(JSON.stringify(ev)), /placeholders/);
});

test('every wrong field is named in one error', () => {
  const ev = { source: { endpoint: 'http://x', projectName: '', logstoreName: 'ls', shardId: -1, beginCursor: 'zz', endCursor: EXAMPLE_EVENT.source.endCursor } };
  assert.throws(() => parseTriggerEvent(JSON.stringify(ev)), (err: Error) => {
    for (const f of ['source.projectName', 'source.shardId', 'source.beginCursor']) assert.ok(err.message.includes(f), f);
    assert.ok(!err.message.includes('source.logstoreName must'));
    return true;
  });
  assert.throws(() => parseTriggerEvent('{not json'), /not JSON/);
  const backwards = { source: { ...EXAMPLE_EVENT.source, beginCursor: EXAMPLE_EVENT.source.endCursor, endCursor: EXAMPLE_EVENT.source.beginCursor } };
  assert.throws(() => parseTriggerEvent(JSON.stringify(backwards)), /before source.beginCursor/);
});

test('settings: defaults, and every problem reported at once', () => {
  const c = loadConfig({ SYSLOG_HOST: 'siem.example.com' });
  assert.equal(c.protocol, 'tcp');
  assert.equal(c.port, 514);
  assert.equal(c.format, 'rfc5424');
  assert.equal(c.framing, 'octet-counting');
  assert.equal(c.kvSeparator, '||');
  assert.equal(loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls' }).port, 6514);
  assert.throws(
    () => loadConfig({ SYSLOG_PROTOCOL: 'http', SYSLOG_PORT: '70000', SYSLOG_FACILITY: 'nope', SYSLOG_APP_NAME: 'has space' }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 5, err.message);
      assert.match(err.message, /SYSLOG_HOST is not set/);
      return true;
    },
  );
});

test('settings: TLS CA from a missing file or a non-PEM is rejected; inline \\n PEM accepted', () => {
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA_FILE: '/nonexistent/ca.pem' }), /cannot be read \(ENOENT\)/);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA: 'hello' }), /not PEM/);
  assert.throws(() => loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tcp', SYSLOG_TLS_CA: 'x' }), /SYSLOG_PROTOCOL=tls/);
  const pem = '-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----';
  const c = loadConfig({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA: pem });
  assert.equal(c.tls.ca, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----');
  assert.ok(!JSON.stringify(describeConfig(loadSettings({ SYSLOG_HOST: 'h', SYSLOG_PROTOCOL: 'tls', SYSLOG_TLS_CA: pem }))).includes('AAAA'), 'the PEM is not echoed');
});
