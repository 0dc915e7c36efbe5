/** Settings of `sls-syslog-forwarder consume` (the consumer-group worker), from the environment. */
import { hostname } from 'node:os';
import { ConfigError } from '../errors';
import { parseCursorSpec, type CursorSpec } from '../event';
import type { Credentials } from '../sls/client';
import { ecsRoleUrl, refreshingCredentials } from './credentials';
import { SettingsReader, type Env } from '../config/reader';

export interface ConsumeSettings {
  endpoint: string;
  project: string;
  logstore: string;
  group: string;
  consumer: string;
  /** Where a shard without a checkpoint starts. */
  start: CursorSpec;
  heartbeatMs: number;
  timeoutSeconds: number;
  /** Pause when a shard has no new data. */
  idleMs: number;
  /** Least time between two checkpoints of a shard while a range is being shipped. */
  checkpointMs: number;
  credentials: Credentials | (() => Promise<Credentials>);
}

export function loadConsumeSettings(env: Env = process.env): ConsumeSettings {
  const r = new SettingsReader(env);
  const need = (name: string, example: string): string => {
    const v = r.text(name);
    if (v === undefined) r.problems.push(`${name} is not set (e.g. ${name}=${example}).`);
    return v ?? '';
  };
  const endpoint = need('SLS_ENDPOINT', 'https://cn-hangzhou.log.aliyuncs.com');
  const project = need('SLS_PROJECT', 'my-project');
  const logstore = need('SLS_LOGSTORE', 'waf-logs');
  const group = need('SLS_CONSUMER_GROUP', 'siem-forwarder');
  const startText = r.text('SLS_START') ?? 'end';
  const start = parseCursorSpec(startText, Date.now());
  if (!start || start.kind === 'cursor') r.problems.push(`SLS_START="${startText}" must be begin, end, an ISO-8601 time or a relative time such as -15m.`);
  const accessKeyId = r.text('ALIBABA_CLOUD_ACCESS_KEY_ID');
  const accessKeySecret = r.raw('ALIBABA_CLOUD_ACCESS_KEY_SECRET');
  const credentialsUri = r.text('ALIBABA_CLOUD_CREDENTIALS_URI');
  const ecsRole = r.text('ALIBABA_CLOUD_ECS_METADATA');
  let credentials: ConsumeSettings['credentials'] = { accessKeyId: accessKeyId ?? '', accessKeySecret: accessKeySecret ?? '', securityToken: r.raw('ALIBABA_CLOUD_SECURITY_TOKEN') };
  if (credentialsUri) credentials = refreshingCredentials(credentialsUri);
  else if (ecsRole) credentials = refreshingCredentials(ecsRoleUrl(ecsRole));
  else if (!accessKeyId || !accessKeySecret) {
    r.problems.push(
      'No credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS), ' +
        'or ALIBABA_CLOUD_ECS_METADATA=<ECS RAM role>, or ALIBABA_CLOUD_CREDENTIALS_URI, for an identity with log:GetCursorOrData, ' +
        'log:ListShards and the consumer-group actions on the logstore.',
    );
  }
  const heartbeatMs = r.integer('SLS_HEARTBEAT_MS', 10_000, 100, 600_000);
  const settings: ConsumeSettings = {
    endpoint, project, logstore, group,
    consumer: r.text('SLS_CONSUMER_NAME') ?? `${hostname()}-${process.pid}`,
    start: start && start.kind !== 'cursor' ? start : { kind: 'end' },
    heartbeatMs,
    timeoutSeconds: r.integer('SLS_CONSUMER_TIMEOUT_SECONDS', Math.max(1, Math.ceil((heartbeatMs * 6) / 1000)), 1, 3600),
    idleMs: r.integer('SLS_IDLE_MS', 1_000, 10, 60_000),
    checkpointMs: r.integer('SLS_CHECKPOINT_MS', 5_000, 0, 600_000),
    credentials,
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return settings;
}
