/**
 * Turns the settings' `<NAME>_SECRET` references into values before the settings are read: the
 * secrets are fetched once per instance (FC instance, worker process) and kept for its life; the
 * settings are then read from the environment with the fetched values laid over it, so
 * `loadConfig` stays synchronous and checks them like any other value.
 *
 * Rotation: when the SIEM refuses a secret (HEC 401/403, a TLS handshake failing over a
 * certificate), the transport calls the settings' renew hook once; it fetches the secrets again
 * and puts the new values into the running settings, and the transport retries once.
 */
import { loadConfig, type Env, type ForwarderConfig } from '../config';
import { FROM_KMS, TLS_SECRETS, kmsEndpoint, readKmsEndpoint, secretReferences, type ResolvedEnv, type SecretReference } from '../config/secrets';
import { ConfigError } from '../errors';
import type { Credentials } from '../sls/client';
import { kmsSecrets, type FetchSecret } from './kms';

const TLS_SETTINGS = TLS_SECRETS.map((s) => s.name);

/** The fetched values of one instance; setting -> value. Never printed. */
export class SecretCache {
  private readonly values = new Map<string, string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(readonly references: readonly SecretReference[], private readonly fetch: FetchSecret) {}

  has(setting: string): boolean {
    return this.references.some((r) => r.setting === setting);
  }

  /** Fetches every reference (in parallel); the first failure is the answer. */
  async load(): Promise<void> {
    await Promise.all(this.references.map((r) => this.refetch(r.setting)));
  }

  /** Fetches one again; callers asking while a fetch is under way share it. */
  refetch(setting: string): Promise<void> {
    const ref = this.references.find((r) => r.setting === setting);
    if (!ref) return Promise.resolve();
    let pending = this.inFlight.get(setting);
    if (!pending) {
      pending = this.fetch({ secretName: ref.secretName, secretSetting: ref.secretSetting })
        .then((value) => void this.values.set(setting, value))
        .finally(() => this.inFlight.delete(setting));
      this.inFlight.set(setting, pending);
    }
    return pending;
  }

  /** `env` with the fetched values laid over it, marked as fetched (config/secrets.ts reads the mark). */
  overlay(env: Env): ResolvedEnv {
    const out: ResolvedEnv = { ...env };
    const from = new Map<string, string>();
    for (const r of this.references) {
      out[r.setting] = this.values.get(r.setting) ?? '';
      from.set(r.setting, r.secretName);
    }
    out[FROM_KMS] = from;
    return out;
  }
}

export type Notice = (line: Record<string, unknown>) => void;

/** One JSON line per fetch: which settings, never a value. */
const printNotice: Notice = (line) => console.log(JSON.stringify({ event: 'sls-syslog-forwarder.secrets', ...line }));

/**
 * Gives the running settings their renew hooks: fetch the KMS-held values again and put them in
 * place (read through `loadConfig`, so a rotated value is checked like the first one).
 */
function attachRenewal(config: ForwarderConfig, cache: SecretCache, env: Env, notice: Notice): void {
  const reread = () => loadConfig(cache.overlay(env));
  if (config.hec && cache.has('SPLUNK_HEC_TOKEN')) {
    const hec = config.hec;
    hec.renewToken = async () => {
      await cache.refetch('SPLUNK_HEC_TOKEN');
      const token = reread().hec!.token;
      notice({ refetched: ['SPLUNK_HEC_TOKEN_SECRET'], why: 'the collector refused the token', changed: token !== hec.token });
      hec.token = token;
    };
  }
  const tlsHeld = TLS_SETTINGS.filter((s) => cache.has(s));
  if (tlsHeld.length > 0) {
    const tls = config.tls;
    tls.renew = async () => {
      await Promise.all(tlsHeld.map((s) => cache.refetch(s)));
      const fresh = reread().tls;
      const changed = fresh.ca !== tls.ca || fresh.cert !== tls.cert || fresh.key !== tls.key || fresh.passphrase !== tls.passphrase;
      notice({ refetched: tlsHeld.map((s) => `${s}_SECRET`), why: 'the TLS handshake failed over a certificate', changed });
      Object.assign(tls, { ca: fresh.ca, caSource: fresh.caSource, cert: fresh.cert, key: fresh.key, passphrase: fresh.passphrase });
    };
  }
}

/**
 * The settings, with every `<NAME>_SECRET` fetched through `fetcher` (made only when one is
 * referenced). Without references this is `loadConfig(env)`.
 */
export async function loadConfigWithSecrets(env: Env, fetcher: () => FetchSecret, notice: Notice = printNotice): Promise<ForwarderConfig> {
  const references = secretReferences(env);
  if (references.length === 0) return loadConfig(env);
  const cache = new SecretCache(references, fetcher());
  await cache.load();
  notice({ fetched: references.map((r) => r.secretSetting) });
  const config = loadConfig(cache.overlay(env));
  attachRenewal(config, cache, env, notice);
  return config;
}

/**
 * KMS with these credentials, at KMS_ENDPOINT or the endpoint of the known region (FC_REGION, or
 * the worker's SLS endpoint); a ConfigError when neither says where.
 */
export function kmsFetcher(env: Env, credentials: () => Promise<Credentials>, slsEndpoint?: string): () => FetchSecret {
  return () => {
    const { problem } = readKmsEndpoint(env);
    if (problem) throw new ConfigError([problem]);
    const endpoint = kmsEndpoint(env, slsEndpoint);
    if (!endpoint) {
      throw new ConfigError([
        'KMS_ENDPOINT is not set and the region is not known (no FC_REGION, no Alibaba SLS endpoint): set KMS_ENDPOINT, e.g. KMS_ENDPOINT=kms.cn-hangzhou.aliyuncs.com, to fetch the *_SECRET settings.',
      ]);
    }
    return kmsSecrets({ endpoint, credentials });
  };
}
