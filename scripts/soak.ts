/**
 * `npm run soak -- --minutes N [--shards K]`: a longer soak, outside CI. The built function is
 * driven with the SLS trigger's semantics (test/support/trigger.ts) for N minutes while a writer
 * appends at a steady rate with bursts and the fault phases rotate (receiver killed, stalled,
 * stalled then killed; SLS 5xx and throttling; bursts). Prints written / delivered / lost /
 * duplicated per phase, then one JSON line. Exit code 1 on any loss or any invocation killed at
 * the timeout (or whose process died). Starts and stops its own rsyslog and SLS emulator.
 *
 * Options: --minutes N (3), --shards K (2), --rate R records/s per shard (1000), --interval S
 * triggerInterval (10; s.yaml has 60, for longer soaks), --timeout S function timeout (60),
 * --phase-seconds S (max(2 x interval + 5, min(120, minutes x 60 / 7))),
 * --max-retry N maxRetryTime (3), --sls-latency MS (10), --seed N (1), --max-duplicates RATIO
 * (also fail above this duplicate ratio; default: report only), --env NAME=VALUE (repeatable),
 * --receiver-loss fail|report (fail: the default; report: records rsyslog read and then lost to
 * its own SIGKILL, which no TCP sender can detect, are printed but do not fail the run),
 * --verbose (every invocation), --keep FILE (a copy of what rsyslog wrote, to look into a loss).
 */
import { parseArgs } from 'node:util';
import { PHASES, runSoak, soakProblems, soakTable } from '../test/support/soak';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    shards: { type: 'string', default: '2' },
    rate: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '60' },
    'phase-seconds': { type: 'string' },
    'max-retry': { type: 'string', default: '3' },
    'sls-latency': { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    'max-duplicates': { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    'receiver-loss': { type: 'string', default: 'fail' },
    verbose: { type: 'boolean', default: false },
    keep: { type: 'string' },
  },
});

function number(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number from ${min} to ${max} (got ${value})`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const minutes = number('minutes', args.minutes, 0.5, 24 * 60);
  const interval = number('interval', args.interval, 3, 600);
  const timeout = number('timeout', args.timeout, 1, 900);
  // Long enough that a window of the phase's own records (it closes up to two intervals after the
  // phase starts) is shipped inside it, short enough that N minutes see all 7 phases.
  const phaseSeconds = number('phase-seconds', args['phase-seconds'] ?? String(Math.max(2 * interval + 5, Math.min(120, Math.floor((minutes * 60) / PHASES.length)))), 5, 3600);
  const maxDuplicates = args['max-duplicates'] === undefined ? undefined : number('max-duplicates', args['max-duplicates'], 0, 100);
  const receiverLoss = args['receiver-loss'];
  if (receiverLoss !== 'fail' && receiverLoss !== 'report') {
    console.error(`--receiver-loss is fail or report (got ${receiverLoss})`);
    process.exit(2);
  }
  const env: Record<string, string> = {};
  for (const pair of args.env) {
    const eq = pair.indexOf('=');
    if (eq < 1) {
      console.error(`--env wants NAME=VALUE (got ${pair})`);
      process.exit(2);
    }
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const report = await runSoak({
    plan: PHASES.map((phase) => ({ phase, seconds: phaseSeconds })),
    seconds: minutes * 60,
    shards: number('shards', args.shards, 1, 16),
    ratePerShard: number('rate', args.rate, 1, 100_000),
    intervalSeconds: interval,
    timeoutSeconds: timeout,
    maxRetryTime: number('max-retry', args['max-retry'], 0, 100),
    slsLatencyMs: number('sls-latency', args['sls-latency'], 0, 10_000),
    seed: number('seed', args.seed, 0, 2 ** 32 - 1),
    env,
    log: (line) => console.log(line),
    logInvocations: args.verbose,
    keepReceiverFile: args.keep,
  });

  console.log('');
  console.log(soakTable(report));
  const inv = report.invocations;
  console.log(
    `\ninvocations: ${inv.total} (ok ${inv.ok}, failed ${inv.failed}, killed at timeout ${inv.timedOut}, died ${inv.died}); retries ${inv.retries}, ` +
      `retry rounds used up ${inv.exhaustedRounds}; longest ${inv.maxDurationMs} ms of ${inv.timeoutSeconds} s; re-sent by the function ${inv.functionResent}`,
  );
  for (const [kind, n] of Object.entries(inv.errors).sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)} x ${kind}`);
  for (const run of report.lostRuns) {
    console.log(`lost ${run.records} records, ids ${run.from}..${run.to} (shard ${run.shard}, groups ${run.firstGroup}..${run.lastGroup}, phase ${run.phase}): ${run.cause}`);
    for (const inv of run.invocations) console.log(`    window ${inv.window} [${inv.begin}, ${inv.end}) attempt ${inv.attempt}: ${inv.outcome} in ${inv.durationMs} ms ${JSON.stringify(inv.summary ?? {})}`);
  }
  if (report.torn > 0) console.log(`${report.torn} receiver lines cut short by a SIGKILL mid-write (${report.receiverKills} kills); their records count as not delivered`);
  console.log(`duplicate ratio ${(report.total.duplicateRatio * 100).toFixed(2)} % of written (goal <= 5 %); wall time ${report.wallSeconds} s`);
  console.log(JSON.stringify({ event: 'soak', ...report }));

  const problems = soakProblems(report, receiverLoss);
  if (maxDuplicates !== undefined && report.total.duplicateRatio > maxDuplicates) {
    problems.push(`duplicate ratio ${report.total.duplicateRatio.toFixed(4)} above --max-duplicates ${maxDuplicates}`);
  }
  if (problems.length > 0) {
    console.log(`FAIL: ${problems.join('; ')}`);
    process.exitCode = 1;
  } else console.log('PASS: 0 lost, no invocation killed');
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
