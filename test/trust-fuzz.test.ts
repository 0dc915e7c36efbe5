/**
 * Property-based tests (fast-check) of the three places untrusted input enters: the trigger event,
 * SLS's answer (headers and body), and record content on its way through the body formatters.
 * Each must end in a clean error or a correct result: never another exception, a crash or a hang.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { Env } from '../src/settings';
import { flatConfig as loadConfig } from './support/settings';
import { decodeGroupView, groupSpans } from '../src/decode/log-group';
import { DecodeError, EventError, SlsError } from '../src/errors';
import { parseTriggerEvent } from '../src/event';
import { KernelEngine } from '../src/format/kernel-engine';
import { sendBody, type BatchCounts, type FramedTransport } from './support/settings';
import { referenceFormatter } from '../src/format/reference-engine';
import { encodeCursor } from '../src/sls/cursor';
import { SlsClient } from '../src/sls/client';
import { authorizeTrigger } from '../src/source-policy';
import { HOSTILE } from './support/hostile';
import { encodeLogGroup, encodeLogGroupList } from './support/log-group-writer';
import { readKv, readLeef } from './support/siem-readers';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const policy = { https: true, allowed: [] as string[], region: 'cn-hangzhou', project: undefined, logstore: undefined };

// Strings an attacker would try, mixed with anything at all (controls, lone surrogates, emoji).
const hostileText = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme-composite', maxLength: 20 }));

test('the event parser: any input gives a valid range or an EventError; what it accepts is authorized only for Alibaba\'s endpoints', () => {
  const nearValid = fc.record({
    source: fc.record({
      endpoint: fc.oneof(hostileText, fc.constantFrom('http://cn-hangzhou-intranet.log.aliyuncs.com', 'cn-hangzhou.log.aliyuncs.com', 'http://127.0.0.1:1', 'http://cn-hangzhou.log.aliyuncs.com.evil', 'http://[::1]', 'http://log-global.aliyuncs.com')),
      projectName: fc.oneof(hostileText, fc.constantFrom('proj', 'my-project', '../x')),
      logstoreName: fc.oneof(hostileText, fc.constantFrom('waf', 'waf_logs')),
      shardId: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 6 }), fc.constant(null)),
      beginCursor: fc.oneof(hostileText, fc.constantFrom('begin', 'end', '-15m', 'MTczNzY2OTAzNjAxNzIxODQ1NA==')),
      endCursor: fc.oneof(hostileText, fc.constantFrom('end', 'MTczNzY2OTAzNjAxNzIxODQ2NA==')),
    }, { requiredKeys: [] }),
    jobName: fc.oneof(fc.string(), fc.integer()),
    cursorTime: fc.oneof(fc.integer(), fc.string()),
  }, { requiredKeys: [] });
  const input = fc.oneof(nearValid.map((e) => JSON.stringify(e)), fc.anything().map((a) => JSON.stringify(a) ?? ''), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)));
  fc.assert(fc.property(input, (raw) => {
    let trigger;
    try {
      trigger = parseTriggerEvent(raw);
    } catch (err) {
      assert.ok(err instanceof EventError, `${(err as Error).name}: ${(err as Error).message}`);
      return;
    }
    assert.match(trigger.project, /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    assert.match(trigger.logstore, /^[a-z0-9][a-z0-9_-]{0,61}[a-z0-9]$/);
    try {
      const sls = authorizeTrigger(trigger, policy);
      assert.match(sls.url, /^https:\/\/(cn-hangzhou(-intranet|-share)?\.log|log-global)\.aliyuncs\.com(:\d+)?$/);
    } catch (err) {
      assert.ok(err instanceof EventError, String(err));
    }
  }), { numRuns: RUNS * 5, seed: 19 });
});

// One server whose next answer each run sets: headers and body as an attacker on the path would.
let answer: { status: number; headers: Record<string, string>; body: Buffer } = { status: 200, headers: {}, body: Buffer.alloc(0) };
let server: http.Server;
let endpoint = '';
before(async () => {
  server = http.createServer((_req, res) => {
    try {
      res.writeHead(answer.status, answer.headers);
    } catch {
      res.writeHead(200); // a header value Node itself refuses to send: the run tests an empty answer
    }
    res.end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('the SLS answer parser: any status, headers and body give a PullResult that decodes or fails cleanly, or an SlsError; never a hang', async () => {
  const client = new SlsClient({ endpoint, project: 'proj', credentials: { accessKeyId: 'k', accessKeySecret: 's' }, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, timeoutMs: 2000, maxAnswerBytes: 1 << 20 });
  const valid = encodeLogGroupList([encodeLogGroup({ logs: [{ time: 1, contents: [['a', 'b']] }] })]);
  const headerValue = fc.oneof(fc.constantFrom('0', '-1', '1e9', '99999999999999', 'NaN', String(valid.length), encodeCursor(5n), encodeCursor(-1n), 'lz4', 'deflate', 'gzip', 'zstd', ''), fc.string({ maxLength: 12 }), fc.nat().map(String));
  const arb = fc.record({
    status: fc.constantFrom(200, 200, 200, 400, 403, 404, 500, 502),
    headers: fc.record({ 'x-log-cursor': headerValue, 'x-log-count': headerValue, 'x-log-bodyrawsize': headerValue, 'x-log-compresstype': headerValue, 'x-log-requestid': headerValue }, { requiredKeys: [] }),
    body: fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.constant(valid), fc.json().map((j) => Buffer.from(j))),
  });
  try {
    await fc.assert(fc.asyncProperty(arb, async (a) => {
      answer = a;
      let result;
      try {
        result = await client.pullLogs('waf', 0, encodeCursor(1n), encodeCursor(9n), 10);
      } catch (err) {
        assert.ok(err instanceof SlsError, `${(err as Error).name}: ${(err as Error).message}`);
        return;
      }
      try {
        const spans = groupSpans(result.body);
        for (let g = 0; g < spans.length; g += 2) decodeGroupView(result.body, spans[g]!, spans[g + 1]!);
      } catch (err) {
        assert.ok(err instanceof DecodeError, `${(err as Error).name}: ${(err as Error).message}`);
      }
    }), { numRuns: RUNS, seed: 19, interruptAfterTimeLimit: 120_000 });
  } finally {
    client.close();
  }
});

/** Collects the kernel's framed output. */
function capture(): FramedTransport & { wire(): Buffer } {
  const parts: Buffer[] = [];
  return {
    target: 'capture', alive: true, proof: 'none', reusable: true, deadlineMs: Number.POSITIVE_INFINITY,
    send: (m: Buffer) => void parts.push(Buffer.from(m)), sendFramed: (f: Uint8Array) => void parts.push(Buffer.from(f)),
    wire: () => Buffer.concat(parts), commit: async () => {}, flush: async () => {}, close: async () => {}, destroy: () => {},
  } as unknown as FramedTransport & { wire(): Buffer };
}

/** Every message of a body through the reference engine, octet-counted as the kernel frames them. */
function referenceWire(env: Env, body: Buffer): { wire: Buffer; messages: string[] } {
  const config = loadConfig(env);
  const reference = referenceFormatter(config, { project: 'proj', logstore: 'waf' });
  const messages: string[] = [];
  const spans = groupSpans(body);
  for (let g = 0; g < spans.length; g += 2) {
    const view = decodeGroupView(body, spans[g]!, spans[g + 1]!);
    for (const log of view.logs) messages.push(Buffer.from(reference.format(view, log).bytes).toString('utf8'));
  }
  return { wire: Buffer.concat(messages.map((m) => Buffer.concat([Buffer.from(`${Buffer.byteLength(m)} `), Buffer.from(m)]))), messages };
}

/** The MSG part of an RFC 5424 message with no STRUCTURED-DATA (`<PRI>1 TS HOST APP PROCID MSGID - MSG`). */
const msgOf = (m: string) => m.split(' ').slice(7).join(' ');

test('the body formatters: any record content reads back exactly (kv by the README rule, JSON by JSON.parse, LEEF by QRadar\'s rules), the kernel writing the same bytes', async () => {
  const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/).filter((k) => !k.startsWith('__'));
  // Valid UTF-8 values (SLS stores bytes; invalid UTF-8 has its own U+FFFD tests), any code point.
  const value = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', maxLength: 60 }).map((s) => Buffer.from(s, 'utf8').toString('utf8')));
  const record = fc.uniqueArray(fc.tuple(key, value), { minLength: 1, maxLength: 6, selector: ([k]) => k });
  const check = async (records: Array<Array<[string, string]>>) => {
    const body = encodeLogGroupList([encodeLogGroup({ logs: records.map((contents) => ({ time: 1, contents })) })]);
    for (const format of ['kv', 'json', 'leef'] as const) {
      const env: Env = { SYSLOG_HOST: 'h', SYSLOG_MESSAGE_FORMAT: format };
      const { wire, messages } = referenceWire(env, body);
      const t = capture();
      const counts: BatchCounts = { records: 0, sentBytes: 0, truncated: 0, groups: 0 };
      await sendBody(new KernelEngine(loadConfig(env), { project: 'proj', logstore: 'waf' }), body, t, counts, () => undefined);
      assert.ok(t.wire().equals(wire), `${format}: kernel and reference differ`);
      messages.forEach((m, i) => {
        const fields = Object.fromEntries(records[i]!);
        const msg = msgOf(m);
        // LEEF's default delimiter is a tab: the one control that may stand raw, between attributes.
        assert.doesNotMatch(format === 'leef' ? msg.replace(/\t/g, '') : msg, /[\x00-\x1f\x7f]/, `${format}: no raw control`);
        // Group fields (`__topic__`, tags) come after the record's own: those must be exactly the record.
        const own = (pairs: Array<[string, unknown]>) => pairs.filter(([k]) => !k.startsWith('__'));
        if (format === 'kv') assert.deepEqual(own(readKv(msg)), records[i]);
        if (format === 'json') assert.deepEqual(own(Object.entries(JSON.parse(msg) as object)), records[i]);
        if (format === 'leef') {
          const { attributes } = readLeef(msg);
          for (const [k, v] of Object.entries(fields)) assert.equal(attributes[k], v.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, (c) => String.fromCharCode(c === '\x7f' ? 0x2421 : 0x2400 + c.charCodeAt(0))), `leef ${k}`);
          assert.equal(Object.keys(attributes).filter((k) => !['devTime', 'devTimeFormat', 'sev'].includes(k) && !k.startsWith('__')).length, Object.keys(fields).length, 'no forged attribute');
        }
      });
    }
  };
  await check([[['uri', 'hello||final_action=pass||src_ip=10.9.9.9'], ['final_action', 'block']]]);
  await fc.assert(fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 5 }), check), { numRuns: RUNS, seed: 19 });
});
