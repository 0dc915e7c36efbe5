/** How a range is delivered: commit points, reconnects, and resuming a retried range. */
import type { SettingsReader } from '../config/reader';

/**
 * Commit-point defaults (docs/benchmarks.md, "Commit points"): a proof and a fresh connection
 * every 16 MiB or 10 s. A fault then re-sends at most about one segment (~30k WAF records), and
 * the cost stays within a few percent of throughput on loopback and with latency.
 */
export const DEFAULT_COMMIT_BYTES = 16 * 1024 * 1024;
export const DEFAULT_COMMIT_SECONDS = 10;

/** One output's commit points and reconnects (each output of a fan-out may set its own). */
export interface DeliverySettings {
  /** A commit point (proof, then a new connection) after this many message bytes ... */
  commitBytes: number;
  /** ... or this long after the segment's first byte, whichever comes first. */
  commitMs: number;
  /** How often a broken connection is replaced within one invocation before it fails. */
  reconnectAttempts: number;
}

export function readDelivery(r: SettingsReader): DeliverySettings {
  return {
    commitBytes: r.integer('SYSLOG_COMMIT_BYTES', DEFAULT_COMMIT_BYTES, 64 * 1024, 1024 * 1024 * 1024),
    commitMs: r.integer('SYSLOG_COMMIT_SECONDS', DEFAULT_COMMIT_SECONDS, 1, 3600) * 1000,
    reconnectAttempts: r.integer('SYSLOG_RECONNECT_ATTEMPTS', 5, 0, 100),
  };
}

/** FC: keep progress in SLS (a consumer group named after the trigger job) so a retry resumes. */
export interface ResumeSettings {
  resume: boolean;
  /** A saved resume point older than this is ignored (a deliberate replay must not be skipped). */
  resumeMaxAgeMs: number;
}

export function readResume(r: SettingsReader): ResumeSettings {
  return { resume: r.flag('SLS_RESUME', true), resumeMaxAgeMs: r.integer('SLS_RESUME_MAX_AGE_SECONDS', 3600, 60, 7 * 86400) * 1000 };
}
