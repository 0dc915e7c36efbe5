/**
 * The worker's health and Prometheus metrics (`prom-client`, the standard client), served on
 * METRICS_PORT (off by default; 127.0.0.1 unless METRICS_HOST says otherwise):
 *   /healthz  the process is alive
 *   /readyz   heartbeats are being accepted, every output answered, and the last range on every
 *             held shard reached the SIEM; else 503 with the reasons (e.g. the SIEM is unreachable)
 *   /metrics  the Prometheus exposition format
 */
import http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Throttle } from '../ship/throttle';

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly records = new Counter({ name: 'slsfwd_records_shipped_total', help: 'Records proven delivered to the SIEM, by shard.', labelNames: ['shard'], registers: [this.registry] });
  readonly bytes = new Counter({ name: 'slsfwd_bytes_shipped_total', help: 'Syslog message bytes proven delivered, by shard.', labelNames: ['shard'], registers: [this.registry] });
  readonly resent = new Counter({ name: 'slsfwd_records_resent_total', help: 'Records sent again after a SIEM fault (not proven the first time), by shard.', labelNames: ['shard'], registers: [this.registry] });
  readonly retries = new Counter({ name: 'slsfwd_sls_retries_total', help: 'SLS requests retried (throttling, 5xx, resets), by shard.', labelNames: ['shard'], registers: [this.registry] });
  readonly reconnects = new Counter({ name: 'slsfwd_siem_reconnects_total', help: 'SIEM connections replaced after a fault, by shard.', labelNames: ['shard'], registers: [this.registry] });
  readonly caughtUpAge = new Gauge({ name: 'slsfwd_shard_behind_seconds', help: 'Seconds since the shard was last shipped up to its end (0 while caught up): how far behind it is.', labelNames: ['shard'], registers: [this.registry] });
  readonly checkpointAge = new Gauge({ name: 'slsfwd_checkpoint_age_seconds', help: 'Seconds since the shard\'s checkpoint was last written.', labelNames: ['shard'], registers: [this.registry] });
  readonly heartbeatFailures = new Counter({ name: 'slsfwd_heartbeat_failures_total', help: 'Heartbeats SLS did not accept (network errors, refusals).', registers: [this.registry] });
  readonly shardsHeld = new Gauge({ name: 'slsfwd_shards_held', help: 'Shards this worker holds now.', registers: [this.registry] });
  readonly throttled = new Counter({ name: 'slsfwd_output_throttled_seconds_total', help: 'Seconds sending waited for OUTPUT_MAX_EVENTS_PER_SECOND / OUTPUT_MAX_BYTES_PER_SECOND, by output.', labelNames: ['output'], registers: [this.registry] });

  private readonly caughtUpAt = new Map<number, number>();
  private readonly checkpointAt = new Map<number, number>();
  /** Shards whose last range failed, with what /readyz says about it. */
  private readonly failing = new Map<number, string>();
  /** Worker-wide reasons not to be ready (SLS or an output unreachable), by what they are about. */
  private readonly problems = new Map<string, string>();
  lastHeartbeatOk = 0;

  /** `throttles`: the process's rate limits by output (src/ship/throttle.ts), read when scraped. */
  constructor(private readonly heartbeatTimeoutMs: number, private readonly throttles: ReadonlyMap<string, Throttle> = new Map()) {}

  shipped(shard: number, s: { delivered: number; sentBytes: number; resent: number; slsRetries: number; reconnects: number }, caughtUp: boolean): void {
    const labels = { shard: String(shard) };
    this.records.inc(labels, s.delivered);
    this.bytes.inc(labels, s.sentBytes);
    this.resent.inc(labels, s.resent);
    this.retries.inc(labels, s.slsRetries);
    this.reconnects.inc(labels, s.reconnects);
    if (caughtUp) this.caughtUpAt.set(shard, Date.now());
    this.failing.delete(shard);
  }

  failed(shard: number, reason: string): void {
    this.failing.set(shard, reason);
  }

  /** Not ready for this reason until `readyAgain(about)`. */
  notReady(about: string, reason: string): void {
    this.problems.set(about, reason);
  }

  readyAgain(about: string): void {
    this.problems.delete(about);
  }

  idle(shard: number): void {
    this.caughtUpAt.set(shard, Date.now());
    this.failing.delete(shard);
  }

  checkpointed(shard: number): void {
    this.checkpointAt.set(shard, Date.now());
  }

  held(shards: number[]): void {
    this.shardsHeld.set(shards.length);
    for (const shard of [...this.caughtUpAt.keys()]) {
      if (shards.includes(shard)) continue;
      this.caughtUpAt.delete(shard);
      this.checkpointAt.delete(shard);
      this.failing.delete(shard);
      this.caughtUpAge.remove({ shard: String(shard) });
      this.checkpointAge.remove({ shard: String(shard) });
    }
    for (const shard of shards) if (!this.caughtUpAt.has(shard)) this.caughtUpAt.set(shard, Date.now());
  }

  /** Why the worker is not ready (each reason once); empty when it is. */
  get notReadyReasons(): string[] {
    const reasons = [...this.problems.values(), ...this.failing.values()];
    const silentMs = Date.now() - this.lastHeartbeatOk;
    if (silentMs >= this.heartbeatTimeoutMs) {
      reasons.push(this.lastHeartbeatOk === 0 ? 'no heartbeat accepted yet' : `no heartbeat accepted for ${Math.round(silentMs / 1000)} s`);
    }
    return [...new Set(reasons)];
  }

  get ready(): boolean {
    return this.notReadyReasons.length === 0;
  }

  /** Ages are computed when scraped, so they keep growing while nothing happens; throttled time is read then too. */
  async render(): Promise<string> {
    const now = Date.now();
    for (const [shard, at] of this.caughtUpAt) this.caughtUpAge.set({ shard: String(shard) }, (now - at) / 1000);
    for (const [shard, at] of this.checkpointAt) this.checkpointAge.set({ shard: String(shard) }, (now - at) / 1000);
    // The throttle keeps the total: the counter is set to it (reset, then one increment by the whole).
    this.throttled.reset();
    for (const [output, throttle] of this.throttles) this.throttled.inc({ output }, throttle.throttledMs / 1000);
    return this.registry.metrics();
  }
}

/** Serves the endpoints; answers a function that closes the server. */
export async function serveMetrics(metrics: WorkerMetrics, port: number, host: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const reasons = metrics.notReadyReasons;
      return void res.writeHead(reasons.length === 0 ? 200 : 503, { 'content-type': 'text/plain' }).end(reasons.length === 0 ? 'ready\n' : `not ready: ${reasons.join('; ')}\n`);
    }
    if (path === '/metrics') {
      void metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /healthz, /readyz, /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { port: (server.address() as { port: number }).port, close: () => new Promise((r) => server.close(() => r())) };
}
