/**
 * Credentials for the long-running worker, through Alibaba Cloud's official chain
 * (`@alicloud/credentials`): fixed keys (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, optional
 * SECURITY_TOKEN), RRSA/OIDC on ACK (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN,
 * ALIBABA_CLOUD_OIDC_TOKEN_FILE), the Alibaba Cloud CLI profile, the credentials file, the ECS
 * instance RAM role (ALIBABA_CLOUD_ECS_METADATA; ALIBABA_CLOUD_IMDSV1_DISABLED=true for the
 * hardened, token-only metadata mode) and a credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI). The
 * library caches STS credentials and refreshes them before they expire. Nothing here is logged.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  DefaultCredentialsProvider, OIDCRoleArnCredentialsProvider, StaticAKCredentialsProvider, StaticSTSCredentialsProvider,
} from '@alicloud/credentials';
import type { Env } from '../config/reader';
import type { Credentials } from '../sls/client';

interface Provider {
  getCredentials(): Promise<{ accessKeyId: string; accessKeySecret: string; securityToken?: string }>;
}

const set = (env: Env, name: string) => (env[name] ?? '').trim() !== '';

/** Whether any link of the chain has something to work with (else: say what to set, before starting). */
export function credentialsConfigured(env: Env): boolean {
  return (
    (set(env, 'ALIBABA_CLOUD_ACCESS_KEY_ID') && set(env, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET')) ||
    (set(env, 'ALIBABA_CLOUD_ROLE_ARN') && set(env, 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN') && set(env, 'ALIBABA_CLOUD_OIDC_TOKEN_FILE')) ||
    set(env, 'ALIBABA_CLOUD_ECS_METADATA') || set(env, 'ALIBABA_CLOUD_CREDENTIALS_URI') ||
    set(env, 'ALIBABA_CLOUD_CREDENTIALS_FILE') || existsSync(join(homedir(), '.alibabacloud', 'credentials')) ||
    existsSync(join(homedir(), '.aliyun', 'config.json'))
  );
}

/**
 * The chain's provider. Keys given in `env` (ours or the sample program's aliases, already mapped)
 * are passed to the library's static providers; everything else the library reads from the
 * process environment itself. `ALIBABA_CLOUD_STS_ENDPOINT` (host[:port]) points RRSA/OIDC at
 * another STS endpoint, e.g. the VPC one or a test's.
 */
export function officialCredentials(env: Env): () => Promise<Credentials> {
  let provider: Provider;
  const id = env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const secret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  const token = env.ALIBABA_CLOUD_SECURITY_TOKEN;
  if (id && secret) {
    provider = token
      ? StaticSTSCredentialsProvider.builder().withAccessKeyId(id).withAccessKeySecret(secret).withSecurityToken(token).build()
      : StaticAKCredentialsProvider.builder().withAccessKeyId(id).withAccessKeySecret(secret).build();
  } else if (set(env, 'ALIBABA_CLOUD_STS_ENDPOINT') && set(env, 'ALIBABA_CLOUD_ROLE_ARN')) {
    provider = OIDCRoleArnCredentialsProvider.builder()
      .withRoleArn(env.ALIBABA_CLOUD_ROLE_ARN!).withOIDCProviderArn(env.ALIBABA_CLOUD_OIDC_PROVIDER_ARN!)
      .withOIDCTokenFilePath(env.ALIBABA_CLOUD_OIDC_TOKEN_FILE!).withStsEndpoint(env.ALIBABA_CLOUD_STS_ENDPOINT!).build();
  } else provider = DefaultCredentialsProvider.builder().build();
  return async () => {
    let c: Awaited<ReturnType<Provider['getCredentials']>>;
    try {
      c = await provider.getCredentials();
    } catch (err) {
      // The library's messages name the providers it tried, never a secret.
      throw new Error(`No Alibaba Cloud credentials could be had: ${(err as Error).message}`);
    }
    return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken || undefined };
  };
}
