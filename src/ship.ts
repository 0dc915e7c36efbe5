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
import { backoffDelay, type Backoff } from './backoff';
import type { ForwarderConfig } from './config';
import { decodeGroupView, groupSpans } from './decode/log-group';
import { DeadlineError, SyslogError } from './errors';
import type { CursorSpec, TriggerEvent } from './event';
import { kernelDeclines, KernelEngine, type FramedTransport } from './format/kernel-engine';
import { referenceFormatter, type RecordFormatter } from './format/reference-engine';
import { Puller } from './puller';
import { answerCap, SlsClient, type Credentials, type PullResult, type PullSlot, type SlsClientOptions } from './sls/client';
import { decodeCursor } from './sls/cursor';
import type { SlsEndpoint } from './sls/endpoint';
import { Kernel } from './native/kernel';
import { ResumeStore } from './resume';
import type { Lease, SiemConnection } from './transport/connection';
import type { PartialProof, SyslogTransport } from './transport/transport';
import { ShipError, type ShipSummary } from './ship-summary';

export { ShipError, type ShipSummary } from './ship-summary';

export interface ShipOptions {
  /** Where to reach SLS: decided by the caller (an event's endpoint only after authorizeTrigger). */
  sls: SlsEndpoint;
  /** Overrides the SLS client's settings (tests use it for compression and retry timing). */
  slsClient?: Partial<Pick<SlsClientOptions, 'compression' | 'retry' | 'timeoutMs'>>;
  /** Epoch ms when FC will kill the invocation (start + function timeout). */
  deadlineMs?: number;
  /** Called after each proof of delivery, with the cursor everything before which the receiver has (consumer checkpoints). */
  onProgress?: (provenCursor: string) => Promise<void> | void;
  /** FC: keep proven progress in SLS under this trigger job, and resume from it (SLS_RESUME). */
  resumeJob?: string | undefined;
  /** Asked after every batch: true ends the range there (its last segment proven), not as an error. */
  shouldStop?: () => boolean;
}

/** Backoff between SIEM reconnects: "equal jitter", so a restarting receiver gets real time to come back. */
const RECONNECT_BACKOFF: Backoff = { baseMs: 250, capMs: 4_000, jitter: 'equal' };

function describeSpec(spec: CursorSpec): string {
  return spec.kind === 'cursor' ? spec.cursor : spec.kind === 'time' ? spec.text : spec.kind;
}

/** Time kept free at the end for proving and answering: 15 % of the timeout, 1-15 s. */
export function deadlineReserveMs(timeoutMs: number): number {
  return Math.min(15_000, Math.max(1_000, Math.round(timeoutMs * 0.15)));
}

/** Time kept after the last SIEM wait to answer FC: 5 % of the timeout, 0.2-2 s. */
export function answerMarginMs(timeoutMs: number): number {
  return Math.min(2_000, Math.max(200, Math.round(timeoutMs * 0.05)));
}

/** Records sent on one connection since its last proof. */
interface Segment {
  lease: Lease;
  /** Where the segment starts and how far it got (the next cursor after its last batch). */
  from: string;
  to: string;
  records: number;
  groups: number;
  bytes: number;
  truncated: number;
  startedAt: number;
}

class RangeShipper {
  readonly summary: ShipSummary;
  private readonly client: SlsClient;
  /** The JavaScript path (made on first use: with the kernel it is rarely needed). */
  private jsFormatter: RecordFormatter | undefined;
  /** The WebAssembly path, when the settings allow it. */
  private readonly kernel: KernelEngine | undefined;
  private readonly lz4: Pick<Kernel, 'decodeLz4'>;
  private readonly stopPullingAt: number;
  /** No SIEM wait (connect, back-pressure, proof) may pass this: there must be time to answer. */
  private readonly siemDeadline: number;
  private readonly resume: ResumeStore | undefined;
  private readonly resumeClient: SlsClient | undefined;
  private readonly puller: Puller;
  /** Counts at the last proof: a reconnect rewinds to them. */
  private proven = { records: 0, groups: 0, truncated: 0, sentBytes: 0 };
  /** RELP: messages acknowledged after the last proof on a connection that broke, not to send again. */
  private acknowledgedBeyondProof = 0;
  /** The connection for the next segment, opened while the current one is sent (close proofs). */
  private preopened: Promise<Lease> | undefined;
  /** The proof still being awaited (at most one): settled before a reconnect rewinds. */
  private proving: Promise<void> | undefined;
  /** This attempt's connection that acknowledges one by one (RELP): it knows what was acknowledged beyond the last proof. */
  private partialProof: PartialProof | undefined;

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
      groups: 0, records: 0, delivered: 0, rawBytes: 0, sentBytes: 0, truncated: 0, pulls: 0, slsRetries: 0, reconnects: 0, resent: 0,
      commits: 0, proof: 'none', connection: 'none', durationMs: 0, sls: 'http', engine: 'kernel',
    };
    const sls = options.sls;
    this.summary.sls = sls.scheme;
    const deadline = options.deadlineMs ?? Number.POSITIVE_INFINITY;
    const budget = deadline - Date.now();
    this.stopPullingAt = Number.isFinite(deadline) ? deadline - deadlineReserveMs(budget) : deadline;
    this.siemDeadline = Number.isFinite(deadline) ? deadline - answerMarginMs(budget) : deadline;
    this.client = new SlsClient({
      endpoint: sls.url, project: event.project, credentials, timeoutMs: config.slsTimeoutMs, ...options.slsClient,
      deadlineMs: this.stopPullingAt, spl: config.spl, maxAnswerBytes: answerCap(config.pullBudgetBytes),
      onRetry: () => this.summary.slsRetries++,
    });
    // Its own client: proof points are saved after pulling stopped, up to the SIEM deadline.
    this.resumeClient = options.resumeJob
      ? new SlsClient({ endpoint: sls.url, project: event.project, credentials, timeoutMs: Math.min(config.slsTimeoutMs, 5_000), ...options.slsClient, deadlineMs: this.siemDeadline })
      : undefined;
    this.resume = this.resumeClient ? new ResumeStore(this.resumeClient, event.logstore, event.shardId, options.resumeJob!, config.resumeMaxAgeMs) : undefined;
    const declined = kernelDeclines(config);
    this.kernel = declined === undefined ? new KernelEngine(config, { project: event.project, logstore: event.logstore }) : undefined;
    if (declined !== undefined) this.summary.engine = `reference (${declined})`;
    // LZ4 is decoded in WebAssembly either way: into the formatting kernel's memory, or an LZ4-only one.
    this.lz4 = this.kernel ?? new Kernel();
    this.puller = new Puller(this.client, event.logstore, event.shardId, config, this.summary);
  }

  async ship(): Promise<ShipSummary> {
    const started = Date.now();
    try {
      const [begin, end] = await Promise.all([this.resolve(this.event.begin), this.resolve(this.event.end)]);
      Object.assign(this.summary, { beginCursor: begin, endCursor: end, reachedCursor: begin });
      const from = (begin !== end && (await this.resume?.find(begin, end))) || begin;
      if (from !== begin) Object.assign(this.summary, { resumedFrom: from, reachedCursor: from });
      if (from !== end) await this.shipWithReconnects(end);
      await this.resume?.finish(end);
      return this.summary;
    } catch (err) {
      throw new ShipError(err as Error, this.summary);
    } finally {
      this.summary.durationMs = Date.now() - started;
      if (this.event.cursorTime !== undefined) this.summary.lagSeconds = Math.max(0, Math.round(Date.now() / 1000 - this.event.cursorTime));
      this.client.close();
      this.resumeClient?.close();
    }
  }

  /** Turns `begin`/`end`/time bounds of a hand-written test event into real cursors. */
  private resolve(spec: CursorSpec): Promise<string> | string {
    if (spec.kind === 'cursor') return spec.cursor;
    return this.client.getCursor(this.event.logstore, this.event.shardId, spec.kind === 'time' ? spec.unixSeconds : spec.kind);
  }

  private async shipWithReconnects(end: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const from = this.summary.reachedCursor;
      const open = new Set<Lease>();
      try {
        const outcome = await this.sendAll(from, end, open, attempt);
        if (outcome === 'deadline') throw this.deadlineError();
        return; // 'done', or 'stopped' on request: reachedCursor says how far
      } catch (err) {
        // A proof that was still running decides where the rewind goes: let it land first.
        await this.proving?.catch(() => {});
        this.proving = undefined;
        this.acknowledgedBeyondProof = this.partialProof?.acknowledgedBeyondProof() ?? 0;
        const next = this.preopened;
        this.preopened = undefined;
        await next?.then((l) => l.transport.destroy(), () => {});
        for (const lease of open) lease.transport.destroy();
        if (!(err instanceof SyslogError) || err.fatal || err.byDeadline) throw err;
        const delay = backoffDelay(attempt, RECONNECT_BACKOFF);
        if (attempt >= this.config.reconnectAttempts || Date.now() + delay >= this.stopPullingAt) throw err;
        // Nothing after the last proof is known to have been read: send it again.
        const s = this.summary;
        s.resent += Math.max(0, s.records - this.proven.records - this.acknowledgedBeyondProof);
        Object.assign(s, this.proven);
        s.reconnects++;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Sends [from, end) in commit segments. A segment ends after `SYSLOG_COMMIT_BYTES` or
   * `SYSLOG_COMMIT_SECONDS` (and at the end); its proof runs while the next segment is sent on a
   * new connection, at most one proof behind. Only proven segments move `reachedCursor`.
   * Returns 'deadline' if it stopped pulling early, 'stopped' if `shouldStop` asked it to.
   */
  private async sendAll(from: string, end: string, open: Set<Lease>, attempt: number): Promise<'done' | 'deadline' | 'stopped'> {
    // Fresh slots per attempt: a pull abandoned by a failed attempt may still write into its own.
    // LZ4 bodies stay compressed until their turn, then go straight into WebAssembly memory.
    const slots: [PullSlot, PullSlot] = [{ deferLz4: true }, { deferLz4: true }];
    let pending = this.puller.pull(from, end, slots[0]); // overlaps the (re)connection
    let segment = await this.startSegment(from, open, attempt === 0);
    let provingFailed: Error | undefined;
    let cursor = from;
    // Batch n decodes into slots[n % 2]: batch n+2 is only pulled after batch n was sent.
    for (let n = 1; ; n++) {
      let batch: PullResult | undefined;
      try {
        batch = await pending;
      } catch (err) {
        // A pull cut short by the deadline is the deadline, not an SLS fault; what was sent is proven.
        if (Date.now() < this.stopPullingAt) throw err;
      }
      if (provingFailed) throw provingFailed;
      let done = false;
      let outOfTime = batch === undefined;
      // A stop request (shard lost, drain) takes effect before the next batch is sent, not after the range.
      const stopped = batch !== undefined && this.options.shouldStop?.() === true;
      if (batch && !stopped) {
        done = this.puller.accept(batch, cursor, end);
        outOfTime = !done && Date.now() >= this.stopPullingAt;
        if (!done && !outOfTime) pending = this.puller.pull(batch.nextCursor, end, slots[n % 2]!);
        const before = { records: this.summary.records, groups: this.summary.groups, sentBytes: this.summary.sentBytes, truncated: this.summary.truncated };
        await this.sendBatch(segment.lease.transport, batch, cursor);
        cursor = done ? end : batch.nextCursor;
        Object.assign(segment, {
          to: cursor, records: segment.records + this.summary.records - before.records,
          groups: segment.groups + this.summary.groups - before.groups, bytes: segment.bytes + this.summary.sentBytes - before.sentBytes,
          truncated: segment.truncated + this.summary.truncated - before.truncated,
        });
      }
      const last = done || outOfTime || stopped;
      if (!last && !this.segmentDue(segment)) continue;
      await this.proving; // at most one proof behind the segment being sent
      const finished = segment;
      const proving = this.prove(finished, open);
      this.proving = proving;
      if (last) {
        await proving;
        this.proving = undefined;
        await this.handBackPreopened(open);
        await this.connection.release(finished.lease.transport);
        open.delete(finished.lease);
        return done ? 'done' : stopped ? 'stopped' : 'deadline';
      }
      proving.catch((err: Error) => (provingFailed = err));
      // A connection that can go on after its proof carries the next segment; otherwise a new one
      // is opened while the proof is awaited.
      segment = finished.lease.transport.reusable ? this.nextSegment(finished) : await this.startSegment(cursor, open, false);
      if (provingFailed) throw provingFailed;
    }
  }

  private async startSegment(from: string, open: Set<Lease>, first: boolean): Promise<Segment> {
    const lease = await (this.preopened ?? this.connection.take(this.siemDeadline));
    this.preopened = undefined;
    open.add(lease);
    if (first) this.summary.connection = lease.reused ? 'reused' : 'new';
    this.summary.proof = lease.transport.proof;
    if (!lease.transport.reusable) {
      // The next segment's connection (and TLS handshake) is made while this one is sent, so a
      // commit point never waits for a handshake: one spare connection, at most.
      const next = this.connection.take(this.siemDeadline);
      next.then((l) => open.add(l), () => {});
      this.preopened = next;
    }
    if (lease.transport.partialProof) {
      this.partialProof = lease.transport.partialProof;
      this.partialProof.skip(this.acknowledgedBeyondProof);
      this.acknowledgedBeyondProof = 0;
    }
    return { lease, from, to: from, records: 0, groups: 0, bytes: 0, truncated: 0, startedAt: Date.now() };
  }

  /** The range is done: a connection opened ahead for a next segment is kept for the next invocation. */
  private async handBackPreopened(open: Set<Lease>): Promise<void> {
    const next = this.preopened;
    this.preopened = undefined;
    const lease = await next?.catch(() => undefined);
    if (!lease) return;
    open.delete(lease);
    this.connection.keepSpare(lease.transport);
  }

  private nextSegment(previous: Segment): Segment {
    return { ...previous, from: previous.to, records: 0, groups: 0, bytes: 0, truncated: 0, startedAt: Date.now() };
  }

  /** Reusable connections (acks, flush-only) commit every batch: it costs no new connection. */
  private segmentDue(segment: Segment): boolean {
    if (segment.lease.transport.reusable) return true;
    return segment.bytes >= this.config.commitBytes || Date.now() - segment.startedAt >= this.config.commitMs;
  }

  /** Waits for the segment's proof; then it counts as delivered, and the resume point moves. */
  private async prove(segment: Segment, open: Set<Lease>): Promise<void> {
    const transport = segment.lease.transport;
    await transport.commit();
    if (!transport.reusable) open.delete(segment.lease);
    const s = this.summary;
    const p = this.proven;
    this.proven = { records: p.records + segment.records, groups: p.groups + segment.groups, truncated: p.truncated + segment.truncated, sentBytes: p.sentBytes + segment.bytes };
    s.delivered = this.proven.records;
    s.reachedCursor = segment.to;
    s.commits++;
    // Only a real proof is worth resuming from (UDP and SYSLOG_DELIVERY_PROOF=none resend it all).
    if (segment.to !== s.endCursor && transport.proof !== 'none') await this.resume?.save(segment.to);
    if (this.options.onProgress) await this.options.onProgress(segment.to);
  }

  private async sendBatch(transport: SyslogTransport, batch: PullResult, cursor: string): Promise<void> {
    const s = this.summary;
    // A group's position (its cursor as a number) is stable across retries: the base of record ids.
    const firstPosition = this.config.recordId ? decodeCursor(cursor) : undefined;
    const prefixOf = (g: number) => (firstPosition === undefined ? undefined : `${this.event.logstore}:${this.event.shardId}:${firstPosition + BigInt(g)}:`);
    let body = batch.body;
    let at: number | undefined;
    if (batch.lz4) {
      const decoded = this.lz4.decodeLz4(batch.lz4.block, batch.lz4.rawSize);
      if (decoded) ({ body, at } = decoded);
      else body = (await this.puller.pullAgain(batch, cursor, this.summary.endCursor)).body;
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

  private get formatter(): RecordFormatter {
    return (this.jsFormatter ??= referenceFormatter(this.config, { project: this.event.project, logstore: this.event.logstore }));
  }

  private deadlineError(): DeadlineError {
    const s = this.summary;
    return new DeadlineError(
      `Stopped before the function timeout: ${s.records} records in ${s.groups} log groups were sent and proven delivered, up to cursor ` +
        `${s.reachedCursor} of [${s.beginCursor}, ${s.endCursor}); the rest was not pulled. The trigger retries the range` +
        `${this.resume ? ', resuming from that cursor' : ''}. ` +
        'Raise the function timeout in s.yaml (or lower triggerInterval) so one interval of one shard fits.',
    );
  }
}

export function shipRange(
  event: TriggerEvent,
  config: ForwarderConfig,
  credentials: Credentials,
  connection: SiemConnection,
  options: ShipOptions,
): Promise<ShipSummary> {
  return new RangeShipper(event, config, credentials, connection, options).ship();
}
