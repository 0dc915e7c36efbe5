/**
 * How the worker lives through an unreachable SIEM or SLS: it stays up, says why it is not ready,
 * retries with capped, jittered backoff, and logs one line when a problem starts or changes and
 * one when it is over, never one per retry (a restart loop or a log flood helps no one).
 */
import { backoffDelay, type Backoff } from '../backoff';
import { ConfigError, OutputError, SlsError } from '../errors';
import { ShipError } from '../ship/range';
import type { ConsumeSettings } from './settings';

export function log(line: Record<string, unknown>): void {
  console.log(JSON.stringify({ event: 'sls-syslog-forwarder.consume', ...line }));
}

export class Sleeper {
  private wake: (() => void) | undefined;
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  interrupt(): void {
    this.wake?.();
  }
}

export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** The error behind a failed range (a ShipError wraps the SLS or output error and adds progress). */
function rootOf(err: unknown): unknown {
  return err instanceof ShipError ? err.cause : err;
}

/** Which side failed: the SIEM (an output), SLS, or something else. */
export function sideOf(err: unknown): 'siem' | 'sls' | 'other' {
  const root = rootOf(err);
  return root instanceof OutputError ? 'siem' : root instanceof SlsError ? 'sls' : 'other';
}

/**
 * Waiting may heal it: a network error, a 5xx, throttling (an SLS code marked retryable), or an
 * error with no SLS code at all (e.g. the credentials endpoint did not answer). A wrong setting or
 * a refusal (no such logstore, a bad key) does not heal.
 */
export function canHeal(err: unknown): boolean {
  const root = rootOf(err);
  if (root instanceof ConfigError) return false;
  return root instanceof SlsError ? root.retryable : true;
}

/**
 * An output error that reconnecting cannot help (a rejected token, an untrusted certificate: a
 * settings problem), or anything that is no network error at all.
 */
export function outputCannotHeal(err: unknown): boolean {
  if (err instanceof OutputError) return err.fatal;
  return typeof (err as NodeJS.ErrnoException | undefined)?.code !== 'string';
}

/** What /readyz says about a failure. */
export function reasonFor(err: unknown, outputs: readonly string[]): string {
  const side = sideOf(err);
  if (side === 'siem') return `SIEM unreachable (output ${outputs.join(', ')}): ${firstLine(err)}`;
  if (side === 'sls') return `${canHeal(err) ? 'SLS unreachable' : 'SLS refused'}: ${firstLine(err)}`;
  return `a range fails: ${firstLine(err)}`;
}

/**
 * The same problem again? SLS messages carry a new request id each time, so an SLS error is known
 * by its code and status; any other by its first line.
 */
function problemOf(err: unknown): string {
  const root = rootOf(err);
  return root instanceof SlsError ? `SLS ${root.code} ${root.status}` : firstLine(root);
}

/** One stretch of failures: when it began, how many tries failed, and the last problem logged. */
export class Outage {
  private since: number | undefined;
  private problem = '';
  failures = 0;

  get down(): boolean {
    return this.since !== undefined;
  }

  /** Counts a failure; answers whether it deserves a log line (the first, or a different problem). */
  failed(err: unknown): boolean {
    this.since ??= Date.now();
    this.failures++;
    const problem = problemOf(err);
    const changed = problem !== this.problem;
    this.problem = problem;
    return changed;
  }

  /** The wait before the next try: grows with the failures, capped and jittered. */
  retryDelay(backoff: Backoff): number {
    return backoffDelay(Math.max(0, this.failures - 1), backoff);
  }

  /** Ends the outage; answers what the `recovered` line says, or undefined when there was none. */
  recovered(): { retries: number; downMs: number } | undefined {
    if (this.since === undefined) return undefined;
    const over = { retries: this.failures, downMs: Date.now() - this.since };
    this.since = undefined;
    this.failures = 0;
    this.problem = '';
    return over;
  }
}

/** What to fix when SLS refuses the group for good, in the worker's own settings. */
const CANNOT_JOIN_HINTS: Record<string, string> = {
  ProjectNotExist: 'Check SLS_PROJECT, and that SLS_ENDPOINT is the project\'s region.',
  LogStoreNotExist: 'Check SLS_LOGSTORE (and SLS_PROJECT): the logstore does not exist.',
  Unauthorized: "The worker's identity may not use the logstore: grant it log:ListShards, log:GetCursorOrData and the consumer-group actions (docs/deploy.md), or its STS token has expired.",
  SignatureNotMatch: 'SLS rejected the signature: check the worker\'s credentials (the access key secret) and the system clock.',
  InvalidAccessKeyId: 'The access key is unknown to SLS: check the worker\'s credentials and that SLS_ENDPOINT is the project\'s region.',
};

/** A refusal that waiting cannot heal, as one line that says what to fix (the hint for FC's event replaced). */
export function cannotJoin(err: unknown, s: Pick<ConsumeSettings, 'group' | 'project' | 'logstore'>): unknown {
  if (!(err instanceof SlsError)) return err;
  const hint = CANNOT_JOIN_HINTS[err.code];
  const message = firstLine(err);
  const idAt = message.lastIndexOf('[request id');
  const idEnd = idAt < 0 ? -1 : message.indexOf(']', idAt);
  const what = hint && idEnd > 0 ? `${message.slice(0, idEnd + 1)}. ${hint}` : message;
  return new SlsError(`Cannot join consumer group ${s.group} of ${s.project}/${s.logstore}: ${what} Retrying cannot help: the worker exits.`, err.code, err.status, err.requestId, false);
}
