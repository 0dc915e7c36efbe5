/**
 * One output's part of a range: encode each batch and send the chunks on the current connection,
 * cut commit segments, prove them (at most one proof behind the segment being sent), and rewind
 * to a proven cursor after a failure. The range (range.ts) drives the lanes of every output in step.
 */
import type { Encoder } from '../format/encoder';
import type { RecordFilter } from '../format/filter';
import type { ConnectionPool, Lease } from '../outputs/connection';
import type { PartialProof, ProofKind } from '../outputs/transport';
import { ProofQueue } from './proofs';
import type { DeliverySettings } from './settings';
import type { OutputSummary } from './summary';
import type { Throttle } from './throttle';

/** What a lane has sent since the range began (restored to a proven point on a rewind). */
export interface LaneCounts {
  records: number;
  groups: number;
  sentBytes: number;
  truncated: number;
  filtered: number;
}

/** Records sent on one connection since its last proof. */
interface Segment {
  lease: Lease;
  /** How far it got: the next cursor after its last batch. */
  to: string;
  bytes: number;
  startedAt: number;
  /** The lane's counts at its end. */
  counts: LaneCounts;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface LaneOptions {
  name: string;
  encoder: Encoder;
  filter: RecordFilter | undefined;
  /** Whether its messages carry `__record_id__` (the range then works out the ids' prefixes). */
  recordIds: boolean;
  pool: ConnectionPool;
  delivery: DeliverySettings;
  /** No wait of this lane's connections may pass it: there must be time to answer. */
  deadlineMs: number;
  /** Its rate limit (shared by the process), and when a wait for it must stop so the range can prove and answer. */
  throttle: Throttle | undefined;
  stopSendingAt: number;
  /** Called after each proof, with the cursor before which this output has everything. */
  onProven: () => Promise<void>;
  /** Keep the counts at every log group's end (fan-out: another output may prove up to any of them). */
  countEveryGroup: boolean;
}

/** A connection being opened ahead for a next segment; `ready` once it is open. */
interface Spare {
  lease: Promise<Lease>;
  ready: boolean;
}

export class OutputLane {
  readonly summary: OutputSummary;
  readonly delivery: DeliverySettings;
  readonly recordIds: boolean;
  counts: LaneCounts = { records: 0, groups: 0, sentBytes: 0, truncated: 0, filtered: 0 };
  /** Everything before this cursor is proven delivered here, and the counts at that point. */
  provenCursor: string;
  private provenCounts: LaneCounts;
  /** This attempt's counts at each batch boundary (and its start): a rewind may land on any of them. */
  private countsAt = new Map<string, LaneCounts>();
  private segment: Segment | undefined;
  private readonly open = new Set<Lease>();
  /** Connections for the next segments, opened while the current one is sent (close proofs). */
  private spares: Array<Spare> = [];
  /**
   * How many connections to keep opened ahead: one at first, one more each time a segment had to
   * wait for its connection (up to SYSLOG_PROOFS_IN_FLIGHT). Each connection opened ahead costs a
   * handshake, and those not used are wasted (TLS on loopback, 8 MiB segments: 0.88 of no proof
   * with four ahead from the start, 1.01 with one).
   */
  private sparesWanted = 1;
  /** The proofs of finished segments, up to SYSLOG_PROOFS_IN_FLIGHT at once. */
  private readonly proofs = new ProofQueue<Segment>((segment) => this.proven(segment));
  /** RELP: messages acknowledged after the last proof on a connection that broke, not to send again. */
  private acknowledgedBeyondProof = 0;
  private partialProof: PartialProof | undefined;

  constructor(private readonly o: LaneOptions, from: string) {
    this.delivery = o.delivery;
    this.recordIds = o.recordIds;
    this.provenCursor = from;
    this.provenCounts = { ...this.counts };
    this.summary = {
      name: o.name, records: 0, filtered: 0, delivered: 0, resent: 0, sentBytes: 0, truncated: 0, commits: 0,
      proof: 'none', connection: 'none', engine: o.encoder.engine, throttledMs: 0,
    };
  }

  /** Starts an attempt at `from` (the range's proven cursor): a connection, and the counts to rewind to. */
  async begin(from: string, first: boolean): Promise<void> {
    this.countsAt = new Map([[from, { ...this.counts }]]);
    this.segment = await this.startSegment(from, first);
  }

  /**
   * Encodes one batch and sends it on the current segment's connection. Answers false when the
   * output's rate limit would keep it past the time to stop: the batch is then cut short (what
   * was sent of it goes again with the retry: duplicates, never a loss).
   */
  async send(
    body: Buffer, idPrefix: (group: number) => string | undefined, rawAt: number | undefined, cursorAfter: ((groups: number) => string) | undefined,
  ): Promise<boolean> {
    let transport = this.segment!.lease.transport;
    const c = this.counts;
    let groups = 0;
    for (const chunk of this.o.encoder.encode(body, idPrefix, rawAt)) {
      if (this.o.throttle && (chunk.kind === 'frames' || chunk.kind === 'message') && !(await this.admit(chunk))) {
        this.publish();
        return false;
      }
      if (chunk.kind === 'frames') {
        const wait = transport.sendFramed(chunk.bytes);
        c.records += chunk.records;
        c.sentBytes += chunk.messageBytes;
        // Waiting on the socket, or else a turn of the event loop: the next PullLogs answer is read
        // while this batch is formatted, instead of piling up in the kernel (measured: -90 % pull wait).
        await (wait ?? nextTurn());
      } else if (chunk.kind === 'message') {
        const wait = transport.send(chunk.bytes);
        c.records++;
        c.sentBytes += chunk.bytes.length;
        if (chunk.truncated) c.truncated++;
        if (wait) await wait;
      } else if (chunk.kind === 'filtered') c.filtered++;
      else {
        c.groups++;
        groups++;
        if (!cursorAfter) continue;
        // Each log group has its own cursor: a segment may end between two groups of a batch, so
        // segments stay small (SYSLOG_COMMIT_BYTES) even when a pull brings megabytes.
        const at = cursorAfter(groups);
        if (this.o.countEveryGroup) this.countsAt.set(at, { ...c });
        if (!transport.reusable && this.segmentDue(this.segment!)) {
          await this.endSegment(at, false);
          transport = this.segment!.lease.transport;
        }
      }
    }
    this.publish();
    return true;
  }

  private async admit(chunk: { kind: 'frames'; records: number; messageBytes: number } | { kind: 'message'; bytes: Buffer }): Promise<boolean> {
    const started = Date.now();
    const [events, bytes] = chunk.kind === 'frames' ? [chunk.records, chunk.messageBytes] : [1, chunk.bytes.length];
    const admitted = await this.o.throttle!.admit(events, bytes, this.o.stopSendingAt);
    this.summary.throttledMs += Date.now() - started;
    return admitted;
  }

  /**
   * The batch ending at `cursor` was sent. A segment ends after SYSLOG_COMMIT_BYTES or
   * SYSLOG_COMMIT_SECONDS, or at the end (`last`); its proof runs while the next segments are sent
   * on new connections (or the same one, when it can go on after a proof).
   */
  async endBatch(cursor: string | undefined, last: boolean): Promise<void> {
    this.proofs.throwIfFailed();
    if (!last && !this.segmentDue(this.segment!)) {
      this.markReached(cursor);
      return;
    }
    await this.endSegment(cursor, last);
  }

  /** Ends the current segment at `cursor` (undefined: where it got to): its proof starts, and (unless `last`) the next segment. */
  private async endSegment(cursor: string | undefined, last: boolean): Promise<void> {
    const segment = this.markReached(cursor);
    await this.proofs.add(segment, () => segment.lease.transport.commit());
    if (last) {
      await this.proofs.settle();
      this.proofs.throwIfFailed();
      await this.handBackSpares();
      await this.o.pool.release(segment.lease.transport);
      this.open.delete(segment.lease);
      this.segment = undefined;
      return;
    }
    this.segment = segment.lease.transport.reusable
      ? { ...segment, bytes: 0, startedAt: Date.now() }
      : await this.startSegment(segment.to, false);
    this.proofs.throwIfFailed();
  }

  /** The current segment has everything before `cursor` (undefined: a batch cut short, which reached no new cursor). */
  private markReached(cursor: string | undefined): Segment {
    const segment = this.segment!;
    segment.bytes += this.counts.sentBytes - segment.counts.sentBytes;
    if (cursor !== undefined && cursor !== segment.to) {
      segment.to = cursor;
      segment.counts = { ...this.counts };
      this.countsAt.set(cursor, { ...this.counts });
    } else segment.counts = { ...segment.counts, sentBytes: this.counts.sentBytes };
    return segment;
  }

  /** After a failure: let running proofs land (they decide where the rewind goes), keep RELP's partial acks, drop the connections. */
  async abort(): Promise<void> {
    await this.proofs.settle();
    this.proofs.clear();
    this.acknowledgedBeyondProof = this.partialProof?.acknowledgedBeyondProof() ?? 0;
    const spares = this.spares;
    this.spares = [];
    await Promise.all(spares.map((s) => s.lease.then((l) => l.transport.destroy(), () => {})));
    for (const lease of this.open) lease.transport.destroy();
    this.open.clear();
    this.segment = undefined;
  }

  /**
   * Everything after `cursor` (the point every output proved) is sent again. Records this output
   * had proven beyond it arrive twice: counted in `resent`, never lost.
   */
  rewind(cursor: string): void {
    const at = this.countsAt.get(cursor) ?? this.provenCounts;
    // RELP's acknowledgements past the proof count only when the rewind starts at that proof.
    const skipped = cursor === this.provenCursor ? this.acknowledgedBeyondProof : 0;
    if (cursor !== this.provenCursor) this.acknowledgedBeyondProof = 0;
    this.summary.resent += Math.max(0, this.counts.records - at.records - skipped);
    this.counts = { ...at };
    this.provenCursor = cursor;
    this.provenCounts = { ...at };
    this.publish();
  }

  /** Decodes an LZ4 block into this output's WebAssembly memory, where its encoder reads it without a copy. */
  decodeLz4(block: Buffer, rawSize: number): { body: Buffer; at: number } | undefined {
    return this.o.encoder.decodeLz4(block, rawSize);
  }

  /** This output's counts at `cursor` (a boundary of this attempt, or its last proof). */
  countsAtCursor(cursor: string): LaneCounts {
    return this.countsAt.get(cursor) ?? this.provenCounts;
  }

  get proofKind(): ProofKind {
    return this.summary.proof;
  }

  private async startSegment(from: string, first: boolean): Promise<Segment> {
    const spare = this.spares.shift();
    if (spare && !spare.ready) this.sparesWanted = Math.min(this.sparesWanted + 1, this.o.delivery.proofsInFlight);
    const lease = await (spare?.lease ?? this.o.pool.take(this.o.deadlineMs));
    this.open.add(lease);
    const transport = lease.transport;
    if (first) this.summary.connection = lease.reused ? 'reused' : 'new';
    this.summary.proof = transport.proof;
    this.proofs.limit = transport.reusable ? 1 : this.o.delivery.proofsInFlight;
    // The next segments' connections (and TLS handshakes) are made while this one is sent, so a
    // commit point does not wait for a handshake.
    while (!transport.reusable && this.spares.length < this.sparesWanted) {
      const next: Spare = { lease: this.o.pool.take(this.o.deadlineMs), ready: false };
      next.lease.then((l) => ((next.ready = true), this.open.add(l)), () => {});
      this.spares.push(next);
    }
    if (transport.partialProof) {
      this.partialProof = transport.partialProof;
      this.partialProof.skip(this.acknowledgedBeyondProof);
      this.acknowledgedBeyondProof = 0;
    }
    return { lease, to: from, bytes: 0, startedAt: Date.now(), counts: { ...this.counts } };
  }

  /** The range is done: connections opened ahead for next segments go back to the pool (one is kept for the next invocation). */
  private async handBackSpares(): Promise<void> {
    const spares = this.spares;
    this.spares = [];
    for (const lease of await Promise.all(spares.map((s) => s.lease.catch(() => undefined)))) {
      if (!lease) continue;
      this.open.delete(lease);
      this.o.pool.keepSpare(lease.transport);
    }
  }

  /** Reusable connections (acks, flush-only) commit every batch: it costs no new connection. */
  private segmentDue(segment: Segment): boolean {
    if (segment.lease.transport.reusable) return true;
    // Its bytes so far: up to its last batch end, and what this batch has sent since.
    const bytes = segment.bytes + this.counts.sentBytes - segment.counts.sentBytes;
    return bytes >= this.o.delivery.commitBytes || Date.now() - segment.startedAt >= this.o.delivery.commitMs;
  }

  /** The segment, and every one before it, is proven: it counts as delivered here, and the range may move on. */
  private async proven(segment: Segment): Promise<void> {
    if (!segment.lease.transport.reusable) this.open.delete(segment.lease);
    this.provenCursor = segment.to;
    this.provenCounts = segment.counts;
    this.summary.delivered = segment.counts.records;
    this.summary.commits++;
    await this.o.onProven();
  }

  /** Forgets the counts before `cursor` (everything before it is proven everywhere: no rewind goes there). */
  forgetBefore(cursor: string): void {
    if (!this.countsAt.has(cursor)) return;
    for (const key of this.countsAt.keys()) {
      if (key === cursor) break;
      this.countsAt.delete(key);
    }
  }

  private publish(): void {
    const s = this.summary;
    const c = this.counts;
    Object.assign(s, { records: c.records, filtered: c.filtered, sentBytes: c.sentBytes, truncated: c.truncated });
  }
}
