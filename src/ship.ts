/**
 * The data path for one invocation: pull every LogGroup of [beginCursor, endCursor) from one
 * shard, format each log as a syslog message, send it, and report only when all of it has been
 * handed to the receiver. The next PullLogs runs while the current batch is being sent.
 *
 * Faults: SLS calls retry inside the client. A broken SIEM connection is replaced (with backoff)
 * and everything sent on it during this invocation is sent again, because TCP cannot tell what the
 * receiver actually read: duplicates are possible and counted, losses are not. Near the function's
 * deadline no new batch is pulled; what was sent is flushed and the invocation fails with how far
 * it got, instead of being killed mid-write.
 */
import type { ForwarderConfig } from './config';
import { decodeGroupView, groupSpans } from './decode/log-group';
import { DeadlineError, SlsError, SyslogError } from './errors';
import type { CursorSpec, TriggerEvent } from './event';
import { createFormatter, type RecordFormatter } from './format';
import { KernelFormatter, type FramedTransport } from './format/kernel-formatter';
import { SlsClient, type Credentials, type PullResult, type PullSlot, type SlsClientOptions } from './sls/client';
import { decodeCursor } from './sls/cursor';
import { Kernel } from './native/kernel';
import type { Lease, SiemConnection } from './transport/connection';

export interface ShipSummary {
  project: string;
  logstore: string;
  shard: number;
  beginCursor: string;
  endCursor: string;
  /** Cursor up to which everything was sent (== endCursor on success). */
  reachedCursor: string;
  groups: number;
  /** Records of the range sent (each once; re-sends after a reconnect are in `resent`). */
  records: number;
  /** Uncompressed protobuf bytes pulled from SLS. */
  rawBytes: number;
  /** Syslog message bytes handed to the receiver (without framing). */
  sentBytes: number;
  truncated: number;
  pulls: number;
  slsRetries: number;
  /** SIEM connections replaced during this invocation, and the records sent again because of it. */
  reconnects: number;
  resent: number;
  /** `new`, `reused` (kept from an earlier invocation of this instance) or `none` (empty range). */
  connection: 'new' | 'reused' | 'none';
  durationMs: number;
}

export interface ShipOptions {
  /** Overrides the SLS client's settings (tests use it for compression and retry timing). */
  slsClient?: Partial<Pick<SlsClientOptions, 'compression' | 'retry' | 'timeoutMs'>>;
  /** Epoch ms when FC will kill the invocation (start + function timeout). */
  deadlineMs?: number;
  /** Called after each batch is flushed, with the cursor everything before which was sent (consumer checkpoints). */
  onProgress?: (reachedCursor: string) => Promise<void> | void;
}

export class ShipError extends Error {
  override name = 'ShipError';
  constructor(override readonly cause: Error, readonly summary: ShipSummary) {
    super(
      `${cause.message}\nProgress before the failure: ${summary.records} records in ${summary.groups} log groups sent, ` +
        `up to cursor ${summary.reachedCursor} of [${summary.beginCursor}, ${summary.endCursor}). ` +
        'Nothing was acknowledged: the trigger retries the whole range (records already sent may arrive twice).',
    );
  }
}

/** Backoff between SIEM reconnects: "equal jitter", so a restarting receiver gets real time to come back. */
export function reconnectDelay(attempt: number, random = Math.random): number {
  const cap = Math.min(4_000, 250 * 2 ** attempt);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

function reachedEnd(next: string, current: string, end: string, groupCount: number): boolean {
  if (next === end || next === current || groupCount === 0) return true;
  const n = decodeCursor(next);
  const e = decodeCursor(end);
  return n !== undefined && e !== undefined && n >= e;
}

function describeSpec(spec: CursorSpec): string {
  return spec.kind === 'cursor' ? spec.cursor : spec.kind === 'time' ? spec.text : spec.kind;
}

/** Time kept free at the end for flushing and answering: 15 % of the timeout, 1-15 s. */
export function deadlineReserveMs(timeoutMs: number): number {
  return Math.min(15_000, Math.max(1_000, Math.round(timeoutMs * 0.15)));
}

class RangeShipper {
  readonly summary: ShipSummary;
  private readonly client: SlsClient;
  /** The JavaScript path (made on first use: with the kernel it is rarely needed). */
  private jsFormatter: RecordFormatter | undefined;
  /** The WebAssembly path, when the settings allow it. */
  private readonly kernel: KernelFormatter | undefined;
  private readonly lz4: Pick<Kernel, 'decodeLz4'>;
  private readonly stopPullingAt: number;
  /** Log groups asked per pull; halved when a batch exceeds the byte budget. */
  private count: number;

  constructor(
    private readonly event: TriggerEvent,
    private readonly config: ForwarderConfig,
    credentials: Credentials,
    private readonly connection: SiemConnection,
    private readonly options: ShipOptions,
  ) {
    this.summary = {
      project: event.project, logstore: event.logstore, shard: event.shardId,
      beginCursor: describeSpec(event.begin), endCursor: describeSpec(event.end), reachedCursor: describeSpec(event.begin),
      groups: 0, records: 0, rawBytes: 0, sentBytes: 0, truncated: 0, pulls: 0, slsRetries: 0, reconnects: 0, resent: 0,
      connection: 'none', durationMs: 0,
    };
    const deadline = options.deadlineMs ?? Number.POSITIVE_INFINITY;
    this.stopPullingAt = Number.isFinite(deadline) ? deadline - deadlineReserveMs(deadline - Date.now()) : deadline;
    this.client = new SlsClient({
      endpoint: event.endpoint, project: event.project, credentials, timeoutMs: config.slsTimeoutMs, ...options.slsClient,
      deadlineMs: this.stopPullingAt,
      onRetry: () => this.summary.slsRetries++,
    });
    this.kernel = KernelFormatter.supports(config) ? new KernelFormatter(config, { project: event.project, logstore: event.logstore }) : undefined;
    // LZ4 is decoded in WebAssembly either way: into the formatting kernel's memory, or an LZ4-only one.
    this.lz4 = this.kernel ?? new Kernel();
    this.count = config.pullCount;
  }

  async ship(): Promise<ShipSummary> {
    const started = Date.now();
    try {
      const [begin, end] = await Promise.all([this.resolve(this.event.begin), this.resolve(this.event.end)]);
      Object.assign(this.summary, { beginCursor: begin, endCursor: end, reachedCursor: begin });
      if (begin !== end) await this.shipWithReconnects(begin, end);
      return this.summary;
    } catch (err) {
      throw new ShipError(err as Error, this.summary);
    } finally {
      this.summary.durationMs = Date.now() - started;
      this.client.close();
    }
  }

  /** Turns `begin`/`end`/time bounds of a hand-written test event into real cursors. */
  private resolve(spec: CursorSpec): Promise<string> | string {
    if (spec.kind === 'cursor') return spec.cursor;
    return this.client.getCursor(this.event.logstore, this.event.shardId, spec.kind === 'time' ? spec.unixSeconds : spec.kind);
  }

  private async shipWithReconnects(begin: string, end: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const before = { records: this.summary.records, groups: this.summary.groups, truncated: this.summary.truncated };
      let lease: Lease | undefined;
      try {
        // Fresh slots per attempt: a pull abandoned by a failed attempt may still write into its own.
        // LZ4 bodies stay compressed until their turn, then go straight into WebAssembly memory.
        const slots: [PullSlot, PullSlot] = [{ deferLz4: true }, { deferLz4: true }];
        const first = this.pull(begin, end, slots[0]); // overlaps the (re)connection
        lease = await this.connection.lease();
        if (attempt === 0) this.summary.connection = lease.reused ? 'reused' : 'new';
        const outcome = await this.sendAll(lease, first, begin, end, slots);
        await lease.complete();
        if (outcome === 'deadline') throw this.deadlineError();
        return;
      } catch (err) {
        if (!(err instanceof SyslogError) || err.fatal) {
          // SLS and decode errors: the connection is fine, keep it for the next invocation.
          if (lease && !(err instanceof SyslogError)) await lease.complete().catch(() => lease!.abandon());
          else lease?.abandon();
          throw err;
        }
        lease?.abandon();
        const delay = reconnectDelay(attempt);
        if (attempt >= this.config.reconnectAttempts || Date.now() + delay >= this.stopPullingAt) throw err;
        // Nothing sent on the broken connection is known to have been read: send it all again.
        this.summary.resent += this.summary.records - before.records;
        Object.assign(this.summary, before, { reachedCursor: begin });
        this.summary.reconnects++;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private pull(cursor: string, end: string, slot: PullSlot): Promise<PullResult> {
    this.summary.pulls++;
    const p = this.client.pullLogs(this.event.logstore, this.event.shardId, cursor, end, this.count, slot);
    p.catch(() => {}); // awaited by the caller; this only stops an early rejection from being "unhandled"
    return p;
  }

  /** Sends [from, end) on one connection. Returns 'deadline' if it stopped pulling early. */
  private async sendAll(lease: Lease, first: Promise<PullResult>, from: string, end: string, slots: [PullSlot, PullSlot]): Promise<'done' | 'deadline'> {
    const { transport } = lease;
    let pending = first;
    let cursor = from;
    // Batch n decodes into slots[n % 2]: batch n+2 is only pulled after batch n was sent.
    for (let n = 1; ; n++) {
      let batch: PullResult;
      try {
        batch = await pending;
      } catch (err) {
        // A pull cut short by the deadline is the deadline, not an SLS fault; all before it is flushed.
        if (Date.now() >= this.stopPullingAt) return 'deadline';
        throw err;
      }
      const done = reachedEnd(batch.nextCursor, cursor, end, batch.groupCount);
      const outOfTime = !done && Date.now() >= this.stopPullingAt;
      this.adaptCount(batch.lz4?.rawSize ?? batch.body.length);
      if (!done && !outOfTime) pending = this.pull(batch.nextCursor, end, slots[n % 2]!);
      await this.sendBatch(lease, batch, cursor);
      await transport.flush();
      cursor = batch.nextCursor;
      this.summary.reachedCursor = done ? end : cursor;
      if (this.options.onProgress) await this.options.onProgress(this.summary.reachedCursor);
      if (done) return 'done';
      if (outOfTime) return 'deadline';
    }
  }

  private async sendBatch(lease: Lease, batch: PullResult, cursor: string): Promise<void> {
    const { transport } = lease;
    const s = this.summary;
    // A group's position (its cursor as a number) is stable across retries: the base of record ids.
    const firstPosition = this.config.recordId ? decodeCursor(cursor) : undefined;
    const prefixOf = (g: number) => (firstPosition === undefined ? undefined : `${this.event.logstore}:${this.event.shardId}:${firstPosition + BigInt(g)}:`);
    let body = batch.body;
    let at: number | undefined;
    if (batch.lz4) {
      const decoded = this.lz4.decodeLz4(batch.lz4.block, batch.lz4.rawSize);
      if (decoded) ({ body, at } = decoded);
      else body = (await this.pullAgain(batch, cursor)).body;
    }
    if (this.kernel && transport.sendFramed) {
      await this.kernel.sendBody(body, transport as FramedTransport, s, prefixOf, at);
      s.rawBytes += body.length;
      return;
    }
    const spans = groupSpans(body);
    for (let g = 0; g < spans.length / 2; g++) {
      const group = decodeGroupView(body, spans[2 * g]!, spans[2 * g + 1]!);
      const idPrefix = prefixOf(g);
      for (let i = 0; i < group.logs.length; i++) {
        const { bytes, truncated } = this.formatter.format(group, group.logs[i]!, idPrefix === undefined ? undefined : idPrefix + i);
        const wait = transport.send(bytes);
        if (wait) await wait;
        s.records++;
        s.sentBytes += bytes.length;
        if (truncated) s.truncated++;
      }
      s.groups++;
    }
    s.rawBytes += body.length;
  }

  /**
   * A corrupt LZ4 block (found only now: decoding waits for the batch's turn): the same batch pulled
   * again and decoded by the client, which retries what it cannot decode. Same cursor and count give
   * the same groups, so the pull already running from its next cursor stays right.
   */
  private async pullAgain(batch: PullResult, cursor: string): Promise<PullResult> {
    this.summary.slsRetries++;
    this.summary.pulls++;
    const again = await this.client.pullLogs(this.event.logstore, this.event.shardId, cursor, this.summary.endCursor, batch.count);
    if (again.nextCursor !== batch.nextCursor) {
      throw new SlsError(
        `SLS PullLogs sent a corrupt LZ4 block [request id ${batch.requestId ?? 'none'}], and pulling it again gave a different batch ` +
          `(next cursor ${again.nextCursor}, was ${batch.nextCursor}). Nothing is lost: the trigger retries the range.`,
        'BadResponse', 200, again.requestId, true,
      );
    }
    return again;
  }

  private get formatter(): RecordFormatter {
    return (this.jsFormatter ??= createFormatter(this.config, { project: this.event.project, logstore: this.event.logstore }));
  }

  /** Keeps a batch (and the one prefetched behind it) within the byte budget. */
  private adaptCount(batchBytes: number): void {
    const budget = this.config.pullBudgetBytes;
    if (batchBytes > budget && this.count > 1) this.count = Math.max(1, Math.floor(this.count / 2));
    else if (batchBytes < budget / 4 && this.count < this.config.pullCount) this.count = Math.min(this.config.pullCount, this.count * 2);
  }

  private deadlineError(): DeadlineError {
    const s = this.summary;
    return new DeadlineError(
      `Stopped before the function timeout: ${s.records} records in ${s.groups} log groups were sent, up to cursor ` +
        `${s.reachedCursor} of [${s.beginCursor}, ${s.endCursor}); the rest was not pulled. The trigger retries the range. ` +
        'Raise the function timeout in s.yaml (or lower triggerInterval) so one interval of one shard fits.',
    );
  }
}

export function shipRange(
  event: TriggerEvent,
  config: ForwarderConfig,
  credentials: Credentials,
  connection: SiemConnection,
  options: ShipOptions = {},
): Promise<ShipSummary> {
  return new RangeShipper(event, config, credentials, connection, options).ship();
}
