/** What shipping one range reports: its summary, and the error that carries it when the range fails. */
import type { ProofKind } from '../outputs/transport';

export interface ShipSummary {
  project: string;
  logstore: string;
  shard: number;
  beginCursor: string;
  endCursor: string;
  /** Everything before this cursor is proven delivered (== endCursor on success). */
  reachedCursor: string;
  /** Set when a saved proof point let this invocation skip what an earlier attempt delivered. */
  resumedFrom?: string;
  groups: number;
  /** Records of the range sent (each once; re-sends after a reconnect are in `resent`). */
  records: number;
  /** Records covered by a proof of delivery (`proof` says which kind). */
  delivered: number;
  /** Uncompressed protobuf bytes pulled from SLS. */
  rawBytes: number;
  /** Syslog message bytes handed to the receiver (without framing). */
  sentBytes: number;
  truncated: number;
  pulls: number;
  slsRetries: number;
  /** SIEM connections replaced during this invocation, and the records sent again because of it. */
  reconnects: number;
  resent: number;
  /** Commit points passed: segments the receiver proved it has. */
  commits: number;
  /** What proves delivery: `close` (the receiver answered our close), `ack` (RELP, HEC) or `none` (UDP, SYSLOG_DELIVERY_PROOF=none). */
  proof: ProofKind;
  /** `new`, `reused` (kept from an earlier invocation of this instance) or `none` (empty range). */
  connection: 'new' | 'reused' | 'none';
  durationMs: number;
  /** How the function talked to SLS: `https` (Alibaba's endpoints are upgraded unless SLS_HTTPS=off) or `http`. */
  sls: 'https' | 'http';
  /** `kernel`, or `reference (<the setting the kernel does not take>)`: which engine formatted the range. */
  engine: string;
  /** Time spent waiting for the outputs' rate limits (the sum over outputs). */
  throttledMs: number;
  /**
   * Seconds between the newest record of the range reaching SLS (the trigger's `cursorTime`) and
   * the end of this invocation: how far behind the shard is shipped (the worker's
   * slsfwd_shard_behind_seconds). Absent when the event has no cursorTime.
   */
  lagSeconds?: number;
  /**
   * Per output, when OUTPUTS names several: the totals above are those of the first. A range
   * succeeds only when every output proved it; a failing one makes all resend from the last
   * point every output proved, so the healthy ones count `resent` (duplicates), never a loss.
   */
  outputs?: OutputSummary[];
  /** With SPL (SLS_QUERY, SLS_CONSUME_PROCESSOR): records and bytes pulled before the statement. */
  recordsBeforeQuery?: number;
  bytesBeforeQuery?: number;
}

/** One output's share of a range. */
export interface OutputSummary {
  name: string;
  /** Records sent (each once; re-sends in `resent`), and left out by its OUTPUT_FILTER. */
  records: number;
  filtered: number;
  /** Records covered by a proof of delivery. */
  delivered: number;
  resent: number;
  sentBytes: number;
  truncated: number;
  commits: number;
  proof: ProofKind;
  connection: 'new' | 'reused' | 'none';
  engine: string;
  /** Time this range waited for OUTPUT_MAX_EVENTS_PER_SECOND / OUTPUT_MAX_BYTES_PER_SECOND. */
  throttledMs: number;
}

export class ShipError extends Error {
  override name = 'ShipError';
  constructor(override readonly cause: Error, readonly summary: ShipSummary) {
    super(
      `${cause.message}\nProgress before the failure: ${summary.records} records in ${summary.groups} log groups sent, ` +
        `${summary.delivered} proven delivered (${summary.proof}), up to cursor ${summary.reachedCursor} of [${summary.beginCursor}, ${summary.endCursor}). ` +
        'The trigger retries the range; records sent after the last proof may arrive twice, none is lost.',
    );
  }
}
