/**
 * A local stand-in for KMS Secrets Manager (API 2016-01-20, RPC style) over HTTPS on 127.0.0.1.
 * It checks each request's signature as Alibaba's RPC signing rules define it, written here
 * independently of the SDK: every query parameter but `Signature`, sorted by name, each name and
 * value percent-encoded per RFC 3986, joined with `&`; StringToSign = METHOD & %2F &
 * encode(that); Signature = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)). It also
 * checks the access key, the STS token, the signature method and version, the timestamp (15
 * minutes) and that no nonce is used twice. Then it answers GetSecretValue from its table, or
 * with KMS's error shape ({RequestId, HostId, Code, Message}).
 */
import { createHmac } from 'node:crypto';
import https from 'node:https';
import type http from 'node:http';
import { listenLocally, replyingListener, type MockReply } from './fc-api-mock';

export interface KmsApiMockOptions {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  tls: { key: Buffer | string; cert: Buffer | string };
}

/** RFC 3986 percent-encoding, as the canonical query wants it. */
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export class KmsApiMock {
  /** Every request, with the verdict: which secret was asked for and what was answered (never the value). */
  readonly requests: Array<{ action: string; secretName: string; status: number; code: string }> = [];
  private readonly secrets = new Map<string, { value: string; version: number }>();
  private readonly denied = new Set<string>();
  private readonly nonces = new Set<string>();
  private port = 0;
  private close: (() => Promise<void>) | undefined;

  constructor(private readonly options: KmsApiMockOptions) {}

  /** host:port, as KMS_ENDPOINT takes it. */
  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Creates the secret, or puts a new version in place (a rotation). */
  putSecret(name: string, value: string): void {
    const version = (this.secrets.get(name)?.version ?? 0) + 1;
    this.secrets.set(name, { value, version });
  }

  /** The caller's RAM policy does not allow kms:GetSecretValue on this secret. */
  deny(name: string): void {
    this.denied.add(name);
  }

  fetchesOf(name: string): number {
    return this.requests.filter((r) => r.secretName === name && r.status === 200).length;
  }

  async start(): Promise<this> {
    const record = (req: http.IncomingMessage, reply: MockReply) => {
      const q = new URL(req.url ?? '/', 'https://kms').searchParams;
      const code = reply.status && reply.status !== 200 ? (JSON.parse(reply.body) as { Code: string }).Code : '';
      this.requests.push({ action: q.get('Action') ?? '', secretName: q.get('SecretName') ?? '', status: reply.status ?? 200, code });
    };
    const listener = replyingListener((req, body) => this.handle(req, body), 'mock-kms-request-1', record);
    ({ port: this.port, close: this.close } = await listenLocally(https.createServer(this.options.tls, listener)));
    return this;
  }

  async stop(): Promise<void> {
    await this.close?.();
  }

  private error(status: number, code: string, message: string): MockReply {
    return { status, body: JSON.stringify({ RequestId: 'mock-kms-request-1', HostId: 'kms.mock.aliyuncs.com', Code: code, Message: message }) };
  }

  /** Parameters from the query and, for a form body, from the body: the signature covers both. */
  private parameters(req: http.IncomingMessage, body: Buffer): Map<string, string> {
    const params = new Map(new URL(req.url ?? '/', 'https://kms').searchParams);
    if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
    }
    return params;
  }

  private verify(req: http.IncomingMessage, p: Map<string, string>): MockReply | undefined {
    const o = this.options;
    if (p.get('SignatureMethod') !== 'HMAC-SHA1' || p.get('SignatureVersion') !== '1.0') return this.error(400, 'InvalidParameter', 'SignatureMethod must be HMAC-SHA1, SignatureVersion 1.0');
    if (p.get('AccessKeyId') !== o.accessKeyId) return this.error(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (o.securityToken && p.get('SecurityToken') !== o.securityToken) return this.error(400, 'InvalidSecurityToken.Mismatch', 'Specified SecurityToken mismatch with the AccessKey.');
    const canonical = [...p].filter(([k]) => k !== 'Signature').map(([k, v]) => [encode(k), encode(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
    const stringToSign = `${req.method}&${encode('/')}&${encode(canonical)}`;
    const expected = createHmac('sha1', `${o.accessKeySecret}&`).update(stringToSign).digest('base64');
    if (p.get('Signature') !== expected) return this.error(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
    const at = Date.parse(p.get('Timestamp') ?? '');
    if (!(Math.abs(Date.now() - at) < 15 * 60_000)) return this.error(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    const nonce = p.get('SignatureNonce') ?? '';
    if (nonce === '' || this.nonces.has(nonce)) return this.error(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    this.nonces.add(nonce);
    return undefined;
  }

  private async handle(req: http.IncomingMessage, body: Buffer): Promise<MockReply> {
    const p = this.parameters(req, body);
    const refused = this.verify(req, p);
    if (refused) return refused;
    if (p.get('Action') !== 'GetSecretValue' || p.get('Version') !== '2016-01-20') return this.error(400, 'InvalidAction.NotFound', `${p.get('Action')} is not served here`);
    const name = p.get('SecretName') ?? '';
    if (this.denied.has(name)) return this.error(403, 'Forbidden.NoPermission', 'This operation is forbidden by permission system.');
    const secret = this.secrets.get(name);
    if (!secret) return this.error(404, 'Forbidden.ResourceNotFound', 'The resource not found.');
    return {
      status: 200,
      body: JSON.stringify({
        RequestId: 'mock-kms-request-1', SecretName: name, VersionId: `v${secret.version}`, CreateTime: new Date().toISOString(),
        SecretData: secret.value, SecretDataType: 'text', VersionStages: { VersionStage: ['ACSCurrent'] },
      }),
    };
  }
}
