/**
 * The worker's outputs at the start and while one is down. Each is connected to once at the start:
 * a SIEM that does not answer is logged once (`siem-unreachable`), makes the worker not ready and
 * is probed again with capped, jittered backoff until it answers (`siem-reachable`) or a range gets
 * through; only an error that reconnecting cannot help (a settings error) stops the start.
 */
import type { Backoff } from '../backoff';
import type { OutputConfig } from '../ship/config';
import { Destinations } from '../ship/destinations';
import type { Throttle } from '../ship/throttle';
import type { WorkerMetrics } from './metrics';
import { firstLine, log, Outage, outputCannotHeal, reasonFor, Sleeper } from './outage';

/** An output that did not answer is probed again after this, until it does. */
const PROBE_BACKOFF: Backoff = { baseMs: 1_000, capMs: 30_000, jitter: 'equal' };

export class OutputWatch {
  /** Outputs that have not answered since the start, by name. */
  private readonly unreachable = new Map<string, Outage>();
  private readonly sleepers = new Set<Sleeper>();
  private stopped = false;

  constructor(
    private readonly outputs: readonly OutputConfig[], private readonly throttles: Map<string, Throttle>,
    private readonly metrics: WorkerMetrics, private readonly consumer: string,
  ) {}

  /** Probes every output once; throws only what waiting cannot heal. */
  async probeAll(): Promise<void> {
    for (const output of this.outputs) {
      const err = await this.probe(output);
      if (err === undefined) continue;
      if (outputCannotHeal(err)) throw err;
      const outage = new Outage();
      this.unreachable.set(output.name, outage);
      this.failed(output, outage, err);
      void this.probeUntilReachable(output, outage);
    }
  }

  /** A range got through: every output answered, whatever a pending probe would say. */
  delivered(): void {
    for (const [name, outage] of this.unreachable) if (outage.down) this.reachable(name, outage);
  }

  stop(): void {
    this.stopped = true;
    for (const sleeper of this.sleepers) sleeper.interrupt();
  }

  /** Opens and closes a connection, as a range would (with the process's throttles). */
  private async probe(output: OutputConfig): Promise<unknown> {
    const connection = new Destinations([output], this.throttles);
    try {
      await connection.connect();
      return undefined;
    } catch (err) {
      return err;
    } finally {
      await connection.close().catch(() => {});
    }
  }

  private async probeUntilReachable(output: OutputConfig, outage: Outage): Promise<void> {
    const sleeper = new Sleeper();
    this.sleepers.add(sleeper);
    while (!this.stopped && outage.down) {
      await sleeper.sleep(outage.retryDelay(PROBE_BACKOFF));
      if (this.stopped || !outage.down) break; // a delivered range may have ended the outage meanwhile
      const err = await this.probe(output);
      if (err === undefined) this.reachable(output.name, outage);
      else this.failed(output, outage, err);
    }
    this.sleepers.delete(sleeper);
  }

  private failed(output: OutputConfig, outage: Outage, err: unknown): void {
    this.metrics.notReady(`output ${output.name}`, reasonFor(err, [output.name]));
    if (outage.failed(err)) log({ consumer: this.consumer, result: 'siem-unreachable', output: output.name, error: firstLine(err) });
  }

  private reachable(name: string, outage: Outage): void {
    const over = outage.recovered();
    this.metrics.readyAgain(`output ${name}`);
    if (over) log({ consumer: this.consumer, result: 'siem-reachable', output: name, ...over });
  }
}
