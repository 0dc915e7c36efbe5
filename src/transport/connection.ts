/**
 * The SIEM connections of one FC instance (or one worker shard). Each commit segment takes a
 * connection: in `reuse` mode an open one is kept between invocations (a connection that died or
 * idled too long is replaced). With close proofs every segment ends its connection, so `reuse`
 * keeps a fresh spare ready instead; in `per-invocation` mode nothing outlives an invocation.
 */
import type { ForwarderConfig } from '../config';
import { openTransport } from './open';
import type { SyslogTransport } from './transport';

export interface Lease {
  transport: SyslogTransport;
  /** True when a connection opened earlier (a previous invocation, the initializer) was used. */
  reused: boolean;
}

type Opener = (config: ForwarderConfig, deadlineMs: number) => Promise<SyslogTransport>;

export class SiemConnection {
  private spare: SyslogTransport | undefined;
  private spareSince = 0;
  private opening: Promise<SyslogTransport | undefined> | undefined;

  constructor(private readonly config: ForwarderConfig, private readonly open: Opener = openTransport) {}

  /** Opens the connection now (from the FC initializer), so a bad address fails early. */
  async connect(): Promise<void> {
    if (this.config.connectionMode !== 'reuse') return;
    const transport = await this.open(this.config, Number.POSITIVE_INFINITY);
    this.keep(transport);
  }

  /** A connection for the next segment, its waits bounded by `deadlineMs`. */
  async take(deadlineMs: number): Promise<Lease> {
    if (this.opening) await this.opening;
    const spare = this.spare;
    this.spare = undefined;
    if (spare) {
      // While the instance was frozen, a FIN or RST may have arrived: let those events land first.
      await new Promise((resolve) => setImmediate(resolve));
      if (spare.alive && Date.now() - this.spareSince <= this.config.maxIdleMs) {
        spare.deadlineMs = deadlineMs;
        return { transport: spare, reused: true };
      }
      spare.destroy();
    }
    return { transport: await this.open(this.config, deadlineMs), reused: false };
  }

  /**
   * The segment ended well. A connection that can go on sending is kept for the next invocation
   * (`reuse`) or closed (`per-invocation`); a closed one (close proof) is replaced by a spare
   * opened in the background, so the next invocation does not wait for a handshake.
   */
  async release(transport: SyslogTransport): Promise<void> {
    if (this.config.connectionMode !== 'reuse') {
      if (transport.alive) await transport.close();
      return;
    }
    if (transport.reusable && transport.alive) {
      this.keep(transport);
      return;
    }
    if (this.spare) return;
    this.opening ??= this.open(this.config, Number.POSITIVE_INFINITY)
      .then((t) => (this.keep(t), t), () => undefined) // a failure shows at the next take()
      .finally(() => (this.opening = undefined));
  }

  /** A connection opened ahead and not needed: the next invocation's (`reuse`), or closed. */
  keepSpare(transport: SyslogTransport): void {
    if (this.config.connectionMode === 'reuse' && transport.alive) this.keep(transport);
    else transport.destroy();
  }

  /** Closes the kept connection gracefully (FC PreStop, worker shutdown, tests). */
  async close(): Promise<void> {
    if (this.opening) await this.opening;
    const t = this.spare;
    this.spare = undefined;
    if (t?.alive) await t.close().catch(() => t.destroy());
  }

  private keep(transport: SyslogTransport): void {
    if (this.spare && this.spare !== transport) this.spare.destroy();
    this.spare = transport;
    this.spareSince = Date.now();
  }
}
