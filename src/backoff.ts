/**
 * Exponential backoff with jitter: the one rule behind every retry (SLS calls, SIEM reconnects,
 * the worker's shard retries). `full` jitter spreads many callers (shards retrying at once);
 * `equal` jitter keeps at least half the step, so a restarting peer gets real time to come back.
 */
export interface Backoff {
  baseMs: number;
  capMs: number;
  jitter: 'full' | 'equal';
}

/** The wait before retry number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, backoff: Backoff, random = Math.random): number {
  const step = Math.min(backoff.capMs, backoff.baseMs * 2 ** attempt);
  return Math.round(backoff.jitter === 'full' ? random() * step : step / 2 + (random() * step) / 2);
}
