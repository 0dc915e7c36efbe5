/**
 * SLS request signature, scheme v1: `LOG <AccessKeyId>:<base64 HMAC-SHA1(secret, StringToSign)>`.
 * Query values are signed decoded (the URL carries them percent-encoded).
 */
import { createHash, createHmac } from 'node:crypto';

export interface SignInput {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Header names in lower case. */
  headers: Record<string, string>;
  accessKeyId: string;
  accessKeySecret: string;
}

export function contentMd5(body: Buffer): string {
  return createHash('md5').update(body).digest('hex').toUpperCase();
}

export function stringToSign(input: Omit<SignInput, 'accessKeyId' | 'accessKeySecret'>): string {
  const h = input.headers;
  const logHeaders = Object.keys(h)
    .filter((k) => k.startsWith('x-log-') || k.startsWith('x-acs-'))
    .sort()
    .map((k) => `${k}:${h[k]!.trim()}\n`)
    .join('');
  const pairs = Object.keys(input.query)
    .sort()
    .map((k) => `${k}=${input.query[k]}`)
    .join('&');
  const resource = pairs ? `${input.path}?${pairs}` : input.path;
  return `${input.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${h['date'] ?? ''}\n${logHeaders}${resource}`;
}

export function signV1(input: SignInput): string {
  const signature = createHmac('sha1', input.accessKeySecret).update(stringToSign(input), 'utf8').digest('base64');
  return `LOG ${input.accessKeyId}:${signature}`;
}
