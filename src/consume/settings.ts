/** Settings of `sls-syslog-forwarder consume` (the consumer-group worker), from the environment. */
import { hostname } from 'node:os';
import { ConfigError } from '../errors';
import { parseCursorSpec, type CursorSpec } from '../event';
import type { Credentials } from '../sls/client';
import { credentialsConfigured, officialCredentials } from './credentials';
import { SettingsReader, type Env } from '../config/reader';

export interface ConsumeSettings {
  endpoint: string;
  project: string;
  logstore: string;
  group: string;
  consumer: string;
  /** Where a shard without a checkpoint starts on the group's first start. */
  start: CursorSpec;
  /** Backfill: every shard stops here and the worker exits 0 once all have (`end` = when it started). */
  end: Extract<CursorSpec, { kind: 'end' | 'time' }> | undefined;
  /** Create the group with `order`: a split's children are consumed only after their parent. */
  inOrder: boolean;
  /** /healthz, /readyz and /metrics on this port (METRICS_PORT; off when undefined), bound to metricsHost. */
  metricsPort: number | undefined;
  metricsHost: string;
  heartbeatMs: number;
  timeoutSeconds: number;
  /** Pause when a shard has no new data. */
  idleMs: number;
  /** Least time between two checkpoints of a shard while a range is being shipped. */
  checkpointMs: number;
  /** From Alibaba Cloud's credentials chain; refreshed before they expire. */
  credentials: () => Promise<Credentials>;
}

/**
 * The environment names of Alibaba's sample consumer program (sync_data.py), accepted as aliases
 * so its users can switch without renaming; ours wins when both are set. README, "Migration".
 */
export const SAMPLE_ALIASES: Record<string, string> = {
  SLS_AK_ID: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
  SLS_AK_KEY: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  SLS_CG: 'SLS_CONSUMER_GROUP',
};

/** Our names filled from the sample's, with one notice per alias used (never the values). */
export function withSampleAliases(env: Env, notice: (line: string) => void = (l) => console.log(l)): Env {
  const out: Env = { ...env };
  for (const [alias, ours] of Object.entries(SAMPLE_ALIASES)) {
    if (env[alias] === undefined || env[alias]!.trim() === '') continue;
    if (env[ours] === undefined || env[ours]!.trim() === '') out[ours] = env[alias];
    notice(JSON.stringify({ event: 'sls-syslog-forwarder.notice', notice: `${alias} is the sample program's name for ${ours}: it works, but please rename it.` }));
  }
  return out;
}

/** The logstore and consumer group a worker (or `check`) reads; each undefined when not set. */
export function readConsumerTarget(r: SettingsReader): { endpoint?: string; project?: string; logstore?: string; group?: string } {
  return { endpoint: r.text('SLS_ENDPOINT'), project: r.text('SLS_PROJECT'), logstore: r.text('SLS_LOGSTORE'), group: r.text('SLS_CONSUMER_GROUP') };
}

export function loadConsumeSettings(source: Env = process.env): ConsumeSettings {
  const env = withSampleAliases(source);
  const r = new SettingsReader(env);
  const need = (v: string | undefined, name: string, example: string): string => {
    if (v === undefined) r.problems.push(`${name} is not set (e.g. ${name}=${example}).`);
    return v ?? '';
  };
  const target = readConsumerTarget(r);
  const endpoint = need(target.endpoint, 'SLS_ENDPOINT', 'https://cn-hangzhou.log.aliyuncs.com');
  const project = need(target.project, 'SLS_PROJECT', 'my-project');
  const logstore = need(target.logstore, 'SLS_LOGSTORE', 'waf-logs');
  const group = need(target.group, 'SLS_CONSUMER_GROUP', 'siem-forwarder');
  const startText = r.text('SLS_START') ?? 'end';
  const start = parseCursorSpec(startText, Date.now());
  if (!start || start.kind === 'cursor') r.problems.push(`SLS_START="${startText}" must be begin, end, an ISO-8601 time or a relative time such as -15m.`);
  if (!credentialsConfigured(env)) {
    r.problems.push(
      'No credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), ' +
        'or RRSA on ACK (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE), ' +
        'or ALIBABA_CLOUD_ECS_METADATA=<ECS RAM role>, or ALIBABA_CLOUD_CREDENTIALS_URI, or an Alibaba Cloud CLI profile, for an identity with ' +
        'log:GetCursorOrData, log:ListShards and the consumer-group actions on the logstore.',
    );
  }
  const credentials = officialCredentials(env);
  const endText = r.text('SLS_END');
  const endSpec = endText === undefined ? undefined : parseCursorSpec(endText, Date.now());
  if (endText !== undefined && (!endSpec || (endSpec.kind !== 'end' && endSpec.kind !== 'time'))) {
    r.problems.push(`SLS_END="${endText}" must be end (the moment the worker starts), an ISO-8601 time or a relative time such as -1h.`);
  }
  const heartbeatMs = r.integer('SLS_HEARTBEAT_MS', 10_000, 100, 600_000);
  const settings: ConsumeSettings = {
    endpoint, project, logstore, group,
    consumer: r.text('SLS_CONSUMER_NAME') ?? `${hostname()}-${process.pid}`,
    start: start && start.kind !== 'cursor' ? start : { kind: 'end' },
    end: endSpec && (endSpec.kind === 'end' || endSpec.kind === 'time') ? endSpec : undefined,
    inOrder: r.flag('SLS_CONSUMER_IN_ORDER', false),
    metricsPort: r.text('METRICS_PORT') === undefined ? undefined : r.integer('METRICS_PORT', 9464, 0, 65535),
    metricsHost: r.text('METRICS_HOST') ?? '127.0.0.1',
    heartbeatMs,
    timeoutSeconds: r.integer('SLS_CONSUMER_TIMEOUT_SECONDS', Math.max(1, Math.ceil((heartbeatMs * 6) / 1000)), 1, 3600),
    idleMs: r.integer('SLS_IDLE_MS', 1_000, 10, 60_000),
    checkpointMs: r.integer('SLS_CHECKPOINT_MS', 5_000, 0, 600_000),
    credentials,
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return settings;
}
