/**
 * `sls-syslog-forwarder check`: reads the same settings as the function or the worker and answers
 * a checklist, a verdict per line and what to fix: settings valid; the SIEM reachable (DNS, TCP,
 * TLS with the configured CA/SNI/client certificate, the certificate's expiry; optionally one
 * test message, proven delivered); SLS reachable with the credentials (ListShards, GetCursor on
 * each shard, one PullLogs) and the consumer group readable. Usable on a laptop before `s deploy`.
 */
import type { ForwarderConfig } from './settings';
import { SettingsReader, type Env } from './config/reader';
import { credentialsConfigured, officialCredentials } from './consume/credentials';
import { readConsumerTarget, withSampleAliases } from './consume/settings';
import { ConfigError, SlsError } from './errors';
import { SlsClient } from './sls/client';
import { operatorEndpoint } from './sls/endpoint';
import { SecretError } from './secrets/kms';
import { kmsFetcher, loadConfigWithSecrets, secretReferences } from './settings/with-secrets';
import type { CheckLine, Verdict } from './outputs/output';

export type { CheckLine, Verdict } from './outputs/output';
const STEP_TIMEOUT_MS = 15_000;

const firstLine = (err: unknown) => (err as Error).message.split('\n')[0]!;

export async function runChecks(source: Env, options: { sendTest: boolean }): Promise<CheckLine[]> {
  const env = withSampleAliases(source, () => {});
  const lines: CheckLine[] = [];
  let config: ForwarderConfig | undefined;
  const references = secretReferences(env);
  try {
    if (references.length > 0 && !credentialsConfigured(env)) throw new SecretError('no credentials to read them with: set them as for the worker (README, "Consumer-group worker")');
    const loaded = await loadConfigWithSecrets(env, kmsFetcher(env, () => officialCredentials(env)(), env.SLS_ENDPOINT), () => {});
    config = loaded;
    if (references.length > 0) lines.push({ verdict: 'ok', what: 'secrets', detail: `fetched from KMS: ${references.map((r) => `${r.secretSetting} (${r.secretName})`).join(', ')}` });
    lines.push({ verdict: 'ok', what: 'settings', detail: `valid (${loaded.outputs.map((o) => (loaded.outputs.length > 1 ? `${o.name}: ${o.output.label}` : o.output.label)).join('; ')})` });
  } catch (err) {
    if (err instanceof SecretError) lines.push({ verdict: 'fail', what: 'secrets', detail: firstLine(err) });
    const problems = err instanceof ConfigError ? err.problems : err instanceof SecretError ? ['not checked: the KMS secrets could not be fetched'] : [firstLine(err)];
    for (const p of problems) lines.push({ verdict: 'fail', what: 'settings', detail: p });
  }
  if (config) lines.push(...(await checkOutputs(config, options.sendTest)));
  else lines.push({ verdict: 'skip', what: 'SIEM', detail: 'not tried: fix the settings first' });
  lines.push(...(await checkSls(env, config)));
  return lines;
}

/** Each output's own checks (outputs/<name>/check.ts), its lines named after it when there are several. */
async function checkOutputs(config: ForwarderConfig, sendTest: boolean): Promise<CheckLine[]> {
  const several = config.outputs.length > 1;
  const lines: CheckLine[] = [];
  for (const o of config.outputs) {
    for (const line of await o.output.check(sendTest)) lines.push(several ? { ...line, what: `${o.name}: ${line.what}` } : line);
  }
  return lines;
}

async function checkSls(env: Env, config: ForwarderConfig | undefined): Promise<CheckLine[]> {
  const { endpoint, project, logstore, group } = readConsumerTarget(new SettingsReader(env));
  if (!endpoint || !project || !logstore) {
    return [{ verdict: 'skip', what: 'SLS', detail: 'not tried: set SLS_ENDPOINT, SLS_PROJECT and SLS_LOGSTORE (and credentials) to check reading the logstore' }];
  }
  if (!credentialsConfigured(env)) {
    return [{ verdict: 'fail', what: 'SLS credentials', detail: 'none found: set ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, RRSA, ALIBABA_CLOUD_ECS_METADATA or ALIBABA_CLOUD_CREDENTIALS_URI (README, "Consumer-group worker")' }];
  }
  const lines: CheckLine[] = [];
  const client = new SlsClient({
    endpoint: operatorEndpoint(endpoint, config?.source.policy.https ?? true).url, project, credentials: officialCredentials(env),
    timeoutMs: STEP_TIMEOUT_MS, retry: { attempts: 2, baseDelayMs: 200, maxDelayMs: 500 }, spl: config?.source.spl,
  });
  try {
    const shards = await client.listShards(logstore);
    lines.push({ verdict: 'ok', what: 'SLS logstore', detail: `${project}/${logstore}: ${shards.length} shard(s)${shards.some((s) => s.readonly) ? ` (${shards.filter((s) => s.readonly).length} readonly)` : ''}` });
    for (const { shard } of shards) {
      const [begin, end] = await Promise.all([client.getCursor(logstore, shard, 'begin'), client.getCursor(logstore, shard, 'end')]);
      if (shard === shards[0]!.shard) {
        const pull = await client.pullLogs(logstore, shard, begin, end, 1);
        lines.push({ verdict: 'ok', what: 'SLS PullLogs', detail: `shard ${shard}: read ${pull.groupCount} log group(s)${config?.source.spl ? ' through the SPL statement' : ''}` });
      }
    }
    lines.push({ verdict: 'ok', what: 'SLS GetCursor', detail: `every shard (${shards.length}) answered` });
    if (group) {
      try {
        const checkpoints = await client.getCheckpoints(logstore, group);
        lines.push({ verdict: 'ok', what: 'SLS consumer group', detail: `${group}: readable, ${checkpoints.size} checkpoint(s)` });
      } catch (err) {
        if (err instanceof SlsError && err.code === 'ConsumerGroupNotExist') lines.push({ verdict: 'warn', what: 'SLS consumer group', detail: `${group} does not exist yet: the worker creates it at start (needs log:CreateConsumerGroup)` });
        else throw err;
      }
    }
  } catch (err) {
    lines.push({ verdict: 'fail', what: 'SLS', detail: firstLine(err) });
  } finally {
    client.close();
  }
  return lines;
}

const MARK: Record<Verdict, string> = { ok: '[ ok ]', warn: '[warn]', fail: '[FAIL]', skip: '[skip]' };

export function renderChecks(lines: CheckLine[]): string {
  const width = Math.max(...lines.map((l) => l.what.length));
  return lines.map((l) => `${MARK[l.verdict]} ${l.what.padEnd(width)}  ${l.detail}`).join('\n');
}
