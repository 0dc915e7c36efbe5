/**
 * `sls-syslog-forwarder consume`: the consumer-group worker (see src/consume/worker.ts). Settings
 * come from the environment: the SLS_* consumer settings and the same SYSLOG_* / SPLUNK_HEC_*
 * output settings as the FC function. SIGTERM/SIGINT drain and checkpoint before exiting.
 */
import { ConfigError } from './errors';
import { loadConsumeSettings } from './consume/settings';
import { ConsumerWorker } from './consume/worker';
import { renderChecks, runChecks } from './check';
import { kmsFetcher, loadConfigWithSecrets } from './settings/with-secrets';

/** Set by scripts/build.mjs from package.json. */
declare const __VERSION__: string;

const HELP = `sls-syslog-forwarder ${__VERSION__}: ships Alibaba Cloud SLS logs to a SIEM (syslog over UDP/TCP/TLS/RELP, or Splunk HEC).

usage: sls-syslog-forwarder <command> [--help]
       sls-syslog-forwarder --help | --version

commands:
  consume   join an SLS consumer group and ship the shards it is given, until SIGTERM/SIGINT
            (or, with SLS_END, until every shard reached it)
  check     check the settings, the SIEM and SLS as a checklist (exit 1 on any failure);
            --send-test also sends one message marked as a test

Settings come from the environment (README: "Settings" for the output, "Consumer-group worker"
for SLS_* and credentials).`;

const CHECK_HELP = `usage: sls-syslog-forwarder check [--send-test]

Reads the same settings as the function or the worker (the environment) and answers a checklist:
settings valid; the SIEM reachable (DNS, TCP, TLS with the configured CA, SNI and client
certificate; a certificate expiring within 30 days is a warning); with --send-test one message
marked as a test ([TEST], MSGID CHECK), proven delivered where the transport can; SLS reachable with
the credentials (ListShards, GetCursor on each shard, one PullLogs; needs SLS_ENDPOINT, SLS_PROJECT,
SLS_LOGSTORE) and the consumer group readable (SLS_CONSUMER_GROUP). Exit 1 when any line fails.`;

const CONSUME_HELP = `usage: sls-syslog-forwarder consume

Joins the consumer group SLS_CONSUMER_GROUP of SLS_ENDPOINT / SLS_PROJECT / SLS_LOGSTORE and ships
the shards SLS gives this worker to the SIEM (SYSLOG_* or SPLUNK_HEC_*), checkpointing only what
the receiver proved it has. SIGTERM/SIGINT drain (every shard proves and checkpoints its last
batch) and exit 0. Settings and credentials: README, "Consumer-group worker"; required:
SLS_ENDPOINT, SLS_PROJECT, SLS_LOGSTORE, SLS_CONSUMER_GROUP, credentials, and SYSLOG_HOST (or
OUTPUT=splunk-hec with SPLUNK_HEC_URL and SPLUNK_HEC_TOKEN_SECRET, _FILE or the token). The *_SECRET
settings are fetched from KMS Secrets Manager with the same credentials (README, "Secrets").`;

/** A user's mistake: one line, exit 2. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    console.log(__VERSION__);
    return 0;
  }
  if (command !== 'consume' && command !== 'check') throw new UsageError(`unknown command "${command}": the commands are consume and check (sls-syslog-forwarder --help)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command === 'check' ? CHECK_HELP : CONSUME_HELP);
    return 0;
  }
  if (command === 'check') {
    const unknown = rest.find((a) => a !== '--send-test');
    if (unknown) throw new UsageError(`check takes only --send-test ("${unknown}") (sls-syslog-forwarder check --help)`);
    const lines = await runChecks(process.env, { sendTest: rest.includes('--send-test') });
    console.log(renderChecks(lines));
    return lines.some((l) => l.verdict === 'fail') ? 1 : 0;
  }
  if (rest.length > 0) throw new UsageError(`consume takes no options ("${rest[0]}"): its settings come from the environment (sls-syslog-forwarder consume --help)`);
  const settings = loadConsumeSettings();
  // The *_SECRET settings are fetched with the worker's own credentials (the official chain).
  const config = await loadConfigWithSecrets(process.env, kmsFetcher(process.env, settings.credentials, settings.endpoint));
  const worker = new ConsumerWorker(settings, config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => worker.stop());
  await worker.run();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof UsageError) {
      console.error(`sls-syslog-forwarder: ${err.message}`);
      process.exit(2);
    }
    // Settings problems are listed whole; anything else in one line, never a stack trace.
    console.error(err instanceof ConfigError ? err.message : `${err.name}: ${err.message.split('\n')[0]}`);
    process.exit(1);
  },
);
