/**
 * The outputs of one FC instance (or one worker shard), each with its connections, kept between
 * invocations. Made once per instance from the settings; a range opens a lane on each.
 */
import type { OutputConfig } from './config';
import { ConnectionPool } from '../outputs/connection';
import { Throttle } from './throttle';

export interface Destination {
  config: OutputConfig;
  pool: ConnectionPool;
  /** Its rate limit, shared by every range of the process; undefined when off. */
  throttle: Throttle | undefined;
}

/** One throttle per output with a limit: made once per process (the worker shares them between its shards). */
export function throttlesFor(outputs: readonly OutputConfig[]): Map<string, Throttle> {
  const limited = outputs.filter((o) => o.delivery.throttle.maxEventsPerSecond || o.delivery.throttle.maxBytesPerSecond);
  return new Map(limited.map((o) => [o.name, new Throttle(o.delivery.throttle)]));
}

export class Destinations {
  readonly list: readonly Destination[];

  constructor(outputs: readonly OutputConfig[], throttles: Map<string, Throttle> = throttlesFor(outputs)) {
    this.list = outputs.map((config) => ({
      config, pool: new ConnectionPool(config.connection, (deadlineMs) => config.output.open(deadlineMs)), throttle: throttles.get(config.name),
    }));
  }

  /** Opens every output's connection now (the FC initializer), so a bad address fails early. */
  async connect(): Promise<void> {
    await Promise.all(this.list.map((d) => d.pool.connect()));
  }

  /** Closes the kept connections gracefully (FC PreStop, worker shutdown). */
  async close(): Promise<void> {
    await Promise.all(this.list.map((d) => d.pool.close()));
  }
}
