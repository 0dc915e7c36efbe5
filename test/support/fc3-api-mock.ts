/**
 * A local stand-in for the FC 3.0 API (2023-03-30) over HTTPS on 127.0.0.1. It checks each
 * request's OpenAPI v3 signature, written from the ACS3-HMAC-SHA256 signing rules independently
 * of the SDK (canonical request = method, URI, sorted query, signed headers, SHA-256 of the body;
 * signature = HMAC-SHA256 of "ACS3-HMAC-SHA256\n" + its SHA-256), the body hash and the STS token,
 * then hands InvokeFunction and CreateLayerVersion to the test.
 */
import { createHash, createHmac } from 'node:crypto';
import https from 'node:https';
import type http from 'node:http';
import { listenLocally, replyingListener, type MockReply } from './fc-api-mock';

export interface Fc3ApiMockOptions {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  tls: { key: Buffer | string; cert: Buffer | string };
  onInvoke?: (fn: string, event: Buffer, headers: http.IncomingHttpHeaders) => Promise<MockReply>;
  onCreateLayerVersion?: (name: string, body: Record<string, unknown>) => Promise<MockReply>;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
/** RFC 3986 encoding, as the canonical request wants it. */
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export class Fc3ApiMock {
  readonly requests: Array<{ method: string; path: string; action: string; status: number }> = [];
  private port = 0;
  private close: (() => Promise<void>) | undefined;

  constructor(private readonly options: Fc3ApiMockOptions) {}

  /** host:port, as the SDK's `endpoint` takes it. */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const record = (req: http.IncomingMessage, reply: MockReply) =>
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', action: String(req.headers['x-acs-action'] ?? ''), status: reply.status ?? 200 });
    const listener = replyingListener((req, body) => this.handle(req, body), 'mock-fc3-request-1', record);
    ({ port: this.port, close: this.close } = await listenLocally(https.createServer(this.options.tls, listener)));
  }

  async stop(): Promise<void> {
    await this.close?.();
  }

  private error(status: number, code: string, message: string): MockReply {
    return { status, body: JSON.stringify({ Code: code, Message: message, RequestId: 'mock-fc3-request-1' }) };
  }

  private verify(req: http.IncomingMessage, body: Buffer): MockReply | undefined {
    const h = req.headers;
    const o = this.options;
    if (o.securityToken && h['x-acs-security-token'] !== o.securityToken) return this.error(403, 'InvalidSecurityToken', 'bad or missing x-acs-security-token');
    if (h['x-acs-content-sha256'] !== sha256(body)) return this.error(400, 'InvalidContentSha256', 'x-acs-content-sha256 does not match the body');
    const auth = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(String(h.authorization ?? ''));
    if (!auth) return this.error(403, 'InvalidAuthorization', 'not an ACS3-HMAC-SHA256 Authorization header');
    if (auth[1] !== o.accessKeyId) return this.error(403, 'InvalidAccessKeyId.NotFound', `unknown access key ${auth[1]}`);
    const signed = auth[2]!.split(';');
    for (const required of ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-version']) {
      if (!signed.includes(required)) return this.error(403, 'IncompleteSignature', `${required} is not signed`);
    }
    const url = new URL(req.url ?? '/', 'https://fc');
    const query = [...url.searchParams].map(([k, v]) => [encode(k), encode(v)]).sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
    const headers = signed.map((name) => `${name}:${String(h[name] ?? '').trim()}\n`).join('');
    const canonical = [req.method, url.pathname, query, headers, auth[2], h['x-acs-content-sha256']].join('\n');
    const expected = createHmac('sha256', o.accessKeySecret).update(`ACS3-HMAC-SHA256\n${sha256(canonical)}`).digest('hex');
    if (auth[3] !== expected) return this.error(403, 'SignatureDoesNotMatch', 'signature mismatch');
    const date = Date.parse(String(h['x-acs-date'] ?? ''));
    if (!(Math.abs(Date.now() - date) < 15 * 60_000)) return this.error(403, 'RequestTimeTooSkewed', 'x-acs-date is not now');
    return undefined;
  }

  private async handle(req: http.IncomingMessage, body: Buffer): Promise<MockReply> {
    const denied = this.verify(req, body);
    if (denied) return denied;
    const path = new URL(req.url ?? '/', 'https://fc').pathname;
    const invoke = /^\/2023-03-30\/functions\/([^/]+)\/invocations$/.exec(path);
    if (req.method === 'POST' && invoke && this.options.onInvoke) return this.options.onInvoke(decodeURIComponent(invoke[1]!), body, req.headers);
    const layer = /^\/2023-03-30\/layers\/([^/]+)\/versions$/.exec(path);
    if (req.method === 'POST' && layer && this.options.onCreateLayerVersion) {
      return this.options.onCreateLayerVersion(decodeURIComponent(layer[1]!), JSON.parse(body.toString()) as Record<string, unknown>);
    }
    return this.error(404, 'NotFound', `${req.method} ${path}`);
  }
}
