/**
 * The outputs of one FC instance (or one worker shard), each with its connections, kept between
 * invocations. Made once per instance from the settings; a range opens a lane on each.
 */
import type { OutputConfig } from './config';
import { ConnectionPool } from '../outputs/connection';

export interface Destination {
  config: OutputConfig;
  pool: ConnectionPool;
}

export class Destinations {
  readonly list: readonly Destination[];

  constructor(outputs: readonly OutputConfig[]) {
    this.list = outputs.map((config) => ({ config, pool: new ConnectionPool(config.connection, (deadlineMs) => config.output.open(deadlineMs)) }));
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
