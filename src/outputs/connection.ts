/**
 * The connections of one output in one FC instance (or one worker shard). Each commit segment
 * takes a connection: in `reuse` mode an open one is kept between invocations (a connection that
 * died or idled too long is replaced). With close proofs every segment ends its connection, so
 * `reuse` keeps a fresh spare ready instead; in `per-invocation` mode nothing outlives an invocation.
 */
import type { SettingsReader } from '../config/reader';
import type { Transport } from './transport';

export type ConnectionMode = 'reuse' | 'per-invocation';

export interface ConnectionSettings {
  /** `reuse`: one connection per FC instance, opened by the initializer; `per-invocation`: closed gracefully after each. */
  mode: ConnectionMode;
  /** A reused connection idle longer than this is replaced (NAT and firewalls drop idle flows silently). */
  maxIdleMs: number;
}

export function readConnection(r: SettingsReader): ConnectionSettings {
  return {
    mode: r.oneOf<ConnectionMode>('SYSLOG_CONNECTION', ['reuse', 'per-invocation'], 'reuse'),
    maxIdleMs: r.integer('SYSLOG_MAX_IDLE_SECONDS', 120, 1, 3600) * 1000,
  };
}

export interface Lease {
  transport: Transport;
  /** True when a connection opened earlier (a previous invocation, the initializer) was used. */
  reused: boolean;
}

/** Opens one connection, its connect and handshake bounded by `deadlineMs`. */
export type Opener = (deadlineMs: number) => Promise<Transport>;

export class ConnectionPool {
  private spare: Transport | undefined;
  private spareSince = 0;
  private opening: Promise<Transport | undefined> | undefined;

  constructor(private readonly settings: ConnectionSettings, private readonly open: Opener) {}

  /** Opens the connection now (from the FC initializer), so a bad address fails early. */
  async connect(): Promise<void> {
    if (this.settings.mode !== 'reuse') return;
    this.keep(await this.openUntil(Number.POSITIVE_INFINITY));
  }

  /** A connection for the next segment, its waits bounded by `deadlineMs`. */
  async take(deadlineMs: number): Promise<Lease> {
    if (this.opening) await this.opening;
    const spare = this.spare;
    this.spare = undefined;
    if (spare) {
      // While the instance was frozen, a FIN or RST may have arrived: let those events land first.
      await new Promise((resolve) => setImmediate(resolve));
      if (spare.alive && Date.now() - this.spareSince <= this.settings.maxIdleMs) {
        spare.deadlineMs = deadlineMs;
        return { transport: spare, reused: true };
      }
      spare.destroy();
    }
    return { transport: await this.openUntil(deadlineMs), reused: false };
  }

  /**
   * The segment ended well. A connection that can go on sending is kept for the next invocation
   * (`reuse`) or closed (`per-invocation`); a closed one (close proof) is replaced by a spare
   * opened in the background, so the next invocation does not wait for a handshake.
   */
  async release(transport: Transport): Promise<void> {
    if (this.settings.mode !== 'reuse') {
      if (transport.alive) await transport.close();
      return;
    }
    if (transport.reusable && transport.alive) {
      this.keep(transport);
      return;
    }
    if (this.spare) return;
    this.opening ??= this.openUntil(Number.POSITIVE_INFINITY)
      .then((t) => (this.keep(t), t), () => undefined) // a failure shows at the next take()
      .finally(() => (this.opening = undefined));
  }

  /** A connection opened ahead and not needed: the next invocation's (`reuse`), or closed. */
  keepSpare(transport: Transport): void {
    if (this.settings.mode === 'reuse' && transport.alive) this.keep(transport);
    else transport.destroy();
  }

  /** Closes the kept connection gracefully (FC PreStop, worker shutdown, tests). */
  async close(): Promise<void> {
    if (this.opening) await this.opening;
    const t = this.spare;
    this.spare = undefined;
    if (t?.alive) await t.close().catch(() => t.destroy());
  }

  private async openUntil(deadlineMs: number): Promise<Transport> {
    const transport = await this.open(deadlineMs);
    transport.deadlineMs = deadlineMs;
    return transport;
  }

  private keep(transport: Transport): void {
    if (this.spare && this.spare !== transport) this.spare.destroy();
    this.spare = transport;
    this.spareSince = Date.now();
  }
}
