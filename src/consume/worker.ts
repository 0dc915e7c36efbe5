/**
 * Consumer-group worker mode: a long-running process (ECS, Kubernetes) that joins an SLS consumer
 * group, heartbeats, ships the shards SLS assigns to it with the same pull/format/send core as the
 * FC function, and checkpoints on the server after every delivered range. Several workers share
 * a logstore's shards; when one dies, SLS reassigns its shards and another continues from the
 * checkpoint (records after it may be delivered twice: at-least-once). stop() drains: every shard
 * finishes its current range, checkpoints, and the shards are released.
 */
import type { ForwarderConfig } from '../config';
import type { TriggerEvent } from '../event';
import { SlsClient } from '../sls/client';
import { ShipError, shipRange, type ShipSummary } from '../ship';
import { SiemConnection } from '../transport/connection';
import type { ConsumeSettings } from './settings';

/** One shipped range at most this long, so a drain or a reassignment never waits long. */
const RANGE_WINDOW_MS = 20_000;

function log(line: Record<string, unknown>): void {
  console.log(JSON.stringify({ event: 'sls-syslog-forwarder.consume', ...line }));
}

class Sleeper {
  private wake: (() => void) | undefined;
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  interrupt(): void {
    this.wake?.();
  }
}

class ShardTask {
  stopped = false;
  readonly done: Promise<void>;
  private readonly sleeper = new Sleeper();
  /** Its own SIEM connections: a segment's proof closes its connection, which must not cut another shard's. */
  readonly connection: SiemConnection;

  constructor(private readonly worker: ConsumerWorker, readonly shard: number, startCursor: string) {
    this.connection = worker.newConnection();
    this.done = this.loop(startCursor).finally(() => this.connection.close().catch(() => {}));
  }

  stop(): void {
    this.stopped = true;
    this.sleeper.interrupt();
  }

  private async loop(start: string): Promise<void> {
    const w = this.worker;
    let cursor = start;
    let failures = 0;
    while (!this.stopped) {
      try {
        const end = await w.client.getCursor(w.settings.logstore, this.shard, 'end');
        if (end === cursor) {
          await this.sleeper.sleep(w.settings.idleMs);
          continue;
        }
        let saved = 0;
        const checkpoint = async (at: string) => {
          await w.client.updateCheckpoint(w.settings.logstore, w.settings.group, w.settings.consumer, this.shard, at);
          saved = Date.now();
        };
        // Checkpoints only where the receiver proved it has everything before; during a long range
        // too (at most every SLS_CHECKPOINT_MS), so a takeover resends little.
        let proven = cursor;
        const onProof = (at: string) => {
          proven = at;
          return Date.now() - saved >= w.settings.checkpointMs ? checkpoint(at) : undefined;
        };
        try {
          await w.shipOnce(this.shard, cursor, end, this.connection, onProof);
          failures = 0;
        } finally {
          // Also after a failure: what was proven before it is delivered and need not be sent again.
          if (proven !== cursor) {
            await checkpoint(proven);
            cursor = proven;
          }
        }
      } catch (err) {
        failures++;
        log({ shard: this.shard, result: 'error', error: (err as Error).message.split('\n')[0], retryInMs: Math.min(30_000, 500 * 2 ** failures) });
        await this.sleeper.sleep(Math.min(30_000, 500 * 2 ** failures));
      }
    }
  }
}

export class ConsumerWorker {
  readonly client: SlsClient;
  private readonly tasks = new Map<number, ShardTask>();
  private readonly sleeper = new Sleeper();
  private stopping = false;

  constructor(readonly settings: ConsumeSettings, private readonly config: ForwarderConfig) {
    this.client = new SlsClient({ endpoint: settings.endpoint, project: settings.project, credentials: settings.credentials });
  }

  newConnection(): SiemConnection {
    return new SiemConnection(this.config);
  }

  async run(): Promise<void> {
    const s = this.settings;
    await this.client.createConsumerGroup(s.logstore, s.group, s.timeoutSeconds);
    // A bad SIEM address or CA fails the start, not every shard's first range.
    const probe = this.newConnection();
    await probe.connect();
    await probe.close();
    log({ consumer: s.consumer, group: s.group, project: s.project, logstore: s.logstore, result: 'started' });
    while (!this.stopping) {
      try {
        const assigned = new Set(await this.client.heartbeat(s.logstore, s.group, s.consumer, [...this.tasks.keys()]));
        for (const [shard, task] of this.tasks) {
          if (!assigned.has(shard)) {
            task.stop();
            this.tasks.delete(shard);
            log({ consumer: s.consumer, shard, result: 'released' });
          }
        }
        const fresh = [...assigned].filter((shard) => !this.tasks.has(shard));
        if (fresh.length > 0) {
          const checkpoints = await this.client.getCheckpoints(s.logstore, s.group);
          for (const shard of fresh) {
            const from = checkpoints.get(shard) ?? (await this.startCursor(shard));
            this.tasks.set(shard, new ShardTask(this, shard, from));
            log({ consumer: s.consumer, shard, result: 'acquired', from: checkpoints.has(shard) ? 'checkpoint' : s.start.kind });
          }
        }
      } catch (err) {
        log({ consumer: s.consumer, result: 'heartbeat-error', error: (err as Error).message.split('\n')[0] });
      }
      await this.sleeper.sleep(s.heartbeatMs);
    }
    // Drain: every shard finishes and checkpoints its current range, then the shards are released.
    const tasks = [...this.tasks.values()];
    for (const t of tasks) t.stop();
    await Promise.all(tasks.map((t) => t.done));
    this.tasks.clear();
    await this.client.heartbeat(s.logstore, s.group, s.consumer, []).catch(() => []);
    this.client.close();
    log({ consumer: s.consumer, result: 'stopped' });
  }

  stop(): void {
    this.stopping = true;
    this.sleeper.interrupt();
  }

  /** Ships [from, end) (or as much as fits in the window); answers how far everything was proven delivered. */
  async shipOnce(shard: number, from: string, end: string, connection: SiemConnection, onProgress: (proven: string) => Promise<void> | undefined): Promise<string> {
    const s = this.settings;
    const event: TriggerEvent = {
      endpoint: s.endpoint, project: s.project, logstore: s.logstore, shardId: shard,
      begin: { kind: 'cursor', cursor: from }, end: { kind: 'cursor', cursor: end },
      jobName: `consumer:${s.group}`, taskId: undefined, cursorTime: undefined, parameter: {},
    };
    let summary: ShipSummary;
    const credentials = typeof s.credentials === 'function' ? await s.credentials() : s.credentials;
    try {
      summary = await shipRange(event, this.config, credentials, connection, { deadlineMs: Date.now() + RANGE_WINDOW_MS, onProgress });
    } catch (err) {
      // The window closed: everything before reachedCursor is proven delivered (onProgress saw it).
      if (err instanceof ShipError && err.cause.name === 'DeadlineError') return err.summary.reachedCursor;
      throw err;
    }
    log({ consumer: s.consumer, shard, result: 'ok', records: summary.records, delivered: summary.delivered, proof: summary.proof, groups: summary.groups, resent: summary.resent, commits: summary.commits, durationMs: summary.durationMs });
    return summary.reachedCursor;
  }

  private startCursor(shard: number): Promise<string> {
    const start = this.settings.start;
    return this.client.getCursor(this.settings.logstore, shard, start.kind === 'time' ? start.unixSeconds : start.kind === 'begin' ? 'begin' : 'end');
  }
}
