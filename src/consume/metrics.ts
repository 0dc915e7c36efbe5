/**
 * The worker's health and Prometheus metrics (`prom-client`, the standard client), served on
 * METRICS_PORT (off by default; 127.0.0.1 unless METRICS_HOST says otherwise):
 *   /healthz  the process is alive
 *   /readyz   heartbeats are being accepted and the last range on every held shard reached the SIEM
 *   /metrics  the Prometheus exposition format
 */
import http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';

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

  private readonly caughtUpAt = new Map<number, number>();
  private readonly checkpointAt = new Map<number, number>();
  private readonly failing = new Set<number>();
  lastHeartbeatOk = 0;

  constructor(private readonly heartbeatTimeoutMs: number) {}

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

  failed(shard: number): void {
    this.failing.add(shard);
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

  get ready(): boolean {
    return Date.now() - this.lastHeartbeatOk < this.heartbeatTimeoutMs && this.failing.size === 0;
  }

  /** Ages are computed when scraped, so they keep growing while nothing happens. */
  async render(): Promise<string> {
    const now = Date.now();
    for (const [shard, at] of this.caughtUpAt) this.caughtUpAge.set({ shard: String(shard) }, (now - at) / 1000);
    for (const [shard, at] of this.checkpointAt) this.checkpointAge.set({ shard: String(shard) }, (now - at) / 1000);
    return this.registry.metrics();
  }
}

/** Serves the endpoints; answers a function that closes the server. */
export async function serveMetrics(metrics: WorkerMetrics, port: number, host: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const ready = metrics.ready;
      return void res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready: heartbeats not accepted lately, or a shard cannot reach the SIEM\n');
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
