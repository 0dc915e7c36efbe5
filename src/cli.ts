/**
 * `sls-syslog-forwarder consume`: the consumer-group worker (see src/consume/worker.ts). Settings
 * come from the environment: the SLS_* consumer settings and the same SYSLOG_* / SPLUNK_HEC_*
 * output settings as the FC function. SIGTERM/SIGINT drain and checkpoint before exiting.
 */
import { loadConfig } from './config';
import { loadConsumeSettings } from './consume/settings';
import { ConsumerWorker } from './consume/worker';

async function main(argv: string[]): Promise<number> {
  if (argv[0] !== 'consume') {
    console.error('usage: sls-syslog-forwarder consume   (settings from the environment; see README, "Consumer-group worker")');
    return 2;
  }
  const worker = new ConsumerWorker(loadConsumeSettings(), loadConfig());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => worker.stop());
  await worker.run();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`${err.name}: ${err.message}`);
    process.exit(1);
  },
);
