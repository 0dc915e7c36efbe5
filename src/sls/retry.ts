/** Jittered exponential backoff for calls whose errors say whether retrying can help. */
import { backoffDelay } from '../backoff';

export interface RetryPolicy {
  /** Total tries, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 200, maxDelayMs: 5_000 };

export interface Retryable {
  retryable: boolean;
}

function isRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Partial<Retryable>).retryable === true;
}

/** Full jitter: a random delay in [0, min(max, base * 2^attempt)] spreads out retrying shards. */
function retryDelay(attempt: number, policy: RetryPolicy): number {
  return backoffDelay(attempt, { baseMs: policy.baseDelayMs, capMs: policy.maxDelayMs, jitter: 'full' });
}

/**
 * Calls until success, a non-retryable error, the last attempt, or until waiting again would pass
 * `deadlineMs` (epoch ms): then the last error is thrown as it is.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  onRetry: (err: unknown, attempt: number) => void = () => {},
  deadlineMs = Number.POSITIVE_INFINITY,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isRetryable(err) || attempt + 1 >= policy.attempts) throw err;
      const delay = retryDelay(attempt, policy);
      if (Date.now() + delay >= deadlineMs) throw err;
      onRetry(err, attempt + 1);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
