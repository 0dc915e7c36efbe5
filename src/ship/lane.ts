/**
 * One output's part of a range: encode each batch and send the chunks on the current connection,
 * cut commit segments, prove them (at most one proof behind the segment being sent), and rewind
 * to a proven cursor after a failure. The range (range.ts) drives the lanes of every output in step.
 */
import type { Encoder } from '../format/encoder';
import type { RecordFilter } from '../format/filter';
import type { ConnectionPool, Lease } from '../outputs/connection';
import type { PartialProof, ProofKind, Transport } from '../outputs/transport';
import type { DeliverySettings } from './settings';
import type { OutputSummary } from './summary';

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
  /** Called after each proof, with the cursor before which this output has everything. */
  onProven: () => Promise<void>;
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
  /** The connection for the next segment, opened while the current one is sent (close proofs). */
  private preopened: Promise<Lease> | undefined;
  /** The proof still being awaited (at most one), and its failure. */
  private proving: Promise<void> | undefined;
  private provingFailed: Error | undefined;
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
      proof: 'none', connection: 'none', engine: o.encoder.engine,
    };
  }

  /** Starts an attempt at `from` (the range's proven cursor): a connection, and the counts to rewind to. */
  async begin(from: string, first: boolean): Promise<void> {
    this.countsAt = new Map([[from, { ...this.counts }]]);
    this.segment = await this.startSegment(from, first);
  }

  /** Encodes one batch and sends it on the current segment's connection. */
  async send(body: Buffer, idPrefix: (group: number) => string | undefined, rawAt?: number): Promise<void> {
    const transport = this.segment!.lease.transport;
    const c = this.counts;
    for (const chunk of this.o.encoder.encode(body, idPrefix, rawAt)) {
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
      else c.groups++;
    }
    this.publish();
  }

  /**
   * The batch ending at `cursor` was sent. A segment ends after SYSLOG_COMMIT_BYTES or
   * SYSLOG_COMMIT_SECONDS, or at the end (`last`); its proof runs while the next segment is sent on
   * a new connection (or the same one, when it can go on after a proof).
   */
  async endBatch(cursor: string, last: boolean): Promise<void> {
    this.throwIfProofFailed();
    const segment = this.segment!;
    segment.bytes += this.counts.sentBytes - segment.counts.sentBytes;
    segment.to = cursor;
    segment.counts = { ...this.counts };
    this.countsAt.set(cursor, { ...this.counts });
    if (!last && !this.segmentDue(segment)) return;
    await this.proving; // at most one proof behind the segment being sent
    this.throwIfProofFailed();
    const proving = this.prove(segment);
    this.proving = proving;
    if (last) {
      await proving;
      this.proving = undefined;
      await this.handBackPreopened();
      await this.o.pool.release(segment.lease.transport);
      this.open.delete(segment.lease);
      this.segment = undefined;
      return;
    }
    proving.catch((err: Error) => (this.provingFailed = err));
    this.segment = segment.lease.transport.reusable
      ? { ...segment, bytes: 0, startedAt: Date.now() }
      : await this.startSegment(cursor, false);
    this.throwIfProofFailed();
  }

  /** After a failure: let a running proof land (it decides where the rewind goes), keep RELP's partial acks, drop the connections. */
  async abort(): Promise<void> {
    await this.proving?.catch(() => {});
    this.proving = undefined;
    this.provingFailed = undefined;
    this.acknowledgedBeyondProof = this.partialProof?.acknowledgedBeyondProof() ?? 0;
    const next = this.preopened;
    this.preopened = undefined;
    await next?.then((l) => l.transport.destroy(), () => {});
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

  private throwIfProofFailed(): void {
    if (this.provingFailed) throw this.provingFailed;
  }

  private async startSegment(from: string, first: boolean): Promise<Segment> {
    const lease = await (this.preopened ?? this.o.pool.take(this.o.deadlineMs));
    this.preopened = undefined;
    this.open.add(lease);
    const transport = lease.transport;
    if (first) this.summary.connection = lease.reused ? 'reused' : 'new';
    this.summary.proof = transport.proof;
    if (!transport.reusable) {
      // The next segment's connection (and TLS handshake) is made while this one is sent, so a
      // commit point never waits for a handshake: one spare connection, at most.
      const next = this.o.pool.take(this.o.deadlineMs);
      next.then((l) => this.open.add(l), () => {});
      this.preopened = next;
    }
    if (transport.partialProof) {
      this.partialProof = transport.partialProof;
      this.partialProof.skip(this.acknowledgedBeyondProof);
      this.acknowledgedBeyondProof = 0;
    }
    return { lease, to: from, bytes: 0, startedAt: Date.now(), counts: { ...this.counts } };
  }

  /** The range is done: a connection opened ahead for a next segment is kept for the next invocation. */
  private async handBackPreopened(): Promise<void> {
    const next = this.preopened;
    this.preopened = undefined;
    const lease = await next?.catch(() => undefined);
    if (!lease) return;
    this.open.delete(lease);
    this.o.pool.keepSpare(lease.transport);
  }

  /** Reusable connections (acks, flush-only) commit every batch: it costs no new connection. */
  private segmentDue(segment: Segment): boolean {
    if (segment.lease.transport.reusable) return true;
    return segment.bytes >= this.o.delivery.commitBytes || Date.now() - segment.startedAt >= this.o.delivery.commitMs;
  }

  /** Waits for the segment's proof; then it counts as delivered here, and the range may move on. */
  private async prove(segment: Segment): Promise<void> {
    const transport: Transport = segment.lease.transport;
    await transport.commit();
    if (!transport.reusable) this.open.delete(segment.lease);
    this.provenCursor = segment.to;
    this.provenCounts = segment.counts;
    this.summary.delivered = segment.counts.records;
    this.summary.commits++;
    await this.o.onProven();
  }

  private publish(): void {
    const s = this.summary;
    const c = this.counts;
    Object.assign(s, { records: c.records, filtered: c.filtered, sentBytes: c.sentBytes, truncated: c.truncated });
  }
}
