/**
 * The emulator's own check of SLS v1 signatures, written independently of src/sls/signature.ts
 * (so the forwarder's signing is checked against a second reading of the spec) and proven by the
 * official @alicloud/log SDK, whose requests it must accept.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface AccessKey {
  secret: string;
  /** STS token that must accompany this key (FC credentials always have one). */
  securityToken?: string;
}

export interface AuthFailure {
  status: number;
  code: string;
  message: string;
}

const MAX_SKEW_MS = 15 * 60 * 1000;

function single(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function verifyRequest(
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
  keys: Map<string, AccessKey>,
  now = Date.now(),
): AuthFailure | undefined {
  if (!single(headers, 'x-log-apiversion')) return { status: 400, code: 'MissingAPIVersion', message: 'x-log-apiversion header is missing' };
  if (!single(headers, 'x-log-signaturemethod')) return { status: 400, code: 'MissingSignatureMethod', message: 'x-log-signaturemethod header is missing' };
  const date = single(headers, 'date');
  if (!date) return { status: 400, code: 'MissingDate', message: 'Date header is missing' };
  const when = Date.parse(date);
  if (Number.isNaN(when)) return { status: 400, code: 'InvalidDateFormat', message: `Date "${date}" is not RFC 1123` };
  if (Math.abs(now - when) > MAX_SKEW_MS) return { status: 400, code: 'RequestTimeExpired', message: 'Request time is expired' };

  const auth = single(headers, 'authorization') ?? '';
  const m = /^LOG ([^:]*):(.+)$/.exec(auth);
  if (!m) return { status: 401, code: 'Unauthorized', message: 'Authorization header is missing or not "LOG <ak>:<signature>"' };
  const [, accessKeyId, signature] = m as unknown as [string, string, string];
  const key = keys.get(accessKeyId);
  if (!key) return { status: 401, code: 'Unauthorized', message: 'AccessKeyId not found: ' + accessKeyId };
  const token = single(headers, 'x-acs-security-token');
  if (key.securityToken !== undefined && token !== key.securityToken) {
    return { status: 401, code: 'Unauthorized', message: 'The security token you provided is invalid.' };
  }

  const md5 = single(headers, 'content-md5') ?? '';
  if (body.length > 0 && md5 !== createHash('md5').update(body).digest('hex').toUpperCase()) {
    return { status: 400, code: 'InvalidContentMD5', message: 'Content-MD5 does not match the body' };
  }
  const logHeaders = Object.entries(headers)
    .filter(([k]) => /^x-(log|acs)-/.test(k))
    .map(([k, v]) => [k.toLowerCase(), (Array.isArray(v) ? v.join(',') : v ?? '').trim()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const params = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = [
    method,
    md5,
    single(headers, 'content-type') ?? '',
    date,
    ...logHeaders.map(([k, v]) => `${k}:${v}`),
    params.length ? `${url.pathname}?${params.map(([k, v]) => `${k}=${v}`).join('&')}` : url.pathname,
  ];
  const expected = createHmac('sha1', key.secret).update(lines.join('\n')).digest('base64');
  if (expected !== signature) {
    return { status: 401, code: 'SignatureNotMatch', message: 'signature ' + signature + ' not match' };
  }
  return undefined;
}
