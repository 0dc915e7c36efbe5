/** How a range is delivered: commit points, reconnects, and resuming a retried range. */
import type { SettingsReader } from '../config/reader';
import type { ThrottleSettings } from './throttle';

/** A limit that is off unless set. */
function optionalRate(r: SettingsReader, name: string, min: number, max: number): number | undefined {
  return r.text(name) === undefined ? undefined : r.integer(name, min, min, max);
}

/**
 * Commit-point defaults (docs/benchmarks.md, "Several proofs in flight"): a proof and a fresh
 * connection every 1 s or 32 MiB, with up to 4 proofs outstanding. A segment is at most about one
 * second of data, so a fault re-sends about that much at any rate (instead of up to 16 MiB or
 * 10 s). The byte bound only matters above 32 MB/s, where each segment's connection, TLS handshake
 * and round trip set the pace if segments are small (TLS: 8 MiB 0.93 of no proof on loopback, 1 MiB
 * 0.68 and 0.51 at 20 ms); at 32 MiB it keeps >= 0.95 of no proof over TCP and TLS, local and 20 ms away.
 */
export const DEFAULT_COMMIT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_COMMIT_SECONDS = 1;
export const DEFAULT_PROOFS_IN_FLIGHT = 4;

/** One output's commit points and reconnects (each output of a fan-out may set its own). */
export interface DeliverySettings {
  /** A commit point (proof, then a new connection) after this many message bytes ... */
  commitBytes: number;
  /** ... or this long after the segment's first byte, whichever comes first. */
  commitMs: number;
  /** How often a broken connection is replaced within one invocation before it fails. */
  reconnectAttempts: number;
  /** Segments whose proof may be outstanding at once, each on its own connection (1: one at a time). */
  proofsInFlight: number;
  /** OUTPUT_MAX_EVENTS_PER_SECOND, OUTPUT_MAX_BYTES_PER_SECOND (off: undefined). */
  throttle: ThrottleSettings;
}

export function readDelivery(r: SettingsReader): DeliverySettings {
  return {
    commitBytes: r.integer('SYSLOG_COMMIT_BYTES', DEFAULT_COMMIT_BYTES, 64 * 1024, 1024 * 1024 * 1024),
    commitMs: r.integer('SYSLOG_COMMIT_SECONDS', DEFAULT_COMMIT_SECONDS, 1, 3600) * 1000,
    reconnectAttempts: r.integer('SYSLOG_RECONNECT_ATTEMPTS', 5, 0, 100),
    proofsInFlight: r.integer('SYSLOG_PROOFS_IN_FLIGHT', DEFAULT_PROOFS_IN_FLIGHT, 1, 32),
    throttle: {
      maxEventsPerSecond: optionalRate(r, 'OUTPUT_MAX_EVENTS_PER_SECOND', 1, 10_000_000),
      maxBytesPerSecond: optionalRate(r, 'OUTPUT_MAX_BYTES_PER_SECOND', 1024, 10 * 1024 * 1024 * 1024),
    },
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
