/**
 * A local Splunk HTTP Event Collector (HTTPS, 127.0.0.1) implementing the contract the forwarder
 * relies on: token auth (`Authorization: Splunk <token>`), gzip bodies, concatenated JSON events,
 * `{"text":"Success","code":0}`, indexer acknowledgement per channel (ackId, /ack polling, acks that
 * become true only on a later poll), health, and injectable 429/503 answers.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface HecEvent {
  time: number;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  event: Record<string, string>;
}

/** Splits concatenated JSON objects (what HEC accepts in one body). */
export function splitJsonObjects(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  if (depth !== 0) throw new Error('unbalanced JSON in HEC body');
  return out;
}

export class HecStub {
  readonly events: HecEvent[] = [];
  readonly requests: Array<{ path: string; status: number; gzip: boolean; channel: string | undefined }> = [];
  /** Statuses answered (once each) before normal processing, e.g. [503, 429]. */
  readonly faults: number[] = [];
  /** Every request's Authorization header, in order (to show which token was offered when). */
  readonly authorizations: string[] = [];
  /** Events answered 200 with an HTML page instead of HEC's JSON, as a proxy or captive portal does. */
  portal = false;
  private server: http.Server | undefined;
  private nextAck = 0;
  private readonly acks = new Map<number, number>(); // ackId -> polls still needed

  /** `plainHttp`: serve http:// (the forwarder refuses it unless SPLUNK_HEC_ALLOW_HTTP=on). */
  constructor(private readonly options: { key: string; cert: string; token: string; ack: boolean; plainHttp?: boolean }) {}

  get url(): string {
    return `${this.options.plainHttp ? 'http' : 'https'}://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** From now on only this token is accepted (the collector's side of a rotation). */
  acceptOnly(token: string): void {
    this.options.token = token;
  }

  async start(port = 0): Promise<this> {
    const listener: http.RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.authorizations.push(String(req.headers.authorization ?? ''));
        if (this.portal && req.url === '/services/collector/event') {
          this.requests.push({ path: req.url, status: 200, gzip: req.headers['content-encoding'] === 'gzip', channel: undefined });
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end('<html><body>Please log in to continue</body></html>');
          return;
        }
        const [status, body] = this.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks));
        this.requests.push({ path: req.url ?? '', status, gzip: req.headers['content-encoding'] === 'gzip', channel: req.headers['x-splunk-request-channel'] as string | undefined });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    };
    this.server = this.options.plainHttp ? http.createServer(listener) : https.createServer({ key: this.options.key, cert: this.options.cert }, listener);
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    return this;
  }

  /** The collector goes away (connections cut) for `downMs`, then comes back on the same port, keeping what it received. */
  async restart(downMs: number): Promise<void> {
    const port = (this.server!.address() as AddressInfo).port;
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.start(port);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private handle(method: string, path: string, headers: Record<string, string | string[] | undefined>, raw: Buffer): [number, object] {
    if (method === 'GET' && path === '/services/collector/health') return [200, { text: 'HEC is healthy', code: 17 }];
    if (headers.authorization !== `Splunk ${this.options.token}`) return [403, { text: 'Invalid token', code: 4 }];
    const fault = this.faults.shift();
    if (fault) return [fault, { text: fault === 429 ? 'Server is busy' : 'Service Unavailable', code: 9 }];
    const body = headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    if (method === 'POST' && path === '/services/collector/event') {
      let events: unknown[];
      try {
        events = splitJsonObjects(body.toString('utf8'));
      } catch {
        return [400, { text: 'Invalid data format', code: 6 }];
      }
      for (const e of events) {
        if (typeof e !== 'object' || e === null || !('event' in e)) return [400, { text: 'Event field is required', code: 12 }];
      }
      this.events.push(...(events as HecEvent[]));
      if (!this.options.ack) return [200, { text: 'Success', code: 0 }];
      if (!headers['x-splunk-request-channel']) return [400, { text: 'Data channel is missing', code: 10 }];
      const id = this.nextAck++;
      this.acks.set(id, 1); // acknowledged on the second poll that asks for it
      return [200, { text: 'Success', code: 0, ackId: id }];
    }
    if (method === 'POST' && path.startsWith('/services/collector/ack')) {
      const { acks } = JSON.parse(body.toString('utf8')) as { acks: number[] };
      const out: Record<string, boolean> = {};
      for (const id of acks) {
        const left = this.acks.get(id);
        out[id] = left === 0;
        if (left !== undefined && left > 0) this.acks.set(id, left - 1);
      }
      return [200, { acks: out }];
    }
    return [404, { text: 'The requested URL was not found on this server.', code: 404 }];
  }
}
