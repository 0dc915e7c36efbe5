/**
 * FC entry points. `index.handler` is invoked by the SLS trigger with one shard's cursor range and
 * calls back success only when every record of the range has been handed to the SIEM; any
 * failure calls back an error so the trigger retries the range. `index.initializer` validates the
 * settings and opens the SIEM connection once per instance; `index.preStop` closes it.
 */
import { describeConfig, type ForwarderConfig } from './settings';
import { EventError } from './errors';
import { parseTriggerEvent } from './event';
import { authorizeTrigger } from './source-policy';
import type { Credentials } from './sls/client';
import { loadConfigWithSecrets, kmsFetcher } from './settings/with-secrets';
import { ShipError, shipRange, type ShardRange, type ShipOptions, type ShipSummary } from './ship/range';
import { Destinations } from './ship/destinations';

/** The parts of the FC context this function reads. Never log it: it carries STS credentials. */
export interface FcContext {
  requestId?: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  /** `timeout` is the function's timeout in seconds: the invocation is killed after it. */
  function?: { timeout?: number };
}

export type Callback = (err: Error | null, result?: unknown) => void;

interface Instance {
  config: ForwarderConfig;
  connection: Destinations;
}

let instance: Promise<Instance> | undefined;
/** The newest context FC handed over: its STS credentials also fetch the KMS secrets again (rotation). */
let latestContext: FcContext | undefined;

/**
 * Settings are validated once per instance, with the `*_SECRET` settings fetched from KMS using
 * the function's own credentials; a failure is not kept, so the next invocation tries again
 * (a permission granted, a secret created: no redeploy).
 */
function getInstance(context: FcContext | undefined): Promise<Instance> {
  if (context?.credentials) latestContext = context;
  instance ??= createInstance().catch((err: unknown) => {
    instance = undefined;
    throw err;
  });
  return instance;
}

async function createInstance(): Promise<Instance> {
  const kmsCredentials = async () => credentialsFrom(latestContext, 'kms:GetSecretValue on the secrets named by the *_SECRET settings');
  const config = await loadConfigWithSecrets(process.env, kmsFetcher(process.env, kmsCredentials));
  return { config, connection: new Destinations(config.outputs) };
}

function credentialsFrom(context: FcContext | undefined, needed = 'read the logstore (log:GetCursorOrData)'): Credentials {
  const c = context?.credentials;
  if (!c?.accessKeyId || !c.accessKeySecret) {
    throw new EventError(
      'FC passed no credentials in context.credentials: give the service (s.yaml service.role) a RAM role ' +
        `that may ${needed}, then invoke again.`,
    );
  }
  return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken };
}

function firstLine(error: Error): string {
  return `${error.name}: ${error.message.split('\n')[0]}`;
}

/** One JSON line per invocation, built from the summary's counters only: no credential can appear. */
function logSummary(requestId: string | undefined, result: 'ok' | 'error', summary: ShipSummary | undefined, error?: Error): void {
  const line: Record<string, unknown> = { event: 'sls-syslog-forwarder.invocation', requestId, result, ...summary };
  if (error) line.error = firstLine(error);
  console.log(JSON.stringify(line));
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function settle<T>(work: Promise<T>, callback?: Callback): Promise<T> | undefined {
  if (!callback) return work;
  work.then(
    (value) => callback(null, value),
    (err: unknown) => callback(toError(err)),
  );
  return undefined;
}

export async function forward(event: unknown, context: FcContext | undefined, options: Omit<ShipOptions, 'sls'> = {}): Promise<ShipSummary> {
  const timeoutSeconds = context?.function?.timeout;
  if (options.deadlineMs === undefined && typeof timeoutSeconds === 'number' && timeoutSeconds > 0) {
    options = { ...options, deadlineMs: Date.now() + timeoutSeconds * 1000 };
  }
  try {
    const { config, connection } = await getInstance(context);
    const trigger = parseTriggerEvent(event);
    // The event is untrusted: where the STS token may go, and for which project and logstore, is
    // decided by the settings before any request.
    const sls = authorizeTrigger(trigger, config.source.policy);
    const credentials = credentialsFrom(context);
    // A retry of this trigger job's range resumes where the last attempt's proof ended.
    const resumeJob = config.resume.resume && trigger.jobName ? trigger.jobName : undefined;
    const range: ShardRange = {
      project: trigger.project, logstore: trigger.logstore, shard: trigger.shardId, from: trigger.begin, to: trigger.end, cursorTime: trigger.cursorTime,
    };
    const summary = await shipRange(range, config, credentials, connection, { ...options, sls, resumeJob });
    logSummary(context?.requestId, 'ok', summary);
    return summary;
  } catch (err) {
    const error = toError(err);
    logSummary(context?.requestId, 'error', error instanceof ShipError ? error.summary : undefined, error);
    throw error;
  }
}

export function handler(event: unknown, context: FcContext, callback?: Callback): Promise<ShipSummary> | undefined {
  return settle(forward(event, context), callback);
}

async function initialize(context: FcContext | undefined): Promise<void> {
  try {
    const { config, connection } = await getInstance(context);
    await connection.connect();
    console.log(JSON.stringify({ event: 'sls-syslog-forwarder.init', result: 'ok', settings: describeConfig(config) }));
  } catch (err) {
    const error = toError(err);
    console.log(JSON.stringify({ event: 'sls-syslog-forwarder.init', result: 'error', error: firstLine(error) }));
    throw error;
  }
}

/** FC initializer (`index.initializer`): once per instance, before its first invocation; its context carries the function's STS credentials. */
export function initializer(context: FcContext | undefined, callback?: Callback): Promise<void> | undefined {
  return settle(initialize(context), callback);
}

/** FC PreStop hook (`index.preStop`): close the SIEM connection gracefully before the instance goes. */
export function preStop(_context: unknown, callback?: Callback): Promise<void> | undefined {
  const closing = instance ? instance.then((i) => i.connection.close(), () => undefined) : Promise.resolve();
  return settle(closing, callback);
}
