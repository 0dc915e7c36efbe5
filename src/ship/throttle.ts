/**
 * OUTPUT_MAX_EVENTS_PER_SECOND and OUTPUT_MAX_BYTES_PER_SECOND: token buckets in front of an
 * output, so a backfill or a catch-up never feeds a SIEM faster than it is licensed and sized for
 * (events per second for QRadar and ArcSight, GB per day for Splunk). The burst is a tenth of a
 * second of the rate. One throttle per output per process: an FC instance, or the whole worker.
 */

class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly perSecond: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** How long until `amount` may go (at most a burst's worth is waited for; the rest becomes debt). */
  waitMs(amount: number): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    const need = Math.min(amount, this.burst);
    return this.tokens >= need ? 0 : Math.ceil(((need - this.tokens) / this.perSecond) * 1000);
  }

  take(amount: number): void {
    this.tokens -= amount;
  }
}

export interface ThrottleSettings {
  maxEventsPerSecond: number | undefined;
  maxBytesPerSecond: number | undefined;
}

export class Throttle {
  private readonly events: TokenBucket | undefined;
  private readonly bytes: TokenBucket | undefined;
  /** Time spent waiting for tokens, over the throttle's life (the worker's metric). */
  throttledMs = 0;

  constructor(readonly settings: ThrottleSettings) {
    const { maxEventsPerSecond: e, maxBytesPerSecond: b } = settings;
    this.events = e ? new TokenBucket(e, Math.max(1, Math.ceil(e / 10))) : undefined;
    this.bytes = b ? new TokenBucket(b, Math.max(1024, Math.ceil(b / 10))) : undefined;
  }

  /** A kernel call's worth of messages under the limit: about one burst, so the rate holds within a second. */
  get stepBytes(): number {
    const fromBytes = this.bytes ? Math.max(1024, Math.ceil((this.settings.maxBytesPerSecond ?? 0) / 10)) : Infinity;
    // Events: a WAF record is ~500 bytes; a tenth of a second of events, at least one record's room.
    const fromEvents = this.events ? Math.max(2048, Math.ceil((this.settings.maxEventsPerSecond ?? 0) / 10) * 512) : Infinity;
    return Math.min(fromBytes, fromEvents);
  }

  /**
   * Waits until `events` messages of `bytes` may go, then takes them. Answers false, without
   * taking anything, when that wait would pass `untilMs`: the caller stops there and proves what it sent.
   */
  async admit(events: number, bytes: number, untilMs: number): Promise<boolean> {
    for (;;) {
      const wait = Math.max(this.events?.waitMs(events) ?? 0, this.bytes?.waitMs(bytes) ?? 0);
      if (wait === 0) break;
      if (Date.now() + wait >= untilMs) return false;
      this.throttledMs += wait;
      await new Promise((r) => setTimeout(r, wait));
    }
    this.events?.take(events);
    this.bytes?.take(bytes);
    return true;
  }
}
