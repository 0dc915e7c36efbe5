/**
 * Consumer-group worker mode: a long-running process (ECS, Kubernetes) that joins an SLS consumer
 * group and ships the shards SLS assigns to it with the same pull/format/send core as the FC
 * function, checkpointing on the server what the SIEM proved it has.
 *
 * The protocol, as SLS defines it (docs/design.md, "Consumer-group worker"):
 * - a heartbeat lists the shards this worker holds; SLS gives a shard to another worker only after
 *   its holder stops listing it (or times out). So a shard SLS takes away is stopped at the next
 *   batch, proven, checkpointed, and only then left out of the heartbeat: no overlap, no re-sends;
 * - a worker whose heartbeats were not accepted for the group's timeout has lost its shards: it
 *   stops them at once (fencing) and rejoins holding nothing;
 * - checkpoints are never forced: `ConsumerNotMatch`/`ConsumerNotExist` means the shard is gone,
 *   the task stops and does not overwrite the new holder's checkpoint. A checkpoint never moves back;
 * - a readonly shard (after a split or merge) is consumed to its end, checkpointed there, and let
 *   go; a shard with no checkpoint starts at `begin`, except on the group's first start (SLS_START).
 */
import { backoffDelay, type Backoff } from '../backoff';
import type { ForwarderConfig } from '../settings';
import { DeadlineError, SlsError } from '../errors';
import { SlsClient } from '../sls/client';
import { decodeCursor } from '../sls/cursor';
import { operatorEndpoint } from '../sls/endpoint';
import { ShipError, shipRange, type ShardRange, type ShipSummary } from '../ship/range';
import { Destinations } from '../ship/destinations';
import { serveMetrics, WorkerMetrics } from './metrics';
import type { ConsumeSettings } from './settings';

/** A shard's failed range is tried again after this (jittered, so workers do not retry in step). */
const SHARD_RETRY_BACKOFF: Backoff = { baseMs: 500, capMs: 30_000, jitter: 'equal' };

/** One shipped range at most this long, so a shard sees new data and a changed end often enough. */
const RANGE_WINDOW_MS = 20_000;

/** SLS's answers to a checkpoint from a worker that does not (or no longer) hold the shard. */
const LOST = new Set(['ConsumerNotMatch', 'ConsumerNotExist']);

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
  /** Asked to stop: the current batch is the last (then proof and checkpoint). */
  private stopping = false;
  /** The shard is someone else's now: no more checkpoints. */
  private lost = false;
  /** A readonly shard consumed to its end, or past SLS_END. */
  finished = false;
  readonly done: Promise<void>;
  /** `done` has settled: the task shipped its last batch and wrote its last checkpoint. */
  settled = false;
  private readonly sleeper = new Sleeper();
  /** Its own SIEM connections: a segment's proof closes its connection, which must not cut another shard's. */
  private readonly connection: Destinations;
  private saved: bigint | undefined;
  private savedAt = 0;

  constructor(private readonly worker: ConsumerWorker, readonly shard: number, start: Promise<{ cursor: string; checkpointed: boolean }>) {
    this.connection = worker.newConnection();
    this.done = this.run(start)
      // Never a rejection: a task that cannot go on is let go, and SLS may offer the shard again.
      .catch((err: Error) => log({ shard, result: 'error', error: err.message.split('\n')[0] }))
      .finally(() => this.connection.close().catch(() => {}))
      .finally(() => (this.settled = true));
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Stop after the current batch, prove it, checkpoint. */
  stop(): void {
    this.stopping = true;
    this.sleeper.interrupt();
  }

  /** The shard was lost (fencing): stop after the current batch and write no checkpoint. */
  fence(why = 'fenced'): void {
    if (!this.lost) log({ consumer: this.worker.settings.consumer, shard: this.shard, result: 'fenced', why });
    this.lost = true;
    this.stop();
  }

  private async run(start: Promise<{ cursor: string; checkpointed: boolean }>): Promise<void> {
    const w = this.worker;
    const first = await start.catch((err: Error) => {
      log({ shard: this.shard, result: 'error', error: err.message.split('\n')[0] });
      return undefined;
    });
    if (!first) return; // not acquired; the next heartbeat lets it go and may offer it again
    let cursor = first.cursor;
    // A shard started from SLS_START is checkpointed there at once, so a takeover never falls back to it.
    if (!first.checkpointed) await this.checkpoint(cursor, true);
    else this.saved = decodeCursor(cursor);
    let failures = 0;
    while (!this.stopping) {
      try {
        const end = await w.endOf(this.shard);
        if (end === cursor) {
          w.metrics.idle(this.shard);
          if (w.isReadonly(this.shard) || w.backfillEnd !== undefined) {
            this.finished = true; // consumed to its (fixed) end: let it go
            log({ consumer: w.settings.consumer, shard: this.shard, result: 'finished', at: cursor });
            break;
          }
          await this.sleeper.sleep(w.settings.idleMs);
          continue;
        }
        let proven = cursor;
        const onProof = (at: string) => {
          proven = at;
          return Date.now() - this.savedAt >= w.settings.checkpointMs ? this.checkpoint(at) : undefined;
        };
        try {
          // Checked before every batch: a stop request, or this worker's own silence past the timeout
          // (then the shard may be another's already: stop, and write no checkpoint).
          const shouldStop = () => {
            if (!this.stopping && w.silentTooLong()) this.fence('no heartbeat accepted within the group timeout');
            return this.stopping;
          };
          await w.shipOnce(this.shard, cursor, end, this.connection, onProof, shouldStop);
          failures = 0;
        } finally {
          // Also after a failure: what was proven before it is delivered and need not be sent again.
          if (proven !== cursor) await this.checkpoint(proven);
          cursor = proven;
        }
      } catch (err) {
        if (this.stopping) break;
        w.metrics.failed(this.shard);
        failures++;
        const retryInMs = backoffDelay(failures, SHARD_RETRY_BACKOFF);
        log({ shard: this.shard, result: 'error', error: (err as Error).message.split('\n')[0], retryInMs });
        await this.sleeper.sleep(retryInMs);
      }
    }
  }

  /** Never forced and never backwards; a refusal means the shard is gone: stop, overwrite nothing. */
  private async checkpoint(at: string, always = false): Promise<void> {
    const position = decodeCursor(at);
    if (this.lost || position === undefined || (!always && this.saved !== undefined && position <= this.saved)) return;
    const w = this.worker;
    try {
      await w.client.updateCheckpoint(w.settings.logstore, w.settings.group, w.settings.consumer, this.shard, at, false);
      this.saved = position;
      this.savedAt = Date.now();
      w.metrics.checkpointed(this.shard);
    } catch (err) {
      if (!(err instanceof SlsError && LOST.has(err.code))) throw err;
      this.fence(`SLS refused its checkpoint (${err.code})`);
    }
  }
}

export class ConsumerWorker {
  readonly client: SlsClient;
  private readonly tasks = new Map<number, ShardTask>();
  private readonly sleeper = new Sleeper();
  private stopping = false;
  private readonly readonlyShards = new Set<number>();
  /** Where each shard stops with SLS_END (backfill), fetched once per shard. */
  private readonly backfill = new Map<number, Promise<string>>();
  readonly backfillEnd: number | 'end' | undefined;
  private lastAccepted = Date.now();
  readonly metrics: WorkerMetrics;
  /** Fenced tasks still finishing their last batch: their shards are not taken on again until they have. */
  private readonly fenced = new Set<ShardTask>();

  constructor(readonly settings: ConsumeSettings, private readonly config: ForwarderConfig) {
    this.client = new SlsClient({ endpoint: operatorEndpoint(settings.endpoint, config.source.policy.https).url, project: settings.project, credentials: settings.credentials });
    this.metrics = new WorkerMetrics(settings.timeoutSeconds * 1000);
    const end = settings.end;
    this.backfillEnd = end === undefined ? undefined : end.kind === 'time' ? end.unixSeconds : 'end';
  }

  newConnection(): Destinations {
    return new Destinations(this.config.outputs);
  }

  isReadonly(shard: number): boolean {
    return this.readonlyShards.has(shard);
  }

  /** The end a shard is shipped to now: its current end, or with SLS_END the fixed backfill end. */
  endOf(shard: number): Promise<string> {
    const s = this.settings;
    if (this.backfillEnd === undefined) return this.client.getCursor(s.logstore, shard, 'end');
    let end = this.backfill.get(shard);
    if (!end) {
      end = this.client.getCursor(s.logstore, shard, this.backfillEnd);
      end.catch(() => this.backfill.delete(shard));
      this.backfill.set(shard, end);
    }
    return end;
  }

  async run(): Promise<void> {
    const s = this.settings;
    const created = await this.client.createConsumerGroup(s.logstore, s.group, s.timeoutSeconds, s.inOrder);
    // A bad SIEM address or CA fails the start, not every shard's first range.
    const probe = this.newConnection();
    await probe.connect();
    await probe.close();
    const endpoints = s.metricsPort === undefined ? undefined : await serveMetrics(this.metrics, s.metricsPort, s.metricsHost);
    log({ consumer: s.consumer, group: s.group, project: s.project, logstore: s.logstore, result: 'started', groupCreated: created, ...(endpoints ? { metrics: `http://${s.metricsHost}:${endpoints.port}/metrics` } : {}) });
    if (this.backfillEnd === 'end') for (const { shard } of await this.client.listShards(s.logstore)) await this.endOf(shard);
    this.lastAccepted = Date.now();
    while (!this.stopping) {
      await this.beat();
      if (this.backfillEnd !== undefined && (await this.backfillDone())) {
        log({ consumer: s.consumer, result: 'backfill-done' });
        break;
      }
      await this.sleeper.sleep(s.heartbeatMs);
    }
    // Drain: every shard stops after its current batch, proves and checkpoints it; heartbeats go on
    // listing them meanwhile, so SLS hands none over before its checkpoint is saved.
    for (const t of this.tasks.values()) t.stop();
    while (this.tasks.size > 0) {
      await this.beat(false);
      await Promise.race([Promise.all([...this.tasks.values()].map((t) => t.done)), new Promise((r) => setTimeout(r, s.heartbeatMs))]);
    }
    await this.client.heartbeat(s.logstore, s.group, s.consumer, []).catch(() => []);
    await endpoints?.close();
    this.client.close();
    log({ consumer: s.consumer, result: 'stopped' });
  }

  stop(): void {
    this.stopping = true;
    this.sleeper.interrupt();
  }

  /** Backfill (SLS_END): the group's checkpoint of every shard has reached that shard's end. */
  private async backfillDone(): Promise<boolean> {
    const s = this.settings;
    try {
      const [shards, checkpoints] = await Promise.all([this.client.listShards(s.logstore), this.client.getCheckpoints(s.logstore, s.group)]);
      for (const { shard } of shards) {
        const [at, end] = [decodeCursor(checkpoints.get(shard) ?? ''), decodeCursor(await this.endOf(shard))];
        if (at === undefined || end === undefined || at < end) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** No heartbeat accepted for nearly the group timeout: SLS may be handing the shards on. */
  silentTooLong(): boolean {
    return Date.now() - this.lastAccepted > this.fenceAfterMs();
  }

  private readonly finishedShards = new Set<number>();

  private async beat(acquire = true): Promise<void> {
    try {
      await this.beatOnce(acquire);
    } finally {
      this.metrics.held([...this.tasks.keys()]);
    }
  }

  /** One heartbeat: fences on silence, lets go what SLS took away once it is checkpointed, takes on what SLS gave. */
  private async beatOnce(acquire: boolean): Promise<void> {
    const s = this.settings;
    // Finished tasks are let go: a held shard is listed until its task has stopped and checkpointed.
    for (const [shard, task] of this.tasks) {
      if (task.settled) {
        this.tasks.delete(shard);
        if (task.finished) this.finishedShards.add(shard);
        log({ consumer: s.consumer, shard, result: 'released' });
      }
    }
    for (const task of this.fenced) if (task.settled) this.fenced.delete(task);
    if (this.silentTooLong()) this.fenceAll('no heartbeat accepted within the group timeout');
    let assigned: Set<number>;
    try {
      assigned = new Set(await this.client.heartbeat(s.logstore, s.group, s.consumer, [...this.tasks.keys()]));
      this.lastAccepted = Date.now();
      this.metrics.lastHeartbeatOk = this.lastAccepted;
    } catch (err) {
      this.metrics.heartbeatFailures.inc();
      if (err instanceof SlsError && err.code === 'ConsumerNotExist') this.fenceAll('SLS refused the heartbeat (this worker timed out)');
      log({ consumer: s.consumer, result: 'heartbeat-error', error: (err as Error).message.split('\n')[0] });
      return;
    }
    try {
      for (const { shard, readonly } of await this.client.listShards(s.logstore)) if (readonly) this.readonlyShards.add(shard);
    } catch {
      /* the next heartbeat asks again */
    }
    for (const [shard, task] of this.tasks) {
      if (!assigned.has(shard) && !task.stopped) {
        task.stop();
        log({ consumer: s.consumer, shard, result: 'releasing' });
      }
    }
    if (!acquire || this.stopping) return;
    const finishing = new Set([...this.fenced].map((t) => t.shard));
    const fresh = [...assigned].filter(
      (shard) => !this.tasks.has(shard) && !finishing.has(shard) && !(this.backfillEnd !== undefined && this.finishedShards.has(shard)),
    );
    if (fresh.length === 0) return;
    const anyCheckpoint = this.client.getCheckpoints(s.logstore, s.group).then((all) => all.size > 0);
    anyCheckpoint.catch(() => {});
    for (const shard of fresh) {
      this.tasks.set(shard, new ShardTask(this, shard, this.startOf(shard, anyCheckpoint)));
      log({ consumer: s.consumer, shard, result: 'acquired' });
    }
  }

  /** Fencing: past the timeout SLS may have given the shards away, so stop them now and rejoin empty. */
  private fenceAll(why: string): void {
    if (this.tasks.size === 0) return;
    log({ consumer: this.settings.consumer, result: 'fenced', why, shards: [...this.tasks.keys()] });
    for (const task of this.tasks.values()) {
      task.fence(why);
      this.fenced.add(task);
    }
    // Not listed again: a timed-out consumer must come back holding nothing.
    this.tasks.clear();
  }

  /** A heartbeat short of the group timeout, so the worker stops before SLS can hand its shards on. */
  private fenceAfterMs(): number {
    const timeout = this.settings.timeoutSeconds * 1000;
    return Math.max(this.settings.heartbeatMs, timeout - this.settings.heartbeatMs);
  }

  private async startOf(shard: number, anyCheckpoint: Promise<boolean>): Promise<{ cursor: string; checkpointed: boolean }> {
    const s = this.settings;
    const saved = await this.client.getCheckpoint(s.logstore, s.group, shard);
    if (saved) {
      log({ consumer: s.consumer, shard, result: 'start', from: 'checkpoint' });
      return { cursor: saved.checkpoint, checkpointed: true };
    }
    // SLS_START is for the group's first start; a shard that appears later (a split's child) starts at its beginning.
    const first = !(await anyCheckpoint);
    const start = first ? s.start : ({ kind: 'begin' } as const);
    log({ consumer: s.consumer, shard, result: 'start', from: first ? s.start.kind : 'begin' });
    const cursor = await this.client.getCursor(s.logstore, shard, start.kind === 'time' ? start.unixSeconds : start.kind === 'begin' ? 'begin' : 'end');
    return { cursor, checkpointed: false };
  }

  /** Ships [from, end) (or as much as fits in the window); answers how far everything was proven delivered. */
  async shipOnce(
    shard: number, from: string, end: string, connection: Destinations,
    onProgress: (proven: string) => Promise<void> | undefined, shouldStop: () => boolean,
  ): Promise<string> {
    const s = this.settings;
    const range: ShardRange = { project: s.project, logstore: s.logstore, shard, from: { kind: 'cursor', cursor: from }, to: { kind: 'cursor', cursor: end } };
    let summary: ShipSummary;
    const credentials = typeof s.credentials === 'function' ? await s.credentials() : s.credentials;
    try {
      summary = await shipRange(range, this.config, credentials, connection, { sls: operatorEndpoint(s.endpoint, this.config.source.policy.https), deadlineMs: Date.now() + RANGE_WINDOW_MS, onProgress, shouldStop });
    } catch (err) {
      // The window closed: everything before reachedCursor is proven delivered (onProgress saw it).
      if (err instanceof ShipError && err.cause instanceof DeadlineError) {
        this.metrics.shipped(shard, err.summary, false);
        return err.summary.reachedCursor;
      }
      if (err instanceof ShipError) this.metrics.shipped(shard, err.summary, false);
      throw err;
    }
    this.metrics.shipped(shard, summary, summary.reachedCursor === end);
    log({
      consumer: s.consumer, shard, result: 'ok', records: summary.records, delivered: summary.delivered, proof: summary.proof,
      groups: summary.groups, resent: summary.resent, commits: summary.commits, durationMs: summary.durationMs,
    });
    return summary.reachedCursor;
  }
}
