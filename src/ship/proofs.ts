/**
 * The proofs of consecutive segments of one output, several at once: each segment's proof (the
 * receiver's FIN after ours, RELP or HEC acknowledgements) overlaps with sending the next ones. The
 * proven point moves only over a contiguous run: a segment counts once it and every segment before
 * it are proven, so a later proof landing first never skips an unproven one.
 */

interface Pending<S> {
  segment: S;
  settled: boolean;
  failed: boolean;
  done: Promise<void>;
}

export class ProofQueue<S> {
  /** How many proofs may be outstanding (1 for a connection that proves in place). */
  limit = 1;
  private readonly pending: Array<Pending<S>> = [];
  private failure: Error | undefined;
  /** Proven segments are handed on one at a time, in order. */
  private handing: Promise<void> = Promise.resolve();

  constructor(private readonly onProven: (segment: S) => Promise<void>) {}

  get outstanding(): number {
    return this.pending.length;
  }

  /** The first proof that failed, if any: the range rewinds to the contiguous proven point. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Starts proving `segment`; first waits while `limit` proofs are outstanding. */
  async add(segment: S, prove: () => Promise<void>): Promise<void> {
    while (this.pending.length >= this.limit) {
      this.throwIfFailed();
      await this.pending[0]!.done.catch(() => {});
      await this.handing;
    }
    this.throwIfFailed();
    const entry: Pending<S> = { segment, settled: false, failed: false, done: Promise.resolve() };
    entry.done = prove().then(
      () => {
        entry.settled = true;
        return this.handOn();
      },
      (err: Error) => {
        Object.assign(entry, { settled: true, failed: true });
        throw err;
      },
    ).catch((err: Error) => {
      // A failed proof, or a failure to record one (the resume point, a checkpoint).
      this.failure ??= err;
      throw err;
    });
    entry.done.catch(() => {}); // seen through throwIfFailed
    this.pending.push(entry);
  }

  /** Waits for every outstanding proof to land, and for the proven ones to be handed on. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pending.map((e) => e.done));
    await this.handing.catch(() => {});
  }

  /** Forgets what is outstanding (after settle(), for a new attempt). */
  clear(): void {
    this.pending.length = 0;
    this.failure = undefined;
    this.handing = Promise.resolve();
  }

  private handOn(): Promise<void> {
    this.handing = this.handing.then(async () => {
      while (this.pending[0]?.settled && !this.pending[0].failed) await this.onProven(this.pending.shift()!.segment);
    });
    return this.handing;
  }
}
