/**
 * Credentials for the long-running worker: fixed keys from the standard environment variables,
 * or a provider that refreshes STS credentials before they expire — the ECS instance RAM role
 * (`ALIBABA_CLOUD_ECS_METADATA=<role>`, from the metadata service) or a credentials URI
 * (`ALIBABA_CLOUD_CREDENTIALS_URI`, e.g. a sidecar on Kubernetes). Nothing here is ever logged.
 */
import http from 'node:http';
import type { Credentials } from '../sls/client';

const ECS_METADATA = 'http://100.100.100.200/latest/meta-data/ram/security-credentials/';
/** Refresh this long before the expiration the provider announced. */
const REFRESH_BEFORE_MS = 5 * 60_000;

function fetchJson(url: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`the credentials provider at ${url} answered HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>);
        } catch {
          reject(new Error(`the credentials provider at ${url} did not answer JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`the credentials provider at ${url} did not answer within 5 s`)));
    req.on('error', reject);
  });
}

/** A provider fetching `{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` from `url`. */
export function refreshingCredentials(url: string): () => Promise<Credentials> {
  let current: Credentials | undefined;
  let refreshAt = 0;
  let inFlight: Promise<Credentials> | undefined;
  return async () => {
    if (current && Date.now() < refreshAt) return current;
    inFlight ??= fetchJson(url)
      .then((j) => {
        if (!j.AccessKeyId || !j.AccessKeySecret) throw new Error(`the credentials provider at ${url} returned no AccessKeyId/AccessKeySecret`);
        current = { accessKeyId: j.AccessKeyId, accessKeySecret: j.AccessKeySecret, securityToken: j.SecurityToken };
        const expires = j.Expiration ? Date.parse(j.Expiration) : Number.NaN;
        refreshAt = Number.isFinite(expires) ? expires - REFRESH_BEFORE_MS : Date.now() + 15 * 60_000;
        return current;
      })
      .finally(() => (inFlight = undefined));
    return inFlight;
  };
}

export function ecsRoleUrl(role: string): string {
  return ECS_METADATA + encodeURIComponent(role);
}
