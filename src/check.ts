/**
 * `sls-syslog-forwarder check`: reads the same settings as the function or the worker and answers
 * a checklist, a verdict per line and what to fix: settings valid; the SIEM reachable (DNS, TCP,
 * TLS with the configured CA/SNI/client certificate, the certificate's expiry; optionally one
 * test message, proven delivered); SLS reachable with the credentials (ListShards, GetCursor on
 * each shard, one PullLogs) and the consumer group readable. Usable on a laptop before `s deploy`.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { ForwarderConfig } from './config';
import { secretReferences } from './config/secrets';
import type { Env } from './config/reader';
import { credentialsConfigured, officialCredentials } from './consume/credentials';
import { withSampleAliases } from './consume/settings';
import { ConfigError, SlsError } from './errors';
import { SlsClient } from './sls/client';
import { operatorEndpoint } from './sls/endpoint';
import { SecretError } from './secrets/kms';
import { kmsFetcher, loadConfigWithSecrets } from './secrets/resolve';
import { openTransport } from './transport/open';
import { StreamTransport } from './transport/stream';

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckLine {
  verdict: Verdict;
  what: string;
  detail: string;
}

/** A certificate expiring sooner than this is a warning. */
const EXPIRY_WARNING_DAYS = 30;
const STEP_TIMEOUT_MS = 15_000;

const firstLine = (err: unknown) => (err as Error).message.split('\n')[0]!;

export async function runChecks(source: Env, options: { sendTest: boolean }): Promise<CheckLine[]> {
  const env = withSampleAliases(source, () => {});
  const lines: CheckLine[] = [];
  let config: ForwarderConfig | undefined;
  const references = secretReferences(env);
  try {
    if (references.length > 0 && !credentialsConfigured(env)) throw new SecretError('no credentials to read them with: set them as for the worker (README, "Consumer-group worker")');
    config = await loadConfigWithSecrets(env, kmsFetcher(env, () => officialCredentials(env)(), env.SLS_ENDPOINT), () => {});
    if (references.length > 0) lines.push({ verdict: 'ok', what: 'secrets', detail: `fetched from KMS: ${references.map((r) => `${r.secretSetting} (${r.secretName})`).join(', ')}` });
    lines.push({ verdict: 'ok', what: 'settings', detail: `valid (${config.output === 'splunk-hec' ? 'Splunk HEC' : `${config.protocol} to ${config.host}:${config.port}`})` });
  } catch (err) {
    if (err instanceof SecretError) lines.push({ verdict: 'fail', what: 'secrets', detail: firstLine(err) });
    const problems = err instanceof ConfigError ? err.problems : err instanceof SecretError ? ['not checked: the KMS secrets could not be fetched'] : [firstLine(err)];
    for (const p of problems) lines.push({ verdict: 'fail', what: 'settings', detail: p });
  }
  if (config) lines.push(...(await checkSiem(config, options.sendTest)));
  else lines.push({ verdict: 'skip', what: 'SIEM', detail: 'not tried: fix the settings first' });
  lines.push(...(await checkSls(env, config)));
  return lines;
}

async function checkSiem(config: ForwarderConfig, sendTest: boolean): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  if (config.output === 'syslog' && !isIP(config.host)) {
    try {
      const { address } = await lookup(config.host);
      lines.push({ verdict: 'ok', what: 'SIEM DNS', detail: `${config.host} is ${address}` });
    } catch (err) {
      lines.push({ verdict: 'fail', what: 'SIEM DNS', detail: `${config.host} does not resolve (${(err as NodeJS.ErrnoException).code}): check SYSLOG_HOST (and the VPC's DNS for a private name)` });
      return lines;
    }
  }
  let transport;
  try {
    transport = await openTransport(config, Date.now() + STEP_TIMEOUT_MS);
  } catch (err) {
    lines.push({ verdict: 'fail', what: 'SIEM connection', detail: firstLine(err) });
    return lines;
  }
  const what = config.output === 'splunk-hec' ? 'Splunk HEC health' : config.protocol === 'udp' ? 'SIEM socket' : 'SIEM connection';
  const tls = config.output === 'syslog' && (config.protocol === 'tls' || config.relpTls);
  const unverified = config.output === 'splunk-hec' ? config.hec!.insecure && config.hec!.url.protocol === 'https:' : tls && config.tls.insecure;
  lines.push({
    verdict: config.protocol === 'udp' && config.output === 'syslog' ? 'warn' : 'ok', what,
    detail: config.protocol === 'udp' && config.output === 'syslog'
      ? `${transport.target}: UDP has no handshake, so reaching the receiver cannot be checked (and delivery cannot be proven)`
      : `${transport.target} accepted${tls ? ` the TLS handshake${unverified ? '' : ' (certificate and name verified)'}` : ''}`,
  });
  // Under the insecure switch the handshake proves nothing about who answered: say so, never "verified".
  if (unverified) {
    const setting = config.output === 'splunk-hec' ? 'SPLUNK_HEC_INSECURE' : 'SYSLOG_TLS_INSECURE';
    lines.push({ verdict: 'warn', what: 'SIEM certificate', detail: `certificate NOT verified (${setting}=true): anyone on the network path can read and alter these logs; set the CA instead` });
  }
  if (config.output === 'splunk-hec' && config.hec!.url.protocol === 'http:') {
    lines.push({ verdict: 'warn', what: 'Splunk HEC', detail: 'not encrypted (SPLUNK_HEC_ALLOW_HTTP=on): the token and the logs cross the network in clear' });
  }
  const certificate = transport instanceof StreamTransport && !unverified ? transport.peerCertificate() : undefined;
  if (certificate?.valid_to) {
    const days = Math.floor((Date.parse(certificate.valid_to) - Date.now()) / 86_400_000);
    lines.push(days < EXPIRY_WARNING_DAYS
      ? { verdict: 'warn', what: 'SIEM certificate', detail: `expires in ${days} day(s) (${certificate.valid_to}): renew it before then` }
      : { verdict: 'ok', what: 'SIEM certificate', detail: `valid until ${certificate.valid_to}` });
  }
  if (sendTest && config.output === 'syslog') {
    try {
      const stamp = new Date().toISOString();
      // Marked as a test in every field a SIEM rule can see: APP-NAME, MSGID and the text.
      transport.send(Buffer.from(`<14>1 ${stamp} ${hostname()} sls-syslog-forwarder - CHECK - [TEST] sls-syslog-forwarder check: test message, ignore`));
      await transport.commit();
      lines.push({ verdict: 'ok', what: 'test message', detail: `sent, ${transport.proof === 'none' ? 'handed to the kernel (no proof possible)' : `proven delivered (${transport.proof})`}` });
    } catch (err) {
      lines.push({ verdict: 'fail', what: 'test message', detail: firstLine(err) });
    }
  } else if (sendTest) lines.push({ verdict: 'skip', what: 'test message', detail: 'not sent to Splunk HEC: the health call above is its check' });
  transport.destroy();
  return lines;
}

async function checkSls(env: Env, config: ForwarderConfig | undefined): Promise<CheckLine[]> {
  const endpoint = env.SLS_ENDPOINT?.trim();
  const project = env.SLS_PROJECT?.trim();
  const logstore = env.SLS_LOGSTORE?.trim();
  if (!endpoint || !project || !logstore) {
    return [{ verdict: 'skip', what: 'SLS', detail: 'not tried: set SLS_ENDPOINT, SLS_PROJECT and SLS_LOGSTORE (and credentials) to check reading the logstore' }];
  }
  if (!credentialsConfigured(env)) {
    return [{ verdict: 'fail', what: 'SLS credentials', detail: 'none found: set ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, RRSA, ALIBABA_CLOUD_ECS_METADATA or ALIBABA_CLOUD_CREDENTIALS_URI (README, "Consumer-group worker")' }];
  }
  const lines: CheckLine[] = [];
  const client = new SlsClient({
    endpoint: operatorEndpoint(endpoint, config?.source.https ?? true).url, project, credentials: officialCredentials(env),
    timeoutMs: STEP_TIMEOUT_MS, retry: { attempts: 2, baseDelayMs: 200, maxDelayMs: 500 }, spl: config?.spl,
  });
  try {
    const shards = await client.listShards(logstore);
    lines.push({ verdict: 'ok', what: 'SLS logstore', detail: `${project}/${logstore}: ${shards.length} shard(s)${shards.some((s) => s.readonly) ? ` (${shards.filter((s) => s.readonly).length} readonly)` : ''}` });
    for (const { shard } of shards) {
      const [begin, end] = await Promise.all([client.getCursor(logstore, shard, 'begin'), client.getCursor(logstore, shard, 'end')]);
      if (shard === shards[0]!.shard) {
        const pull = await client.pullLogs(logstore, shard, begin, end, 1);
        lines.push({ verdict: 'ok', what: 'SLS PullLogs', detail: `shard ${shard}: read ${pull.groupCount} log group(s)${config?.spl ? ' through the SPL statement' : ''}` });
      }
    }
    lines.push({ verdict: 'ok', what: 'SLS GetCursor', detail: `every shard (${shards.length}) answered` });
    const group = (env.SLS_CONSUMER_GROUP ?? env.SLS_CG)?.trim();
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
