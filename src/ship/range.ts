/**
 * The data path for one range of one shard: pull every LogGroup of [from, to), have each output's
 * lane encode and send it, and report only when every output has proven all of it. The next
 * PullLogs runs while the current batch is being sent.
 *
 * Faults: SLS calls retry inside the client. A broken output connection is replaced (with backoff)
 * and everything after the last point every output proved is sent again, because TCP cannot tell
 * what the receiver actually read: duplicates are possible and counted, losses are not. Near the
 * deadline no new batch is pulled; what was sent is proven and the range fails with how far it got,
 * instead of being killed mid-write.
 */
import { backoffDelay, type Backoff } from '../backoff';
import type { CursorSpec } from '../event';
import { DeadlineError, OutputError } from '../errors';
import { createEncoder } from '../format/encoder';
import { answerCap, SlsClient, type Credentials, type PullResult, type PullSlot, type SlsClientOptions } from '../sls/client';
import { decodeCursor, encodeCursor } from '../sls/cursor';
import type { SlsEndpoint } from '../sls/endpoint';
import type { ForwarderConfig } from './config';
import type { Destinations } from './destinations';
import { OutputLane } from './lane';
import { Puller } from './puller';
import { ResumeStore } from './resume';
import { ShipError, type ShipSummary } from './summary';

export { ShipError, type ShipSummary } from './summary';

/** One shard's range, as the FC trigger or the consumer-group worker hands it over. */
export interface ShardRange {
  project: string;
  logstore: string;
  shard: number;
  from: CursorSpec;
  to: CursorSpec;
  /** Epoch seconds the newest record of the range reached SLS (the trigger's cursorTime), for the lag. */
  cursorTime?: number | undefined;
}

export interface ShipOptions {
  /** Where to reach SLS: decided by the caller (an event's endpoint only after authorizeTrigger). */
  sls: SlsEndpoint;
  /** Overrides the SLS client's settings (tests use it for compression and retry timing). */
  slsClient?: Partial<Pick<SlsClientOptions, 'compression' | 'retry' | 'timeoutMs'>>;
  /** Epoch ms when the range must be answered (FC: start + function timeout). */
  deadlineMs?: number;
  /** Called after each proof of delivery, with the cursor everything before which every output has (consumer checkpoints). */
  onProgress?: (provenCursor: string) => Promise<void> | void;
  /** FC: keep proven progress in SLS under this trigger job, and resume from it (SLS_RESUME). */
  resumeJob?: string | undefined;
  /** Asked after every batch: true ends the range there (its last segment proven), not as an error. */
  shouldStop?: () => boolean;
}

/** The resume point is saved at most this often while proofs land (each save is one SLS request). */
const RESUME_SAVE_INTERVAL_MS = 1_000;

/** Backoff between reconnects: "equal jitter", so a restarting receiver gets real time to come back. */
const RECONNECT_BACKOFF: Backoff = { baseMs: 250, capMs: 4_000, jitter: 'equal' };

function describeSpec(spec: CursorSpec): string {
  return spec.kind === 'cursor' ? spec.cursor : spec.kind === 'time' ? spec.text : spec.kind;
}

/** Time kept free at the end for proving and answering: 15 % of the timeout, 1-15 s. */
export function deadlineReserveMs(timeoutMs: number): number {
  return Math.min(15_000, Math.max(1_000, Math.round(timeoutMs * 0.15)));
}

/** Time kept after the last output wait to answer: 5 % of the timeout, 0.2-2 s. */
export function answerMarginMs(timeoutMs: number): number {
  return Math.min(2_000, Math.max(200, Math.round(timeoutMs * 0.05)));
}

class RangeShipper {
  readonly summary: ShipSummary;
  private readonly client: SlsClient;
  private readonly lanes: OutputLane[];
  private readonly stopPullingAt: number;
  private readonly resume: ResumeStore | undefined;
  private readonly resumeClient: SlsClient | undefined;
  private readonly puller: Puller;
  /** A rate limit ended the range early (the error then says so). */
  private throttledOut = false;
  private readonly spl: boolean;
  private lastResumeSave = 0;
  private resumeSaved: string | undefined;

  constructor(private readonly range: ShardRange, config: ForwarderConfig, credentials: Credentials, destinations: Destinations, private readonly options: ShipOptions) {
    this.summary = {
      project: range.project, logstore: range.logstore, shard: range.shard,
      beginCursor: describeSpec(range.from), endCursor: describeSpec(range.to), reachedCursor: describeSpec(range.from),
      groups: 0, records: 0, delivered: 0, rawBytes: 0, sentBytes: 0, truncated: 0, pulls: 0, slsRetries: 0, reconnects: 0, resent: 0,
      commits: 0, proof: 'none', connection: 'none', durationMs: 0, sls: options.sls.scheme, engine: 'kernel', throttledMs: 0,
    };
    const deadline = options.deadlineMs ?? Number.POSITIVE_INFINITY;
    const budget = deadline - Date.now();
    this.stopPullingAt = Number.isFinite(deadline) ? deadline - deadlineReserveMs(budget) : deadline;
    // No output wait (connect, back-pressure, proof) may pass this: there must be time to answer.
    const outputDeadline = Number.isFinite(deadline) ? deadline - answerMarginMs(budget) : deadline;
    const source = config.source;
    this.spl = source.spl !== undefined;
    this.client = new SlsClient({
      endpoint: options.sls.url, project: range.project, credentials, timeoutMs: source.slsTimeoutMs, ...options.slsClient,
      deadlineMs: this.stopPullingAt, spl: source.spl, maxAnswerBytes: answerCap(source.pullBudgetBytes),
      onRetry: () => this.summary.slsRetries++,
    });
    // Its own client: proof points are saved after pulling stopped, up to the output deadline.
    this.resumeClient = options.resumeJob
      ? new SlsClient({ endpoint: options.sls.url, project: range.project, credentials, timeoutMs: Math.min(source.slsTimeoutMs, 5_000), ...options.slsClient, deadlineMs: outputDeadline })
      : undefined;
    this.resume = this.resumeClient ? new ResumeStore(this.resumeClient, range.logstore, range.shard, options.resumeJob!, config.resume.resumeMaxAgeMs) : undefined;
    const info = { project: range.project, logstore: range.logstore };
    this.lanes = destinations.list.map((d) => {
      const encoding = d.config.output.encoding;
      // Under a rate limit, kernel calls of about one burst: the rate then holds within a second.
      const throttled = d.throttle ? { ...encoding, stepBytes: Math.min(encoding.stepBytes, d.throttle.stepBytes) } : encoding;
      return new OutputLane({
        name: d.config.name, encoder: createEncoder({ ...d.config.format, encoding: throttled }, info, d.config.filter),
        filter: d.config.filter, recordIds: d.config.format.recordId, pool: d.pool, delivery: d.config.delivery, deadlineMs: outputDeadline,
        throttle: d.throttle, stopSendingAt: this.stopPullingAt, onProven: () => this.onProven(), countEveryGroup: destinations.list.length > 1,
      }, this.summary.reachedCursor);
    });
    this.summary.engine = this.lanes[0]!.summary.engine;
    if (this.lanes.length > 1) this.summary.outputs = this.lanes.map((l) => l.summary);
    this.puller = new Puller(this.client, range.logstore, range.shard, source, this.summary);
  }

  async ship(): Promise<ShipSummary> {
    const started = Date.now();
    try {
      const [begin, end] = await Promise.all([this.resolve(this.range.from), this.resolve(this.range.to)]);
      Object.assign(this.summary, { beginCursor: begin, endCursor: end, reachedCursor: begin });
      const from = (begin !== end && (await this.resume?.find(begin, end))) || begin;
      if (from !== begin) Object.assign(this.summary, { resumedFrom: from, reachedCursor: from });
      for (const lane of this.lanes) lane.rewind(from);
      if (from !== end) await this.shipWithReconnects(end);
      await this.resume?.finish(end);
      return this.summary;
    } catch (err) {
      // A retry of the range starts from the last point every output proved.
      if (this.summary.reachedCursor !== this.summary.endCursor) this.saveResumePoint();
      await this.resume?.saved();
      throw new ShipError(err as Error, this.summary);
    } finally {
      this.summary.durationMs = Date.now() - started;
      if (this.range.cursorTime !== undefined) this.summary.lagSeconds = Math.max(0, Math.round(Date.now() / 1000 - this.range.cursorTime));
      this.client.close();
      this.resumeClient?.close();
    }
  }

  /** Turns `begin`/`end`/time bounds of a hand-written test event into real cursors. */
  private resolve(spec: CursorSpec): Promise<string> | string {
    if (spec.kind === 'cursor') return spec.cursor;
    return this.client.getCursor(this.range.logstore, this.range.shard, spec.kind === 'time' ? spec.unixSeconds : spec.kind);
  }

  private async shipWithReconnects(end: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.sendAll(this.summary.reachedCursor, end, attempt);
        if (outcome === 'deadline') throw this.deadlineError();
        return; // 'done', or 'stopped' on request: reachedCursor says how far
      } catch (err) {
        // Running proofs decide where the rewind goes: let them land first.
        await Promise.all(this.lanes.map((l) => l.abort()));
        if (!(err instanceof OutputError) || err.fatal || err.byDeadline) throw err;
        const delay = backoffDelay(attempt, RECONNECT_BACKOFF);
        if (attempt >= Math.min(...this.lanes.map((l) => l.delivery.reconnectAttempts)) || Date.now() + delay >= this.stopPullingAt) throw err;
        // Nothing after the point every output proved is known to have been read by all: send it again.
        for (const lane of this.lanes) lane.rewind(this.summary.reachedCursor);
        this.publish();
        this.summary.reconnects++;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Sends [from, end) batch by batch to every output. Returns 'deadline' if it stopped pulling
   * early, 'stopped' if `shouldStop` asked it to.
   */
  private async sendAll(from: string, end: string, attempt: number): Promise<'done' | 'deadline' | 'stopped'> {
    // Fresh slots per attempt: a pull abandoned by a failed attempt may still write into its own.
    // LZ4 bodies stay compressed until their turn, then go straight into WebAssembly memory.
    const slots: [PullSlot, PullSlot] = [{ deferLz4: true }, { deferLz4: true }];
    let pending = this.puller.pull(from, end, slots[0]); // overlaps the (re)connection
    await Promise.all(this.lanes.map((l) => l.begin(from, attempt === 0)));
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
      let done = false;
      let cutShort = false;
      let outOfTime = batch === undefined;
      // A stop request (shard lost, drain) takes effect before the next batch is sent, not after the range.
      const stopped = batch !== undefined && this.options.shouldStop?.() === true;
      if (batch && !stopped) {
        done = this.puller.accept(batch, cursor, end);
        outOfTime = !done && Date.now() >= this.stopPullingAt;
        if (!done && !outOfTime) pending = this.puller.pull(batch.nextCursor, end, slots[n % 2]!);
        if (await this.sendBatch(batch, cursor)) cursor = done ? end : batch.nextCursor;
        else {
          cutShort = true;
          // A rate limit would keep the batch past the time to stop: prove what is whole, and stop.
          [done, outOfTime, this.throttledOut] = [false, true, true];
          pending.catch(() => {});
        }
      }
      const last = done || outOfTime || stopped;
      await Promise.all(this.lanes.map((l) => l.endBatch(cutShort ? undefined : cursor, last)));
      this.publish();
      if (last) return done ? 'done' : stopped ? 'stopped' : 'deadline';
    }
  }

  /** False when an output's rate limit cut the batch short. */
  private async sendBatch(batch: PullResult, cursor: string): Promise<boolean> {
    // A group's position (its cursor as a number) is stable across retries: the base of record ids.
    const position = decodeCursor(cursor);
    const firstPosition = this.lanes.some((l) => l.recordIds) ? position : undefined;
    const prefixOf = (g: number) => (firstPosition === undefined ? undefined : `${this.range.logstore}:${this.range.shard}:${firstPosition + BigInt(g)}:`);
    // Each log group takes one cursor position, so the cursor after group g is known, and a segment
    // may end there. Not with SPL: its answer may leave groups out.
    const cursorAfter = position === undefined || this.spl ? undefined : (groups: number) => encodeCursor(position + BigInt(groups));
    let body = batch.body;
    let at: number | undefined;
    const first = this.lanes[0]!;
    if (batch.lz4) {
      const decoded = first.decodeLz4(batch.lz4.block, batch.lz4.rawSize);
      if (decoded) ({ body, at } = decoded);
      else body = (await this.puller.pullAgain(batch, cursor, this.summary.endCursor)).body;
    }
    let whole: boolean;
    if (this.lanes.length === 1) whole = await first.send(body, prefixOf, at, cursorAfter);
    else {
      // The first output reads the body in its kernel's memory; the others from a copy, which its
      // memory growing cannot move under them.
      const copy: Buffer = at === undefined ? body : Buffer.from(body);
      whole = (await Promise.all(this.lanes.map((l, i) => (i === 0 ? l.send(body, prefixOf, at, cursorAfter) : l.send(copy, prefixOf, undefined, cursorAfter))))).every(Boolean);
    }
    this.summary.rawBytes += body.length;
    return whole;
  }

  /** An output proved a segment: the range moves to the point every output has proven. */
  private async onProven(): Promise<void> {
    const s = this.summary;
    const reached = this.commonProof() ?? s.reachedCursor;
    s.commits = this.lanes[0]!.summary.commits;
    if (reached === s.reachedCursor) return;
    s.reachedCursor = reached;
    for (const lane of this.lanes) lane.forgetBefore(reached);
    s.delivered = this.lanes[0]!.countsAtCursor(reached).records;
    // Only a real proof at every output is worth resuming from (UDP and SYSLOG_DELIVERY_PROOF=none
    // resend it all). Saved at most once a second, off the proofs' path; the last one when the range ends.
    if (reached !== s.endCursor && Date.now() - this.lastResumeSave >= RESUME_SAVE_INTERVAL_MS) this.saveResumePoint();
    if (this.options.onProgress) await this.options.onProgress(reached);
  }

  private saveResumePoint(): void {
    const s = this.summary;
    if (!this.resume || s.reachedCursor === this.resumeSaved || !this.lanes.every((l) => l.proofKind !== 'none')) return;
    this.lastResumeSave = Date.now();
    this.resumeSaved = s.reachedCursor;
    void this.resume.save(s.reachedCursor); // never fails; ResumeStore writes one at a time, in order
  }

  /** The earliest of the outputs' proven cursors (cursors are positions: int64 in base64). */
  private commonProof(): string | undefined {
    let reached = this.lanes[0]!.provenCursor;
    let at = decodeCursor(reached);
    for (const lane of this.lanes) {
      const position = decodeCursor(lane.provenCursor);
      // A cursor that is not a position cannot be ordered: move only when all outputs agree.
      if (position === undefined || at === undefined) {
        if (lane.provenCursor !== reached) return undefined;
      } else if (position < at) [reached, at] = [lane.provenCursor, position];
    }
    return reached;
  }

  /** The range's totals are the first output's (each output's are in `outputs`). */
  private publish(): void {
    const s = this.summary;
    const first = this.lanes[0]!;
    const c = first.counts;
    Object.assign(s, {
      records: c.records, groups: c.groups, sentBytes: c.sentBytes, truncated: c.truncated, resent: first.summary.resent, proof: first.summary.proof,
      connection: first.summary.connection, throttledMs: this.lanes.reduce((n, l) => n + l.summary.throttledMs, 0),
    });
  }

  private deadlineError(): DeadlineError {
    const s = this.summary;
    return new DeadlineError(
      `Stopped before the function timeout: ${s.delivered} records were sent and proven delivered, up to cursor ` +
        `${s.reachedCursor} of [${s.beginCursor}, ${s.endCursor}); the rest was not pulled. The trigger retries the range` +
        `${this.resume ? ', resuming from that cursor' : ''}. ` +
        (this.throttledOut
          ? 'The output\'s rate limit (OUTPUT_MAX_EVENTS_PER_SECOND / OUTPUT_MAX_BYTES_PER_SECOND) held it back: the retries carry the range on at that rate. ' +
            'If the shard writes faster than the limit for long, raise the limit or the function timeout.'
          : 'Raise the function timeout in s.yaml (or lower triggerInterval) so one interval of one shard fits.'),
    );
  }
}

export function shipRange(range: ShardRange, config: ForwarderConfig, credentials: Credentials, destinations: Destinations, options: ShipOptions): Promise<ShipSummary> {
  return new RangeShipper(range, config, credentials, destinations, options).ship();
}
