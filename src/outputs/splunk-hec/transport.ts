/**
 * Splunk HTTP Event Collector output: events are batched into one request body (concatenated JSON
 * objects, gzip by default) for POST /services/collector/event with `Authorization: Splunk <token>`.
 * 429, 5xx and network errors are retried with backoff; a rejected token or bad request fails at
 * once (a token from KMS is first fetched once more: a rotation). Only HEC's own `{"code":0}`
 * proves a batch taken. With acknowledgement on, flush() waits until the indexers acknowledged every batch.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { HecSettings } from './settings';
import { OutputError } from '../../errors';
import { withRetry } from '../../sls/retry';
import { isCertificateError, networkFailure, type NetSettingNames } from '../net-errors';
import { boundedWait, type Transport } from '../transport';

interface HecAnswer {
  status: number;
  /** The body parsed as JSON; undefined when it is not JSON (a proxy's or a captive portal's page). */
  body: { text?: string; code?: number; ackId?: number; acks?: Record<string, boolean> } | undefined;
  contentType: string;
}

/** Splunk HEC refused, broke or could not be reached. */
export class HecError extends OutputError {
  override name = 'HecError';
}

class RetryableHecError extends HecError {
  readonly retryable = true;
}

const HEC_NAMES: NetSettingNames = {
  address: 'SPLUNK_HEC_URL',
  ca: 'Set SPLUNK_HEC_CA_FILE to the CA that signed it, and make sure the host of SPLUNK_HEC_URL matches a name in the certificate',
  clientCertificate: undefined,
};

const RETRY = { attempts: 5, baseDelayMs: 250, maxDelayMs: 4_000 };

const refusesToken = (res: HecAnswer) => res.status === 401 || res.status === 403;

/** After KMS answered the refused token itself, it is not asked again this soon. */
const RENEWAL_QUIET_MS = 10_000;

/** What fetching a refused token again gave: another token, the same one, or nothing to fetch it from. */
type Renewal = 'changed' | 'unchanged' | 'none';
/** On libuv's thread pool: the next batch is formatted while this one is compressed. */
const gzipAsync = promisify(gzip);
const MAX_IN_FLIGHT = 4;

/** The most of an answer read: HEC's are a few hundred bytes of JSON. */
const ANSWER_BYTES = 64 * 1024;

export class HecTransport implements Transport {
  readonly target: string;
  private readonly agent: http.Agent;
  private readonly channel = randomUUID();
  /** Events are copied straight into this buffer (a new one per batch: the posted one is still read). */
  private batch = Buffer.allocUnsafe(64 * 1024);
  private batchBytes = 0;
  private inFlight = new Set<Promise<void>>();
  private pendingAcks = new Set<number>();
  private renewing: Promise<void> | undefined;
  /** When KMS last answered the very token the collector refuses. */
  private sameTokenSince: number | undefined;
  private failure: HecError | undefined;
  private closed = false;

  private constructor(private readonly settings: HecSettings) {
    this.target = `splunk-hec ${settings.url.origin}`;
    const Agent = settings.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT, ca: settings.ca, rejectUnauthorized: !settings.insecure } as https.AgentOptions);
  }

  get alive(): boolean {
    return !this.failure && !this.closed;
  }

  /** Checks the collector answers (GET /services/collector/health) so a wrong URL or CA fails early. */
  static async connect(settings: HecSettings): Promise<HecTransport> {
    const t = new HecTransport(settings);
    if (settings.insecure) {
      console.warn(`WARNING sls-syslog-forwarder: SPLUNK_HEC_INSECURE=true - the certificate of ${settings.url.origin} is NOT verified.`);
    }
    if (settings.url.protocol === 'http:') {
      console.warn(`WARNING sls-syslog-forwarder: SPLUNK_HEC_ALLOW_HTTP=on - the HEC token and the logs go to ${settings.url.origin} unencrypted.`);
    }
    const res = await t.request('GET', '/services/collector/health', undefined, 'connect');
    if (res.status !== 200) {
      t.agent.destroy();
      throw new HecError(`Splunk HEC at ${settings.url.origin} is not healthy (HTTP ${res.status}: ${res.body?.text ?? ''}). Check SPLUNK_HEC_URL and that HEC is enabled.`, true);
    }
    return t;
  }

  /** Events from the kernel, many at a time (concatenated, as HEC takes them). */
  sendFramed(events: Uint8Array): Promise<void> | undefined {
    return this.send(events);
  }

  send(message: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.batchBytes + message.length > this.batch.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.batch.length, this.batchBytes + message.length));
      this.batch.copy(bigger, 0, 0, this.batchBytes);
      this.batch = bigger;
    }
    this.batch.set(message, this.batchBytes);
    this.batchBytes += message.length;
    if (this.batchBytes < this.settings.batchBytes) return undefined;
    return this.post();
  }

  /** The collector's answers (and indexer acks when on) are the proof: a commit is a flush. */
  readonly proof = 'ack' as const;
  readonly reusable = true;
  deadlineMs = Number.POSITIVE_INFINITY;

  commit(): Promise<void> {
    return this.flush();
  }

  async flush(): Promise<void> {
    await this.post();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    if (this.settings.ack) await this.waitForAcks();
  }

  async close(): Promise<void> {
    await this.flush();
    this.destroy();
  }

  destroy(): void {
    this.closed = true;
    this.agent.destroy();
  }

  /** Starts sending the current batch; resolves when there is room for another one. */
  private async post(): Promise<void> {
    if (this.batchBytes > 0) {
      const raw = this.batch.subarray(0, this.batchBytes);
      this.batch = Buffer.allocUnsafe(this.batch.length);
      this.batchBytes = 0;
      // Level 1: a third of the CPU of the default level (measured), and log JSON still shrinks many times.
      // One output chunk per batch: each extra chunk is a round trip from the pool to the main thread.
      const body = this.settings.gzip ? gzipAsync(raw, { level: 1, memLevel: 9, chunkSize: Math.max(64 * 1024, raw.length) }) : Promise.resolve(raw);
      const p: Promise<void> = body.then((b) => this.sendBatch(b)).then(
        () => void this.inFlight.delete(p),
        (err: HecError) => {
          this.inFlight.delete(p);
          this.failure ??= err;
        },
      );
      this.inFlight.add(p);
    }
    while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private postEvents(body: Buffer): Promise<HecAnswer> {
    return withRetry(async () => {
      const r = await this.request('POST', '/services/collector/event', body, 'send');
      if (r.status === 429 || r.status >= 500) throw new RetryableHecError(`Splunk HEC answered HTTP ${r.status}: ${r.body?.text ?? ''}`);
      return r;
    }, RETRY, undefined, this.deadlineMs);
  }

  private async sendBatch(body: Buffer): Promise<void> {
    const used = this.settings.token;
    let res = await this.postEvents(body);
    let renewal: Renewal = 'none';
    if (refusesToken(res)) {
      renewal = await this.renewToken(used);
      if (renewal === 'changed') res = await this.postEvents(body);
    }
    if (res.status !== 200) {
      const s = this.settings;
      const again = renewal === 'changed' ? ': fetched again after the refusal, and the new one was refused too' : renewal === 'unchanged' ? ': fetched again after the refusal, and KMS has no other' : '';
      const hint = refusesToken(res) ? ` Check ${s.tokenSource}${again} (and that the token is enabled and may write to SPLUNK_HEC_INDEX).` : '';
      throw new HecError(`Splunk HEC rejected a batch: HTTP ${res.status}, code ${res.body?.code ?? '?'}: ${res.body?.text ?? ''}.${hint}`, true);
    }
    // Only HEC's own answer proves the collector took the batch: a proxy or a captive portal also answers 200.
    if (res.body?.code !== 0) {
      throw new HecError(
        `${this.target} answered HTTP 200 with ${res.body ? `code ${res.body.code ?? 'none'}` : `"${res.contentType || 'no content type'}"`}, not HEC's ` +
          '{"code":0}: the batch is not proven delivered. Is a proxy or a captive portal in the way? Check SPLUNK_HEC_URL.',
        true,
      );
    }
    if (this.settings.ack) {
      if (typeof res.body.ackId !== 'number') throw new HecError('Splunk HEC gave no ackId: enable indexer acknowledgement on the token, or set SPLUNK_HEC_ACK=off.', true);
      this.pendingAcks.add(res.body.ackId);
    }
  }

  /**
   * The collector refused `used`: when the token comes from KMS, fetch it once more (a rotation)
   * unless another batch already did. Answers what that gave: another token to try, the same, or none.
   */
  private async renewToken(used: string): Promise<Renewal> {
    const s = this.settings;
    if (s.token !== used) return 'changed';
    if (!s.renewToken) return 'none';
    // Batches refused together (several are in flight) ask KMS once.
    if (this.sameTokenSince !== undefined && Date.now() - this.sameTokenSince < RENEWAL_QUIET_MS) return 'unchanged';
    this.renewing ??= s.renewToken().finally(() => (this.renewing = undefined));
    await this.renewing.catch((err: Error) => {
      throw new HecError(`Splunk HEC refused the token (${s.tokenSource}), and fetching it again failed: ${err.message}`, true);
    });
    if (s.token !== used) {
      this.sameTokenSince = undefined;
      return 'changed';
    }
    this.sameTokenSince = Date.now();
    return 'unchanged';
  }

  private async waitForAcks(): Promise<void> {
    const deadline = Math.min(Date.now() + this.settings.ackTimeoutMs, this.deadlineMs);
    while (this.pendingAcks.size > 0) {
      const res = await this.request('POST', '/services/collector/ack', Buffer.from(JSON.stringify({ acks: [...this.pendingAcks] })), 'ack');
      for (const [id, done] of Object.entries(res.body?.acks ?? {})) if (done) this.pendingAcks.delete(Number(id));
      if (this.pendingAcks.size === 0) return;
      if (Date.now() > deadline) {
        this.failure = new HecError(`Splunk HEC did not acknowledge ${this.pendingAcks.size} batch(es) within ${this.settings.ackTimeoutMs} ms; they are sent again.`);
        throw this.failure;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private request(method: string, path: string, body: Buffer | undefined, stage: string): Promise<HecAnswer> {
    const s = this.settings;
    const headers: Record<string, string> = { authorization: `Splunk ${s.token}`, 'x-splunk-request-channel': this.channel };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
      if (s.gzip && path.endsWith('/event')) headers['content-encoding'] = 'gzip';
    }
    const transport = s.url.protocol === 'https:' ? https : http;
    const wait = boundedWait(30_000, this.deadlineMs).ms;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        { protocol: s.url.protocol, hostname: s.url.hostname, port: s.url.port || undefined, method, path: `${s.url.pathname.replace(/\/$/, '')}${path}`, headers, agent: this.agent, timeout: wait },
        (res) => {
          // HEC answers with a small JSON document; a proxy page beyond this is not read (nor kept).
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (c: Buffer) => {
            if (kept >= ANSWER_BYTES) return;
            chunks.push(c);
            kept += c.length;
          });
          res.on('end', () => {
            clearTimeout(whole);
            let parsed: HecAnswer['body'];
            try {
              const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as HecAnswer['body'];
            } catch {
              /* not JSON: keep the status */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, contentType: String(res.headers['content-type'] ?? '').split(';')[0]!.slice(0, 60) });
          });
          res.on('error', (err) => reject(new RetryableHecError(networkFailure(err, 'Splunk HEC', this.target, stage, HEC_NAMES))));
        },
      );
      // The socket's idle timeout, and one for the whole exchange (an answer trickled byte by byte never goes idle).
      const late = () => req.destroy(Object.assign(new Error('no answer in time (30 s, or the invocation\'s deadline)'), { code: 'ETIMEDOUT' }));
      const whole = setTimeout(late, wait);
      req.on('close', () => clearTimeout(whole));
      req.on('timeout', late);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const e = { message: networkFailure(err, 'Splunk HEC', this.target, stage, HEC_NAMES) };
        // Certificate problems do not heal by retrying.
        reject(isCertificateError(err) ? new HecError(e.message, true) : new RetryableHecError(e.message));
      });
      req.end(body);
    });
  }
}
