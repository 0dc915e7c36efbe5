/**
 * The soak's fault phases, on the real rsyslog (SIGKILL, SIGSTOP/SIGCONT, both) and the SLS
 * emulator (5xx and throttling on PullLogs), and the writer's bursts. Receiver faults wait for an
 * invocation that is delivering, so they hit a range in flight rather than the idle time between.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Fault, SlsEmulator } from '../sls-emulator/server';
import type { Rsyslog } from './rsyslog';
import type { Phase, Writer } from './soak-writer';
import type { SlsTrigger } from './trigger';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export class FaultScheduler {
  /** The receiver file's size at each SIGKILL, once the process was gone: what it had written. */
  readonly killOffsets: number[] = [];
  private lastSize = 0;
  private lastGrowth = 0;
  private readonly mine = new Set<Fault>();
  private pushed = 0;

  constructor(
    private readonly rsyslog: Rsyslog,
    private readonly emulator: SlsEmulator,
    private readonly trigger: () => SlsTrigger | undefined,
    private readonly writer: Writer,
    private readonly random: () => number,
    private readonly burstFactor: number,
    private readonly burstSeconds: number,
  ) {}

  private get file(): string {
    return join(this.rsyslog.dir, 'tcp.jsonl');
  }

  /**
   * Runs one phase until `until`; returns its fault events. Receiver faults are aimed at the
   * windows that hold the phase's own records (the trigger lags the writes by about one interval),
   * so each phase's counts show what its own fault type did. SLS errors start at once: they cost
   * duplicates only through a failed invocation, and invocations are counted by the phase they
   * started in.
   */
  async run(phase: Phase, phaseStart: number, until: number): Promise<number> {
    let events = 0;
    const between = (lo: number, hi: number) => lo + this.random() * (hi - lo);
    const gap = (lo: number, hi: number) => sleep(Math.min(between(lo, hi), until - Date.now()));
    switch (phase) {
      case 'none':
        await sleep(until - Date.now());
        return 0;
      case 'receiver-kill':
        while (await this.strikeMoment(phaseStart, until, events > 0)) {
          // SIGKILL mid-range. Every other outage outlasts the function's reconnects, so the
          // invocation fails and the trigger retries (resuming from the last proof); the others are
          // short enough to reconnect and re-send within the invocation.
          await this.kill();
          await sleep(events % 2 === 0 ? between(4000, 7000) : between(300, 2500));
          await this.rsyslog.relaunch();
          events++;
          await gap(500, 1500);
        }
        return events;
      case 'receiver-stall':
        while (await this.strikeMoment(phaseStart, until, events > 0)) {
          // SIGSTOP: it accepts nothing and reads nothing, then goes on.
          this.rsyslog.signal('SIGSTOP');
          try {
            await sleep(between(1500, 4000));
          } finally {
            this.rsyslog.signal('SIGCONT');
          }
          events++;
          await gap(500, 1500);
        }
        return events;
      case 'stall-then-die':
        while (await this.strikeMoment(phaseStart, until, events > 0)) {
          // What it held in socket buffers never reaches the file: only a proof may count as delivered.
          this.rsyslog.signal('SIGSTOP');
          await sleep(between(1000, 3000));
          await this.kill();
          await sleep(between(300, 1500));
          await this.rsyslog.relaunch();
          events++;
          await gap(500, 1500);
        }
        return events;
      case 'sls-5xx': {
        const codes: Array<[number, string]> = [[500, 'InternalServerError'], [502, 'BadGateway'], [503, 'ServiceUnavailable']];
        const before = this.pushed;
        while (Date.now() < until) {
          // A few pending at most: faults queued while no invocation pulls hit the next one in a row.
          if (this.pending() < 3) {
            const [status, code] = codes[Math.floor(this.random() * codes.length)]!;
            this.inject({ api: 'PullLogs', status, code });
          }
          await sleep(Math.min(250, until - Date.now()));
        }
        return this.pushed - before - this.withdraw();
      }
      case 'sls-throttle': {
        const before = this.pushed;
        while (Date.now() < until) {
          // Bursts of throttling, sometimes longer than the client's retries (8 attempts) hold out.
          if (this.pending() === 0) {
            const n = 2 + Math.floor(this.random() * 8);
            for (let i = 0; i < n; i++) this.inject({ api: 'PullLogs', status: 403, code: this.random() < 0.5 ? 'ReadQuotaExceed' : 'ShardReadQuotaExceed', message: 'Read QPS Exceed' });
          }
          await gap(1000, 3000);
        }
        return this.pushed - before - this.withdraw();
      }
      case 'burst':
        while (Date.now() < until) {
          this.writer.multiplier = this.burstFactor;
          events++;
          await sleep(Math.min(this.burstSeconds * 1000, until - Date.now()));
          this.writer.multiplier = 1;
          await sleep(Math.min(this.burstSeconds * 1000, until - Date.now()));
        }
        return events;
    }
  }

  /** Leaves the receiver running and no injected SLS fault behind. */
  heal(): void {
    this.writer.multiplier = 1;
    this.rsyslog.signal('SIGCONT');
    this.withdraw();
  }

  /** SIGKILL by pid; notes how much of the file it had written (see soak-count's receiver losses). */
  private async kill(): Promise<void> {
    await this.rsyslog.crash();
    this.killOffsets.push(existsSync(this.file) ? statSync(this.file).size : 0);
  }

  private inject(fault: Fault): void {
    this.mine.add(fault);
    this.emulator.faults.push(fault);
    this.pushed++;
  }

  private pending(): number {
    return this.emulator.faults.filter((f) => this.mine.has(f)).length;
  }

  /** Removes the injected faults not served yet; returns how many. */
  private withdraw(): number {
    let n = 0;
    for (let i = this.emulator.faults.length - 1; i >= 0; i--) {
      if (this.mine.has(this.emulator.faults[i]!)) {
        this.emulator.faults.splice(i, 1);
        n++;
      }
    }
    this.mine.clear();
    return n;
  }

  /**
   * Waits for an invocation of this phase's records to be part way into its range (30-75 % of
   * what recent invocations took: sending by then, and not at the tail where the proof is on its
   * way) while the receiver's file grows. Late in a phase without a strike yet, any invocation
   * sending will do, so every phase has its fault. False when the phase ends first.
   */
  private async strikeMoment(phaseStart: number, until: number, struck: boolean): Promise<boolean> {
    const fraction = 0.3 + this.random() * 0.45;
    const relaxAt = struck ? until : phaseStart + (until - phaseStart) * 0.6;
    while (Date.now() < until) {
      const now = Date.now();
      const size = existsSync(this.file) ? statSync(this.file).size : 0;
      if (size !== this.lastSize) {
        this.lastSize = size;
        this.lastGrowth = now;
      }
      const sending = now - this.lastGrowth < 30;
      const trigger = this.trigger();
      if (trigger && sending) {
        if (now >= relaxAt && trigger.inFlight() > 0) return true;
        const into = Math.max(30, this.typicalMs(trigger) * fraction);
        if (trigger.inFlightSince(phaseStart).some((t) => now - t >= into && now - t < into + 40)) return true;
      }
      await sleep(10);
    }
    return false;
  }

  /** The median duration of recent successful invocations (a first, cold one counts only alone). */
  private typicalMs(trigger: SlsTrigger): number {
    const recent = trigger.invocations.filter((r) => r.outcome === 'ok').slice(-8).map((r) => r.durationMs).sort((a, b) => a - b);
    return recent.length === 0 ? 200 : recent[(recent.length - 1) >> 1]!;
  }

}
