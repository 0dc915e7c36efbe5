/**
 * The puller: PullLogs over one shard's range. It asks for as many log groups as keep a batch
 * within the byte budget, asks again with fewer when an answer is over the cap, checks that each
 * answer's next cursor moves forward inside the range, and pulls a batch again when its LZ4 block
 * turns out corrupt. It never formats or sends.
 */
import { SlsError } from '../errors';
import { ANSWER_TOO_LARGE, type PullResult, type PullSlot, type SlsClient } from '../sls/client';
import { decodeCursor } from '../sls/cursor';
import type { PullSettings } from '../sls/settings';

/** What the puller counts into the range's summary. */
export interface PullCounters {
  pulls: number;
  slsRetries: number;
  recordsBeforeQuery?: number;
  bytesBeforeQuery?: number;
}

export class Puller {
  /** Log groups asked per pull; halved when a batch exceeds the byte budget. */
  private count: number;

  constructor(
    private readonly client: SlsClient,
    private readonly logstore: string,
    private readonly shard: number,
    private readonly config: Pick<PullSettings, 'pullCount' | 'pullBudgetBytes' | 'spl'>,
    private readonly counters: PullCounters,
  ) {
    this.count = config.pullCount;
  }

  /** The batch from `cursor` towards `end`; the caller awaits it later (it overlaps sending). */
  pull(cursor: string, end: string, slot: PullSlot): Promise<PullResult> {
    const p = this.pullWithin(cursor, end, slot);
    p.catch(() => {}); // awaited by the caller; this only stops an early rejection from being "unhandled"
    return p;
  }

  /** Takes a batch pulled from `cursor`: counts it, adapts the next count; true when it ends the range. */
  accept(batch: PullResult, cursor: string, end: string): boolean {
    const done = reachedEnd(batch, cursor, end, this.config.spl !== undefined);
    if (batch.beforeQuery) {
      this.counters.recordsBeforeQuery = (this.counters.recordsBeforeQuery ?? 0) + batch.beforeQuery.records;
      this.counters.bytesBeforeQuery = (this.counters.bytesBeforeQuery ?? 0) + batch.beforeQuery.bytes;
    }
    this.adaptCount(batch.lz4?.rawSize ?? batch.body.length);
    return done;
  }

  /**
   * A corrupt LZ4 block (found only now: decoding waits for the batch's turn): the same batch pulled
   * again and decoded by the client, which retries what it cannot decode. Same cursor and count give
   * the same groups, so the pull already running from its next cursor stays right.
   */
  async pullAgain(batch: PullResult, cursor: string, end: string): Promise<PullResult> {
    this.counters.slsRetries++;
    this.counters.pulls++;
    const again = await this.client.pullLogs(this.logstore, this.shard, cursor, end, batch.count);
    if (again.nextCursor !== batch.nextCursor) {
      throw new SlsError(
        `SLS PullLogs sent a corrupt LZ4 block [request id ${batch.requestId ?? 'none'}], and pulling it again gave a different batch ` +
          `(next cursor ${again.nextCursor}, was ${batch.nextCursor}). Nothing is lost: the trigger retries the range.`,
        'BadResponse', 200, again.requestId, true,
      );
    }
    return again;
  }

  /** An answer over the cap is asked for again with half the count, down to one log group. */
  private async pullWithin(cursor: string, end: string, slot: PullSlot): Promise<PullResult> {
    for (;;) {
      this.counters.pulls++;
      try {
        return await this.client.pullLogs(this.logstore, this.shard, cursor, end, this.count, slot);
      } catch (err) {
        if ((err as SlsError).code !== ANSWER_TOO_LARGE || this.count === 1) throw err;
        this.halveCount();
      }
    }
  }

  private halveCount(): void {
    this.count = Math.max(1, Math.floor(this.count / 2));
  }

  /** Keeps a batch (and the one prefetched behind it) within the byte budget. */
  private adaptCount(batchBytes: number): void {
    const budget = this.config.pullBudgetBytes;
    if (batchBytes > budget && this.count > 1) this.halveCount();
    else if (batchBytes < budget / 4 && this.count < this.config.pullCount) this.count = Math.min(this.config.pullCount, this.count * 2);
  }
}

/**
 * Whether a pull's next cursor ends the range. With SPL a pull may answer no groups and a new
 * cursor (all filtered out): that is not the end. A next cursor that is not a cursor, does not
 * move forward, or lies past the range's end is not SLS's answer: an error, and the range is retried.
 */
function reachedEnd(batch: PullResult, current: string, end: string, filtered: boolean): boolean {
  const { nextCursor: next, groupCount } = batch;
  if (next === end) return true;
  const [n, c, e] = [decodeCursor(next), decodeCursor(current), decodeCursor(end)];
  if (n === undefined || c === undefined || e === undefined || (n <= c && groupCount > 0) || n < c || n > e) {
    throw new SlsError(
      `SLS PullLogs answered next cursor ${JSON.stringify(next.slice(0, 40))} for [${current}, ${end}) with ${groupCount} log groups: ` +
        `a cursor must move forward and stay within the range [request id ${batch.requestId ?? 'none'}]. Nothing was counted delivered past ${current}; the range is retried.`,
      'BadResponse', 200, batch.requestId, true,
    );
  }
  return n === c || (groupCount === 0 && !filtered);
}
