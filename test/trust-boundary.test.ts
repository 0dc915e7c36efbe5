/**
 * The trust boundary, end to end through the built function: a forged event cannot send the STS
 * token anywhere the settings do not allow (no request, no DNS lookup), cannot pick another
 * project or logstore than the pinned ones, and a hostile answer from an allowed endpoint costs
 * bounded memory and ends in a clean error with its request id, never a crash.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { createDeflate, createGzip } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { encodeCursor } from '../src/sls/cursor';
import { FcInstance, TEST_CREDENTIALS } from './support/fc-invoke';
import { encodeLogGroup, encodeLogGroupList } from './support/log-group-writer';
import { lz4CompressBlock } from './support/lz4';
import { Rsyslog } from './support/rsyslog';

const BEGIN = encodeCursor(1000n);
const END = encodeCursor(1010n);
const event = (endpoint: string, project = 'proj', logstore = 'logs') => ({
  source: { endpoint, projectName: project, logstoreName: logstore, shardId: 0, beginCursor: BEGIN, endCursor: END },
});

let rsyslog: Rsyslog;
before(async () => {
  rsyslog = await new Rsyslog().start();
});
after(async () => {
  await rsyslog?.stop();
});
const siem = () => ({ SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp) });

/** One function instance: init, one invocation, its peak RSS, stop. */
async function invokeOnce(env: Record<string, string>, ev: unknown, timeoutSeconds = 60) {
  const instance = new FcInstance(env);
  try {
    const init = await instance.init();
    assert.equal(init.error, null, init.error?.message);
    const out = await instance.invoke(ev, TEST_CREDENTIALS, timeoutSeconds);
    const peakRss = instance.peakRssBytes();
    await instance.stop();
    return { ...out, peakRss };
  } catch (err) {
    instance.kill();
    throw err;
  }
}

describe('a forged event', () => {
  let listener: net.Server;
  let port: number;
  let connections = 0;
  before(async () => {
    listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  // Every lookup the function makes is written to stderr (and answered with loopback).
  const env = (extra: Record<string, string> = {}) => ({
    ...siem(), SLS_ALLOWED_ENDPOINTS: '', NODE_OPTIONS: `--require ${join(__dirname, 'support/record-dns.cjs')}`, ...extra,
  });

  for (const [what, endpoint] of [
    ['a loopback address', () => `http://127.0.0.1:${port}`],
    ['an attacker\'s host', () => `http://attacker.example:${port}`],
    ['a look-alike of Alibaba\'s name', () => `http://cn-hangzhou.log.aliyuncs.com.attacker.example:${port}`],
    ['the metadata service', () => 'http://100.100.100.200'],
  ] as const) {
    test(`naming ${what} is refused: no DNS lookup, no connection, no token`, async () => {
      const before = connections;
      const out = await invokeOnce(env(), event(endpoint()));
      assert.equal(out.error?.name, 'EventError');
      assert.match(out.error!.message, /Refused source\.endpoint .*SLS_ALLOWED_ENDPOINTS/);
      assert.doesNotMatch(out.stderr, /DNS-LOOKUP/, 'nothing was looked up');
      assert.equal(connections, before, 'the listener saw no connection');
      assert.ok(!(out.stdout + out.stderr).includes(TEST_CREDENTIALS.securityToken));
    });
  }

  test('another Alibaba region than FC_REGION is refused', async () => {
    const out = await invokeOnce(env({ FC_REGION: 'cn-hangzhou' }), event(`http://cn-shanghai-intranet.log.aliyuncs.com:${port}`));
    assert.match(out.error!.message, /region "cn-shanghai".*FC_REGION/);
    assert.doesNotMatch(out.stderr, /DNS-LOOKUP/);
  });

  test('another project or logstore than SLS_PROJECT / SLS_LOGSTORE is refused before any request, even on an allowed endpoint', async () => {
    const before = connections;
    const pinned = env({ SLS_ALLOWED_ENDPOINTS: '127.0.0.1', SLS_PROJECT: 'proj', SLS_LOGSTORE: 'logs' });
    const project = await invokeOnce(pinned, event(`http://127.0.0.1:${port}`, 'other-project'));
    assert.match(project.error!.message, /source\.projectName "other-project".*only "proj" \(SLS_PROJECT\)/);
    const logstore = await invokeOnce(pinned, event(`http://127.0.0.1:${port}`, 'proj', 'audit'));
    assert.match(logstore.error!.message, /source\.logstoreName "audit".*only "logs" \(SLS_LOGSTORE\)/);
    assert.equal(connections, before);
  });

  test('a named endpoint is used (the operator\'s choice for a proxy or a test)', async () => {
    const before = connections;
    const out = await invokeOnce(env({ SLS_ALLOWED_ENDPOINTS: '127.0.0.1', SLS_REQUEST_TIMEOUT_MS: '200' }), event(`http://127.0.0.1:${port}`), 3);
    assert.ok(out.error, 'the listener is no SLS');
    assert.ok(connections > before, 'but it was contacted: the allow-list let it through');
  });
});

/** A server on loopback that answers every PullLogs with the same hostile answer. */
class HostileSls {
  private server!: http.Server;
  port = 0;
  pulls = 0;
  constructor(private readonly answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {}
  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      this.pulls++;
      res.on('error', () => {});
      this.answer(req, res);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function bomb(rawBytes: number, kind: 'deflate' | 'gzip'): Promise<Buffer> {
  const deflate = kind === 'gzip' ? createGzip({ level: 9 }) : createDeflate({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let n = 0; n < rawBytes; n += zeros.length) if (!deflate.write(zeros)) await new Promise((r) => deflate.once('drain', r));
  await new Promise((resolve) => deflate.end(resolve));
  return Buffer.concat(chunks);
}

describe('a hostile answer from an allowed endpoint', () => {
  const MiB = 1024 * 1024;
  const headers = (extra: Record<string, string | number>) => ({ 'x-log-requestid': 'req-hostile-1', 'x-log-cursor': END, 'x-log-count': 1, ...extra });
  const env = (extra: Record<string, string> = {}) => ({ ...siem(), SLS_ALLOWED_ENDPOINTS: '127.0.0.1', SLS_REQUEST_TIMEOUT_MS: '1500', ...extra });
  let lz4Block: Buffer;
  let deflateBomb: Buffer;
  let gzipBomb: Buffer;
  let oneGroup: Buffer;
  before(async () => {
    lz4Block = lz4CompressBlock(randomBytes(4 * MiB));
    [deflateBomb, gzipBomb] = await Promise.all([bomb(512 * MiB, 'deflate'), bomb(512 * MiB, 'gzip')]);
    oneGroup = lz4CompressBlock(encodeLogGroupList([encodeLogGroup({ logs: [{ time: 1, contents: [['msg', 'x']] }] })]));
  });

  const cases: Array<[string, (req: http.IncomingMessage, res: http.ServerResponse) => void, RegExp, string]> = [
    ['a 4 MB LZ4 block that claims 1 GiB raw', (_q, res) => {
      res.writeHead(200, headers({ 'x-log-compresstype': 'lz4', 'x-log-bodyrawsize': 1024 * MiB, 'content-length': lz4Block.length }));
      res.end(lz4Block);
    }, /x-log-bodyrawsize says 1073741824 bytes raw, over the 16777216-byte cap .*request id req-hostile-1/, 'final: refused before reading, down to one log group'],
    ['a deflate bomb (512 MiB of zeros in ~0.5 MB) that claims 12 MB', (_q, res) => {
      res.writeHead(200, headers({ 'x-log-compresstype': 'deflate', 'x-log-bodyrawsize': 12 * MiB, 'content-length': deflateBomb.length }));
      res.end(deflateBomb);
    }, /cannot decompress the body: .*request id req-hostile-1/, 'retryable: inflated no further than the claimed size'],
    ['a gzip bomb (512 MiB of zeros in ~0.5 MB) that claims 1 KB', (_q, res) => {
      res.writeHead(200, headers({ 'x-log-compresstype': 'gzip', 'x-log-bodyrawsize': 1024, 'content-length': gzipBomb.length }));
      res.end(gzipBomb);
    }, /cannot decompress the body: .*request id req-hostile-1/, 'retryable: inflated no further than the claimed size'],
    ['an absurd Content-Length', (_q, res) => {
      res.writeHead(200, headers({ 'x-log-compresstype': 'lz4', 'x-log-bodyrawsize': 10, 'content-length': '99999999999999' }));
      res.write('0123456789');
    }, /Content-Length says 99999999999999 bytes, over the 16777216-byte cap .*request id req-hostile-1/, 'final: refused before anything is allocated'],
    ['an answer trickled one byte at a time', (_q, res) => {
      res.writeHead(200, headers({ 'x-log-compresstype': 'lz4', 'x-log-bodyrawsize': 100, 'content-length': 100 }));
      const timer = setInterval(() => res.write('x'), 300);
      res.on('close', () => clearInterval(timer));
    }, /no complete answer within 1500 ms|Stopped before the function timeout: 0 records/, 'retryable: the whole request has a deadline, not only an idle timeout'],
    ['a next cursor that does not move forward', (_q, res) => {
      res.writeHead(200, headers({ 'x-log-cursor': BEGIN, 'x-log-compresstype': 'lz4', 'x-log-bodyrawsize': encodeLogGroupList([encodeLogGroup({ logs: [{ time: 1, contents: [['msg', 'x']] }] })]).length }));
      res.end(oneGroup);
    }, /a cursor must move forward and stay within the range \[request id req-hostile-1\]/, 'retryable by the trigger'],
  ];

  for (const [what, answer, expected, kind] of cases) {
    test(`${what}: a clean error (${kind}), peak RSS under 128 MB`, async (t) => {
      const server = await new HostileSls(answer).start();
      try {
        const out = await invokeOnce(env(), event(`http://127.0.0.1:${server.port}`), 8);
        assert.ok(out.error, 'never success');
        assert.match(out.error.message, expected);
        assert.doesNotMatch(out.stderr, /RangeError|FATAL|heap out of memory/);
        assert.ok(out.peakRss < 128 * MiB, `peak RSS ${(out.peakRss / MiB).toFixed(1)} MiB`);
        t.diagnostic(`peak RSS ${(out.peakRss / MiB).toFixed(1)} MiB, ${server.pulls} requests`);
        const summary = JSON.parse(out.stdout.split('\n').find((l) => l.includes('"sls-syslog-forwarder.invocation"'))!) as { delivered: number; reachedCursor: string };
        assert.equal(summary.delivered, 0);
        assert.equal(summary.reachedCursor, BEGIN, 'nothing counted past the start');
        // An idle timeout alone would wait on the trickle until the function's deadline: one request.
        if (what.includes('trickled')) assert.ok(server.pulls >= 3, `each request cut at 1.5 s and asked again: ${server.pulls} requests in 8 s`);
      } finally {
        await server.stop();
      }
    });
  }
});
