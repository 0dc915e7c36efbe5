/**
 * The data path for one invocation: pull every LogGroup of [beginCursor, endCursor) from one
 * shard, format each log as a syslog message, send it, and report only when all of it has been
 * handed to the receiver. The next PullLogs runs while the current batch is being sent.
 */
import type { ForwarderConfig } from './config';
import { decodeLogGroupList } from './decode/log-group';
import type { CursorSpec, TriggerEvent } from './event';
import { MessageFormatter } from './format/message';
import { SlsClient, type Credentials, type PullResult, type SlsClientOptions } from './sls/client';
import { decodeCursor } from './sls/cursor';
import type { Lease, SiemConnection } from './transport/connection';

export interface ShipSummary {
  project: string;
  logstore: string;
  shard: number;
  beginCursor: string;
  endCursor: string;
  /** Cursor up to which everything was sent (== endCursor on success). */
  reachedCursor: string;
  groups: number;
  records: number;
  /** Uncompressed protobuf bytes pulled from SLS. */
  rawBytes: number;
  /** Syslog message bytes handed to the receiver (without framing). */
  sentBytes: number;
  truncated: number;
  pulls: number;
  slsRetries: number;
  /** `new`, `reused` (kept from an earlier invocation of this instance) or `none` (empty range). */
  connection: 'new' | 'reused' | 'none';
  durationMs: number;
}

export interface ShipOptions {
  /** Overrides the SLS client's settings (tests use it for compression and retry timing). */
  slsClient?: Partial<Pick<SlsClientOptions, 'compression' | 'retry' | 'timeoutMs'>>;
}

export class ShipError extends Error {
  override name = 'ShipError';
  constructor(override readonly cause: Error, readonly summary: ShipSummary) {
    super(
      `${cause.message}\nProgress before the failure: ${summary.records} records in ${summary.groups} log groups sent, ` +
        `up to cursor ${summary.reachedCursor} of [${summary.beginCursor}, ${summary.endCursor}). ` +
        'Nothing was acknowledged: the trigger retries the whole range (records already sent may arrive twice).',
    );
  }
}

function reachedEnd(next: string, current: string, end: string, groupCount: number): boolean {
  if (next === end || next === current || groupCount === 0) return true;
  const n = decodeCursor(next);
  const e = decodeCursor(end);
  return n !== undefined && e !== undefined && n >= e;
}

function describeSpec(spec: CursorSpec): string {
  return spec.kind === 'cursor' ? spec.cursor : spec.kind === 'time' ? spec.text : spec.kind;
}

/** Turns `begin`/`end`/time bounds of a hand-written test event into real cursors. */
function resolveCursor(client: SlsClient, event: TriggerEvent, spec: CursorSpec): Promise<string> | string {
  if (spec.kind === 'cursor') return spec.cursor;
  return client.getCursor(event.logstore, event.shardId, spec.kind === 'time' ? spec.unixSeconds : spec.kind);
}

export async function shipRange(
  event: TriggerEvent,
  config: ForwarderConfig,
  credentials: Credentials,
  connection: SiemConnection,
  options: ShipOptions = {},
): Promise<ShipSummary> {
  const started = Date.now();
  const summary: ShipSummary = {
    project: event.project, logstore: event.logstore, shard: event.shardId,
    beginCursor: describeSpec(event.begin), endCursor: describeSpec(event.end), reachedCursor: describeSpec(event.begin),
    groups: 0, records: 0, rawBytes: 0, sentBytes: 0, truncated: 0, pulls: 0, slsRetries: 0, connection: 'none', durationMs: 0,
  };
  const client = new SlsClient({
    endpoint: event.endpoint,
    project: event.project,
    credentials,
    ...options.slsClient,
    onRetry: () => summary.slsRetries++,
  });
  let lease: Lease | undefined;
  try {
    const [begin, end] = await Promise.all([resolveCursor(client, event, event.begin), resolveCursor(client, event, event.end)]);
    Object.assign(summary, { beginCursor: begin, endCursor: end, reachedCursor: begin });
    if (begin === end) {
      summary.durationMs = Date.now() - started;
      return summary;
    }
    const formatter = new MessageFormatter(config, { project: event.project, logstore: event.logstore });
    const pull = (cursor: string): Promise<PullResult> => {
      summary.pulls++;
      const p = client.pullLogs(event.logstore, event.shardId, cursor, end, config.pullCount);
      p.catch(() => {}); // awaited below; this only stops an early rejection from being "unhandled"
      return p;
    };

    // Lease the SIEM connection while the first batch is being pulled.
    let pending = pull(begin);
    lease = await connection.lease();
    summary.connection = lease.reused ? 'reused' : 'new';
    const { transport } = lease;
    let cursor = begin;
    for (;;) {
      const batch = await pending;
      const done = reachedEnd(batch.nextCursor, cursor, end, batch.groupCount);
      if (!done) pending = pull(batch.nextCursor);
      // A group's position (its cursor as a number) is stable across retries: the base of record ids.
      const firstPosition = config.recordId ? decodeCursor(cursor) : undefined;
      const groups = decodeLogGroupList(batch.body);
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g]!;
        const idPrefix = firstPosition === undefined ? undefined : `${event.logstore}:${event.shardId}:${firstPosition + BigInt(g)}:`;
        for (let i = 0; i < group.logs.length; i++) {
          const log = group.logs[i]!;
          const { bytes, truncated } = formatter.format(group, log, idPrefix === undefined ? undefined : idPrefix + i);
          const wait = transport.send(bytes);
          if (wait) await wait;
          summary.records++;
          summary.sentBytes += bytes.length;
          if (truncated) summary.truncated++;
        }
        summary.groups++;
      }
      summary.rawBytes += batch.body.length;
      await transport.flush();
      cursor = batch.nextCursor;
      summary.reachedCursor = done ? end : cursor;
      if (done) break;
    }
    await lease.complete();
    summary.durationMs = Date.now() - started;
    return summary;
  } catch (err) {
    lease?.abandon();
    summary.durationMs = Date.now() - started;
    throw new ShipError(err as Error, summary);
  } finally {
    client.close();
  }
}
