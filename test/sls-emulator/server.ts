/**
 * A local SLS (Log Service) data-plane emulator speaking the real wire protocol: v1 signatures
 * with STS tokens, base64-decimal cursors, PullLogs with lz4/deflate bodies and a per-pull byte
 * cap, GetCursor, ListShards, PutLogs (what the official SDK's postLogStoreLogs sends), project
 * and logstore creation, and SLS JSON errors with request ids. Listens on 127.0.0.1 only.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync, inflateSync } from 'node:zlib';
import { bytes, pair } from '../support/log-group-writer';
import { lz4CompressBlock } from '../support/lz4';
import { decompressLz4Block } from '../../src/decode/lz4';
import { decodeLogGroupList } from '../../src/decode/log-group';
import { encodeLogGroup } from '../support/log-group-writer';
import { compileSpl, SplError, type SplProgram } from './spl';
import { type AccessKey, verifyRequest } from './auth';

export interface EmulatorOptions {
  keys?: Record<string, AccessKey>;
  /** PullLogs stops adding LogGroups once the body reaches this many (uncompressed) bytes. */
  maxPullBytes?: number;
  /** Unix seconds stamped as `__receive_time__` on ingest (default: the real clock). */
  clock?: () => number;
  /** Serve HTTPS with this certificate (as every SLS endpoint does). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/** A fault served instead of the next matching request (FIFO). */
export type Fault =
  | { api?: string; status: number; code: string; message?: string }
  | { api?: string; reset: true }
  | { api?: string; delayMs: number }
  /** Served at once (a heartbeat is accepted now), answered later: a slow network, or a client frozen meanwhile. */
  | { api?: string; consumer?: string; answerDelayMs: number }
  /** The real answer with its body cut in half (a corrupt LZ4 block, as a broken proxy might deliver). */
  | { api?: string; corruptBody: true };

interface ConsumerGroup {
  timeoutSeconds: number;
  /** `order`: a split's children are handed out only once their parent is consumed to its end. */
  order: boolean;
  /** consumer -> last accepted heartbeat (ms). */
  consumers: Map<string, number>;
  /** Consumers that timed out: their heartbeats are refused until they come back holding nothing. */
  expired: Set<string>;
  /** shard -> consumer holding it. A holder keeps a shard until it stops listing it (or times out). */
  owners: Map<number, string>;
  checkpoints: Map<number, { checkpoint: string; consumer: string; updateTime: number }>;
  /** Every accepted checkpoint write, in order (tests check none moved backwards). */
  history: Array<{ shard: number; checkpoint: string; consumer: string; forced: boolean }>;
}

interface Shard {
  base: bigint;
  groups: Buffer[];
  receiveTimes: number[];
  /** After SplitShard: no more writes, its end cursor stays where it is. */
  readonly: boolean;
  /** The shard it was split from, if any. */
  parent?: number;
}

export interface RequestRecord {
  api: string;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  headers: http.IncomingHttpHeaders;
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const CURSOR_BASE = 1737669036017218454n;

function cursorOf(position: bigint): string {
  return Buffer.from(position.toString()).toString('base64');
}

function positionOf(cursor: string | null, name: string): bigint {
  const text = cursor === null ? '' : Buffer.from(cursor, 'base64').toString('latin1');
  if (!/^-?\d{1,19}$/.test(text)) throw new ApiError(400, 'InvalidCursor', `${name} ${cursor ?? '(missing)'} is invalid`);
  return BigInt(text);
}

/** Appends a LogTag (field 6) to an encoded LogGroup, as SLS does with `__receive_time__`. */
function withTag(group: Buffer, key: string, value: string): Buffer {
  return Buffer.concat([group, pair(6, [key, value])]);
}

export class SlsEmulator {
  readonly requests: RequestRecord[] = [];
  readonly faults: Fault[] = [];
  /** Added to every PullLogs answer (a slow or far-away SLS). */
  pullDelayMs = 0;
  /**
   * Benchmarks: remember compressed PullLogs bodies by the identity of the groups they hold, so the
   * emulator's own (pure JS) compression does not limit what is measured.
   */
  cachePulls = false;
  private readonly pullCache = new Map<string, Buffer>();
  private readonly groupIds = new WeakMap<Buffer, number>();
  private nextGroupId = 0;
  private readonly projects = new Map<string, Map<string, Shard[]>>();
  /** Consume processors by name (PullLogs `processor`): an SPL statement each. */
  readonly processors = new Map<string, string>();
  /** `project/logstore/group` -> consumer group state. */
  readonly consumerGroups = new Map<string, ConsumerGroup>();
  private readonly keys: Map<string, AccessKey>;
  private readonly maxPullBytes: number;
  private readonly clock: () => number;
  private server: http.Server | undefined;
  private port = 0;
  private readonly tls: EmulatorOptions['tls'];

  constructor(options: EmulatorOptions = {}) {
    this.keys = new Map(Object.entries(options.keys ?? {}));
    this.maxPullBytes = options.maxPullBytes ?? 2 * 1024 * 1024;
    this.clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    this.tls = options.tls;
  }

  get endpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get listenPort(): number {
    return this.port;
  }

  async start(): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = this.tls ? https.createServer(this.tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  addKey(accessKeyId: string, key: AccessKey): void {
    this.keys.set(accessKeyId, key);
  }

  createLogstore(project: string, logstore: string, shardCount: number): void {
    const stores = this.projects.get(project) ?? new Map<string, Shard[]>();
    this.projects.set(project, stores);
    if (!stores.has(logstore)) {
      stores.set(
        logstore,
        Array.from({ length: shardCount }, (_, i) => ({ base: CURSOR_BASE + BigInt(i) * 1_000_000n, groups: [], receiveTimes: [], readonly: false })),
      );
    }
  }

  /**
   * SplitShard: the shard turns readonly (its data stays readable to its end) and two new shards
   * with new ids take the writes. Returns the children's ids.
   */
  splitShard(project: string, logstore: string, shard: number): [number, number] {
    const parent = this.shard(project, logstore, shard);
    if (parent.readonly) throw new ApiError(400, 'ShardReadOnly', `shard ${shard} is readonly`);
    parent.readonly = true;
    const shards = this.projects.get(project)!.get(logstore)!;
    const ids: [number, number] = [shards.length, shards.length + 1];
    for (const id of ids) shards.push({ base: CURSOR_BASE + BigInt(id) * 1_000_000n, groups: [], receiveTimes: [], readonly: false, parent: shard });
    return ids;
  }

  shardIds(project: string, logstore: string): number[] {
    return [...(this.projects.get(project)?.get(logstore)?.keys() ?? [])];
  }

  isReadonly(project: string, logstore: string, shard: number): boolean {
    return this.shard(project, logstore, shard).readonly;
  }

  /** Stores an encoded LogGroup directly (for bytes the SDK cannot produce, e.g. invalid UTF-8). */
  appendGroup(project: string, logstore: string, shard: number, group: Buffer, receiveTime = this.clock()): void {
    this.appendTaggedGroup(project, logstore, shard, withTag(group, '__receive_time__', String(receiveTime)), receiveTime);
  }

  /** Stores a LogGroup as it is (the caller added `__receive_time__`); the same Buffer may be stored many times. */
  appendTaggedGroup(project: string, logstore: string, shard: number, group: Buffer, receiveTime: number): void {
    const s = this.shard(project, logstore, shard);
    if (s.readonly) throw new ApiError(400, 'ShardReadOnly', `shard ${shard} is readonly: write to its children`);
    if (!this.groupIds.has(group)) this.groupIds.set(group, this.nextGroupId++);
    s.groups.push(group);
    s.receiveTimes.push(receiveTime);
  }

  /** Cursor of a shard position: 'begin', 'end', or a group index. */
  cursor(project: string, logstore: string, shard: number, at: 'begin' | 'end' | number): string {
    const s = this.shard(project, logstore, shard);
    return cursorOf(s.base + BigInt(at === 'begin' ? 0 : at === 'end' ? s.groups.length : at));
  }

  groupCount(project: string, logstore: string, shard: number): number {
    return this.shard(project, logstore, shard).groups.length;
  }

  private shard(project: string, logstore: string, shard: number): Shard {
    const stores = this.projects.get(project);
    if (!stores) throw new ApiError(404, 'ProjectNotExist', `The Project does not exist : ${project}`);
    const shards = stores.get(logstore);
    if (!shards) throw new ApiError(404, 'LogStoreNotExist', `logstore ${logstore} does not exist`);
    const s = shards[shard];
    if (!s) throw new ApiError(404, 'ShardNotExist', `shard ${shard} does not exist`);
    return s;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void this.respond(req, res, Buffer.concat(chunks));
    });
  }

  private async respond(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const requestId = randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase();
    const api = this.apiName(method, url);
    const record: RequestRecord = { api, method, path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, headers: req.headers };
    this.requests.push(record);
    let answerDelayMs = 0;
    const send = (status: number, headers: Record<string, string>, payload: Buffer | string) => {
      record.status = status;
      const answer = () => {
        res.writeHead(status, { 'x-log-requestid': requestId, 'content-length': String(Buffer.byteLength(payload)), ...headers });
        res.end(payload);
      };
      if (answerDelayMs > 0) setTimeout(answer, answerDelayMs);
      else answer();
    };
    let corrupt = false;
    try {
      const consumer = url.searchParams.get('consumer');
      const faultIndex = this.faults.findIndex(
        (f) => (f.api === undefined || f.api === api) && (!('consumer' in f) || f.consumer === undefined || f.consumer === consumer),
      );

      if (faultIndex >= 0) {
        const [fault] = this.faults.splice(faultIndex, 1);
        if ('reset' in fault!) {
          record.status = -1;
          req.socket.destroy();
          return;
        }
        if ('delayMs' in fault!) await new Promise((r) => setTimeout(r, fault.delayMs));
        else if ('answerDelayMs' in fault!) answerDelayMs = fault.answerDelayMs;
        else if ('corruptBody' in fault!) corrupt = true;
        else throw new ApiError(fault!.status, fault!.code, fault!.message ?? `injected ${fault!.code}`);
      }
      if (api === 'PullLogs' && this.pullDelayMs > 0) await new Promise((r) => setTimeout(r, this.pullDelayMs));
      const denied = verifyRequest(method, url, req.headers, body, this.keys);
      if (denied) throw new ApiError(denied.status, denied.code, denied.message);
      const project = this.projectOf(req.headers.host ?? '');
      const [status, headers, payload] = this.route(api, method, url, project, req.headers, body);
      send(status, headers, corrupt && typeof payload !== 'string' ? payload.subarray(0, payload.length >> 1) : payload);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalServerError', String(err));
      send(e.status, { 'content-type': 'application/json' }, JSON.stringify({ errorCode: e.code, errorMessage: e.message }));
    }
  }

  /** `<project>.127.0.0.1:port` names a project; the bare host does not. */
  private projectOf(host: string): string | undefined {
    const name = host.replace(/:\d+$/, '');
    return name === '127.0.0.1' || name === 'localhost' ? undefined : name.split('.')[0];
  }

  private apiName(method: string, url: URL): string {
    const p = url.pathname;
    const type = url.searchParams.get('type');
    if (/^\/logstores\/[^/]+\/shards\/[^/]+$/.test(p)) {
      if (method === 'POST') return 'PutLogs';
      return type === 'cursor' ? 'GetCursor' : 'PullLogs';
    }
    if (/^\/logstores\/[^/]+\/shards\/?$/.test(p)) return 'ListShards';
    if (/^\/logstores\/[^/]+\/consumergroups$/.test(p)) return method === 'POST' ? 'CreateConsumerGroup' : 'ListConsumerGroup';
    if (/^\/logstores\/[^/]+\/consumergroups\/[^/]+$/.test(p)) {
      if (method === 'GET') return 'GetCheckPoint';
      return type === 'heartbeat' ? 'ConsumerGroupHeartBeat' : 'ConsumerGroupUpdateCheckPoint';
    }
    if (p === '/logstores' && method === 'POST') return 'CreateLogStore';
    if (p === '/' && method === 'POST') return 'CreateProject';
    return `${method} ${p}`;
  }

  private route(
    api: string, method: string, url: URL, project: string | undefined, headers: http.IncomingHttpHeaders, body: Buffer,
  ): [number, Record<string, string>, Buffer | string] {
    const json = (value: unknown): [number, Record<string, string>, string] => [200, { 'content-type': 'application/json' }, JSON.stringify(value)];
    if (api === 'CreateProject') {
      const { projectName } = JSON.parse(body.toString()) as { projectName: string };
      if (!this.projects.has(projectName)) this.projects.set(projectName, new Map());
      return json({});
    }
    if (!project) throw new ApiError(400, 'InvalidHost', 'the Host header names no project');
    if (!this.projects.has(project)) throw new ApiError(404, 'ProjectNotExist', `The Project does not exist : ${project}`);
    if (api === 'CreateLogStore') {
      const { logstoreName, shardCount } = JSON.parse(body.toString()) as { logstoreName: string; shardCount?: number };
      this.createLogstore(project, logstoreName, shardCount ?? 2);
      return json({});
    }
    const segments = url.pathname.split('/').map(decodeURIComponent);
    const logstore = segments[2]!;
    if (api === 'ListShards') {
      this.shard(project, logstore, 0);
      const shards = this.projects.get(project)!.get(logstore)!;
      return json(shards.map((sh, i) => ({ shardID: i, status: sh.readonly ? 'readonly' : 'readwrite', inclusiveBeginKey: '', exclusiveEndKey: '', createTime: 1737669036 })));
    }
    if (['CreateConsumerGroup', 'ConsumerGroupHeartBeat', 'ConsumerGroupUpdateCheckPoint', 'GetCheckPoint'].includes(api)) {
      return json(this.consumerGroupApi(api, project, logstore, segments[4], url, body));
    }
    const shardText = segments[4]!;
    if (api === 'PutLogs') {
      const shard = shardText === 'lb' ? 0 : Number(shardText);
      this.appendGroup(project, logstore, shard, this.requestBody(headers, body));
      return [200, {}, ''];
    }
    if (!/^\d+$/.test(shardText)) throw new ApiError(400, 'ParameterInvalid', `shard ${shardText} is invalid`);
    const shard = this.shard(project, logstore, Number(shardText));
    if (api === 'GetCursor') return json({ cursor: this.getCursor(shard, url.searchParams.get('from')) });
    if (method !== 'GET' || (url.searchParams.get('type') !== 'log' && url.searchParams.get('type') !== 'logs')) {
      throw new ApiError(400, 'ParameterInvalid', `unsupported request ${method} ${url.pathname}?type=${url.searchParams.get('type')}`);
    }
    return this.pullLogs(shard, url, headers);
  }

  private consumerGroupApi(api: string, project: string, logstore: string, groupName: string | undefined, url: URL, body: Buffer): unknown {
    const shards = this.projects.get(project)?.get(logstore);
    if (!shards) throw new ApiError(404, 'LogStoreNotExist', `logstore ${logstore} does not exist`);
    if (api === 'CreateConsumerGroup') {
      const { consumerGroup, timeout, order } = JSON.parse(body.toString()) as { consumerGroup: string; timeout: number; order?: boolean };
      const key = `${project}/${logstore}/${consumerGroup}`;
      if (this.consumerGroups.has(key)) throw new ApiError(400, 'ConsumerGroupAlreadyExist', `consumer group ${consumerGroup} already exist`);
      this.consumerGroups.set(key, {
        timeoutSeconds: timeout, order: order === true, consumers: new Map(), expired: new Set(), owners: new Map(), checkpoints: new Map(), history: [],
      });
      return {};
    }
    const group = this.consumerGroups.get(`${project}/${logstore}/${groupName}`);
    if (!group) throw new ApiError(404, 'ConsumerGroupNotExist', `consumer group ${groupName} does not exist`);
    const consumer = url.searchParams.get('consumer') ?? '';
    this.expireConsumers(group);
    if (api === 'GetCheckPoint') {
      const only = url.searchParams.get('shard');
      return [...group.checkpoints]
        .filter(([shard]) => only === null || String(shard) === only)
        .map(([shard, c]) => ({ shard, checkpoint: c.checkpoint, updateTime: c.updateTime, consumer: c.consumer }));
    }
    if (api === 'ConsumerGroupUpdateCheckPoint') {
      const { shard, checkpoint } = JSON.parse(body.toString()) as { shard: number; checkpoint: string };
      positionOf(checkpoint, 'checkpoint');
      const forced = url.searchParams.get('forceSuccess') === 'true';
      if (!forced) {
        if (!group.consumers.has(consumer)) throw new ApiError(400, 'ConsumerNotExist', `consumer ${consumer} does not exist in group ${groupName}`);
        if (group.owners.get(shard) !== consumer) throw new ApiError(400, 'ConsumerNotMatch', `consumer ${consumer} does not hold shard ${shard}`);
      }
      group.checkpoints.set(shard, { checkpoint, consumer, updateTime: Math.floor(Date.now() / 1000) });
      group.history.push({ shard, checkpoint, consumer, forced });
      return {};
    }
    return this.heartbeat(group, shards, consumer, JSON.parse(body.toString() || '[]') as number[]);
  }

  /** A consumer silent for longer than the group's timeout loses its shards. */
  private expireConsumers(group: ConsumerGroup): void {
    const now = Date.now();
    for (const [name, last] of group.consumers) {
      if (now - last <= group.timeoutSeconds * 1000) continue;
      group.consumers.delete(name);
      group.expired.add(name);
      for (const [shard, owner] of group.owners) if (owner === name) group.owners.delete(shard);
    }
  }

  /**
   * ConsumerGroupHeartBeat with the shards the consumer holds; answers the shards it should hold.
   * As SLS does it: a shard goes to another consumer only after its holder stops listing it (or
   * times out); a consumer over its fair share is told to let some go, and keeps them until it does.
   * A readonly shard consumed to its end is finished; with `order`, children wait for their parent.
   */
  private heartbeat(group: ConsumerGroup, shards: Shard[], consumer: string, held: number[]): number[] {
    if (group.expired.has(consumer)) {
      if (held.length > 0) throw new ApiError(400, 'ConsumerNotExist', `consumer ${consumer} timed out: drop its shards and heartbeat again with none`);
      group.expired.delete(consumer);
    }
    group.consumers.set(consumer, Date.now());
    const heldSet = new Set(held);
    // Shards this consumer no longer lists are released.
    for (const [shard, owner] of group.owners) if (owner === consumer && !heldSet.has(shard)) group.owners.delete(shard);
    const finished = (id: number) => {
      const sh = shards[id]!;
      const cp = group.checkpoints.get(id);
      return sh.readonly && cp !== undefined && positionOf(cp.checkpoint, 'checkpoint') >= sh.base + BigInt(sh.groups.length);
    };
    const available = (id: number) => !finished(id) && !(group.order && shards[id]!.parent !== undefined && !finished(shards[id]!.parent!));
    const live = shards.map((_, id) => id).filter(available);
    // Shares: live shards spread evenly; the extra ones go to those holding most now (fewest moves).
    const count = (name: string) => [...group.owners].filter(([id, o]) => o === name && available(id)).length;
    const alive = [...group.consumers.keys()].sort((a, b) => count(b) - count(a) || a.localeCompare(b));
    const rank = alive.indexOf(consumer);
    const fair = Math.floor(live.length / alive.length) + (rank < live.length % alive.length ? 1 : 0);
    const mine = [...group.owners].filter(([shard, o]) => o === consumer && available(shard)).map(([shard]) => shard).sort((a, b) => a - b);
    // Over its share: told to let the highest go (it still holds them until it stops listing them).
    const keep = mine.slice(0, fair);
    for (const id of live) {
      if (keep.length >= fair) break;
      if (!group.owners.has(id)) {
        group.owners.set(id, consumer);
        keep.push(id);
      }
    }
    // Finished shards it still lists are not part of the answer: it lets them go.
    return keep.sort((a, b) => a - b);
  }

  /** The SPL program of a PullLogs request (`query` with pullMode=scan_on_stream, or a named `processor`). */
  private splOf(url: URL): SplProgram | undefined {
    const query = url.searchParams.get('query');
    const processor = url.searchParams.get('processor');
    if (query !== null && processor !== null) throw new ApiError(400, 'ParameterInvalid', 'query and processor cannot be used together');
    if (processor !== null) {
      const statement = this.processors.get(processor);
      if (statement === undefined) throw new ApiError(404, 'ConsumeProcessorNotExist', `consume processor ${processor} does not exist`);
      return compileSpl(statement);
    }
    if (query === null) return undefined;
    if (url.searchParams.get('pullMode') !== 'scan_on_stream') throw new ApiError(400, 'ParameterInvalid', 'query needs pullMode=scan_on_stream');
    try {
      return compileSpl(query);
    } catch (err) {
      if (err instanceof SplError) throw new ApiError(400, 'InvalidSpl', err.message);
      throw err;
    }
  }

  private requestBody(headers: http.IncomingHttpHeaders, body: Buffer): Buffer {
    const type = String(headers['x-log-compresstype'] ?? '');
    const raw = Number(headers['x-log-bodyrawsize'] ?? body.length);
    if (type === 'lz4') return decompressLz4Block(body, raw);
    if (type === 'deflate') return inflateSync(body);
    return body;
  }

  private getCursor(shard: Shard, from: string | null): string {
    if (from === 'begin') return cursorOf(shard.base);
    if (from === 'end') return cursorOf(shard.base + BigInt(shard.groups.length));
    if (from !== null && /^\d+$/.test(from)) {
      const t = Number(from);
      const i = shard.receiveTimes.findIndex((rt) => rt >= t);
      return cursorOf(shard.base + BigInt(i < 0 ? shard.groups.length : i));
    }
    throw new ApiError(400, 'ParameterInvalid', `from=${from} must be begin, end or a unix time`);
  }

  private pullLogs(shard: Shard, url: URL, headers: http.IncomingHttpHeaders): [number, Record<string, string>, Buffer] {
    const end = BigInt(shard.groups.length);
    const begin = positionOf(url.searchParams.get('cursor'), 'cursor') - shard.base;
    if (begin < 0n || begin > end) throw new ApiError(400, 'InvalidCursor', 'cursor is out of range');
    const endParam = url.searchParams.get('end_cursor');
    let stop = end;
    if (endParam !== null) {
      stop = positionOf(endParam, 'end_cursor') - shard.base;
      if (stop < 0n || stop > end) throw new ApiError(400, 'InvalidCursor', 'end_cursor is out of range');
    }
    const count = Number(url.searchParams.get('count') ?? '1000');
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw new ApiError(400, 'ParameterInvalid', 'count must be 1..1000');
    const spl = this.splOf(url);
    const parts: Buffer[] = [];
    let size = 0;
    let i = Number(begin);
    let rawCount = 0;
    let rawSize = 0;
    let scanned = 0;
    // With SPL, `count` log groups are scanned; groups the query empties are left out, but the
    // cursor still moves past them (a pull may answer none and a new cursor).
    while (i < Number(stop) && scanned < count && (scanned === 0 || size < this.maxPullBytes)) {
      const stored = shard.groups[i]!;
      scanned++;
      i++;
      let group = stored;
      if (spl) {
        const [g] = decodeLogGroupList(bytes(1, stored));
        rawCount += g!.logs.length;
        rawSize += stored.length;
        const logs = g!.logs.flatMap((log) => {
          const fields = spl(log.contents);
          return fields ? [{ time: log.time, timeNs: log.timeNs || undefined, contents: fields }] : [];
        });
        if (logs.length === 0) continue;
        group = encodeLogGroup({ logs, topic: g!.topic, source: g!.source, tags: g!.tags });
      }
      const framed = bytes(1, group);
      parts.push(framed);
      size += framed.length;
    }
    const raw = Buffer.concat(parts);
    const accepted = String(headers['accept-encoding'] ?? '').split(',').map((s) => s.trim());
    const type = raw.length === 0 ? '' : accepted.includes('lz4') ? 'lz4' : accepted.includes('deflate') ? 'deflate' : accepted.includes('gzip') ? 'gzip' : '';
    const compress = () => (type === 'lz4' ? lz4CompressBlock(raw) : type === 'deflate' ? deflateSync(raw) : type === 'gzip' ? gzipSync(raw) : raw);
    let payload: Buffer;
    if (this.cachePulls) {
      const key = `${type}:${shard.groups.slice(Number(begin), i).map((g) => this.groupIds.get(g) ?? -1).join(',')}`;
      payload = this.pullCache.get(key) ?? compress();
      this.pullCache.set(key, payload);
    } else payload = compress();
    const out: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      'x-log-cursor': cursorOf(shard.base + BigInt(i)),
      'x-log-count': String(parts.length),
      'x-log-bodyrawsize': String(raw.length),
      'x-log-read-last-cursor': (shard.base + BigInt(i) - 1n).toString(),
      'x-log-end-of-cursor': i === shard.groups.length ? '1' : '0',
    };
    if (type) out['x-log-compresstype'] = type;
    if (spl) Object.assign(out, { 'x-log-rawdatacount': String(rawCount), 'x-log-rawdatasize': String(rawSize) });
    return [200, out, payload];
  }
}
