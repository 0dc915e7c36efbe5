/**
 * Fetches one secret from KMS Secrets Manager (GetSecretValue, API 2016-01-20) with the
 * official SDK, always over HTTPS, signed with the caller's credentials (FC's STS credentials in
 * the function, the official credentials chain in the worker). The SDK is loaded on first use, so
 * a function without secrets in KMS does not pay for it at cold start.
 *
 * Nothing from the SDK's own error text is passed on: its timeout messages carry the request URL,
 * whose query holds the STS token and the signature.
 */
import type { Credentials } from '../sls/client';

export class SecretError extends Error {
  override name = 'SecretError';
}

export interface KmsAccess {
  /** host[:port], e.g. kms-vpc.cn-hangzhou.aliyuncs.com. */
  endpoint: string;
  credentials: () => Promise<Credentials>;
}

/** Which setting asked for the secret, for messages. */
export interface SecretRequest {
  secretName: string;
  secretSetting: string;
}

export type FetchSecret = (request: SecretRequest) => Promise<string>;

const CONNECT_TIMEOUT_MS = 3_000;
const READ_TIMEOUT_MS = 6_000;
const ATTEMPTS = 3;

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  data?: { Code?: string; RequestId?: string };
}

/** "code: 404, ... requestid: X" is how the SDK words an API error; only the status is read from it. */
function statusOf(err: SdkError): number | undefined {
  const m = /\bcode: (\d{3}),/.exec(err.message ?? '');
  return m ? Number(m[1]) : undefined;
}

function isTransient(err: SdkError): boolean {
  const status = statusOf(err);
  const code = err.data?.Code ?? '';
  if (status !== undefined) return status >= 500 || /^Throttling|ServiceUnavailable|InternalFailure/.test(code);
  return true; // no answer at all: network, timeout
}

function explain(err: SdkError, req: SecretRequest, endpoint: string): SecretError {
  const code = err.data?.Code;
  const requestId = err.data?.RequestId;
  const tail = code ? ` (KMS: ${code}${requestId ? `, request id ${requestId}` : ''})` : '';
  const status = statusOf(err);
  if (code === 'Forbidden.ResourceNotFound' || (status === 404 && !/AccessKey/i.test(code ?? ''))) {
    return new SecretError(
      `KMS Secrets Manager at ${endpoint} has no secret "${req.secretName}" (${req.secretSetting}): create it in this region, ` +
        `or correct ${req.secretSetting}.${tail}`,
    );
  }
  if (/^(Forbidden|NoPermission|NotAuthorized)/.test(code ?? '') || (status === 403 && !/Signature|AccessKey|SecurityToken/i.test(code ?? ''))) {
    return new SecretError(
      `Not allowed to read the KMS secret "${req.secretName}" (${req.secretSetting}): give the function's role (the worker: its identity) ` +
        `the RAM action kms:GetSecretValue on acs:kms:<region>:<account>:secret/${req.secretName} (README, "Secrets").${tail}`,
    );
  }
  if (/Signature|AccessKey|SecurityToken/i.test(code ?? '')) {
    return new SecretError(`KMS at ${endpoint} refused the credentials used to read "${req.secretName}" (${req.secretSetting}).${tail}`);
  }
  if (status !== undefined) return new SecretError(`KMS at ${endpoint} could not answer for "${req.secretName}" (${req.secretSetting}): HTTP ${status}.${tail}`);
  const network = err.code ?? err.name ?? 'error';
  return new SecretError(
    `KMS at ${endpoint} cannot be reached to read "${req.secretName}" (${req.secretSetting}): ${network}. The default is the VPC endpoint ` +
      'kms-vpc.<region>.aliyuncs.com; from outside a VPC set KMS_ENDPOINT=kms.<region>.aliyuncs.com.',
  );
}

/** A function fetching one secret's current value (binary secrets are base64 in KMS: decoded). */
export function kmsSecrets(access: KmsAccess): FetchSecret {
  return async (req) => {
    const { Kms, GetSecretValueRequest } = await import('./kms-sdk');
    let last: SdkError = {};
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const c = await access.credentials();
      const config = {
        accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken,
        endpoint: access.endpoint, protocol: 'https', connectTimeout: CONNECT_TIMEOUT_MS, readTimeout: READ_TIMEOUT_MS,
      };
      try {
        const client = new Kms(config as unknown as ConstructorParameters<typeof Kms>[0]);
        const answer = await client.getSecretValue(new GetSecretValueRequest({ secretName: req.secretName }));
        const data = answer.secretData ?? '';
        return answer.secretDataType === 'binary' ? Buffer.from(data, 'base64').toString('utf8') : data;
      } catch (err) {
        last = err as SdkError;
        if (!isTransient(last) || attempt === ATTEMPTS) break;
        await new Promise((r) => setTimeout(r, 200 * 3 ** (attempt - 1)));
      }
    }
    throw explain(last, req, access.endpoint);
  };
}
