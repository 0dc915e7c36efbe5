/**
 * The SLS trigger, as it drives the function: per shard, one invocation at a time; each covers one
 * `triggerInterval` of data ([checkpoint, the cursor of what was written up to one interval after
 * it)); the checkpoint moves only when an invocation succeeds; a failed one is retried with the very
 * same event (same window, same jobName) up to `maxRetryTime` times, then again at the next
 * interval; when behind (a whole window already closed) it invokes as often as every 2 s. Each
 * shard has its own FC instance (the built function in a child process, as FC runs it); an
 * instance that dies or passes its timeout is killed and replaced, and the invocation recorded as
 * `died` or `timeout`: the function must never let that happen.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SlsEmulator } from '../sls-emulator/server';
import { FcInstance, type Invocation, TEST_CREDENTIALS } from './fc-invoke';

/** When each log group of a shard was written: how the trigger maps time to cursors. */
export interface ShardTimeline {
  /** Log groups in the shard so far. */
  count(shard: number): number;
  /** Log groups written before `timeMs` (the position of the first one written at or after it). */
  positionAt(shard: number, timeMs: number): number;
}

export type Outcome = 'ok' | 'error' | 'timeout' | 'died';

export interface InvocationRecord {
  shard: number;
  /** Window number on this shard (0, 1, ...) and its group positions [begin, end). */
  window: number;
  begin: number;
  end: number;
  /** 0 for the first attempt of a window, then 1, 2, ... for its retries. */
  attempt: number;
  /** What `label()` said when it started (the soak: the fault phase). */
  label: string;
  startedAt: number;
  durationMs: number;
  outcome: Outcome;
  error?: { name: string; message: string };
  /** The function's summary: its result, or the summary line it printed for a failure. */
  summary?: Record<string, unknown>;
}

export interface TriggerOptions {
  emulator: SlsEmulator;
  project: string;
  logstore: string;
  shards: number[];
  timeline: ShardTimeline;
  /** The function's environment (FcInstance adds SLS_ALLOWED_ENDPOINTS for the emulator). */
  env: Record<string, string>;
  intervalSeconds: number;
  /** context.function.timeout: the instance is killed if an invocation runs longer. */
  timeoutSeconds: number;
  /** Retries of one trigger before waiting for the next interval (JobConfig.maxRetryTime). */
  maxRetryTime?: number;
  /** Shortest spacing of invocations on a shard (catch-up, retries). */
  minSpacingMs?: number;
  /** The first window starts here (ms); default: now. */
  startMs?: number;
  /** Tagged onto each invocation record when it starts. */
  label?: () => string;
  /** Called when an invocation ends. */
  onInvocation?: (record: InvocationRecord) => void;
  /** The trigger job's id (40 hex digits): it names the function's resume point. */
  jobName?: string;
  /** Another bundle than dist/index.js (the driver's own test uses a scripted one). */
  bundle?: string;
}

/**
 * FC kills the instance at the timeout; the answer crosses a pipe and a busy event loop first, so
 * a little slack before calling it killed (an answer that close is still counted as late).
 */
const KILL_SLACK_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

class ShardLoop {
  /** The checkpoint: the group position and the start (ms) of the next window. */
  position = 0;
  windowStart: number;
  window = 0;
  private instance: FcInstance | undefined;
  private lastStart = 0;
  private stopped = false;
  inFlight = false;
  done: Promise<void> | undefined;

  constructor(private readonly t: SlsTrigger, readonly shard: number, startMs: number) {
    this.windowStart = startMs;
    this.position = t.options.timeline.positionAt(shard, startMs);
  }

  stop(): void {
    this.stopped = true;
  }

  /** When the last (or current) invocation started. */
  get startedAt(): number {
    return this.lastStart;
  }

  async run(): Promise<void> {
    const o = this.t.options;
    const intervalMs = o.intervalSeconds * 1000;
    const spacing = o.minSpacingMs ?? 2000;
    while (!this.stopped) {
      // The window closes one interval after the checkpoint; once it has, its end cursor is fixed.
      const close = this.windowStart + intervalMs;
      await this.sleepUntil(Math.max(close, this.lastStart + spacing));
      if (this.stopped) break;
      const end = o.timeline.positionAt(this.shard, close);
      if (end === this.position) {
        // No data in the window: nothing to invoke, the checkpoint moves on.
        this.windowStart = close;
        continue;
      }
      const event = this.event(this.position, end, close);
      let attempt = 0;
      let retriesThisRound = 0;
      for (;;) {
        const record = await this.invoke(event, this.position, end, attempt);
        if (record.outcome === 'ok') break;
        attempt++;
        this.t.retries++;
        if (this.stopped) return;
        if (retriesThisRound < (o.maxRetryTime ?? 3)) {
          retriesThisRound++;
          await this.sleepUntil(this.lastStart + spacing);
        } else {
          // Retries used up: SLS tries again at the next interval, still from the same checkpoint.
          this.t.exhaustedRounds++;
          retriesThisRound = 0;
          await this.sleepUntil(this.lastStart + intervalMs);
        }
        if (this.stopped) return;
      }
      this.position = end;
      this.windowStart = close;
      this.window++;
    }
  }

  /** Data this shard still has to ship. */
  behind(): number {
    return this.t.options.timeline.count(this.shard) - this.position;
  }

  async close(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (instance) await instance.stop().catch(() => instance.kill());
  }

  private event(begin: number, end: number, closeMs: number) {
    const o = this.t.options;
    return {
      parameter: {},
      source: {
        endpoint: o.emulator.endpoint, projectName: o.project, logstoreName: o.logstore, shardId: this.shard,
        beginCursor: o.emulator.cursor(o.project, o.logstore, this.shard, begin),
        endCursor: o.emulator.cursor(o.project, o.logstore, this.shard, end),
      },
      jobName: this.t.jobName,
      taskId: randomUUID(),
      cursorTime: Math.floor(closeMs / 1000),
    };
  }

  private async sleepUntil(ms: number): Promise<void> {
    while (!this.stopped && Date.now() < ms) await sleep(Math.min(200, ms - Date.now()));
  }

  private async invoke(event: unknown, begin: number, end: number, attempt: number): Promise<InvocationRecord> {
    const o = this.t.options;
    this.lastStart = Date.now();
    this.inFlight = true;
    const record: InvocationRecord = {
      shard: this.shard, window: this.window, begin, end, attempt, label: o.label?.() ?? '', startedAt: this.lastStart, durationMs: 0, outcome: 'ok',
    };
    try {
      if (!this.instance) {
        // A new instance runs the initializer first; its failure fails the invocation (as on FC).
        const fresh = new FcInstance(o.env, { bundle: o.bundle });
        let init: Invocation;
        try {
          init = await fresh.init();
        } catch (err) {
          fresh.kill();
          record.outcome = 'died';
          record.error = { name: 'Died', message: `in the initializer: ${(err as Error).message.slice(0, 500)}` };
          return record;
        }
        this.instance = fresh;
        if (init.error) {
          record.outcome = 'error';
          record.error = init.error;
          await this.close();
          return record;
        }
      }
      const instance = this.instance;
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        instance.kill();
      }, o.timeoutSeconds * 1000 + KILL_SLACK_MS);
      let out: Invocation;
      try {
        out = await instance.invoke(event, TEST_CREDENTIALS, o.timeoutSeconds);
      } catch (err) {
        // The process exited (killed at the timeout, or died on its own): FC starts a new instance.
        this.instance = undefined;
        instance.kill();
        record.outcome = killed ? 'timeout' : 'died';
        record.error = { name: killed ? 'Timeout' : 'Died', message: (err as Error).message.slice(0, 500) };
        return record;
      } finally {
        clearTimeout(timer);
      }
      if (out.error) {
        record.outcome = 'error';
        record.error = out.error;
        record.summary = failureSummary(out.stdout);
      } else {
        record.summary = out.result ?? undefined;
      }
      return record;
    } finally {
      record.durationMs = Date.now() - record.startedAt;
      // An answer after the timeout would have been cut off by FC, even if it arrived here.
      if (record.outcome !== 'died' && record.durationMs > o.timeoutSeconds * 1000) {
        record.error ??= { name: 'Timeout', message: `answered after ${record.durationMs} ms, past the ${o.timeoutSeconds} s timeout` };
        record.outcome = 'timeout';
      }
      this.inFlight = false;
      this.t.invocations.push(record);
      o.onInvocation?.(record);
    }
  }
}

/** The summary line the function printed for a failed invocation (how far its proof got). */
function failureSummary(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.split('\n').find((l) => l.includes('"sls-syslog-forwarder.invocation"') && l.includes('"result":"error"'));
  if (!line) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export class SlsTrigger {
  readonly invocations: InvocationRecord[] = [];
  retries = 0;
  /** Triggers whose retries were all used up (SLS then waits for the next interval). */
  exhaustedRounds = 0;
  readonly jobName: string;
  private readonly loops: ShardLoop[];
  private failure: Error | undefined;

  constructor(readonly options: TriggerOptions) {
    this.jobName = options.jobName ?? randomBytes(20).toString('hex');
    const start = options.startMs ?? Date.now();
    this.loops = options.shards.map((s) => new ShardLoop(this, s, start));
  }

  start(): this {
    for (const loop of this.loops) {
      loop.done = loop.run().catch((err: unknown) => {
        // A bug in the driver must not look like a quiet shard: kept for check() and waitCaughtUp().
        this.failure ??= new Error(`trigger loop of shard ${loop.shard} failed: ${(err as Error).stack ?? String(err)}`);
      });
    }
    return this;
  }

  /** Invocations running now whose window starts at or after `windowsFrom` (all: 0). */
  inFlight(windowsFrom = 0): number {
    return this.loops.filter((l) => l.inFlight && l.windowStart >= windowsFrom).length;
  }

  /** When the invocations running now (of windows starting at or after `windowsFrom`) started. */
  inFlightSince(windowsFrom = 0): number[] {
    return this.loops.filter((l) => l.inFlight && l.windowStart >= windowsFrom).map((l) => l.startedAt);
  }


  /** Groups written but not yet behind a checkpoint, over all shards. */
  behind(): number {
    return this.loops.reduce((n, l) => n + l.behind(), 0);
  }

  /** Waits until every shard's checkpoint is at its end (call after the writes stop). */
  async waitCaughtUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      this.check();
      if (this.behind() === 0) return true;
      await sleep(100);
    }
    return this.behind() === 0;
  }

  /** Stops triggering (an invocation in flight finishes first), then stops the instances. */
  async stop(): Promise<void> {
    for (const loop of this.loops) loop.stop();
    await Promise.all(this.loops.map((l) => l.done));
    await Promise.all(this.loops.map((l) => l.close()));
  }

  /** Throws if a shard's loop failed (a driver bug). */
  check(): void {
    if (this.failure) throw this.failure;
  }
}
