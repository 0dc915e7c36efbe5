/**
 * A local stand-in for the FC 2.0 API (2016-08-15) on 127.0.0.1: checks each request's
 * signature (`FC <ak>:base64(HMAC-SHA256(secret, StringToSign))`, written from the API's signing
 * rules, independently of @alicloud/fc2), the account header and STS token, then hands
 * InvokeFunction and PublishLayerVersion to the test.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockReply {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}

/** The shared part of both FC API mocks: read each request whole, answer with `reply`, record it. */
export type Handler = (req: http.IncomingMessage, body: Buffer) => Promise<MockReply>;

export function replyingListener(handle: Handler, requestId: string, record: (req: http.IncomingMessage, reply: MockReply) => void): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, Buffer.concat(chunks)).then((reply) => {
        record(req, reply);
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'x-fc-request-id': requestId, ...reply.headers });
        res.end(reply.body);
      });
    });
  };
}

/** Listens on 127.0.0.1 at a free port; answers a function that closes it. */
export async function listenLocally(server: http.Server): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface FcApiMockOptions {
  accountId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  onInvoke?: (service: string, fn: string, event: Buffer, headers: http.IncomingHttpHeaders) => Promise<MockReply>;
  onPublishLayer?: (name: string, body: Record<string, unknown>) => Promise<MockReply>;
}

export class FcApiMock {
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  private port = 0;
  private close: (() => Promise<void>) | undefined;

  constructor(private readonly options: FcApiMockOptions) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const record = (req: http.IncomingMessage, reply: MockReply) => this.requests.push({ method: req.method ?? '', path: req.url ?? '', status: reply.status ?? 200 });
    ({ port: this.port, close: this.close } = await listenLocally(http.createServer(replyingListener((req, body) => this.handle(req, body), 'mock-request-1', record))));
  }

  async stop(): Promise<void> {
    await this.close?.();
  }

  private error(status: number, code: string, message: string): MockReply {
    return { status, body: JSON.stringify({ ErrorCode: code, ErrorMessage: message }) };
  }

  private verify(req: http.IncomingMessage, body: Buffer): MockReply | undefined {
    const h = req.headers;
    const o = this.options;
    if (h['x-fc-account-id'] !== o.accountId) return this.error(403, 'InvalidAccountId', `x-fc-account-id ${String(h['x-fc-account-id'])}`);
    if (o.securityToken && h['x-fc-security-token'] !== o.securityToken) return this.error(403, 'InvalidSecurityToken', 'bad or missing x-fc-security-token');
    if (body.length > 0) {
      const md5 = Buffer.from(createHash('md5').update(body).digest('hex')).toString('base64');
      if (h['content-md5'] !== md5) return this.error(400, 'InvalidContentMD5', 'content-md5 does not match the body');
    }
    const fcHeaders = Object.keys(h).filter((k) => k.startsWith('x-fc-')).sort().map((k) => `${k}:${String(h[k])}\n`).join('');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const toSign = `${req.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h.date ?? ''}\n${fcHeaders}${path}`;
    const expected = `FC ${o.accessKeyId}:${createHmac('sha256', o.accessKeySecret).update(toSign).digest('base64')}`;
    if (h.authorization !== expected) return this.error(403, 'SignatureNotMatch', 'signature mismatch');
    return undefined;
  }

  private async handle(req: http.IncomingMessage, body: Buffer): Promise<MockReply> {
    const denied = this.verify(req, body);
    if (denied) return denied;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const invoke = /^\/2016-08-15\/services\/([^/]+)\/functions\/([^/]+)\/invocations$/.exec(path);
    if (req.method === 'POST' && invoke && this.options.onInvoke) return this.options.onInvoke(invoke[1]!, invoke[2]!, body, req.headers);
    const layer = /^\/2016-08-15\/layers\/([^/]+)\/versions$/.exec(path);
    if (req.method === 'POST' && layer && this.options.onPublishLayer) {
      return this.options.onPublishLayer(layer[1]!, JSON.parse(body.toString()) as Record<string, unknown>);
    }
    return this.error(404, 'NotFound', `${req.method} ${path}`);
  }
}
