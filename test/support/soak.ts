/**
 * A soak: the built function driven by the SLS trigger's semantics (./trigger) while a writer
 * appends log groups at a steady rate with bursts (./soak-writer), and fault phases rotate on the
 * real rsyslog and the SLS emulator (./soak-faults). Every record carries a unique `id` and the
 * `phase` it was written in; at the end (once every shard's checkpoint is at its end) each id is
 * counted on the receiver (./soak-count): written, delivered, lost, duplicated, per phase.
 * Used by `npm run soak` and test/soak.test.ts.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SlsEmulator } from '../sls-emulator/server';
import { startEmulator } from './fc-invoke';
import { Rsyslog } from './rsyslog';
import { countDelivered, type LossCause, lossCause, settle } from './soak-count';
import { FaultScheduler } from './soak-faults';
import { type Phase, PHASES, rng, SOAK_LOGSTORE, SOAK_PROJECT, Writer } from './soak-writer';
import { type InvocationRecord, SlsTrigger } from './trigger';

export { type Phase, PHASES } from './soak-writer';

export interface SoakOptions {
  /** Fault phases in order with their lengths; without `seconds` the plan runs once, else it repeats until `seconds` have passed. */
  plan: Array<{ phase: Phase; seconds: number }>;
  seconds?: number;
  shards: number;
  /** Records per second per shard, outside bursts. */
  ratePerShard: number;
  /** A burst writes this many times the rate ... */
  burstFactor?: number;
  /** ... for this long, then the normal rate as long again, while the `burst` phase lasts. */
  burstSeconds?: number;
  padBytes?: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  maxRetryTime?: number;
  /** Added to every PullLogs answer (SLS is some milliseconds away). */
  slsLatencyMs?: number;
  /** More of the function's environment. */
  env?: Record<string, string>;
  seed?: number;
  /** How long to wait after the writes stop for every shard's checkpoint to reach its end. */
  drainSeconds?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Copy the receiver's file here before it is removed (to look into a loss). */
  keepReceiverFile?: string;
  /** Log every invocation, not only the failed ones. */
  logInvocations?: boolean;
}

export interface PhaseReport {
  written: number;
  /** Unique ids of the phase's records found on the receiver. */
  delivered: number;
  lost: number;
  /** Of `lost`: what the receiver read and then lost to its own SIGKILL (see soak-count). */
  lostInReceiver: number;
  /** Extra copies of the phase's ids. */
  duplicated: number;
  duplicateRatio: number;
  /** Seconds this phase ran (summed over repeats). */
  seconds: number;
  /** Fault events: receiver kills/stalls, SLS errors served, bursts. */
  faults: number;
  /** Invocations that started in this phase, and how they ended. */
  invocations: number;
  failed: number;
  killed: number;
  /** Records those invocations sent again after a reconnect (the function's own count). */
  resent: number;
}

export interface LostRun {
  cause: LossCause;
  shard: number;
  /** First and last id, how many records, and the log groups [first, last] they are in. */
  from: number;
  to: number;
  records: number;
  firstGroup: number;
  lastGroup: number;
  phase: Phase;
  /** The invocations whose window held them, and what they said. */
  invocations: Array<Pick<InvocationRecord, 'window' | 'begin' | 'end' | 'attempt' | 'outcome' | 'label' | 'startedAt' | 'durationMs'> & { summary?: Record<string, unknown> }>;
}

export interface SoakReport {
  phases: Partial<Record<Phase, PhaseReport>>;
  total: PhaseReport;
  invocations: {
    total: number; ok: number; failed: number; timedOut: number; died: number; retries: number; exhaustedRounds: number;
    maxDurationMs: number; timeoutSeconds: number; functionResent: number;
    /** Retries that resumed from the proof point an earlier attempt saved (resumedFrom). */
    resumed: number;
    /** Failed invocations by the shape of their error message. */
    errors: Record<string, number>;
  };
  /** Every shard's checkpoint reached its end before counting. */
  caughtUp: boolean;
  /** Receiver lines with an id nobody wrote, or without an id. */
  unknown: number;
  /** Receiver lines cut by a SIGKILL mid-write (their record counts as not delivered). */
  torn: number;
  receiverKills: number;
  /** Runs of lost records (the first 20), with their cause and the invocations that covered them. */
  lostRuns: LostRun[];
  wallSeconds: number;
  settings: Record<string, unknown>;
}

const emptyPhase = (): PhaseReport => ({
  written: 0, delivered: 0, lost: 0, lostInReceiver: 0, duplicated: 0, duplicateRatio: 0, seconds: 0, faults: 0, invocations: 0, failed: 0, killed: 0, resent: 0,
});

/** An error message's shape: digits, cursors and addresses folded, so alike failures group. */
function errorKind(record: InvocationRecord): string {
  const message = (record.error?.message ?? '').replace(/[A-Za-z0-9+/]{20,}={0,2}/g, '<c>').replace(/\d+/g, 'N');
  return `${record.error?.name ?? 'Error'}: ${message.slice(0, 110)}`;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const random = rng(options.seed ?? 1);
  const started = Date.now();
  // Lean: only app-name and msg are written, so rsyslog keeps up and a long soak's file stays small.
  const rsyslog = await new Rsyslog({ lean: true }).start();
  let emulator: SlsEmulator | undefined;
  let trigger: SlsTrigger | undefined;
  let writer: Writer | undefined;
  let phase: Phase = 'none';
  const phases: Partial<Record<Phase, PhaseReport>> = {};
  try {
    emulator = await startEmulator();
    emulator.pullDelayMs = options.slsLatencyMs ?? 10;
    emulator.createLogstore(SOAK_PROJECT, SOAK_LOGSTORE, options.shards);
    writer = new Writer(emulator, options.shards, options.ratePerShard, options.padBytes ?? 64, () => phase);
    const faults = new FaultScheduler(rsyslog, emulator, () => trigger, writer, random, options.burstFactor ?? 10, options.burstSeconds ?? 3);
    const startMs = Date.now();
    writer.start();
    trigger = new SlsTrigger({
      emulator, project: SOAK_PROJECT, logstore: SOAK_LOGSTORE, shards: Array.from({ length: options.shards }, (_, i) => i), timeline: writer,
      env: { SYSLOG_HOST: '127.0.0.1', SYSLOG_PORT: String(rsyslog.ports.tcp), ...options.env },
      intervalSeconds: options.intervalSeconds, timeoutSeconds: options.timeoutSeconds, maxRetryTime: options.maxRetryTime ?? 3,
      startMs, label: () => phase,
      onInvocation: (r) => {
        if (options.logInvocations) {
          const s = r.summary ?? {};
          log(`  shard ${r.shard} window ${r.window} [${r.begin}, ${r.end}) attempt ${r.attempt}: ${r.outcome} in ${r.durationMs} ms, records ${s.records}, delivered ${s.delivered}, resent ${s.resent}, reconnects ${s.reconnects}${s.resumedFrom ? ', resumed' : ''}`);
        }
        if (r.outcome !== 'ok') log(`  shard ${r.shard} window ${r.window} attempt ${r.attempt}: ${r.outcome} after ${r.durationMs} ms: ${errorKind(r)}`);
      },
    }).start();

    // Without `seconds`, each phase runs its full length (a fault that ran over does not shorten the next).
    const end = options.seconds === undefined ? Infinity : startMs + options.seconds * 1000;
    const steps = options.seconds === undefined ? options.plan.length : Infinity;
    for (let i = 0; i < steps && Date.now() < end - 500; i++) {
      const step = options.plan[i % options.plan.length]!;
      phase = step.phase;
      const phaseStart = Date.now();
      const until = Math.min(end, phaseStart + step.seconds * 1000);
      log(`${new Date().toISOString()} phase ${phase} for ${Math.round((until - phaseStart) / 1000)} s (written so far ${writer.seq}, ${trigger.invocations.length} invocations, ${trigger.behind()} groups behind)`);
      const events = await faults.run(phase, phaseStart, until);
      faults.heal();
      const p = (phases[phase] ??= emptyPhase());
      p.faults += events;
      p.seconds += (Date.now() - phaseStart) / 1000;
    }
    writer.stop();
    faults.heal();
    phase = 'none';
    const drainSeconds = options.drainSeconds ?? Math.max(60, options.intervalSeconds * 4 + options.timeoutSeconds * 2);
    log(`${new Date().toISOString()} writes stopped at ${writer.seq} records; waiting up to ${drainSeconds} s for every checkpoint to reach its end`);
    const caughtUp = await trigger.waitCaughtUp(drainSeconds * 1000);
    await trigger.stop();
    trigger.check();
    await settle(rsyslog);
    if (options.keepReceiverFile) copyFileSync(join(rsyslog.dir, 'tcp.jsonl'), options.keepReceiverFile);

    const delivered = await countDelivered(rsyslog, writer.seq, faults.killOffsets);
    const { copies } = delivered;
    for (let id = 0; id < writer.seq; id++) {
      const p = (phases[writer.phaseOfId(id)] ??= emptyPhase());
      p.written++;
      const n = copies[id]!;
      if (n === 0) p.lost++;
      else {
        p.delivered++;
        p.duplicated += n - 1;
      }
    }
    const invocations = trigger.invocations;
    const lostRuns: LostRun[] = [];
    for (const run of writer.runs((id) => copies[id] === 0)) {
      const cause = lossCause(run, delivered);
      if (cause === 'receiver-killed-after-reading') {
        for (let id = run.from; id <= run.to; id++) if (copies[id] === 0) phases[writer.phaseOfId(id)]!.lostInReceiver++;
      }
      if (lostRuns.length >= 20) continue;
      const covering = invocations.filter((r) => r.shard === run.shard && r.begin <= run.lastGroup && run.firstGroup < r.end);
      lostRuns.push({
        cause, shard: run.shard, from: run.from, to: run.to, records: run.records, firstGroup: run.firstGroup, lastGroup: run.lastGroup, phase: writer.phaseOfId(run.from),
        invocations: covering.map((r) => ({
          window: r.window, begin: r.begin, end: r.end, attempt: r.attempt, outcome: r.outcome, label: r.label, startedAt: r.startedAt, durationMs: r.durationMs, summary: r.summary,
        })),
      });
    }
    for (const r of invocations) {
      const p = (phases[r.label as Phase] ??= emptyPhase());
      p.invocations++;
      if (r.outcome === 'error') p.failed++;
      if (r.outcome === 'timeout' || r.outcome === 'died') p.killed++;
      if (typeof r.summary?.resent === 'number') p.resent += r.summary.resent;
    }
    const total = emptyPhase();
    for (const p of Object.values(phases)) {
      p.duplicateRatio = p.written === 0 ? 0 : p.duplicated / p.written;
      p.seconds = Math.round(p.seconds);
      for (const k of ['written', 'delivered', 'lost', 'lostInReceiver', 'duplicated', 'seconds', 'faults', 'invocations', 'failed', 'killed', 'resent'] as const) total[k] += p[k];
    }
    total.duplicateRatio = total.written === 0 ? 0 : total.duplicated / total.written;
    const errors: Record<string, number> = {};
    for (const r of invocations) if (r.outcome !== 'ok') errors[errorKind(r)] = (errors[errorKind(r)] ?? 0) + 1;
    return {
      phases,
      total,
      invocations: {
        total: invocations.length,
        ok: invocations.filter((r) => r.outcome === 'ok').length,
        failed: invocations.filter((r) => r.outcome === 'error').length,
        timedOut: invocations.filter((r) => r.outcome === 'timeout').length,
        died: invocations.filter((r) => r.outcome === 'died').length,
        retries: trigger.retries,
        exhaustedRounds: trigger.exhaustedRounds,
        maxDurationMs: Math.max(0, ...invocations.map((r) => r.durationMs)),
        timeoutSeconds: options.timeoutSeconds,
        functionResent: total.resent,
        resumed: invocations.filter((r) => r.attempt > 0 && typeof r.summary?.resumedFrom === 'string').length,
        errors,
      },
      caughtUp,
      unknown: delivered.unknown,
      torn: delivered.torn,
      receiverKills: faults.killOffsets.length,
      lostRuns,
      wallSeconds: Math.round((Date.now() - started) / 1000),
      settings: {
        shards: options.shards, ratePerShard: options.ratePerShard, burstFactor: options.burstFactor ?? 10, intervalSeconds: options.intervalSeconds,
        timeoutSeconds: options.timeoutSeconds, maxRetryTime: options.maxRetryTime ?? 3, slsLatencyMs: options.slsLatencyMs ?? 10, seed: options.seed ?? 1,
        env: options.env ?? {},
      },
    };
  } finally {
    writer?.stop();
    rsyslog.signal('SIGCONT');
    await trigger?.stop().catch(() => {});
    await rsyslog.stop();
    await emulator?.stop();
  }
}

/**
 * What makes a soak fail: a loss, an invocation killed at the timeout or dead, a trigger that did
 * not catch up, ids nobody wrote. Losses the receiver's own SIGKILL explains fail it only when
 * `receiverLoss` is 'fail' (they are the receiver's, not the function's: see soak-count).
 */
export function soakProblems(report: SoakReport, receiverLoss: 'fail' | 'report' = 'fail'): string[] {
  const problems: string[] = [];
  const unexplained = report.total.lost - report.total.lostInReceiver;
  if (unexplained > 0) problems.push(`${unexplained} records lost`);
  if (receiverLoss === 'fail' && report.total.lostInReceiver > 0) {
    problems.push(`${report.total.lostInReceiver} records lost inside the receiver (read, then it was SIGKILLed before writing them)`);
  }
  if (report.invocations.timedOut > 0) problems.push(`${report.invocations.timedOut} invocations killed at the ${report.invocations.timeoutSeconds} s timeout`);
  if (report.invocations.died > 0) problems.push(`${report.invocations.died} invocations whose process died`);
  if (!report.caughtUp) problems.push('the trigger did not catch up (a checkpoint short of its end) before counting');
  if (report.unknown > 0) problems.push(`${report.unknown} receiver lines with an id nobody wrote`);
  return problems;
}

/** The per-phase table, one line per phase and the total. */
export function soakTable(report: SoakReport): string {
  const head = ['phase', 'seconds', 'written', 'delivered', 'lost', 'lost@rcv', 'duplicated', 'dup %', 'faults', 'invocations', 'failed', 'killed', 'resent'];
  const row = (name: string, p: PhaseReport) => [
    name, String(p.seconds), String(p.written), String(p.delivered), String(p.lost), String(p.lostInReceiver), String(p.duplicated),
    (p.duplicateRatio * 100).toFixed(2), String(p.faults), String(p.invocations), String(p.failed), String(p.killed), String(p.resent),
  ];
  const rows = [head, ...PHASES.filter((ph) => report.phases[ph]).map((ph) => row(ph, report.phases[ph]!)), row('total', report.total)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}
