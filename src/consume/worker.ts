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
 *
 * It outlives its SIEM and SLS (outage.ts): unreachable at the start or later, it stays up, keeps
 * heartbeating (so its shards do not bounce between workers), reports not ready with the reason,
 * and retries; it exits only on a settings error or a refusal that waiting cannot heal.
 */
import type { Backoff } from '../backoff';
import type { ForwarderConfig } from '../settings';
import { DeadlineError, SlsError } from '../errors';
import { SlsClient } from '../sls/client';
import { decodeCursor } from '../sls/cursor';
import { operatorEndpoint } from '../sls/endpoint';
import type { RetryPolicy } from '../sls/retry';
import { ShipError, shipRange, type ShardRange, type ShipSummary } from '../ship/range';
import { Destinations, throttlesFor } from '../ship/destinations';
import type { Throttle } from '../ship/throttle';
import { serveMetrics, WorkerMetrics } from './metrics';
import { canHeal, cannotJoin, firstLine, log, Outage, reasonFor, Sleeper } from './outage';
import { OutputWatch } from './output-watch';
import { ShardTask, type ShardHost, type ShardStart } from './shard-task';
import type { ConsumeSettings } from './settings';

/** Joining the group while SLS cannot be reached: tried again after this. */
const JOIN_BACKOFF: Backoff = { baseMs: 500, capMs: 30_000, jitter: 'equal' };

/** One try per call while joining: the join loop retries, and each failure shows in /readyz at once. */
const ONE_TRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

/** One shipped range at most this long, so a shard sees new data and a changed end often enough. */
const RANGE_WINDOW_MS = 20_000;

/** What /readyz's reasons are about (besides failing shards). */
const SLS_JOIN = 'sls join';
const SLS_HEARTBEAT = 'sls heartbeat';

export class ConsumerWorker implements ShardHost {
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
  /** The rate limits, one per output for the whole process: every shard's connections share them. */
  private readonly throttles: Map<string, Throttle>;
  private readonly heartbeats = new Outage();
  /** The outputs' reachability: probed at the start, and again while one is down. */
  private readonly outputs: OutputWatch;

  constructor(readonly settings: ConsumeSettings, private readonly config: ForwarderConfig) {
    this.client = this.newClient();
    this.throttles = throttlesFor(config.outputs);
    this.metrics = new WorkerMetrics(settings.timeoutSeconds * 1000, this.throttles);
    this.outputs = new OutputWatch(config.outputs, this.throttles, this.metrics, settings.consumer);
    const end = settings.end;
    this.backfillEnd = end === undefined ? undefined : end.kind === 'time' ? end.unixSeconds : 'end';
  }

  private newClient(retry?: RetryPolicy): SlsClient {
    const s = this.settings;
    const endpoint = operatorEndpoint(s.endpoint, this.config.source.policy.https).url;
    return new SlsClient({ endpoint, project: s.project, credentials: s.credentials, ...(retry ? { retry } : {}) });
  }

  newConnection(): Destinations {
    return new Destinations(this.config.outputs, this.throttles);
  }

  reasonFor(err: unknown): string {
    return reasonFor(err, this.config.outputs.map((o) => o.name));
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
    // Serving before the first SLS call: /readyz says why while SLS or the SIEM cannot be reached.
    const endpoints = s.metricsPort === undefined ? undefined : await serveMetrics(this.metrics, s.metricsPort, s.metricsHost);
    try {
      const created = await this.joinGroup();
      if (created !== undefined) {
        await this.outputs.probeAll();
        log({ consumer: s.consumer, group: s.group, project: s.project, logstore: s.logstore, result: 'started', groupCreated: created, ...(endpoints ? { metrics: `http://${s.metricsHost}:${endpoints.port}/metrics` } : {}) });
        await this.consume();
      } // else stopped before SLS answered
    } finally {
      this.outputs.stop();
      await endpoints?.close();
      this.client.close();
    }
    log({ consumer: s.consumer, result: 'stopped' });
  }

  /** Creates (or finds) the group, retrying while SLS may come back; undefined when stopped first. */
  private async joinGroup(): Promise<boolean | undefined> {
    const s = this.settings;
    const outage = new Outage();
    const client = this.newClient(ONE_TRY);
    try {
      while (!this.stopping) {
        try {
          const created = await client.createConsumerGroup(s.logstore, s.group, s.timeoutSeconds, s.inOrder);
          const over = outage.recovered();
          if (over) log({ consumer: s.consumer, result: 'sls-reachable', ...over });
          this.metrics.readyAgain(SLS_JOIN);
          return created;
        } catch (err) {
          if (!canHeal(err)) throw cannotJoin(err, s);
          this.metrics.notReady(SLS_JOIN, this.reasonFor(err));
          const logIt = outage.failed(err);
          const retryInMs = outage.retryDelay(JOIN_BACKOFF);
          if (logIt) log({ consumer: s.consumer, result: 'sls-unreachable', error: firstLine(err), retryInMs });
          await this.sleeper.sleep(retryInMs);
        }
      }
      return undefined;
    } finally {
      client.close();
    }
  }

  /** Heartbeats until stopped (or, with SLS_END, until every shard reached it), then drains. */
  private async consume(): Promise<void> {
    const s = this.settings;
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
  }

  stop(): void {
    this.stopping = true;
    this.sleeper.interrupt();
    this.outputs.stop();
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
    // The lease runs from when the heartbeat left, not from when its answer was read: an answer
    // read late (a slow network, or this process frozen meanwhile) must not extend it.
    const sentAt = Date.now();
    try {
      assigned = new Set(await this.client.heartbeat(s.logstore, s.group, s.consumer, [...this.tasks.keys()]));
      this.heartbeatAccepted(sentAt);
    } catch (err) {
      this.metrics.heartbeatFailures.inc();
      if (err instanceof SlsError && err.code === 'ConsumerNotExist') this.fenceAll('SLS refused the heartbeat (this worker timed out)');
      this.heartbeatFailed(err);
      return;
    }
    // Answered too late to count: SLS may have handed the shards on meanwhile.
    if (this.silentTooLong()) return this.fenceAll('the heartbeat was answered after the group timeout');
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

  private heartbeatAccepted(sentAt: number): void {
    this.lastAccepted = sentAt;
    this.metrics.lastHeartbeatOk = this.lastAccepted;
    this.metrics.readyAgain(SLS_HEARTBEAT);
    const over = this.heartbeats.recovered();
    if (over) log({ consumer: this.settings.consumer, result: 'heartbeat-recovered', ...over });
  }

  /** Not ready at once; logged when the failure starts or changes, not at every heartbeat. */
  private heartbeatFailed(err: unknown): void {
    this.metrics.notReady(SLS_HEARTBEAT, `heartbeat failed: ${this.reasonFor(err)}`);
    if (this.heartbeats.failed(err)) log({ consumer: this.settings.consumer, result: 'heartbeat-error', error: firstLine(err) });
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

  private async startOf(shard: number, anyCheckpoint: Promise<boolean>): Promise<ShardStart> {
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
        if (err.summary.delivered > 0) this.outputs.delivered();
        return err.summary.reachedCursor;
      }
      if (err instanceof ShipError) this.metrics.shipped(shard, err.summary, false);
      throw err;
    }
    this.metrics.shipped(shard, summary, summary.reachedCursor === end);
    if (summary.delivered > 0) this.outputs.delivered();
    log({
      consumer: s.consumer, shard, result: 'ok', records: summary.records, delivered: summary.delivered, proof: summary.proof,
      groups: summary.groups, resent: summary.resent, commits: summary.commits, durationMs: summary.durationMs,
    });
    return summary.reachedCursor;
  }

}
