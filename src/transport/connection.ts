/**
 * The SIEM connection of one FC instance. The initializer opens it; each invocation leases it,
 * and a connection that died (receiver restart, RST, idle too long) is replaced transparently.
 * In `per-invocation` mode every lease gets its own connection, closed gracefully at the end.
 */
import type { ForwarderConfig } from '../config';
import { openTransport } from './open';
import type { SyslogTransport } from './transport';

export interface Lease {
  transport: SyslogTransport;
  /** True when an already open connection was reused. */
  reused: boolean;
  /** Everything sent is flushed; in per-invocation mode the connection is closed gracefully. */
  complete(): Promise<void>;
  /** After a failure: drop the connection so the next lease opens a fresh one. */
  abandon(): void;
}

type Opener = (config: ForwarderConfig) => Promise<SyslogTransport>;

export class SiemConnection {
  private shared: SyslogTransport | undefined;
  private opening: Promise<SyslogTransport> | undefined;
  private lastUsed = 0;

  constructor(private readonly config: ForwarderConfig, private readonly open: Opener = openTransport) {}

  /** Opens the shared connection now (from the FC initializer), so a bad address fails early. */
  async connect(): Promise<void> {
    if (this.config.connectionMode === 'reuse') await this.sharedTransport();
  }

  async lease(): Promise<Lease> {
    if (this.config.connectionMode === 'per-invocation') {
      const transport = await this.open(this.config);
      return {
        transport, reused: false,
        complete: () => transport.close(),
        abandon: () => transport.destroy(),
      };
    }
    let reused = false;
    if (this.shared) {
      // While the instance was frozen, a FIN or RST may have arrived: let those events land first.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.shared?.alive && Date.now() - this.lastUsed <= this.config.maxIdleMs) reused = true;
      else this.drop();
    }
    const transport = await this.sharedTransport();
    return {
      transport, reused,
      complete: async () => {
        await transport.flush();
        this.lastUsed = Date.now();
      },
      abandon: () => {
        if (this.shared === transport) this.drop();
        else transport.destroy();
      },
    };
  }

  /** Closes the shared connection gracefully (FC PreStop, tests). */
  async close(): Promise<void> {
    const t = this.shared;
    this.shared = undefined;
    if (t?.alive) await t.close();
  }

  private async sharedTransport(): Promise<SyslogTransport> {
    if (this.shared) return this.shared;
    this.opening ??= this.open(this.config).finally(() => (this.opening = undefined));
    this.shared = await this.opening;
    this.lastUsed = Date.now();
    return this.shared;
  }

  private drop(): void {
    this.shared?.destroy();
    this.shared = undefined;
  }
}
