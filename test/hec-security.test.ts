/**
 * Splunk HEC: the token only over TLS (http:// refused before any request, unless
 * SPLUNK_HEC_ALLOW_HTTP=on, which then warns at every start), and only HEC's own answer as proof
 * of delivery: a 200 page from a proxy or captive portal is not one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SlsEmulator } from './sls-emulator/server';
import { makeTestPki, type TestPki } from './support/certs';
import { FcInstance, invokeFunction, startEmulator } from './support/fc-invoke';
import { HecStub } from './support/hec-stub';
import { encodeLogGroup } from './support/log-group-writer';

const TOKEN = 'hec-token-SECRET-41d2-http';
const RECORDS = 50;
let pki: TestPki;
let emulator: SlsEmulator;
let plain: HecStub;
let portal: HecStub;

before(async () => {
  pki = makeTestPki();
  const key = readFileSync(pki.keyFile, 'utf8');
  const cert = readFileSync(pki.certFile, 'utf8');
  plain = await new HecStub({ key, cert, token: TOKEN, ack: false, plainHttp: true }).start();
  portal = await new HecStub({ key, cert, token: TOKEN, ack: false }).start();
  portal.portal = true;
  emulator = await startEmulator();
  emulator.createLogstore('proj', 'waf', 1);
  emulator.appendGroup('proj', 'waf', 0, encodeLogGroup({ logs: Array.from({ length: RECORDS }, (_, i) => ({ time: 1737669036, contents: [['id', `r-${i}`]] as Array<[string, string]> })) }));
});
after(async () => {
  await Promise.all([plain?.stop(), portal?.stop(), emulator?.stop()]);
});

const event = () => ({ source: { endpoint: emulator.endpoint, projectName: 'proj', logstoreName: 'waf', shardId: 0, beginCursor: 'begin', endCursor: 'end' } });

test('http:// is refused before any request carries the token; SPLUNK_HEC_ALLOW_HTTP=on ships and warns at every start', async () => {
  const refused = await invokeFunction({ OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: plain.url, SPLUNK_HEC_TOKEN: TOKEN }, event());
  assert.match(refused.error!.message, /SPLUNK_HEC_URL is http:\/\/127\.0\.0\.1:\d+: the HEC token and the logs would cross the network in clear.*SPLUNK_HEC_ALLOW_HTTP=on/);
  assert.equal(plain.requests.length, 0, 'no request at all');
  assert.deepEqual(plain.authorizations, [], 'the token never left');
  assert.ok(!(refused.stdout + refused.stderr + refused.error!.message).includes(TOKEN));

  for (let start = 0; start < 2; start++) {
    const instance = new FcInstance({ OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: plain.url, SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_ALLOW_HTTP: 'on' });
    try {
      const init = await instance.init();
      assert.equal(init.error, null, init.error?.message);
      assert.match(init.stderr, /^WARNING sls-syslog-forwarder: SPLUNK_HEC_ALLOW_HTTP=on - the HEC token and the logs go to http:\/\/127\.0\.0\.1:\d+ unencrypted\.$/m);
      const out = await instance.invoke(event());
      assert.equal(out.error, null, out.error?.message);
      assert.equal(out.result!.delivered, RECORDS);
      await instance.stop();
    } finally {
      instance.kill();
    }
  }
});

test('a 200 answer that is not HEC\'s JSON with code 0 (a captive portal\'s page) proves nothing: not delivered, the invocation fails', async () => {
  const out = await invokeFunction({ OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: portal.url, SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_CA_FILE: pki.caFile }, event());
  assert.ok(out.error, 'the invocation fails, so the trigger retries');
  assert.match(out.error.message, /splunk-hec https:\/\/127\.0\.0\.1:\d+ answered HTTP 200 with "text\/html", not HEC's \{"code":0\}: the batch is not proven delivered/);
  assert.match(out.error.message, /0 proven delivered/);
  assert.match(out.stdout, /"result":"error".*"delivered":0/);
  assert.ok(portal.requests.some((r) => r.path === '/services/collector/event' && r.status === 200), 'the page did answer 200');
  assert.ok(!(out.stdout + out.stderr + out.error.message).includes(TOKEN));
});

test('a collector that trickles its answer, or sends a huge one, ends in a clean error within the deadline (never a hang, never kept whole)', async () => {
  let requests = 0;
  const huge = Buffer.alloc(4 * 1024 * 1024, 'x');
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    res.on('error', () => {});
    if (req.url?.includes('/health')) return void res.end('{"text":"HEC is healthy","code":17}');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (requests % 2) {
      const timer = setInterval(() => res.write(' '), 200); // a byte now and then: the socket never goes idle
      res.on('close', () => clearInterval(timer));
    } else res.end(huge); // not HEC's JSON, and far larger than one
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const started = Date.now();
    const out = await invokeFunction({ OUTPUT: 'splunk-hec', SPLUNK_HEC_URL: url, SPLUNK_HEC_TOKEN: TOKEN, SPLUNK_HEC_ALLOW_HTTP: 'on', SPLUNK_HEC_GZIP: 'off' }, event(), { timeoutSeconds: 10 });
    assert.ok(out.error, 'not delivered');
    assert.ok(Date.now() - started < 20_000, `ended in ${Date.now() - started} ms`);
    assert.doesNotMatch(out.stderr, /RangeError|FATAL|heap out of memory/);
    // Without a whole-request deadline the trickled answer never goes idle: the invocation would hang past FC's timeout.
    assert.ok(requests >= 2, `${requests} requests`);
    assert.match(out.error!.message, /no answer in time|not HEC's answer|did not answer|HEC/);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
