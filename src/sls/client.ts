/**
 * A minimal SLS data-plane client: GetCursor and PullLogs, signed with v1 and STS credentials.
 * `@alicloud/log` has neither call and reads bodies as text, so it cannot be used here
 * (docs/design.md).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import { SlsError } from '../errors';
import { decompressLz4Block } from '../decode/lz4';
import { DEFAULT_RETRY, RetryPolicy, withRetry } from './retry';
import { contentMd5, signV1 } from './signature';
import { endpointUrl } from './url';
import { badResponse, BodyCollector, declaredRawSize, errorFrom, header, networkError, tooLarge, type PullSlot, type RawResponse, type SplSource } from './answers';

export { ANSWER_TOO_LARGE, type PullSlot, type SplSource } from './answers';

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

export interface SlsClientOptions {
  /** Region endpoint with scheme, as in the trigger event: `http://cn-hangzhou-intranet.log.aliyuncs.com`. */
  endpoint: string;
  project: string;
  /** Fixed credentials (FC's STS credentials), or a provider that refreshes them (consumer worker). */
  credentials: Credentials | (() => Promise<Credentials>);
  compression?: 'lz4' | 'deflate' | 'none';
  timeoutMs?: number;
  retry?: RetryPolicy;
  onRetry?: (err: unknown, attempt: number) => void;
  /** Epoch ms after which no request is started or retried (the function's own deadline). */
  deadlineMs?: number;
  /** SPL on the way: PullLogs answers what the statement (or the named consume processor) makes of the data. */
  spl?: SplSource | undefined;
  /** Largest answer taken, on the wire or decompressed (answerCap): a bigger one is refused before it is read. */
  maxAnswerBytes?: number;
}

/**
 * Hard ceiling of one answer. Up to four may be held at once (two pulls in flight, each compressed
 * and decoded), so 4 x 32 MiB stays well below the 256 MB an FC instance has.
 */
export const ANSWER_CEILING_BYTES = 32 * 1024 * 1024;
/** An error answer is a small JSON document: more than this is not read. */
const ERROR_BODY_BYTES = 64 * 1024;

/**
 * The largest PullLogs answer taken: twice the pull budget (a batch may exceed the budget before
 * the count adapts), at least 16 MiB (one log group may hold 5 MB raw), never over the 32 MiB ceiling.
 */
export function answerCap(pullBudgetBytes: number): number {
  return Math.min(ANSWER_CEILING_BYTES, Math.max(2 * pullBudgetBytes, 16 * 1024 * 1024));
}

export interface PullResult {
  /** Decompressed protobuf `LogGroupList` (empty when `lz4` is set). */
  body: Buffer;
  /** With `PullSlot.deferLz4`: the LZ4 block still to decode, and its declared raw size. */
  lz4?: { block: Buffer; rawSize: number } | undefined;
  /** Bytes on the wire (compressed). */
  wireBytes: number;
  nextCursor: string;
  groupCount: number;
  /** The count asked for: pulling the same cursor with it again gives the same batch. */
  count: number;
  requestId: string | undefined;
  /** With SPL: the records and bytes the answer covered before the statement (`x-log-rawdatacount/-size`). */
  beforeQuery?: { records: number; bytes: number } | undefined;
}

export class SlsClient {
  private readonly url: URL;
  private readonly hostHeader: string;
  private readonly connectHost: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly compression: 'lz4' | 'deflate' | 'none';
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly maxAnswerBytes: number;

  constructor(private readonly options: SlsClientOptions) {
    this.url = endpointUrl(options.endpoint);
    this.transport = this.url.protocol === 'https:' ? https : http;
    const host = this.url.hostname;
    // SLS addresses a project as a subdomain. An IP or localhost endpoint (a tunnel, a test
    // emulator) cannot take a subdomain: connect to it and name the project in Host only.
    const direct = isIP(host.replace(/^\[|\]$/g, '')) !== 0 || host === 'localhost';
    this.connectHost = direct ? host : `${options.project}.${host}`;
    this.hostHeader = `${options.project}.${host}${this.url.port ? `:${this.url.port}` : ''}`;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 4 });
    this.compression = options.compression ?? 'lz4';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.maxAnswerBytes = options.maxAnswerBytes ?? answerCap(8 * 1024 * 1024);
  }

  /** Cursor of a shard position: `begin`, `end`, or a unix time in seconds (server receive time). */
  async getCursor(logstore: string, shard: number, from: 'begin' | 'end' | number): Promise<string> {
    const path = `/logstores/${encodeURIComponent(logstore)}/shards/${shard}`;
    const res = await this.call('GetCursor', path, { type: 'cursor', from: String(from) }, 'application/json');
    const cursor = this.parseJson(res, 'GetCursor').cursor;
    if (typeof cursor !== 'string') throw badResponse(res, 'GetCursor', 'no "cursor" in the answer');
    return cursor;
  }

  /** One PullLogs call: LogGroups from `cursor` (inclusive) towards `endCursor` (exclusive). */
  async pullLogs(logstore: string, shard: number, cursor: string, endCursor: string, count: number, slot?: PullSlot): Promise<PullResult> {
    const path = `/logstores/${encodeURIComponent(logstore)}/shards/${shard}`;
    const spl = this.options.spl;
    const query: Record<string, string> = { type: 'log', cursor, end_cursor: endCursor, count: String(count) };
    if (spl && 'query' in spl) Object.assign(query, { query: spl.query, pullMode: 'scan_on_stream' });
    else if (spl) query.processor = spl.processor;
    // Read inside the retried call: an answer that does not decompress was damaged on the way and
    // is asked for again, with the same backoff and deadline as any retryable error.
    return this.call('PullLogs', path, query, 'application/x-protobuf', slot, undefined, (res) => this.readPull(res, count, slot));
  }

  private readPull(res: RawResponse, count: number, slot: PullSlot | undefined): PullResult {
    const nextCursor = header(res.headers, 'x-log-cursor');
    if (!nextCursor) throw badResponse(res, 'PullLogs', 'no x-log-cursor header');
    const rawSize = this.rawSizeOf(res);
    // A raw size LZ4 cannot reach (its best ratio is ~255:1) is decoded here, which reports it.
    const plausible = rawSize > 0 && rawSize <= res.body.length * 256;
    const deferred = slot?.deferLz4 && plausible && (header(res.headers, 'x-log-compresstype') ?? '').toLowerCase() === 'lz4';
    return {
      body: deferred ? EMPTY : this.decompress(res, slot),
      lz4: deferred ? { block: res.body, rawSize } : undefined,
      wireBytes: res.body.length,
      nextCursor,
      groupCount: Number(header(res.headers, 'x-log-count') ?? 0),
      count,
      requestId: header(res.headers, 'x-log-requestid'),
      beforeQuery: this.options.spl
        ? { records: Number(header(res.headers, 'x-log-rawdatacount') ?? 0), bytes: Number(header(res.headers, 'x-log-rawdatasize') ?? 0) }
        : undefined,
    };
  }

  /** ListShards: the shards of a logstore; `readonly` after a split or merge (no more writes, a fixed end). */
  async listShards(logstore: string): Promise<Array<{ shard: number; readonly: boolean }>> {
    const res = await this.call('ListShards', `/logstores/${encodeURIComponent(logstore)}/shards`, {}, 'application/json');
    const list = JSON.parse(res.body.toString('utf8')) as Array<{ shardID: number; status?: string }>;
    return list.map((s) => ({ shard: s.shardID, readonly: String(s.status ?? '').toLowerCase() === 'readonly' }));
  }

  /**
   * Creates a consumer group (`order`: a split's children are handed out only after their parent is
   * consumed). Answers false when it already existed (ConsumerGroupAlreadyExist).
   */
  async createConsumerGroup(logstore: string, name: string, timeoutSeconds: number, order = false): Promise<boolean> {
    try {
      await this.call('CreateConsumerGroup', `/logstores/${encodeURIComponent(logstore)}/consumergroups`, {}, 'application/json', undefined, {
        method: 'POST', json: { consumerGroup: name, timeout: timeoutSeconds, order },
      });
      return true;
    } catch (err) {
      if ((err as SlsError).code !== 'ConsumerGroupAlreadyExist') throw err;
      return false;
    }
  }

  /** Heartbeat with the shards held; answers the shards this consumer should hold now. */
  async heartbeat(logstore: string, group: string, consumer: string, held: number[]): Promise<number[]> {
    const res = await this.call('ConsumerGroupHeartBeat', `/logstores/${encodeURIComponent(logstore)}/consumergroups/${encodeURIComponent(group)}`,
      { type: 'heartbeat', consumer }, 'application/json', undefined, { method: 'POST', json: held });
    return JSON.parse(res.body.toString('utf8')) as number[];
  }

  /** `force`: SLS takes it even from a consumer that does not hold the shard (or is not in the group). */
  async updateCheckpoint(logstore: string, group: string, consumer: string, shard: number, checkpoint: string, force = true): Promise<void> {
    await this.call('ConsumerGroupUpdateCheckPoint', `/logstores/${encodeURIComponent(logstore)}/consumergroups/${encodeURIComponent(group)}`,
      { type: 'checkpoint', consumer, forceSuccess: String(force) }, 'application/json', undefined, { method: 'POST', json: { shard, checkpoint } });
  }

  /** The saved checkpoints of a group by shard (shards never checkpointed are absent). */
  async getCheckpoints(logstore: string, group: string): Promise<Map<number, string>> {
    const res = await this.call('GetCheckPoint', `/logstores/${encodeURIComponent(logstore)}/consumergroups/${encodeURIComponent(group)}`, {}, 'application/json');
    const list = JSON.parse(res.body.toString('utf8')) as Array<{ shard: number; checkpoint: string }>;
    return new Map(list.filter((c) => c.checkpoint).map((c) => [c.shard, c.checkpoint]));
  }

  /** One shard's saved checkpoint and when it was saved (unix seconds), or undefined. */
  async getCheckpoint(logstore: string, group: string, shard: number): Promise<{ checkpoint: string; updateTime: number; consumer: string } | undefined> {
    const res = await this.call('GetCheckPoint', `/logstores/${encodeURIComponent(logstore)}/consumergroups/${encodeURIComponent(group)}`, { shard: String(shard) }, 'application/json');
    const list = JSON.parse(res.body.toString('utf8')) as Array<{ shard: number; checkpoint: string; updateTime?: number; consumer?: string }>;
    const found = list.find((c) => c.shard === shard && c.checkpoint);
    return found ? { checkpoint: found.checkpoint, updateTime: Number(found.updateTime ?? 0), consumer: found.consumer ?? '' } : undefined;
  }

  close(): void {
    this.agent.destroy();
  }

  /** One API call, retried as a whole; `read` turns the answer into the result (its errors are retried too when retryable). */
  private call(api: string, path: string, query: Record<string, string>, accept: string, slot?: PullSlot, body?: { method: 'POST' | 'PUT'; json: unknown }): Promise<RawResponse>;
  private call<T>(
    api: string, path: string, query: Record<string, string>, accept: string, slot: PullSlot | undefined, body: { method: 'POST' | 'PUT'; json: unknown } | undefined,
    read: (res: RawResponse) => T,
  ): Promise<T>;
  private call<T>(
    api: string, path: string, query: Record<string, string>, accept: string, slot?: PullSlot, body?: { method: 'POST' | 'PUT'; json: unknown },
    read: (res: RawResponse) => T | RawResponse = (res) => res,
  ): Promise<T | RawResponse> {
    return withRetry(async () => {
      const c = this.options.credentials;
      return read(await this.send(api, path, query, accept, typeof c === 'function' ? await c() : c, slot, body));
    }, this.retry, this.options.onRetry, this.options.deadlineMs);
  }

  private send(
    api: string, path: string, query: Record<string, string>, accept: string, credentials: Credentials,
    slot?: PullSlot, json?: { method: 'POST' | 'PUT'; json: unknown },
  ): Promise<RawResponse> {
    const method = json?.method ?? 'GET';
    const payload = json ? Buffer.from(JSON.stringify(json.json), 'utf8') : undefined;
    const headers: Record<string, string> = {
      date: new Date().toUTCString(),
      'x-log-apiversion': '0.6.0',
      'x-log-signaturemethod': 'hmac-sha1',
      'x-log-bodyrawsize': String(payload?.length ?? 0),
    };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-md5'] = contentMd5(payload);
      headers['content-length'] = String(payload.length);
    }
    if (credentials.securityToken) headers['x-acs-security-token'] = credentials.securityToken;
    headers.authorization = signV1({
      method, path, query, headers,
      accessKeyId: credentials.accessKeyId, accessKeySecret: credentials.accessKeySecret,
    });
    headers.host = this.hostHeader;
    headers.accept = accept;
    headers['accept-encoding'] = accept === 'application/x-protobuf' ? this.acceptEncoding() : 'identity';
    headers['user-agent'] = 'sls-syslog-forwarder';
    const search = new URLSearchParams(query).toString();
    // Never wait for an answer beyond the function's deadline.
    const timeout = Math.max(1, Math.min(this.timeoutMs, (this.options.deadlineMs ?? Number.POSITIVE_INFINITY) - Date.now()));

    return new Promise<RawResponse>((resolve, reject) => {
      const req = this.transport.request(
        {
          host: this.connectHost.replace(/^\[|\]$/g, ''),
          port: this.url.port || undefined,
          servername: this.connectHost === this.url.hostname ? undefined : this.connectHost,
          method,
          path: search ? `${path}?${search}` : path,
          headers,
          agent: this.agent,
          timeout,
        },
        (res) => {
          const ok = res.statusCode === 200;
          // Sizes are checked before anything is allocated: a hostile answer costs no memory.
          const limit = ok ? this.maxAnswerBytes : ERROR_BODY_BYTES;
          const declared = Number(res.headers['content-length'] ?? -1);
          const refused = ok ? this.oversize(api, res.headers, declared) : undefined;
          if (refused) {
            reject(refused);
            req.destroy();
            return;
          }
          const body = new BodyCollector(Number.isSafeInteger(declared) && declared <= limit ? declared : -1, ok ? slot : undefined);
          let received = 0;
          res.on('data', (c: Buffer) => {
            received += c.length;
            if (received <= limit) body.add(c);
            else if (ok) {
              reject(tooLarge(api, res.headers, `more than ${limit} bytes arrived`, this.maxAnswerBytes));
              req.destroy();
            }
          });
          res.on('error', (err) => reject(networkError(api, err, this.where())));
          res.on('end', () => {
            clearTimeout(whole);
            const out = { status: res.statusCode ?? 0, headers: res.headers, body: body.result() };
            if (out.status === 200) resolve(out);
            else reject(errorFrom(api, out, this.options.project, this.options.spl));
          });
        },
      );
      // `timeout` is the socket's idle time; this bounds the whole exchange (an answer trickled a
      // byte at a time never goes idle).
      const whole = setTimeout(() => req.destroy(Object.assign(new Error(`no complete answer within ${timeout} ms`), { code: 'ETIMEDOUT' })), timeout);
      req.on('close', () => clearTimeout(whole));
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeout} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(networkError(api, err, this.where())));
      req.end(payload);
    });
  }

  private acceptEncoding(): string {
    return this.compression === 'none' ? '' : this.compression;
  }

  /** The declared raw size (already checked against the cap by `oversize`). */
  private rawSizeOf(res: RawResponse): number {
    return declaredRawSize(res.headers) ?? res.body.length;
  }

  /** A 200 answer whose declared wire or raw size is over the cap: refused before its body is read. */
  private oversize(api: string, headers: http.IncomingHttpHeaders, declared: number): SlsError | undefined {
    const raw = declaredRawSize(headers) ?? 0;
    if (declared > this.maxAnswerBytes) return tooLarge(api, headers, `Content-Length says ${declared} bytes`, this.maxAnswerBytes);
    if (api === 'PullLogs' && raw > this.maxAnswerBytes) return tooLarge(api, headers, `x-log-bodyrawsize says ${raw} bytes raw`, this.maxAnswerBytes);
    return undefined;
  }

  private decompress(res: RawResponse, slot?: PullSlot): Buffer {
    const rawSize = this.rawSizeOf(res);
    if (rawSize < 0) throw badResponse(res, 'PullLogs', `x-log-bodyrawsize "${header(res.headers, 'x-log-bodyrawsize')}" is not a size`);
    if (rawSize === 0 || res.body.length === 0) return Buffer.alloc(0);
    const type = (header(res.headers, 'x-log-compresstype') ?? '').toLowerCase();
    let body: Buffer;
    try {
      if (type === 'lz4') {
        const raw = decompressLz4Block(res.body, rawSize, slot?.raw);
        if (slot && raw.buffer !== slot.raw?.buffer) slot.raw = raw;
        return raw;
      }
      // Never inflated past the declared size (itself within the cap): a bomb stops there.
      else if (type === 'deflate') body = inflateSync(res.body, { maxOutputLength: Math.max(1, rawSize) });
      else if (type === 'gzip') body = gunzipSync(res.body, { maxOutputLength: Math.max(1, rawSize) });
      else if (type === '') body = res.body;
      else throw new Error(`unsupported x-log-compresstype "${type}"`);
    } catch (err) {
      throw badResponse(res, 'PullLogs', `cannot decompress the body: ${(err as Error).message}`);
    }
    if (body.length !== rawSize) {
      throw badResponse(res, 'PullLogs', `body is ${body.length} bytes after decompression, x-log-bodyrawsize says ${rawSize}`);
    }
    return body;
  }

  /** Where requests go, for messages. */
  private where(): string {
    return `${this.url.protocol}//${this.connectHost}${this.url.port ? `:${this.url.port}` : ''}`;
  }

  private parseJson(res: RawResponse, api: string): Record<string, unknown> {
    try {
      return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw badResponse(res, api, 'the body is not JSON');
    }
  }


}

const EMPTY = Buffer.alloc(0);

