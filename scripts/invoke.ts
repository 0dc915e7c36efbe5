/**
 * `npm run invoke -- [--shard 0] [--minutes 15 | --from <time> [--to <time>]]`: invokes the deployed
 * function with a REAL SLS trigger event — cursors asked from SLS for the last N minutes of one
 * shard, or for a time range (ISO-8601, relative such as -2h, `begin`/`end`; re-ship a range after
 * a SIEM outage) — and prints the
 * function's answer and its log tail. Test with real data instead of the console's placeholders.
 *
 * Flags (or .env): --region (REGION), --project (SLS_PROJECT), --logstore (SLS_LOGSTORE),
 * --function (FC_FUNCTION_NAME), --account-id (ALIBABA_CLOUD_ACCOUNT_ID), --fc-version 3|2
 * (FC_VERSION; 3 = FC 3.0 as deployed by s.yaml, the default; 2 = FC 2.0, s.fc2.yaml, which also
 * needs --service / FC_SERVICE_NAME).
 * --sls-endpoint: where this script asks for cursors (default https://<region>.log.aliyuncs.com);
 * --event-endpoint: the endpoint put in the event for the function (default the intranet one, as
 * the trigger does); --fc-endpoint: FC API base URL; --dry-run: print the event only.
 */
import { randomUUID } from 'node:crypto';
import { parseCursorSpec } from '../src/event';
import { SlsClient } from '../src/sls/client';
import { credentialsFromEnv, parseFlags, run, setting, UsageError } from './lib/cloud';
import { fcApi, fcVersion } from './lib/fc-api';

const flags = parseFlags({
    region: { type: 'string' }, project: { type: 'string' }, logstore: { type: 'string' },
    service: { type: 'string' }, function: { type: 'string' }, 'account-id': { type: 'string' },
    shard: { type: 'string', default: '0' }, minutes: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
    'sls-endpoint': { type: 'string' }, 'event-endpoint': { type: 'string' }, 'fc-endpoint': { type: 'string' },
    'fc-version': { type: 'string' }, 'dry-run': { type: 'boolean', default: false },
}, `
npm run invoke -- [options]: invoke the deployed function with a real SLS trigger event (cursors
asked from SLS) and print its answer and log tail. Each option falls back to .env, then the environment.

  --region R           REGION, e.g. cn-hangzhou
  --project P          SLS_PROJECT
  --logstore L         SLS_LOGSTORE
  --shard N            shard id (default 0)
  --minutes M          the last M minutes (default 15), or:
  --from T, --to T     a time range: ISO-8601, relative (--from=-2h), begin, end (default --to end)
  --function F         FC_FUNCTION_NAME
  --service S          FC_SERVICE_NAME (FC 2.0 only)
  --account-id A       ALIBABA_CLOUD_ACCOUNT_ID
  --fc-version 3|2     FC_VERSION: FC 3.0 (s.yaml, the default) or FC 2.0 (s.fc2.yaml)
  --sls-endpoint URL   where cursors are asked (default https://<region>.log.aliyuncs.com)
  --event-endpoint URL the endpoint written into the event (default the intranet one, as the trigger does)
  --fc-endpoint URL    the FC API (default <account>.<region>.fc.aliyuncs.com)
  --dry-run            print the event only
  -h, --help           this text
Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET (+ ALIBABA_CLOUD_SECURITY_TOKEN).`);

run(async () => {
  const region = setting(flags, 'region', 'REGION');
  const project = setting(flags, 'project', 'SLS_PROJECT');
  const logstore = setting(flags, 'logstore', 'SLS_LOGSTORE');
  const shard = Number(flags.shard);
  if (!Number.isInteger(shard) || shard < 0) throw new UsageError(`--shard ${flags.shard} is not a shard id`);
  if (flags.minutes !== undefined && flags.from !== undefined) throw new UsageError('--minutes and --from say the same thing: give one of them');
  const minutes = Number(flags.minutes ?? '15');
  if (!(minutes > 0)) throw new UsageError(`--minutes ${flags.minutes} must be a positive number`);
  const from = timeFlag('--from', flags.from ?? `-${Math.round(minutes * 60)}s`);
  const to = timeFlag('--to', flags.to ?? 'end');
  const creds = credentialsFromEnv();

  const sls = new SlsClient({ endpoint: flags['sls-endpoint'] ?? `https://${region}.log.aliyuncs.com`, project, credentials: creds });
  const now = Math.floor(Date.now() / 1000);
  const [beginCursor, endCursor] = await Promise.all([sls.getCursor(logstore, shard, from), sls.getCursor(logstore, shard, to)]);
  sls.close();
  const event = {
    parameter: {},
    source: {
      endpoint: flags['event-endpoint'] ?? `http://${region}-intranet.log.aliyuncs.com`,
      projectName: project, logstoreName: logstore, shardId: shard, beginCursor, endCursor,
    },
    jobName: 'manual-invoke', taskId: randomUUID(), cursorTime: now,
  };
  console.log(`Event for shard ${shard}, from ${flags.from ?? `the last ${minutes} min`} to ${flags.to ?? 'now'}:\n${JSON.stringify(event, null, 2)}`);
  if (flags['dry-run']) return;

  const version = fcVersion(flags);
  const fc = fcApi(version, {
    accountId: setting(flags, 'account-id', 'ALIBABA_CLOUD_ACCOUNT_ID'), region, credentials: creds, endpoint: flags['fc-endpoint'],
    functionName: setting(flags, 'function', 'FC_FUNCTION_NAME'),
    service: version === '2' ? setting(flags, 'service', 'FC_SERVICE_NAME') : undefined,
  });
  const res = await fc.invoke(JSON.stringify(event));
  const tail = res.headers['x-fc-log-result'];
  if (tail) console.log(`\nFunction log (tail):\n${Buffer.from(tail, 'base64').toString('utf8')}`);
  const errorType = res.headers['x-fc-error-type'];
  if (errorType) throw new Error(`the function failed (${errorType}, request ${res.headers['x-fc-request-id'] ?? '?'}):\n${res.body}`);
  console.log(`\nResult (FC ${version}.0, request ${res.headers['x-fc-request-id'] ?? '?'}):\n${res.body}`);
});

/** A time flag as GetCursor takes it: `begin`, `end`, or unix seconds from an ISO-8601 or relative time. */
function timeFlag(name: string, text: string): 'begin' | 'end' | number {
  const spec = parseCursorSpec(text, Date.now());
  if (!spec || spec.kind === 'cursor') throw new UsageError(`${name} ${text} must be begin, end, an ISO-8601 time or a relative time such as -2h`);
  return spec.kind === 'time' ? spec.unixSeconds : spec.kind;
}
