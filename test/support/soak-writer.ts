/**
 * The soak's writer: log groups on every shard at a steady rate (times `multiplier` in a burst),
 * every record with a unique numeric `id` and the `phase` it was written in. It remembers when
 * each group was written (the trigger's time-to-cursor map) and where each id went.
 */
import type { SlsEmulator } from '../sls-emulator/server';
import { encodeLogGroup } from './log-group-writer';
import type { ShardTimeline } from './trigger';

export const PHASES = ['none', 'receiver-kill', 'receiver-stall', 'stall-then-die', 'sls-5xx', 'sls-throttle', 'burst'] as const;
export type Phase = (typeof PHASES)[number];

export const SOAK_PROJECT = 'soak-project';
export const SOAK_LOGSTORE = 'soak-logstore';

/** One run of records in a shard's order (ids are consecutive inside a log group only). */
export interface StreamRun {
  shard: number;
  /** First and last id, and the log groups they are in. */
  from: number;
  to: number;
  firstGroup: number;
  lastGroup: number;
  records: number;
  /** The id just before the run in the shard's order (-1: the run starts the shard). */
  previous: number;
}

export class Writer implements ShardTimeline {
  multiplier = 1;
  seq = 0;
  /** Phase index of every record, by id. */
  private phaseOf = new Uint8Array(1 << 16);
  private readonly times: number[][];
  /** Per shard, the first id and the size of each log group (its ids are consecutive). */
  private readonly firstIds: number[][];
  private readonly sizes: number[][];
  private readonly credit: number[];
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private readonly pad: string;

  constructor(
    private readonly emulator: SlsEmulator,
    readonly shards: number,
    private readonly rate: number,
    padBytes: number,
    private readonly phase: () => Phase,
  ) {
    this.times = Array.from({ length: shards }, () => []);
    this.firstIds = Array.from({ length: shards }, () => []);
    this.sizes = Array.from({ length: shards }, () => []);
    this.credit = Array.from({ length: shards }, () => 0);
    this.pad = 'p'.repeat(padBytes);
  }

  start(tickMs = 100): void {
    this.last = Date.now();
    this.timer = setInterval(() => this.tick(), tickMs);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.tick();
  }

  count(shard: number): number {
    return this.times[shard]!.length;
  }

  positionAt(shard: number, timeMs: number): number {
    const t = this.times[shard]!;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! < timeMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  phaseOfId(id: number): Phase {
    return PHASES[this.phaseOf[id]!]!;
  }

  /** Runs of records, in each shard's order, for which `pick(id)` holds. */
  runs(pick: (id: number) => boolean): StreamRun[] {
    const out: StreamRun[] = [];
    for (let shard = 0; shard < this.shards; shard++) {
      const firsts = this.firstIds[shard]!;
      const sizes = this.sizes[shard]!;
      let open: StreamRun | undefined;
      let previous = -1;
      for (let g = 0; g < firsts.length; g++) {
        for (let id = firsts[g]!; id < firsts[g]! + sizes[g]!; id++) {
          if (pick(id)) {
            if (open) {
              open.to = id;
              open.lastGroup = g;
              open.records++;
            } else {
              open = { shard, from: id, to: id, firstGroup: g, lastGroup: g, records: 1, previous };
              out.push(open);
            }
          } else open = undefined;
          previous = id;
        }
      }
    }
    return out;
  }

  private tick(): void {
    const now = Date.now();
    const dt = now - this.last;
    this.last = now;
    const phase = this.phase();
    const phaseIndex = PHASES.indexOf(phase);
    for (let s = 0; s < this.shards; s++) {
      // Due by elapsed time, so a late timer does not lower the rate.
      this.credit[s]! += (this.rate * this.multiplier * dt) / 1000;
      let n = Math.floor(this.credit[s]!);
      this.credit[s]! -= n;
      while (n > 0) {
        const size = Math.min(n, 4000);
        n -= size;
        const time = Math.floor(now / 1000);
        const logs = Array.from({ length: size }, () => {
          const id = this.seq++;
          if (id >= this.phaseOf.length) {
            const grown = new Uint8Array(this.phaseOf.length * 2);
            grown.set(this.phaseOf);
            this.phaseOf = grown;
          }
          this.phaseOf[id] = phaseIndex;
          return { time, contents: [['id', String(id)], ['phase', phase], ['shard', String(s)], ['pad', this.pad]] as Array<[string, string]> };
        });
        this.emulator.appendGroup(SOAK_PROJECT, SOAK_LOGSTORE, s, encodeLogGroup({ logs, source: '10.0.0.1' }));
        this.times[s]!.push(now);
        this.firstIds[s]!.push(this.seq - size);
        this.sizes[s]!.push(size);
      }
    }
  }
}

/** mulberry32: a seeded run can be repeated (as far as timing allows). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
