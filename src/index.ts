/**
 * FC entry point: `index.handler`, invoked by the SLS trigger with one shard's cursor range.
 * Calls back success only when every record of the range has been handed to the SIEM;
 * any failure calls back an error so the trigger retries the range.
 */
import { loadConfig, type ForwarderConfig } from './config';
import { EventError } from './errors';
import { parseTriggerEvent } from './event';
import type { Credentials } from './sls/client';
import { ShipError, shipRange, type ShipOptions, type ShipSummary } from './ship';

/** The parts of the FC context this function reads. Never log it: it carries STS credentials. */
export interface FcContext {
  requestId?: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
}

export type Callback = (err: Error | null, result?: unknown) => void;

let cachedConfig: ForwarderConfig | undefined;

/** Settings are validated once per instance; a bad setting fails every invocation until fixed. */
function config(): ForwarderConfig {
  cachedConfig ??= loadConfig(process.env);
  return cachedConfig;
}

function credentialsFrom(context: FcContext | undefined): Credentials {
  const c = context?.credentials;
  if (!c?.accessKeyId || !c.accessKeySecret) {
    throw new EventError(
      'FC passed no credentials in context.credentials: give the service (s.yaml service.role) a RAM role ' +
        'that may read the logstore (log:GetCursorOrData), then invoke again.',
    );
  }
  return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken };
}

/** One structured line per invocation; built from the summary only, so no credential can appear. */
function logSummary(requestId: string | undefined, result: 'ok' | 'error', summary: ShipSummary | undefined, error?: Error): void {
  const line: Record<string, unknown> = { event: 'sls-syslog-forwarder.invocation', requestId, result, ...summary };
  if (error) line.error = `${error.name}: ${error.message.split('\n')[0]}`;
  console.log(JSON.stringify(line));
}

export async function forward(event: unknown, context: FcContext | undefined, options: ShipOptions = {}): Promise<ShipSummary> {
  let summary: ShipSummary | undefined;
  try {
    const settings = config();
    const trigger = parseTriggerEvent(event);
    const credentials = credentialsFrom(context);
    summary = await shipRange(trigger, settings, credentials, options);
    logSummary(context?.requestId, 'ok', summary);
    return summary;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    logSummary(context?.requestId, 'error', error instanceof ShipError ? error.summary : summary, error);
    throw error;
  }
}

export function handler(event: unknown, context: FcContext, callback?: Callback): Promise<ShipSummary> | undefined {
  const work = forward(event, context);
  if (!callback) return work;
  work.then(
    (summary) => callback(null, summary),
    (err: Error) => callback(err),
  );
  return undefined;
}

/** For tests and tools: forget the cached settings so the next invocation re-reads the environment. */
export function resetForTests(): void {
  cachedConfig = undefined;
}
