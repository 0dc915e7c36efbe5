/** Where the *_SECRET settings are fetched: KMS_ENDPOINT, or the KMS endpoint of the known region. */
import type { Env } from '../config/reader';
import { alibabaSlsHost } from '../sls/settings';

/** `KMS_ENDPOINT` as host[:port] (an `https://` prefix is accepted), or a problem. Plain HTTP never: secrets travel on it. */
export function readKmsEndpoint(env: Env): { endpoint: string | undefined; problem: string | undefined } {
  const raw = (env.KMS_ENDPOINT ?? '').trim();
  if (raw === '') return { endpoint: undefined, problem: undefined };
  const host = raw.replace(/^https:\/\//i, '').replace(/\/$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) {
    return {
      endpoint: undefined,
      problem: `KMS_ENDPOINT="${raw}" must be a host name with an optional port, e.g. KMS_ENDPOINT=kms-vpc.cn-hangzhou.aliyuncs.com (always used over HTTPS).`,
    };
  }
  return { endpoint: host, problem: undefined };
}

/**
 * Where to fetch secrets: KMS_ENDPOINT, else the VPC endpoint of the function's region (FC_REGION,
 * set by FC), else the region of the worker's SLS endpoint (its VPC endpoint when the SLS one is
 * `-intranet`).
 */
export function kmsEndpoint(env: Env, slsEndpoint?: string): string | undefined {
  const { endpoint } = readKmsEndpoint(env);
  if (endpoint) return endpoint;
  const region = (env.FC_REGION ?? '').trim();
  if (region) return `kms-vpc.${region}.aliyuncs.com`;
  const host = (slsEndpoint ?? '').trim().toLowerCase().replace(/^https?:\/\//, '').replace(/[:/].*$/, '');
  const sls = alibabaSlsHost(host);
  if (sls) return `${sls.kind === 'public' ? 'kms' : 'kms-vpc'}.${sls.region}.aliyuncs.com`;
  return undefined;
}
