/**
 * The data path for one invocation: pull every LogGroup of [beginCursor, endCursor) from one
 * shard, format each log as a syslog message, send it, and report only when all of it has been
 * handed to the receiver. The next PullLogs runs while the current batch is being sent.
 */
import type { ForwarderConfig } from './config';
import { decodeLogGroupList } from './decode/log-group';
import type { TriggerEvent } from './event';
import { MessageFormatter } from './format/message';
import { SlsClient, type Credentials, type PullResult } from './sls/client';
import { decodeCursor } from './sls/cursor';
import { openTransport } from './transport/open';
import type { SyslogTransport } from './transport/transport';

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
  durationMs: number;
}

export interface ShipOptions {
  /** Overrides the SLS client's settings (tests use it for compression and retry timing). */
  slsClient?: Partial<Pick<ConstructorParameters<typeof SlsClient>[0], 'compression' | 'retry' | 'timeoutMs'>>;
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

export async function shipRange(
  event: TriggerEvent,
  config: ForwarderConfig,
  credentials: Credentials,
  options: ShipOptions = {},
): Promise<ShipSummary> {
  const started = Date.now();
  const summary: ShipSummary = {
    project: event.project, logstore: event.logstore, shard: event.shardId,
    beginCursor: event.beginCursor, endCursor: event.endCursor, reachedCursor: event.beginCursor,
    groups: 0, records: 0, rawBytes: 0, sentBytes: 0, truncated: 0, pulls: 0, slsRetries: 0, durationMs: 0,
  };
  if (event.beginCursor === event.endCursor) return summary;

  const client = new SlsClient({
    endpoint: event.endpoint,
    project: event.project,
    credentials,
    ...options.slsClient,
    onRetry: () => summary.slsRetries++,
  });
  const formatter = new MessageFormatter(config, { project: event.project, logstore: event.logstore });
  const pull = (cursor: string): Promise<PullResult> => {
    summary.pulls++;
    return client.pullLogs(event.logstore, event.shardId, cursor, event.endCursor, config.pullCount);
  };

  let transport: SyslogTransport | undefined;
  try {
    // Connect to the SIEM while the first batch is being pulled.
    const connecting = openTransport(config);
    let pending = pull(event.beginCursor);
    pending.catch(() => {}); // handled when awaited; avoids an unhandled rejection if connect fails first
    transport = await connecting;
    let cursor = event.beginCursor;
    for (;;) {
      const batch = await pending;
      const done = reachedEnd(batch.nextCursor, cursor, event.endCursor, batch.groupCount);
      if (!done) {
        pending = pull(batch.nextCursor);
        pending.catch(() => {});
      }
      for (const group of decodeLogGroupList(batch.body)) {
        for (const log of group.logs) {
          const { bytes, truncated } = formatter.format(group, log);
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
      summary.reachedCursor = done ? event.endCursor : cursor;
      if (done) break;
    }
    await transport.close();
    transport = undefined;
    summary.durationMs = Date.now() - started;
    return summary;
  } catch (err) {
    transport?.destroy();
    summary.durationMs = Date.now() - started;
    throw new ShipError(err as Error, summary);
  } finally {
    client.close();
  }
}
