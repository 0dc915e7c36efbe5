/**
 * One held shard of the consumer-group worker (worker.ts): ships it range by range from its
 * checkpoint, checkpoints what the SIEM proved, and retries a failed range with capped, jittered
 * backoff for as long as it holds the shard. A SIEM or SLS outage is logged when it starts or its
 * error changes and when it is over, not at every retry.
 */
import type { Backoff } from '../backoff';
import { SlsError } from '../errors';
import type { SlsClient } from '../sls/client';
import { decodeCursor } from '../sls/cursor';
import type { Destinations } from '../ship/destinations';
import type { WorkerMetrics } from './metrics';
import { firstLine, log, Outage, Sleeper } from './outage';
import type { ConsumeSettings } from './settings';

/** A shard's failed range is tried again after this (jittered, so workers do not retry in step). */
const SHARD_RETRY_BACKOFF: Backoff = { baseMs: 500, capMs: 30_000, jitter: 'equal' };

/** SLS's answers to a checkpoint from a worker that does not (or no longer) hold the shard. */
const LOST = new Set(['ConsumerNotMatch', 'ConsumerNotExist']);

export interface ShardStart {
  cursor: string;
  checkpointed: boolean;
}

/** What a shard task uses of its worker (an interface, so the two files do not import each other). */
export interface ShardHost {
  readonly settings: ConsumeSettings;
  readonly client: SlsClient;
  readonly metrics: WorkerMetrics;
  readonly backfillEnd: number | 'end' | undefined;
  newConnection(): Destinations;
  endOf(shard: number): Promise<string>;
  isReadonly(shard: number): boolean;
  silentTooLong(): boolean;
  shipOnce(
    shard: number, from: string, end: string, connection: Destinations,
    onProgress: (proven: string) => Promise<void> | undefined, shouldStop: () => boolean,
  ): Promise<string>;
  /** What /readyz says while a range fails with this error. */
  reasonFor(err: unknown): string;
}

export class ShardTask {
  /** Asked to stop: the current batch is the last (then proof and checkpoint). */
  private stopping = false;
  /** The shard is someone else's now: no more checkpoints. */
  private lost = false;
  /** A readonly shard consumed to its end, or past SLS_END. */
  finished = false;
  readonly done: Promise<void>;
  /** `done` has settled: the task shipped its last batch and wrote its last checkpoint. */
  settled = false;
  private readonly sleeper = new Sleeper();
  /** Its own SIEM connections: a segment's proof closes its connection, which must not cut another shard's. */
  private readonly connection: Destinations;
  private saved: bigint | undefined;
  private savedAt = 0;
  /** Where the next range starts: everything before it is proven delivered. */
  private cursor = '';
  private readonly outage = new Outage();

  constructor(private readonly worker: ShardHost, readonly shard: number, start: Promise<ShardStart>) {
    this.connection = worker.newConnection();
    this.done = this.run(start)
      // Never a rejection: a task that cannot go on is let go, and SLS may offer the shard again.
      .catch((err: Error) => log({ shard, result: 'error', error: firstLine(err) }))
      .finally(() => this.connection.close().catch(() => {}))
      .finally(() => (this.settled = true));
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Stop after the current batch, prove it, checkpoint. */
  stop(): void {
    this.stopping = true;
    this.sleeper.interrupt();
  }

  /** The shard was lost (fencing): stop after the current batch and write no checkpoint. */
  fence(why = 'fenced'): void {
    if (!this.lost) log({ consumer: this.worker.settings.consumer, shard: this.shard, result: 'fenced', why });
    this.lost = true;
    this.stop();
  }

  private async run(start: Promise<ShardStart>): Promise<void> {
    const first = await start.catch((err: Error) => {
      log({ shard: this.shard, result: 'error', error: firstLine(err) });
      return undefined;
    });
    if (!first) return; // not acquired; the next heartbeat lets it go and may offer it again
    this.cursor = first.cursor;
    // A shard started from SLS_START is checkpointed there at once, so a takeover never falls back to it.
    if (!first.checkpointed) await this.checkpoint(this.cursor, true);
    else this.saved = decodeCursor(this.cursor);
    while (!this.stopping) {
      try {
        if ((await this.step()) === 'finished') break;
      } catch (err) {
        if (this.stopping) break;
        await this.retryLater(err);
      }
    }
  }

  /** One range from the cursor, or an idle pause when there is nothing new. */
  private async step(): Promise<'finished' | 'more'> {
    const w = this.worker;
    const cursor = this.cursor;
    const end = await w.endOf(this.shard);
    if (end === cursor) {
      this.recovered();
      w.metrics.idle(this.shard);
      if (w.isReadonly(this.shard) || w.backfillEnd !== undefined) {
        this.finished = true; // consumed to its (fixed) end: let it go
        log({ consumer: w.settings.consumer, shard: this.shard, result: 'finished', at: cursor });
        return 'finished';
      }
      await this.sleeper.sleep(w.settings.idleMs);
      return 'more';
    }
    let proven = cursor;
    const onProof = (at: string) => {
      proven = at;
      return Date.now() - this.savedAt >= w.settings.checkpointMs ? this.checkpoint(at) : undefined;
    };
    try {
      // Checked before every batch: a stop request, or this worker's own silence past the timeout
      // (then the shard may be another's already: stop, and write no checkpoint).
      const shouldStop = () => {
        if (!this.stopping && w.silentTooLong()) this.fence('no heartbeat accepted within the group timeout');
        return this.stopping;
      };
      await w.shipOnce(this.shard, cursor, end, this.connection, onProof, shouldStop);
      this.recovered();
    } finally {
      // Also after a failure: what was proven before it is delivered and need not be sent again.
      if (proven !== cursor) await this.checkpoint(proven);
      this.cursor = proven;
    }
    return 'more';
  }

  /** Not ready while it fails; one line when the failure starts or changes, not one per retry. */
  private async retryLater(err: unknown): Promise<void> {
    const w = this.worker;
    w.metrics.failed(this.shard, w.reasonFor(err));
    const logIt = this.outage.failed(err);
    const retryInMs = this.outage.retryDelay(SHARD_RETRY_BACKOFF);
    if (logIt) log({ consumer: w.settings.consumer, shard: this.shard, result: 'error', error: firstLine(err), retryInMs });
    await this.sleeper.sleep(retryInMs);
  }

  private recovered(): void {
    const over = this.outage.recovered();
    if (over) log({ consumer: this.worker.settings.consumer, shard: this.shard, result: 'recovered', ...over });
  }

  /** Never forced and never backwards; a refusal means the shard is gone: stop, overwrite nothing. */
  private async checkpoint(at: string, always = false): Promise<void> {
    const position = decodeCursor(at);
    if (this.lost || position === undefined || (!always && this.saved !== undefined && position <= this.saved)) return;
    const w = this.worker;
    try {
      await w.client.updateCheckpoint(w.settings.logstore, w.settings.group, w.settings.consumer, this.shard, at, false);
      this.saved = position;
      this.savedAt = Date.now();
      w.metrics.checkpointed(this.shard);
    } catch (err) {
      if (!(err instanceof SlsError && LOST.has(err.code))) throw err;
      this.fence(`SLS refused its checkpoint (${err.code})`);
    }
  }
}
